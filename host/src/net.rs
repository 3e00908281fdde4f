//! Real OS sockets handed to preview1 guests: `--tcplisten` listeners and the connections
//! they accept.
//!
//! The host owns these sockets (they are not the host's stdio), so it keeps them in
//! non-blocking mode at the OS level and implements a guest's *blocking* calls by waiting for
//! readiness with `poll(2)`. A guest's non-blocking call is one OS call: `again` exactly when
//! the OS says EAGAIN.

use crate::errno::WasiErrno;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};

/// A `--tcplisten` address: `HOST:PORT` with a numeric host (`127.0.0.1:8080`, `[::1]:0`),
/// then optionally `@FD`, the guest descriptor number the listener gets, and `+nonblock`: the
/// guest receives it with `fdflags.nonblock` already set, as a parent may hand over a socket.
/// Both are for guests that keep descriptor numbers of their own (a CPython built with
/// wasi-vfs answers `fcntl` on any number it did not see at start-up with `EBADF`, and hands
/// out the numbers right after the preopens itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The guest's descriptor number for it (`None`: the next one after the preopens).
    pub fd: Option<u32>,
    /// Handed to the guest non-blocking.
    pub nonblock: bool,
}

crate::spec::deserialize_from_str!(ListenSpec);

/// The highest descriptor number `@FD` may ask for (the host reserves every number up to it
/// once, at start-up).
pub const MAX_LISTEN_FD: u32 = 1023;

impl std::str::FromStr for ListenSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (rest, nonblock) = match s.strip_suffix("+nonblock") {
            Some(rest) => (rest, true),
            None => (s, false),
        };
        let (addr, fd) = match rest.rsplit_once('@') {
            Some((addr, fd)) => {
                let fd = fd
                    .parse::<u32>()
                    .ok()
                    .filter(|fd| (3..=MAX_LISTEN_FD).contains(fd))
                    .ok_or_else(|| {
                        format!("`{s}`: @FD must be a descriptor number from 3 to {MAX_LISTEN_FD}")
                    })?;
                (addr, Some(fd))
            }
            None => (rest, None),
        };
        let addr = addr.parse::<SocketAddr>().map_err(|_| {
            format!("`{s}` is not HOST:PORT[@FD][+nonblock] with a numeric host, e.g. 127.0.0.1:8080, [::1]:0 or 127.0.0.1:0@10+nonblock")
        })?;
        Ok(ListenSpec { addr, fd, nonblock })
    }
}

impl std::fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.addr)?;
        if let Some(fd) = self.fd {
            write!(f, "@{fd}")?;
        }
        if self.nonblock {
            write!(f, "+nonblock")?;
        }
        Ok(())
    }
}

