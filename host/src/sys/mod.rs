//! Platform code, switched once here. Nothing outside `sys/` uses `cfg(unix)`/`cfg(windows)`.
//!
//! Both backends offer the same items: `HostFd` (the host's stdio or an opened file, read and
//! written without changing its flags), readiness waits, `poll_many_into` over raw sockets and host
//! descriptors, socket queue sizes, the kernel release, the host's errno table, guest files
//! mapped and identified, and the user's cache directory.
//! `pump.rs` is platform-neutral (non-blocking writes over a blocking writer), used on Windows.
//! `empty.rs` answers `again` from memory for a descriptor known to be empty (io_uring, on
//! Linux; elsewhere it is off).

mod empty;
mod pump;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

pub use empty::EmptyWatch;
#[cfg(test)]
pub use empty::EMPTY_WATCH;
pub use imp::{
    cache_home, file_identity, host_platform, host_stderr, host_stdin, host_stdout, hostname,
    kernel_release, map_file, poll_many_into, raw_handle, socket_readable_bytes, socket_recv,
    socket_send, socket_writable_bytes, tcp_before_bind, tcp_keepalive, wasi_errno, HostFd,
    RawHandle, FILE_IDENTITY, HOST_FDS_POLLABLE,
};

/// Whether `e`, from a read or write of a [`HostFd`] or socket, is `EAGAIN`/`EWOULDBLOCK`:
/// on Unix a comparison of the code (`io::Error::kind` is a table lookup, 2% of an `again`
/// round trip over a host pipe).
#[inline(always)]
pub fn is_would_block(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::EAGAIN);
    #[cfg(windows)]
    return e.kind() == std::io::ErrorKind::WouldBlock;
}

/// The error a read that would block returns on this host, as [`is_would_block`] knows it.
#[inline(always)]
pub fn would_block() -> std::io::Error {
    #[cfg(unix)]
    return std::io::Error::from_raw_os_error(libc::EAGAIN);
    #[cfg(windows)]
    return std::io::ErrorKind::WouldBlock.into();
}

/// What a poll said of one descriptor ([`poll_many_into`], [`HostFd::wait`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    /// Any event: ready, or in error or hung up, so that the next call reports it.
    pub ready: bool,
    /// The other side is gone: every writer of a pipe has closed (`POLLHUP`), a socket's
    /// peer has shut down its side (`POLLRDHUP` on Linux, `POLLHUP`/`POLLERR` of `WSAPoll`);
    /// false where the platform cannot tell.
    pub hangup: bool,
}

/// Whether each descriptor of [`poll_many_into`] is ready, into a new vector: for a one-off
/// poll.
pub fn poll_many(
    fds: &[(RawHandle, bool)],
    timeout: std::time::Duration,
) -> std::io::Result<Vec<bool>> {
    let mut polled = Vec::with_capacity(fds.len());
    poll_many_into(fds, timeout, &mut polled)?;
    Ok(polled.iter().map(|p| p.ready).collect())
}

impl HostFd {
    /// Writes all of `buf` through the backend's `write`, blocking as the handle does.
    pub fn write_all(&self, mut buf: &[u8]) -> std::io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
        }
        Ok(())
    }
}

/// `timeout` as the milliseconds `poll`/`WSAPoll` take: rounded up, so that a wait for a
/// clock due in under a millisecond sleeps instead of spinning, and capped at `i32::MAX`.
fn timeout_ms(timeout: std::time::Duration) -> i32 {
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::timeout_ms;
    use std::time::Duration;

    #[test]
    fn timeouts_round_up_and_saturate() {
        assert_eq!(timeout_ms(Duration::ZERO), 0);
        assert_eq!(timeout_ms(Duration::from_nanos(1)), 1);
        assert_eq!(timeout_ms(Duration::from_millis(1)), 1);
        assert_eq!(timeout_ms(Duration::from_micros(1001)), 2);
        assert_eq!(timeout_ms(Duration::from_secs(3600)), 3_600_000);
        assert_eq!(timeout_ms(Duration::MAX), i32::MAX);
    }
}
