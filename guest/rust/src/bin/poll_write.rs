//! Scenario `poll_write`: poll non-blocking stderr for writing while its pipe has room (fires
//! with nbytes = free space), fill it, and poll again with a 50 ms clock (only the clock
//! fires while nobody drains). `poll_write alone` makes only the first poll, with no clock
//! beside it (an event loop's one descriptor).

use wouldblock_guest::*;

fn main() {
    let alone = std::env::args().nth(1).as_deref() == Some("alone");
    if report_set_flags(2, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    if alone {
        report_poll(&[Sub::Write(2)]);
        return;
    }
    report_poll(&[Sub::Write(2), Sub::Clock(50_000_000)]);
    let chunk = [b'z'; 4096];
    while write(2, &chunk).0 == SUCCESS {}
    report_poll(&[Sub::Write(2), Sub::Clock(50_000_000)]);
}
