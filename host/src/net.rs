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

/// One non-blocking receive (`peek` leaves the data queued).
#[inline(always)]
pub fn recv(s: &TcpStream, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    crate::sys::socket_recv(s, buf, peek)
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
