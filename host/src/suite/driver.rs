//! The suite's side of network cases: the clients (or the server) a scenario talks to, all on
//! loopback, each bounded in time.
//!
//! - `silent[:N]`: connect (N times) and send nothing, holding on until the guest is done;
//! - `send:TEXT`: connect, send TEXT after 50 ms, then shut down writing;
//! - `read`: connect, let the guest fill the buffers for 300 ms, then read to the end;
//! - `echo:N`: N concurrent clients that each send 40 lines and check the echo, byte for byte;
//! - `accept` (with `net = "server"`): accept one connection and read to the end.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What the suite's client does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Client {
    /// Connect this many times, send nothing.
    Silent(usize),
    /// Connect, send this, shut down writing.
    Send(String),
    /// Connect, wait, read everything.
    Read,
    /// This many concurrent echo clients.
    Echo(usize),
    /// Accept one connection (the guest connects), read everything.
    Accept,
}

impl std::str::FromStr for Client {
    type Err = String;

    fn from_str(s: &str) -> Result<Client, String> {
        Client::parse(s)
    }
}

crate::spec::deserialize_from_str!(Client);

/// The most clients one case may start: each is a connection (and for `echo`, a thread).
pub const MAX_CLIENTS: usize = 256;

impl Client {
    /// Parses a `client = "…"` value; counts are between 1 and [`MAX_CLIENTS`].
    pub fn parse(s: &str) -> Result<Client, String> {
        match s {
            "silent" => Ok(Client::Silent(1)),
            "read" => Ok(Client::Read),
            "accept" => Ok(Client::Accept),
            _ => {
                if let Some(n) = s.strip_prefix("silent:") {
                    return n
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_CLIENTS).contains(n))
                        .map(Client::Silent)
                        .ok_or_else(|| {
                            format!("`{s}`: silent:N needs a number from 1 to {MAX_CLIENTS}")
                        });
                }
                if let Some(text) = s.strip_prefix("send:") {
                    return Ok(Client::Send(text.to_string()));
                }
                if let Some(n) = s.strip_prefix("echo:") {
                    return n
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_CLIENTS).contains(n))
                        .map(Client::Echo)
                        .ok_or_else(|| {
                            format!("`{s}`: echo:N needs a number from 1 to {MAX_CLIENTS}")
                        });
                }
                Err(format!(
                    "client `{s}`: expected silent[:N], send:TEXT, read, echo:N or accept"
                ))
            }
        }
    }
}

/// Connects to `addr`, retrying until `deadline` while nothing listens yet.
fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, String> {
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1));
                s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("connecting to {addr}: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Runs `client` against the guest at `addr` until `done` says the guest has finished (or
/// the deadline); an error says what went wrong.
pub fn drive(
    client: &Client,
    addr: SocketAddr,
    deadline: Instant,
    done: &Receiver<()>,
) -> Result<(), String> {
    let wait_done = || match done.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) | Err(RecvTimeoutError::Timeout) => {}
    };
    match client {
        Client::Silent(n) => {
            let _held = (0..*n)
                .map(|_| connect(addr, deadline))
                .collect::<Result<Vec<_>, _>>()?;
            wait_done();
        }
        Client::Send(text) => {
            let mut s = connect(addr, deadline)?;
            std::thread::sleep(Duration::from_millis(50));
            s.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
            std::thread::sleep(Duration::from_millis(50));
            s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
            wait_done();
        }
        Client::Read => {
            let mut s = connect(addr, deadline)?;
            std::thread::sleep(Duration::from_millis(300));
            let mut sink = Vec::new();
            s.read_to_end(&mut sink).map_err(|e| e.to_string())?;
            wait_done();
        }
        Client::Echo(n) => {
            let clients: Vec<_> = (0..*n)
                .map(|i| {
                    std::thread::spawn(move || -> Result<(), String> {
                        let mut s = connect(addr, deadline)?;
                        let mut sent = Vec::new();
                        for m in 0..40 {
                            let line = format!(
                                "client {i} line {m} {}\n",
                                "z".repeat((i * 131 + m * 17) % 2000)
                            );
                            s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
                            sent.extend_from_slice(line.as_bytes());
                        }
                        s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
                        let mut got = Vec::new();
                        s.read_to_end(&mut got).map_err(|e| e.to_string())?;
                        if got != sent {
                            return Err(format!(
                                "echo client {i}: {} of {} bytes came back intact",
                                got.len(),
                                sent.len()
                            ));
                        }
                        Ok(())
                    })
                })
                .collect();
            for c in clients {
                c.join()
                    .map_err(|_| "an echo client panicked".to_string())??;
            }
        }
        Client::Accept => unreachable!("a server, not a client: see serve()"),
    }
    Ok(())
}

/// For `net = "server"`: a loopback listener the guest connects to, and the thread that
/// accepts one connection and reads it to the end.
pub fn serve(
    deadline: Instant,
) -> Result<(SocketAddr, std::thread::JoinHandle<Result<(), String>>), String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = l.local_addr().map_err(|e| e.to_string())?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let t = std::thread::spawn(move || loop {
        match l.accept() {
            Ok((mut s, _)) => {
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1));
                s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
                let mut sink = Vec::new();
                s.read_to_end(&mut sink).map_err(|e| e.to_string())?;
                return Ok(());
            }
            Err(_) if Instant::now() >= deadline => return Err("nobody connected".into()),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    });
    Ok((addr, t))
}

/// A loopback address nobody listens on now, for a preview2 guest to bind.
pub fn free_addr() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())
}
