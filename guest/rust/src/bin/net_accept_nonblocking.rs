//! Scenario `net_accept_nonblocking` (preview2): listen on the address given, then
//! `tcp-socket.accept` with no client: `would-block` (Python: BlockingIOError on accept()).
//! Then an address the host did not allow: `access-denied`.

#[cfg(target_env = "p2")]
fn main() {
    use wouldblock_guest::p2net::*;
    let port = wouldblock_guest::port_arg();
    let sock = listen(port);
    report("listen", &sock);
    let Ok(sock) = sock else {
        std::process::exit(1)
    };
    report("tcp-socket.accept", &sock.accept());
    // One port up was not allowed.
    report("listen-denied", &listen(port.wrapping_add(1)));
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
