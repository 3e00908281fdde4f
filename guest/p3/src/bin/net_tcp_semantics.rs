//! Scenario `net_tcp_semantics` (WASI 0.3): the rules of a `tcp-socket` around its streams,
//! one `WB` line per call, so that two implementations can be compared line for line (the
//! host's own sockets in faithful mode, wasmtime-wasi's in stock mode): calls out of order are
//! `invalid-state`, bad values and addresses `invalid-argument` (the socket as it was), a
//! denied connect closes its socket, and options read back what was set (keep-alive times in whole seconds). Buffer sizes are only set: what the OS
//! reports differs by platform.

#![no_main]

use wasip3::sockets::types::{
    IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress, TcpSocket,
};
use wouldblock_guest_p3::net::*;

wasip3::cli::command::export!(Run);

struct Run;

const SECOND: u64 = 1_000_000_000;

/// Reports `r` with the value it read, when there is one.
fn value<T: std::fmt::Debug>(op: &str, r: Result<T, wasip3::sockets::types::ErrorCode>) {
    match r {
        Ok(v) => println!("WB op={op} fd=none errno=0 name=success value={v:?}"),
        Err(e) => report(op, &Err::<(), _>(e)),
    }
}

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let port = port_arg();
        let server = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|_| ())?;
        value("address-family", Ok::<_, _>(server.get_address_family()));
        report("local-address-unbound", &server.get_local_address());
        report("bind-multicast", &server.bind(v4((224, 0, 0, 1), port)));
        report("bind-v6-on-v4", &server.bind(v6(port)));
        report("bind", &server.bind(loopback(port)));
        report("bind-again", &server.bind(loopback(port)));
        let local = server.get_local_address().map(|a| match a {
            IpSocketAddress::Ipv4(a) => a.port == port,
            IpSocketAddress::Ipv6(_) => false,
        });
        value("local-address-is-bound-port", local);
        report("remote-address-unconnected", &server.get_remote_address());
        report("backlog-zero", &server.set_listen_backlog_size(0));
        report("backlog", &server.set_listen_backlog_size(16));
        report("keep-alive-on", &server.set_keep_alive_enabled(true));
        value("keep-alive-enabled", server.get_keep_alive_enabled());
        report("keep-alive-idle-zero", &server.set_keep_alive_idle_time(0));
        report(
            "keep-alive-idle",
            &server.set_keep_alive_idle_time(3 * SECOND),
        );
        value(
            "keep-alive-idle-s",
            server.get_keep_alive_idle_time().map(|n| n / SECOND),
        );
        report(
            "keep-alive-interval",
            &server.set_keep_alive_interval(2 * SECOND),
        );
        value(
            "keep-alive-interval-s",
            server.get_keep_alive_interval().map(|n| n / SECOND),
        );
        report("keep-alive-count-zero", &server.set_keep_alive_count(0));
        report("keep-alive-count", &server.set_keep_alive_count(5));
        value("keep-alive-count", server.get_keep_alive_count());
        report("hop-limit-zero", &server.set_hop_limit(0));
        report("hop-limit", &server.set_hop_limit(42));
        value("hop-limit", server.get_hop_limit());
        report("receive-buffer-zero", &server.set_receive_buffer_size(0));
        report("receive-buffer", &server.set_receive_buffer_size(1 << 16));
        report("send-buffer", &server.set_send_buffer_size(1 << 16));
        value("is-listening", Ok::<_, _>(server.get_is_listening()));
        let (accepts, listen) = match server.listen() {
            Ok(s) => (Some(s), Ok(())),
            Err(e) => (None, Err(e)),
        };
        report("listen", &listen);
        value("is-listening", Ok::<_, _>(server.get_is_listening()));
        report("listen-again", &server.listen());
        report("connect-listening", &server.connect(loopback(port)).await);
        report("backlog-listening", &server.set_listen_backlog_size(32));

        let client = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|_| ())?;
        let (_rx, unconnected) = client.receive();
        report("receive-unconnected", &unconnected.await);
        report(
            "connect-unspecified",
            &client.connect(v4((0, 0, 0, 0), port)).await,
        );
        report("connect-port-zero", &client.connect(loopback(0)).await);
        report("connect-v6-on-v4", &client.connect(v6(port)).await);
        // A denied connect is a failed attempt: that socket is closed with its error.
        let denied = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|_| ())?;
        report(
            "connect-denied",
            &denied.connect(loopback(port.wrapping_add(1))).await,
        );
        report(
            "connect-after-denied",
            &denied.connect(loopback(port)).await,
        );
        report("remote-address-after-denied", &denied.get_remote_address());
        let (_rx, closed) = denied.receive();
        report("receive-after-denied", &closed.await);
        report("connect", &client.connect(loopback(port)).await);
        report("connect-again", &client.connect(loopback(port)).await);
        let remote = client.get_remote_address().map(|a| match a {
            IpSocketAddress::Ipv4(a) => a.port == port,
            IpSocketAddress::Ipv6(_) => false,
        });
        value("remote-address-is-server", remote);
        let (_rx, first) = client.receive();
        let (_rx2, second) = client.receive();
        report("receive-twice", &second.await);
        drop(first);
        drop(accepts);
        Ok(())
    }
}

fn v4(address: (u8, u8, u8, u8), port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address })
}

fn v6(port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv6(Ipv6SocketAddress {
        port,
        address: (0, 0, 0, 0, 0, 0, 0, 1),
        flow_info: 0,
        scope_id: 0,
    })
}
