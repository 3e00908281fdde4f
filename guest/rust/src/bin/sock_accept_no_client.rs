//! Scenario `sock_accept_no_client`: the listener non-blocking, no client yet: `sock_accept`
//! returns `again` (Python: BlockingIOError on `accept()`).

use wouldblock_guest::*;

fn main() {
    if report_set_flags(LISTEN_FD, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    report_accept(LISTEN_FD, 0);
}
