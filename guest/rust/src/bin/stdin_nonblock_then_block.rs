//! Scenario `stdin_nonblock_then_block`: read non-blocking (expect `again` before data
//! arrives), then clear the flag and read again, which now waits for the data.

use wouldblock_guest::*;

fn main() {
    if report_set_flags(0, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    report_read(0, 64);
    report_set_flags(0, 0);
    report_get_flags(0);
    report_read(0, 64);
}
