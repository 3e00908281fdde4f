//! Real OS sockets handed to preview1 guests: `--tcplisten` listeners and the connections
//! they accept.
//!
//! The host owns these sockets (they are not the host's stdio), so it keeps them in
//! non-blocking mode at the OS level and implements a guest's *blocking* calls by waiting for
//! readiness with `poll(2)`. A guest's non-blocking call is one OS call: `again` exactly when
//! the OS says EAGAIN.

use crate::errno::{self, HandleKind, WasiErrno};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};

/// A `--tcplisten` address: `HOST:PORT` with a numeric host (`127.0.0.1:8080`, `[::1]:0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec(pub SocketAddr);

impl std::str::FromStr for ListenSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<SocketAddr>().map(ListenSpec).map_err(|_| {
            format!("`{s}` is not HOST:PORT with a numeric host, e.g. 127.0.0.1:8080 or [::1]:0")
        })
    }
}

/// Binds `spec` and puts the socket in non-blocking mode (host side only).
pub fn listen(spec: &ListenSpec) -> io::Result<TcpListener> {
    let l = TcpListener::bind(spec.0)?;
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
pub fn recv(s: &TcpStream, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    if peek {
        s.peek(buf)
    } else {
        (&*s).read(buf)
    }
}

/// One non-blocking send.
pub fn send(s: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    (&*s).write(buf)
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

/// The WASI errno for a failed socket call on this host.
pub fn wasi_errno(e: &io::Error) -> WasiErrno {
    if e.kind() == io::ErrorKind::WouldBlock {
        return WasiErrno::Again;
    }
    let Some(raw) = e.raw_os_error() else {
        return WasiErrno::Io;
    };
    let platform = errno::Platform::host().unwrap_or(errno::Platform::Linux);
    WasiErrno::ALL
        .iter()
        .copied()
        .find(|w| {
            w.posix()
                .and_then(|p| errno::native(platform, p, HandleKind::Pipe))
                .is_some_and(|n| n.number == raw)
        })
        .unwrap_or(WasiErrno::Io)
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
