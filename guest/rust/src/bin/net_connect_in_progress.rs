//! Scenario `net_connect_in_progress` (preview2): `start-connect` to the address given, then
//! `finish-connect` at once: `would-block` while the handshake is under way (Python:
//! BlockingIOError EINPROGRESS), then completion once the socket's pollable is ready; sends
//! `hello` and closes.

#[cfg(target_env = "p2")]
fn main() {
    use wasi::sockets::network::ErrorCode;
    use wouldblock_guest::p2net::*;
    let port = wouldblock_guest::port_arg();
    let net = wasi::sockets::instance_network::instance_network();
    let sock = wasi::sockets::tcp_create_socket::create_tcp_socket(
        wasi::sockets::network::IpAddressFamily::Ipv4,
    )
    .expect("a socket");
    report(
        "tcp-socket.start-connect",
        &sock.start_connect(&net, loopback(port)),
    );
    let first = sock.finish_connect();
    // On loopback the handshake may already be done: then there was nothing to wait for.
    let in_progress = matches!(first, Err(ErrorCode::WouldBlock));
    println!("WB op=connect-state fd=none errno=0 name=success in_progress={in_progress}");
    let (input, output) = match first {
        Ok(streams) => streams,
        Err(ErrorCode::WouldBlock) => {
            sock.subscribe().block();
            let r = sock.finish_connect();
            report("tcp-socket.finish-connect", &r);
            r.expect("connected")
        }
        Err(e) => {
            report("tcp-socket.finish-connect", &Err::<(), _>(e));
            std::process::exit(1);
        }
    };
    output.blocking_write_and_flush(b"hello").expect("writing");
    drop((input, output));
    let _ = sock.shutdown(wasi::sockets::tcp::ShutdownType::Both);
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
