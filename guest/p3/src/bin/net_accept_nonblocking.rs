//! Scenario `net_accept_nonblocking` (WASI 0.3): listen on the address given; the stream of
//! accepted connections read once with no client: BLOCKED, and the guest cancels (EAGAIN for
//! wasi-libc's non-blocking `accept`, Python: BlockingIOError). A client of its own connects
//! and the next read of the stream accepts it. The connection's receive stream read once
//! before anything was sent: BLOCKED and cancelled (EAGAIN for `recv`); then the client sends
//! "hi" and a read gets it. Last, an address the host did not allow: access-denied.
//! With `look-after-connect` after the address, the stream is looked at once right after the
//! client's connect started (see [`look_after_connect`]), and the guest stops there.

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::net::*;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let port = port_arg();
        // The listening socket is kept for the whole run, beside its stream.
        let (_listener, mut accepts) = match bound(port).and_then(|l| l.listen().map(|s| (l, s))) {
            Ok(pair) => pair,
            Err(e) => {
                report("listen", &Err::<(), _>(e));
                return Err(());
            }
        };
        println!("WB op=listen fd=none errno=0 name=success");
        {
            let mut accept = pin!(accepts.read(Vec::with_capacity(1)));
            match poll_once(accept.as_mut()).await {
                Poll::Ready((r, _)) => {
                    println!("{}", read_line("stream.read", "listener", r, &[]));
                    return Err(());
                }
                Poll::Pending => {
                    println!("{}", blocked_line("stream.read", "listener"));
                    let (r, _) = accept.as_mut().cancel();
                    println!("{}", read_line("stream.cancel-read", "listener", r, &[]));
                }
            }
        }
        let client = match wasip3::sockets::types::TcpSocket::create(
            wasip3::sockets::types::IpAddressFamily::Ipv4,
        ) {
            Ok(c) => c,
            Err(e) => {
                report("create", &Err::<(), _>(e));
                return Err(());
            }
        };
        if std::env::args().nth(2).as_deref() == Some("look-after-connect") {
            return look_after_connect(&client, &mut accepts, port).await;
        }
        let connected = client.connect(loopback(port)).await;
        report("connect", &connected);
        connected.map_err(|_| ())?;
        let (r, mut conns) = accepts.read(Vec::with_capacity(1)).await;
        println!("{}", read_line("stream.read", "listener", r, &[]));
        let Some(conn) = conns.pop() else {
            return Err(());
        };
        let (mut rx, _received) = conn.receive();
        read_or_cancel(&mut rx, "conn", 16).await;
        let (mut tx, data) = wasip3::wit_stream::new::<u8>();
        let sent = client.send(data);
        let rest = tx.write_all(b"hi".to_vec()).await;
        println!(
            "WB op=stream.write fd=client errno=0 name=success n={}",
            2 - rest.len()
        );
        drop(tx);
        report("send", &sent.await);
        let (r, got) = rx.read(Vec::with_capacity(16)).await;
        println!("{}", read_line("stream.read", "conn", r, &got));
        // One port up was not allowed.
        report(
            "listen-denied",
            &bound(port.wrapping_add(1)).and_then(|s| s.listen()),
        );
        Ok(())
    }
}

/// `look-after-connect`: the client's connect is started (the host's `connect(2)`; on
/// loopback the handshake is done when it returns) and, before anything else, the stream of
/// accepted connections is looked at once: POSIX's `accept` would return the client. Then
/// both are waited for.
async fn look_after_connect(
    client: &wasip3::sockets::types::TcpSocket,
    accepts: &mut wasip3::wit_bindgen::StreamReader<wasip3::sockets::types::TcpSocket>,
    port: u16,
) -> Result<(), ()> {
    let mut connecting = pin!(client.connect(loopback(port)));
    let started = poll_once(connecting.as_mut()).await;
    let mut accept = pin!(accepts.read(Vec::with_capacity(1)));
    let look = poll_once(accept.as_mut()).await;
    // Nothing is printed before the look: printing is a host call that could let the host's
    // event loop run.
    let (r, conns) = match look {
        Poll::Ready(done) => done,
        Poll::Pending => {
            println!("{}", blocked_line("stream.read", "listener"));
            accept.await
        }
    };
    println!("{}", read_line("stream.read", "listener", r, &[]));
    let connected = match started {
        Poll::Ready(r) => r,
        Poll::Pending => connecting.await,
    };
    report("connect", &connected);
    if connected.is_err() || conns.is_empty() {
        return Err(());
    }
    Ok(())
}
