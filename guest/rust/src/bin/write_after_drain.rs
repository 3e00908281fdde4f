//! Scenario `write_after_drain`: fill non-blocking stderr until `again`, wait in poll_oneoff
//! until the host's reader makes room (a 5 s clock guards the wait), then write again.

use wouldblock_guest::*;

fn main() {
    if report_set_flags(2, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    let chunk = [b'y'; 1000];
    loop {
        let (errno, _) = report_write(2, &chunk);
        if errno != SUCCESS {
            break;
        }
    }
    report_poll(&[Sub::Write(2), Sub::Clock(5_000_000_000)]);
    report_write(2, &chunk);
}
