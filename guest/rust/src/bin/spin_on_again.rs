//! Scenario `spin_on_again`: a runaway guest. Non-blocking stdin, then `fd_read` in a loop
//! forever, ignoring `again`. Only a deadline (or fuel) stops it.

use wouldblock_guest::*;

fn main() {
    if report_set_flags(0, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    let mut buf = [0u8; 16];
    loop {
        if read(0, &mut buf) == (SUCCESS, 0) {
            // End-of-file: nothing more will ever come; spin anyway.
            std::hint::spin_loop();
        }
    }
}
