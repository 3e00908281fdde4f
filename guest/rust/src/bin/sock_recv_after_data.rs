//! Scenario `sock_recv_after_data`: accept a client (blocking, blocking socket); a blocking
//! `sock_recv` waits for what the client sends; after the client shuts down, 0 (end of file).

use wouldblock_guest::*;

fn main() {
    let (errno, fd) = report_accept(LISTEN_FD, 0);
    if errno != SUCCESS {
        std::process::exit(1);
    }
    report_recv(fd, 64);
    report_recv(fd, 64);
}
