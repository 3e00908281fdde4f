//! Unix: reading a host descriptor without touching its flags.
//!
//! The guest's non-blocking flag is the guest's: the host's own stdin keeps its flags. Readiness
//! comes from `poll(2)` with a timeout, reads from `read(2)` only after `poll` said readable, so a
//! read never blocks.
//!
//! # References
//! - POSIX `poll`: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/poll.html>
//! - Linux `poll(2)`, `read(2)` man pages.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A host descriptor the guest reads as its stdin: the host's fd 0 or an opened file.
pub struct HostFd {
    fd: RawFd,
    // Keeps an opened file alive; `None` for the host's own stdin, which is never closed.
    _owned: Option<OwnedFd>,
}

/// The host's own stdin.
pub fn host_stdin() -> HostFd {
    HostFd {
        fd: 0,
        _owned: None,
    }
}

impl HostFd {
    /// Takes ownership of an opened file.
    pub fn from_owned(fd: OwnedFd) -> HostFd {
        HostFd {
            fd: fd.as_raw_fd(),
            _owned: Some(fd),
        }
    }

    /// Waits up to `timeout` for the descriptor to become readable (data, end-of-file or
    /// error); true if a read would not block now.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        loop {
            // SAFETY: one valid pollfd, count 1.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n >= 0 {
                return Ok(n > 0);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// One `read(2)`; call only after [`HostFd::wait_readable`] said readable.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is valid for buf.len() bytes.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The errno table of the platform the host runs on, if there is one.
pub fn host_platform() -> Option<crate::errno::Platform> {
    use crate::errno::Platform;
    if cfg!(target_os = "linux") {
        Some(Platform::Linux)
    } else if cfg!(target_os = "macos") {
        Some(Platform::Macos)
    } else if cfg!(target_os = "freebsd") {
        Some(Platform::Freebsd)
    } else {
        None
    }
}
