//! Scenario `write_full_pipe`: stderr non-blocking, then 5000-byte writes until one would
//! block. On a 8192-byte pipe nobody drains: 5000, a short write of 3192 (a write larger than
//! PIPE_BUF takes what fits), then `again`.

use wouldblock_guest::*;

fn main() {
    if report_set_flags(2, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    let chunk = [b'x'; 5000];
    for _ in 0..16 {
        let (errno, _) = report_write(2, &chunk);
        if errno != SUCCESS {
            break;
        }
    }
}
