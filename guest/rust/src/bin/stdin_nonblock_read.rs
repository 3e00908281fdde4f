//! Scenario `stdin_nonblock_read`: the Python docs' example, translated. Set stdin
//! non-blocking, read once, report what came back (data, end-of-file, or `again`).
//!
//! Exits 1 when stdin cannot be made non-blocking (as Python's `os.set_blocking` would raise),
//! without reading: a blocking read of an open, empty pipe would never return.

use wouldblock_guest::*;

fn main() {
    if report_set_flags(0, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    report_get_flags(0);
    report_read(0, 64);
}
