//! Scenario `net_echo_server` (preview2): a non-blocking echo server driven by
//! `wasi:io/poll.poll`, serving the number of clients given after the address (default 1)
//! concurrently, and exiting once all have closed. Non-blocking `accept`, `read` and
//! `check-write`: each would-block crosses to the host, which records it.

#[cfg(target_env = "p2")]
fn main() {
    use wasi::io::streams::{InputStream, OutputStream, StreamError};
    use wasi::sockets::network::ErrorCode;
    use wasi::sockets::tcp::TcpSocket;
    use wouldblock_guest::p2net::*;

    // Fields drop in order: the streams are the socket's children and must go first.
    struct Conn {
        input: InputStream,
        output: OutputStream,
        pending: Vec<u8>,
        echoed: usize,
        eof: bool,
        _sock: TcpSocket,
    }
    let port = wouldblock_guest::port_arg();
    let clients: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let listener = listen(port);
    report("listen", &listener);
    let Ok(listener) = listener else {
        std::process::exit(1)
    };
    let (mut conns, mut accepted) = (Vec::<Conn>::new(), 0);
    while accepted < clients || !conns.is_empty() {
        let mut pollables = Vec::new();
        if accepted < clients {
            pollables.push(listener.subscribe());
        }
        for c in &conns {
            pollables.push(if c.pending.is_empty() {
                c.input.subscribe()
            } else {
                c.output.subscribe()
            });
        }
        let refs: Vec<&wasi::io::poll::Pollable> = pollables.iter().collect();
        wasi::io::poll::poll(&refs);
        drop(refs);
        drop(pollables);
        while accepted < clients {
            match listener.accept() {
                Ok((sock, input, output)) => {
                    accepted += 1;
                    conns.push(Conn {
                        input,
                        output,
                        pending: Vec::new(),
                        echoed: 0,
                        eof: false,
                        _sock: sock,
                    });
                }
                Err(ErrorCode::WouldBlock) => break,
                Err(e) => {
                    report("tcp-socket.accept", &Err::<(), _>(e));
                    std::process::exit(1);
                }
            }
        }
        for c in &mut conns {
            while !c.eof && c.pending.len() < 65536 {
                match c.input.read(16384) {
                    Ok(bytes) if bytes.is_empty() => break,
                    Ok(bytes) => c.pending.extend_from_slice(&bytes),
                    Err(StreamError::Closed) => c.eof = true,
                    Err(StreamError::LastOperationFailed(_)) => c.eof = true,
                }
            }
            while !c.pending.is_empty() {
                match c.output.check_write() {
                    Ok(0) => break,
                    Ok(n) => {
                        let n = (n as usize).min(c.pending.len());
                        if c.output.write(&c.pending[..n]).is_err() {
                            c.pending.clear();
                            break;
                        }
                        c.pending.drain(..n);
                        c.echoed += n;
                    }
                    Err(_) => {
                        c.pending.clear();
                        break;
                    }
                }
            }
        }
        conns.retain(|c| {
            let done = c.eof && c.pending.is_empty();
            if done {
                let _ = c.output.blocking_flush();
                println!(
                    "WB op=echoed fd=none errno=0 name=success bytes={}",
                    c.echoed
                );
            }
            !done
        });
    }
    println!("WB op=echo_server fd=none errno=0 name=success clients={clients}");
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
