//! Scenario `sock_recv_after_data`: accept a client (blocking, blocking socket); a blocking
//! `sock_recv` waits for what the client sends; after the client shuts down, 0 (end of file).
//! `sock_recv_after_data poll` polls the socket for reading before each receive, reporting
//! the event (nbytes, and hangup once the client has shut down).

use wouldblock_guest::*;

fn main() {
    let poll_first = std::env::args().nth(1).as_deref() == Some("poll");
    let (errno, fd) = report_accept(LISTEN_FD, 0);
    if errno != SUCCESS {
        std::process::exit(1);
    }
    for _ in 0..2 {
        if poll_first {
            report_poll(&[Sub::Read(fd)]);
        }
        report_recv(fd, 64);
    }
}
