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
    pub fn from_file(file: std::fs::File) -> HostFd {
        let fd = OwnedFd::from(file);
        HostFd {
            fd: fd.as_raw_fd(),
            _owned: Some(fd),
        }
    }

    /// Waits up to `timeout` for the descriptor to become readable (data, end-of-file or
    /// error); true if a read would not block now.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        self.poll_one(libc::POLLIN, timeout)
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

/// The host's own stdout.
pub fn host_stdout() -> HostFd {
    HostFd {
        fd: 1,
        _owned: None,
    }
}

/// The host's own stderr.
pub fn host_stderr() -> HostFd {
    HostFd {
        fd: 2,
        _owned: None,
    }
}

impl HostFd {
    /// Waits up to `timeout` for the descriptor to accept a write of `PIPE_BUF` bytes
    /// without blocking (`POLLOUT`); true if it would.
    pub fn wait_writable(&self, timeout: Duration) -> io::Result<bool> {
        self.poll_one(libc::POLLOUT, timeout)
    }

    fn poll_one(&self, events: libc::c_short, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events,
            revents: 0,
        };
        let ms = super::timeout_ms(timeout);
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

    /// One `write(2)`: the bytes written.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is valid for buf.len() bytes.
            let n = unsafe { libc::write(self.fd, buf.as_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Bytes waiting to be read (`FIONREAD`), where the descriptor can tell.
    pub fn readable_bytes(&self) -> Option<u64> {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int.
        let rc = unsafe { libc::ioctl(self.fd, libc::FIONREAD as _, &mut n) };
        (rc == 0).then(|| u64::try_from(n).unwrap_or(0))
    }

    /// Free space in a pipe (its size minus what is queued); `None` for other descriptors.
    pub fn writable_bytes(&self) -> Option<u64> {
        pipe_free_space(self.fd)
    }

    /// The raw descriptor, for `poll` over several.
    pub fn raw(&self) -> RawFd {
        self.fd
    }
}

#[cfg(target_os = "linux")]
fn pipe_free_space(fd: RawFd) -> Option<u64> {
    // SAFETY: F_GETPIPE_SZ takes no argument; it fails on anything but a pipe.
    let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    if size < 0 {
        return None;
    }
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD as _, &mut queued) };
    (rc == 0).then(|| u64::try_from(size.saturating_sub(queued)).unwrap_or(0))
}

#[cfg(not(target_os = "linux"))]
fn pipe_free_space(_fd: RawFd) -> Option<u64> {
    None
}

/// `poll(2)` over several descriptors (`true`: for writing) for up to `timeout`; whether
/// each is ready (or in error, so that the next call reports it).
pub fn poll_many(fds: &[(RawFd, bool)], timeout: Duration) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|(fd, write)| libc::pollfd {
            fd: *fd,
            events: if *write { libc::POLLOUT } else { libc::POLLIN },
            revents: 0,
        })
        .collect();
    let ms = super::timeout_ms(timeout);
    loop {
        // SAFETY: pfds is a valid array of pfds.len() entries.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if n >= 0 {
            return Ok(pfds.iter().map(|p| p.revents != 0).collect());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A raw descriptor for `poll(2)`.
pub type RawHandle = RawFd;

/// The raw descriptor of a socket (or anything with one), for [`poll_many`].
pub fn raw_handle<T: AsRawFd>(t: &T) -> RawHandle {
    t.as_raw_fd()
}

/// Bytes queued to read on a socket (`FIONREAD`).
pub fn socket_readable_bytes<T: AsRawFd>(t: &T) -> u64 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int.
    let rc = unsafe { libc::ioctl(t.as_raw_fd(), libc::FIONREAD as _, &mut n) };
    if rc == 0 {
        u64::try_from(n).unwrap_or(0)
    } else {
        0
    }
}

/// Free space in a socket's send buffer (`SO_SNDBUF` minus `SIOCOUTQ`), where known.
pub fn socket_writable_bytes<T: AsRawFd>(t: &T) -> Option<u64> {
    send_space(t.as_raw_fd())
}

#[cfg(target_os = "linux")]
fn send_space(fd: RawFd) -> Option<u64> {
    let mut size: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: SO_SNDBUF writes one c_int into size, len is its size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&mut size as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    let mut queued: libc::c_int = 0;
    // SAFETY: SIOCOUTQ (== TIOCOUTQ) writes one c_int.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ as _, &mut queued) };
    (rc == 0).then(|| u64::try_from(size.saturating_sub(queued)).unwrap_or(0))
}

#[cfg(not(target_os = "linux"))]
fn send_space(_fd: RawFd) -> Option<u64> {
    None
}

/// Whether the peer of a connected socket has hung up (`POLLHUP` or `POLLRDHUP`).
pub fn socket_hung_up<T: AsRawFd>(t: &T) -> bool {
    let mut pfd = libc::pollfd {
        fd: t.as_raw_fd(),
        events: libc::POLLIN | hangup_events(),
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1, no wait.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLHUP | hangup_events()) != 0
}

#[cfg(target_os = "linux")]
fn hangup_events() -> libc::c_short {
    libc::POLLRDHUP
}

#[cfg(not(target_os = "linux"))]
fn hangup_events() -> libc::c_short {
    0
}

/// The kernel release (`uname -r`).
pub fn kernel_release() -> Option<String> {
    // SAFETY: uname fills the zeroed struct; release is NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let release = std::ffi::CStr::from_ptr(u.release.as_ptr());
        Some(release.to_string_lossy().into_owned())
    }
}
