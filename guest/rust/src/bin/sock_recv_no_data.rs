//! Scenario `sock_recv_no_data`: accept a client (blocking) as a non-blocking socket; the
//! client sends nothing: `sock_recv` returns `again`, and so does `fd_read`.

use wouldblock_guest::*;

fn main() {
    let (errno, fd) = report_accept(LISTEN_FD, FDFLAGS_NONBLOCK);
    if errno != SUCCESS {
        std::process::exit(1);
    }
    report_recv(fd, 64);
    report_read(fd, 64);
}