/// Binds `spec` and puts the socket in non-blocking mode (host side only).
pub fn listen(spec: &ListenSpec) -> io::Result<TcpListener> {
    let l = TcpListener::bind(spec.addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// One non-blocking accept; the new connection is non-blocking at the OS level too.
pub fn accept(l: &TcpListener) -> io::Result<TcpStream> {
    let (s, _) = l.accept()?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// A connected socket handed to a guest, and what the host knows of its receive queue: once
/// two receives in a row found it empty, `again` comes from memory until the kernel says
/// something arrived ([`crate::sys::EmptyWatch`]). Dereferences to its [`TcpStream`].
pub struct Conn {
    // Dropped first: its poll is cancelled before the socket closes.
    empty: crate::sys::EmptyWatch,
    stream: TcpStream,
}

impl From<TcpStream> for Conn {
    fn from(stream: TcpStream) -> Self {
        Conn {
            empty: crate::sys::EmptyWatch::default(),
            stream,
        }
    }
}

impl Conn {
    /// The socket itself.
    pub fn socket(&self) -> &TcpStream {
        &self.stream
    }
}

impl std::ops::Deref for Conn {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

/// One non-blocking receive (`peek` leaves the data queued).
#[inline(always)]
pub fn recv(c: &Conn, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    c.empty.read(crate::sys::raw_handle(&c.stream), || {
        crate::sys::socket_recv(&c.stream, buf, peek)
    })
}

/// One non-blocking send.
pub fn send(s: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    crate::sys::socket_send(s, buf)
}

/// `shutdown(2)` by WASI `sdflags` (1 = read, 2 = write).
pub fn shutdown(s: &TcpStream, how: u8) -> io::Result<()> {
    let how = match how & 3 {
        1 => Shutdown::Read,
        2 => Shutdown::Write,
        3 => Shutdown::Both,
        _ => return Err(io::ErrorKind::InvalidInput.into()),
    };
    s.shutdown(how)
}

/// The WASI errno for a failed socket call on this host ([`crate::sys::wasi_errno`]: the
/// host's own error numbers, by POSIX or Winsock name).
pub fn wasi_errno(e: &io::Error) -> WasiErrno {
    crate::sys::wasi_errno(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    /// A loopback connection: the accepted side as a [`Conn`] (non-blocking), and the client.
    fn connection() -> (Conn, TcpStream) {
        let l = listen(&"127.0.0.1:0".parse().unwrap()).unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match accept(&l) {
                Ok(s) => return (s.into(), client),
                Err(e) => assert!(crate::sys::is_would_block(&e) && Instant::now() < deadline),
            }
        }
    }

    fn again(c: &Conn, peek: bool) -> bool {
        matches!(recv(c, &mut [0; 16], peek), Err(e) if crate::sys::is_would_block(&e))
    }

    /// Receives on a silent connection are `again`; two in a row arm the watch where there
    /// is one (Linux); what the peer sends next is received byte for byte, peeked first,
    /// and its close is end-of-file.
    #[test]
    fn a_silent_connection_says_again_until_the_peer_sends() {
        let (c, mut client) = connection();
        assert!(again(&c, false) && again(&c, true));
        assert_eq!(c.empty.armed(), crate::sys::EMPTY_WATCH);
        assert!(again(&c, false));
        client.write_all(b"hello").unwrap();
        let mut buf = [0u8; 16];
        let deadline = Instant::now() + Duration::from_secs(20);
        let n = loop {
            match recv(&c, &mut buf, true) {
                Ok(n) => break n,
                Err(e) => assert!(crate::sys::is_would_block(&e)),
            }
            assert!(Instant::now() < deadline, "the bytes never showed");
        };
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(recv(&c, &mut buf, false).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert!(again(&c, false) && again(&c, false));
        assert_eq!(c.empty.armed(), crate::sys::EMPTY_WATCH);
        drop(client);
        let n = loop {
            match recv(&c, &mut buf, false) {
                Ok(n) => break n,
                Err(e) => assert!(crate::sys::is_would_block(&e)),
            }
            assert!(Instant::now() < deadline, "the close never showed");
        };
        assert_eq!(n, 0);
    }

    /// Dropping a connection whose watch is armed closes it: the peer reads end-of-file
    /// (a poll left outstanding would hold the socket open, and the read would time out).
    #[test]
    fn dropping_an_armed_connection_closes_it() {
        let (c, mut client) = connection();
        assert!(again(&c, false) && again(&c, false));
        assert_eq!(c.empty.armed(), crate::sys::EMPTY_WATCH);
        drop(c);
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(client.read(&mut [0u8; 4]).unwrap(), 0);
    }

    #[test]
    fn listen_spec_and_errors() {
        assert!("127.0.0.1:0".parse::<ListenSpec>().is_ok());
        assert!("[::1]:8080".parse::<ListenSpec>().is_ok());
        assert!("localhost:80".parse::<ListenSpec>().is_err());
        assert!("127.0.0.1".parse::<ListenSpec>().is_err());
        let at: ListenSpec = "127.0.0.1:0@10".parse().unwrap();
        assert_eq!((at.addr.port(), at.fd), (0, Some(10)));
        assert_eq!(at.to_string(), "127.0.0.1:0@10");
        assert_eq!("[::1]:0@3".parse::<ListenSpec>().unwrap().fd, Some(3));
        let nb: ListenSpec = "127.0.0.1:0@10+nonblock".parse().unwrap();
        assert_eq!((nb.fd, nb.nonblock), (Some(10), true));
        assert_eq!(nb.to_string(), "127.0.0.1:0@10+nonblock");
        assert!(
            "127.0.0.1:0+nonblock"
                .parse::<ListenSpec>()
                .unwrap()
                .nonblock
        );
        assert!("127.0.0.1:0+block".parse::<ListenSpec>().is_err());
        for bad in [
            "127.0.0.1:0@2",
            "127.0.0.1:0@1024",
            "127.0.0.1:0@x",
            "127.0.0.1:0@",
        ] {
            let e = bad.parse::<ListenSpec>().unwrap_err();
            assert!(
                e.contains("@FD must be a descriptor number from 3 to 1023"),
                "{e}"
            );
        }
        let l = listen(&"127.0.0.1:0".parse().unwrap()).unwrap();
        let e = accept(&l).unwrap_err();
        assert_eq!(wasi_errno(&e), WasiErrno::Again);
        // A closed port refuses.
        let port = l.local_addr().unwrap().port();
        drop(l);
        let e = TcpStream::connect(("127.0.0.1", port)).unwrap_err();
        assert_eq!(wasi_errno(&e), WasiErrno::Connrefused);
    }
}
