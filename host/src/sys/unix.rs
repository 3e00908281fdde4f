//! Unix: reading and writing a host descriptor without touching its flags.
//!
//! The guest's non-blocking flag is the guest's: the host's own stdin, stdout and stderr keep
//! their flags, which other processes sharing them see. Two ways to a call that never blocks:
//! - On Linux, when the descriptor is a pipe, the host opens the same pipe again through
//!   `/proc/self/fd/N` — a new open file description, private to the host, with `O_NONBLOCK`
//!   on it alone — and reads or writes through that: the kernel's own non-blocking pipe
//!   semantics (short writes, `PIPE_BUF` atomicity, `EAGAIN`) in one syscall.
//! - Otherwise (other descriptors, other systems, or when that open fails): readiness from
//!   `poll(2)`, a read only after `POLLIN`, a write of at most `PIPE_BUF` bytes only after
//!   `POLLOUT` (which promises that much room), so neither blocks.
//!
//! # References
//! - POSIX `poll`: <https://pubs.opengroup.org/onlinepubs/9799919799/functions/poll.html>
//! - POSIX `write` on pipes and FIFOs with `O_NONBLOCK`:
//!   <https://pubs.opengroup.org/onlinepubs/9799919799/functions/write.html>
//! - Linux `proc_pid_fd(5)`: opening `/proc/self/fd/N` of a pipe opens the pipe itself;
//!   `pipe(7)`; `open(2)`: status flags belong to the open file description.
//!
//! The calls a guest makes often (`read`, `write`, `recv`, `send`, `poll`) are direct system
//! calls through rustix, not libc's wrappers: those are cancellation points, and in a
//! process with more than one thread (the host's is) glibc brackets each with two atomic
//! updates of the thread's cancellation state, a seventh of an `again` round trip.

use super::Polled;
use crate::errno::{Posix, WasiErrno};
use crate::fdwait::Waiters;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::BorrowedFd;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::Duration;

/// A host descriptor the guest reads or writes: the host's fd 0, 1 or 2, or an opened file.
pub struct HostFd {
    fd: RawFd,
    // Answers `again` from memory once the private description is known empty; dropped
    // (its poll cancelled) before that description closes.
    empty: super::EmptyWatch,
    // Keeps an opened file alive; `None` for the host's own stdio, which is never closed.
    _owned: Option<OwnedFd>,
    // The private non-blocking open file description of the same pipe, opened on first use
    // for the access `access` names; `None` inside when there is none to have.
    nonblocking: OnceLock<Option<OwnedFd>>,
    // The pipe's size (`F_GETPIPE_SZ`), asked once; `None` inside for anything but a pipe.
    pipe_size: OnceLock<Option<u64>>,
    access: libc::c_int,
    // Who waits for it to be readable or writable, from async code.
    waiters: Waiters,
}

/// The host's own stdin.
pub fn host_stdin() -> HostFd {
    HostFd::borrowed(0, libc::O_RDONLY)
}

impl HostFd {
    fn borrowed(fd: RawFd, access: libc::c_int) -> HostFd {
        HostFd {
            fd,
            empty: super::EmptyWatch::default(),
            _owned: None,
            nonblocking: OnceLock::new(),
            pipe_size: OnceLock::new(),
            access,
            waiters: Waiters::default(),
        }
    }

    /// Takes ownership of an opened file (read by the guest).
    pub fn from_file(file: std::fs::File) -> HostFd {
        let fd = OwnedFd::from(file);
        let raw = fd.as_raw_fd();
        HostFd {
            _owned: Some(fd),
            ..HostFd::borrowed(raw, libc::O_RDONLY)
        }
    }

    /// Who waits for it to be readable or writable, from async code.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    /// The private non-blocking twin of a pipe, if the host could open one.
    fn twin(&self) -> Option<RawFd> {
        self.nonblocking
            .get_or_init(|| open_nonblocking_twin(self.fd, self.access))
            .as_ref()
            .map(AsRawFd::as_raw_fd)
    }

    /// A read that never blocks, as the kernel does it on a non-blocking pipe (`WouldBlock`
    /// for `EAGAIN`); `None` where the host has no such read for this descriptor (then wait
    /// with [`HostFd::wait_readable`] and [`HostFd::read`]). Once the pipe is known empty
    /// ([`super::EmptyWatch`]), `WouldBlock` without a system call.
    #[inline(always)]
    pub fn read_now(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        let fd = self.twin()?;
        Some(self.empty.read(fd, || {
            retry_eintr(|| rustix::io::read(borrow(fd), &mut *buf))
        }))
    }

    /// One blocking `read(2)`, for a blocking read with no deadline, where the host has no
    /// private non-blocking description (a terminal, a file): one system call, as native,
    /// where waiting for `POLLIN` first was two. `None` where there is one: its read, then
    /// `poll` only when empty, is as few. `WouldBlock` when someone else made the shared
    /// description non-blocking.
    #[inline(always)]
    pub fn read_blocking(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self.twin() {
            Some(_) => None,
            None => Some(self.read(buf)),
        }
    }

    /// A write that never blocks, as the kernel does it on a non-blocking pipe: short when
    /// only part fits (never for `PIPE_BUF` bytes or fewer), `WouldBlock` when nothing does;
    /// `None` where the host has no such write for this descriptor.
    #[inline(always)]
    pub fn write_now(&self, buf: &[u8]) -> Option<io::Result<usize>> {
        let fd = self.twin()?;
        Some(retry_eintr(|| rustix::io::write(borrow(fd), buf)))
    }

    /// One step of a blocking write that returns within about `slice`, so that the caller
    /// can look at its deadline between steps: the bytes written, 0 when there was no room.
    /// Without a private non-blocking description, waits for `POLLOUT` in the slice, then
    /// does one blocking write (a reader that stalls mid-write is the one wait the host cannot
    /// leave; the run is then abandoned at its deadline); with no slice to keep
    /// ([`Duration::MAX`]: no deadline), just the blocking write.
    #[inline(always)]
    pub fn write_within(&self, buf: &[u8], slice: Duration) -> io::Result<usize> {
        match self.write_now(buf) {
            Some(Err(e)) if super::is_would_block(&e) => {
                self.wait_writable(slice)?;
                Ok(0)
            }
            Some(written) => written,
            // No deadline to look at: the guest's blocking write is one blocking write, as
            // native (a `poll` first was a second system call on every write to a terminal,
            // a file or /dev/null). A description someone else made non-blocking may say
            // `EAGAIN`: then wait as below.
            None if slice == Duration::MAX => match self.write(buf) {
                Err(e) if super::is_would_block(&e) => {
                    self.wait_writable(slice)?;
                    Ok(0)
                }
                done => done,
            },
            None if self.wait_writable(slice)? => self.write(buf),
            None => Ok(0),
        }
    }

    /// Waits until what the host took for this descriptor has reached it: at once on Unix,
    /// where every write is the kernel's.
    pub fn flush(&self) {}

    /// Waits up to `timeout` for the descriptor to become readable (data, end-of-file or
    /// error); true if a read would not block now.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        Ok(self.wait(false, timeout)?.ready)
    }

    /// One `read(2)`; call only after [`HostFd::wait_readable`] said readable.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        retry_eintr(|| rustix::io::read(borrow(self.fd), &mut *buf))
    }
}

/// Runs a direct `read`/`write`-like system call again while it fails with `EINTR`; its
/// count, or its error as an OS error code (`EAGAIN` is `WouldBlock`; nothing allocated).
#[inline(always)]
fn retry_eintr(mut call: impl FnMut() -> rustix::io::Result<usize>) -> io::Result<usize> {
    loop {
        match call() {
            Err(rustix::io::Errno::INTR) => {}
            done => return done.map_err(io::Error::from),
        }
    }
}

/// A descriptor the caller keeps open for the duration of one system call.
fn borrow<'a>(fd: RawFd) -> BorrowedFd<'a> {
    // SAFETY: every caller passes a descriptor it owns or borrows for longer than the call.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `poll(2)` on `fds` for up to `timeout` (rounded up to whole milliseconds, as
/// [`super::timeout_ms`] says why; [`Duration::MAX`] waits with no timeout at all, which
/// spares the kernel arming and cancelling a timer on every wait), again after `EINTR`;
/// how many are ready.
#[inline(always)]
fn poll_fds(fds: &mut [PollFd<'_>], timeout: Duration) -> io::Result<usize> {
    let limit;
    let ts = if timeout == Duration::MAX {
        None
    } else {
        let ms = super::timeout_ms(timeout);
        limit = Timespec {
            tv_sec: i64::from(ms / 1000),
            tv_nsec: i64::from(ms % 1000) * 1_000_000,
        };
        Some(&limit)
    };
    loop {
        match rustix::event::poll(fds, ts) {
            Err(rustix::io::Errno::INTR) => {}
            done => return done.map_err(io::Error::from),
        }
    }
}

/// Opens the pipe `fd` refers to again, `access` and `O_NONBLOCK`, as a new open file
/// description that nobody else shares. `None` when `fd` is not a pipe or the open fails.
#[cfg(target_os = "linux")]
fn open_nonblocking_twin(fd: RawFd, access: libc::c_int) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    let st = fstat(fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
        return None;
    }
    let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).ok()?;
    let flags = access | libc::O_NONBLOCK | libc::O_CLOEXEC;
    // SAFETY: a valid C string; the result is checked.
    let twin = unsafe { libc::open(path.as_ptr(), flags) };
    if twin < 0 {
        return None;
    }
    // SAFETY: `twin` was just opened and is owned by nothing else.
    let twin = unsafe { OwnedFd::from_raw_fd(twin) };
    // The same pipe, not another one that happens to sit at that path.
    let same =
        fstat(twin.as_raw_fd()).is_some_and(|t| (t.st_dev, t.st_ino) == (st.st_dev, st.st_ino));
    same.then_some(twin)
}

/// `fstat(2)` of `fd`; `None` when it fails.
#[cfg(target_os = "linux")]
fn fstat(fd: RawFd) -> Option<libc::stat> {
    // SAFETY: a zeroed stat is a valid out-parameter for fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one stat.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking_twin(_fd: RawFd, _access: libc::c_int) -> Option<OwnedFd> {
    None
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
    HostFd::borrowed(1, libc::O_WRONLY)
}

/// The host's own stderr.
pub fn host_stderr() -> HostFd {
    HostFd::borrowed(2, libc::O_WRONLY)
}

impl HostFd {
    /// Waits up to `timeout` for the descriptor to accept a write of `PIPE_BUF` bytes
    /// without blocking (`POLLOUT`); true if it would.
    pub fn wait_writable(&self, timeout: Duration) -> io::Result<bool> {
        Ok(self.wait(true, timeout)?.ready)
    }

    /// Waits up to `timeout` (`Duration::MAX`: without limit) for the descriptor to become
    /// readable (`write`: writable): one `poll(2)`, and what it said.
    #[inline(always)]
    pub fn wait(&self, write: bool, timeout: Duration) -> io::Result<Polled> {
        let mut pfd = [PollFd::from_borrowed_fd(
            borrow(self.fd),
            poll_events(write),
        )];
        poll_fds(&mut pfd, timeout)?;
        Ok(polled(&pfd[0]))
    }

    /// One `write(2)`: the bytes written.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        retry_eintr(|| rustix::io::write(borrow(self.fd), buf))
    }

    /// Bytes waiting to be read (`FIONREAD`), where the descriptor can tell. Inlined, and a
    /// direct system call: it follows every wake-up of a poll on a host pipe.
    #[inline(always)]
    pub fn readable_bytes(&self) -> Option<u64> {
        rustix::io::ioctl_fionread(borrow(self.fd)).ok()
    }

    /// Free space in a pipe (its size minus what is queued); `None` for other descriptors.
    ///
    /// The size is asked once (`F_GETPIPE_SZ`), the queue every time (`FIONREAD`). Both take
    /// the pipe's lock, so on the write-poll-write path each waited for the reader's copy
    /// on the other CPU (BENCHMARKS.md, 1 GiB out); only `F_SETPIPE_SZ` changes the size,
    /// which the free space of a pipe shared with another writer could not promise anyway.
    pub fn writable_bytes(&self) -> Option<u64> {
        let size = (*self.pipe_size.get_or_init(|| pipe_size(self.fd)))?;
        let queued = rustix::io::ioctl_fionread(borrow(self.fd)).ok()?;
        Some(size.saturating_sub(queued))
    }

    /// The raw descriptor, for `poll` over several.
    pub fn raw(&self) -> RawFd {
        self.fd
    }
}

/// A pipe's size in bytes (`F_GETPIPE_SZ`); `None` for anything else.
#[cfg(target_os = "linux")]
fn pipe_size(fd: RawFd) -> Option<u64> {
    // SAFETY: F_GETPIPE_SZ takes no argument; it fails on anything but a pipe.
    let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    u64::try_from(size).ok()
}

#[cfg(not(target_os = "linux"))]
fn pipe_size(_fd: RawFd) -> Option<u64> {
    None
}

/// Whether [`super::poll_many`] waits on host descriptors ([`HostFd::raw`]) as well as sockets: on
/// Unix `poll(2)` takes both.
pub const HOST_FDS_POLLABLE: bool = true;

/// `poll(2)` over several descriptors (`true`: for writing) for up to `timeout`; into
/// `ready` (cleared first, and left empty on an error), what the poll said of each, in order.
/// Up to [`POLL_ON_STACK`] descriptors allocate nothing: a wake-up polls one or two.
#[inline(always)]
pub fn poll_many_into(
    fds: &[(RawFd, bool)],
    timeout: Duration,
    ready: &mut Vec<Polled>,
) -> io::Result<()> {
    let pollfd =
        |&(fd, write): &(RawFd, bool)| PollFd::from_borrowed_fd(borrow(fd), poll_events(write));
    let mut heap: Vec<PollFd<'_>>;
    let mut stack: [PollFd<'_>; POLL_ON_STACK];
    let mut one: [PollFd<'_>; 1];
    let pfds: &mut [PollFd<'_>] = match fds.first() {
        // An event loop's wake-up: filling the array below took ~110 instructions of it.
        Some(only) if fds.len() == 1 => {
            one = [pollfd(only)];
            &mut one
        }
        // The unused tail repeats the first descriptor and is not passed to the kernel.
        Some(first) if fds.len() <= POLL_ON_STACK => {
            stack = std::array::from_fn(|i| pollfd(fds.get(i).unwrap_or(first)));
            &mut stack[..fds.len()]
        }
        _ => {
            heap = fds.iter().map(pollfd).collect();
            &mut heap
        }
    };
    ready.clear();
    poll_fds(pfds, timeout)?;
    ready.extend(pfds.iter().map(polled));
    Ok(())
}

/// What a poll asks of a descriptor: `POLLOUT` for writing; for reading `POLLIN`, and on
/// Linux `POLLRDHUP` too, so that a socket whose peer has shut down its side (`POLLHUP` only
/// comes when both sides have) says so in the same poll. Pipes never raise `POLLRDHUP`.
#[inline(always)]
fn poll_events(write: bool) -> PollFlags {
    match write {
        true => PollFlags::OUT,
        false => PollFlags::IN | READ_HANGUP,
    }
}

/// The read side's hang-up that `poll(2)` reports only when asked (Linux `POLLRDHUP`).
#[cfg(any(target_os = "linux", target_os = "android"))]
const READ_HANGUP: PollFlags = PollFlags::RDHUP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const READ_HANGUP: PollFlags = PollFlags::empty();

/// What `poll(2)` said of `p`.
#[inline(always)]
fn polled(p: &PollFd<'_>) -> Polled {
    let revents = p.revents();
    Polled {
        ready: !revents.is_empty(),
        hangup: revents.intersects(PollFlags::HUP | READ_HANGUP),
    }
}

/// How many descriptors [`poll_many_into`] polls without allocating.
const POLL_ON_STACK: usize = 8;

/// A raw descriptor for `poll(2)`.
pub type RawHandle = RawFd;

/// The raw descriptor of a socket (or anything with one), for [`poll_many_into`].
pub fn raw_handle<T: AsRawFd>(t: &T) -> RawHandle {
    t.as_raw_fd()
}

/// Bytes queued to read on a socket (`FIONREAD`).
#[inline(always)]
pub fn socket_readable_bytes<T: AsRawFd>(t: &T) -> u64 {
    rustix::io::ioctl_fionread(borrow(t.as_raw_fd())).unwrap_or(0)
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

/// One `recv(2)` on a connected socket (`peek`: `MSG_PEEK`), a direct system call.
#[inline(always)]
pub fn socket_recv(s: &std::net::TcpStream, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    use rustix::net::RecvFlags;
    let flags = if peek {
        RecvFlags::PEEK
    } else {
        RecvFlags::empty()
    };
    retry_eintr(|| rustix::net::recv(s, &mut *buf, flags).map(|(n, _)| n))
}

/// One `send(2)` on a connected socket, a direct system call; no `SIGPIPE` when the peer
/// is gone (`MSG_NOSIGNAL` on Linux; elsewhere std set `SO_NOSIGPIPE` on the socket).
pub fn socket_send(s: &std::net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    let flags = rustix::net::SendFlags::NOSIGNAL;
    #[cfg(not(target_os = "linux"))]
    let flags = rustix::net::SendFlags::empty();
    retry_eintr(|| rustix::net::send(s, buf, flags))
}

/// Every POSIX condition WASI has an errno for, as this host's libc numbers it (the `libc`
/// crate's constants for the target, transcribed from its `<errno.h>`), by `<errno.h>` name.
/// `ENOTCAPABLE` is FreeBSD's (Capsicum) only.
macro_rules! host_errnos {
    ($($name:ident,)*) => {
        const HOST_ERRNOS: &[(i32, Posix)] = &[
            $((libc::$name, Posix::$name),)*
            #[cfg(target_os = "freebsd")]
            (libc::ENOTCAPABLE, Posix::ENOTCAPABLE),
        ];
    };
}

host_errnos! {
    E2BIG, EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY, EBADF, EBADMSG,
    EBUSY, ECANCELED, ECHILD, ECONNABORTED, ECONNREFUSED, ECONNRESET, EDEADLK, EDESTADDRREQ,
    EDOM, EDQUOT, EEXIST, EFAULT, EFBIG, EHOSTUNREACH, EIDRM, EILSEQ, EINPROGRESS, EINTR,
    EINVAL, EIO, EISCONN, EISDIR, ELOOP, EMFILE, EMLINK, EMSGSIZE, EMULTIHOP, ENAMETOOLONG,
    ENETDOWN, ENETRESET, ENETUNREACH, ENFILE, ENOBUFS, ENODEV, ENOENT, ENOEXEC, ENOLCK,
    ENOLINK, ENOMEM, ENOMSG, ENOPROTOOPT, ENOSPC, ENOSYS, ENOTCONN, ENOTDIR, ENOTEMPTY,
    ENOTRECOVERABLE, ENOTSOCK, ENOTSUP, ENOTTY, ENXIO, EOVERFLOW, EOWNERDEAD, EPERM, EPIPE,
    EPROTO, EPROTONOSUPPORT, EPROTOTYPE, ERANGE, EROFS, ESPIPE, ESRCH, ESTALE, ETIMEDOUT,
    ETXTBSY, EXDEV,
}

/// The WASI errno for an error of a host call: its POSIX condition, found by this host's
/// number for it (EAGAIN and EWOULDBLOCK are one number wherever they are two names);
/// `io` for a number WASI has no errno for, or an error without one.
pub fn wasi_errno(e: &io::Error) -> WasiErrno {
    if e.kind() == io::ErrorKind::WouldBlock {
        return WasiErrno::Again;
    }
    let Some(raw) = e.raw_os_error() else {
        return WasiErrno::Io;
    };
    HOST_ERRNOS
        .iter()
        .find(|(n, _)| *n == raw)
        .and_then(|(_, posix)| {
            WasiErrno::ALL
                .iter()
                .copied()
                .find(|w| w.posix() == Some(*posix))
        })
        .unwrap_or(WasiErrno::Io)
}

/// One field of `uname(2)`, when the call succeeds and the field is not empty.
fn uname_field(field: fn(&libc::utsname) -> &[libc::c_char]) -> Option<String> {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let text = std::ffi::CStr::from_ptr(field(&u).as_ptr());
        Some(text.to_string_lossy().into_owned()).filter(|t| !t.is_empty())
    }
}

/// The host's name (`uname -n`).
pub fn hostname() -> Option<String> {
    uname_field(|u| &u.nodename)
}

/// The kernel release (`uname -r`).
pub fn kernel_release() -> Option<String> {
    uname_field(|u| &u.release)
}

/// A guest file's bytes, mapped read-only from the page cache (as `wasmtime run` does): no
/// copy into the host's memory, and only the pages wasmtime reads are faulted in (CPython
/// for WASI, 25 MB: 6,000 fewer page faults and ~14 ms less start-up than reading it).
/// As with any mapped file, a file truncated by someone else while it is mapped makes the
/// next read of a page past its new end a `SIGBUS`; replacing the file (a new inode, as
/// `rename` does) is safe.
pub struct FileBytes {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: a private read-only mapping, never written; readable from any thread.
unsafe impl Send for FileBytes {}
// SAFETY: as above.
unsafe impl Sync for FileBytes {}

/// Maps the first `len` bytes of `file` (a regular file at least that long).
pub fn map_file(file: &std::fs::File, len: u64) -> io::Result<FileBytes> {
    let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    if len == 0 {
        // mmap refuses a length of 0: nothing to map.
        return Ok(FileBytes {
            ptr: std::ptr::NonNull::dangling(),
            len,
        });
    }
    use rustix::mm::{mmap, MapFlags, ProtFlags};
    // SAFETY: a new mapping at an address the kernel picks; nothing else is touched.
    let ptr = unsafe {
        mmap(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ,
            MapFlags::PRIVATE,
            file,
            0,
        )
    }?;
    Ok(FileBytes {
        ptr: std::ptr::NonNull::new(ptr.cast()).ok_or(io::ErrorKind::Other)?,
        len,
    })
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes at `ptr`, mapped until drop (or a dangling pointer
        // with a length of 0).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the mapping made by `map_file`, not used after this.
            let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
        }
    }
}

/// Whether [`file_identity`] can identify a file: always here.
pub const FILE_IDENTITY: bool = true;

/// What identifies a file's contents as they are: device, inode, size, modification and
/// status-change times. Any write to the file changes its status-change time, which no one
/// can set back (`utimensat` sets the modification time, and itself changes the other).
pub fn file_identity(m: &std::fs::Metadata) -> Option<[i64; 7]> {
    use std::os::unix::fs::MetadataExt;
    Some([
        m.dev() as i64,
        m.ino() as i64,
        m.size() as i64,
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ])
}

/// The user's cache directory: `$XDG_CACHE_HOME`, else `$HOME/.cache` (the XDG base
/// directory specification); `None` without either.
pub fn cache_home() -> Option<std::path::PathBuf> {
    let absolute = |v: std::ffi::OsString| {
        let p = std::path::PathBuf::from(v);
        p.is_absolute().then_some(p)
    };
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })
}

/// Before a TCP bind: `SO_REUSEADDR`, so that an address whose last connection is in
/// `TIME_WAIT` can be bound again at once (what Windows does without it; there the option
/// means something else and is not set).
pub fn tcp_before_bind(sock: &socket2::Socket) -> io::Result<()> {
    sock.set_reuse_address(true)
}

/// A TCP socket's keep-alive idle time, interval and probe count, as the kernel has them.
pub fn tcp_keepalive(sock: &socket2::Socket) -> io::Result<(Duration, Duration, u32)> {
    Ok((
        sock.tcp_keepalive_time()?,
        sock.tcp_keepalive_interval()?,
        sock.tcp_keepalive_retries()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::poll_many;

    /// A read end the test owns, as a `HostFd` that owns it too (for the drop test).
    fn owned_read_end() -> (HostFd, std::io::PipeWriter) {
        let (r, w) = std::io::pipe().unwrap();
        (HostFd::from_file(std::fs::File::from(OwnedFd::from(r))), w)
    }

    /// The free space of a pipe is its size less what is queued, after every write and
    /// read (the size asked once, the queue each time); a regular file has none to tell.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipes_free_space_follows_its_queue() {
        use std::io::{Read, Write};
        let (mut r, mut w) = std::io::pipe().unwrap();
        // SAFETY: F_SETPIPE_SZ takes an int; the result is checked.
        let size = unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 8192) };
        assert_eq!(size, 8192);
        let end = HostFd::borrowed(w.as_raw_fd(), libc::O_WRONLY);
        assert_eq!(end.writable_bytes(), Some(8192));
        w.write_all(&[7u8; 3000]).unwrap();
        assert_eq!(end.writable_bytes(), Some(8192 - 3000));
        // A second page (no write here can block: each fits a free one).
        w.write_all(&[7u8; 4096]).unwrap();
        assert_eq!(end.writable_bytes(), Some(8192 - 7096));
        r.read_exact(&mut [0u8; 1000]).unwrap();
        assert_eq!(end.writable_bytes(), Some(8192 - 6096));
        let file = HostFd::from_file(tempfile::tempfile().unwrap());
        assert_eq!(file.writable_bytes(), None);
    }

    fn read_now(fd: &HostFd) -> io::Result<usize> {
        fd.read_now(&mut [0u8; 16])
            .expect("a pipe has a private description")
    }

    /// Two `EAGAIN`s in a row arm the watch; while armed, reads say `EAGAIN`; the first
    /// write (here from this thread, then from another one while this one spins in reads
    /// answered from memory) is read, byte for byte, and the next two `EAGAIN`s arm it again.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_known_empty_says_again_until_a_write_and_then_reads_it() {
        let (fd, w) = owned_read_end();
        assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        assert!(!fd.empty.armed(), "one EAGAIN arms nothing");
        assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        assert!(fd.empty.armed(), "the second in a row arms the poll");
        assert!(fd.empty.still_empty());
        assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        io::Write::write_all(&mut &w, b"abc").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(fd.read_now(&mut buf).unwrap().unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        assert!(!fd.empty.armed());
        for _ in 0..2 {
            assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        }
        assert!(fd.empty.armed());
        // Every RECHECK_EVERY answers from memory, one read asks the kernel; the poll stays.
        let asked = (0..3 * (super::super::empty::RECHECK_EVERY + 1))
            .filter(|_| !fd.empty.still_empty())
            .count();
        assert_eq!(asked, 3);
        assert!(fd.empty.armed());
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            io::Write::write_all(&mut &w, b"late").unwrap();
            w
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let n = loop {
            match fd.read_now(&mut buf).unwrap() {
                Ok(n) => break n,
                Err(e) => assert!(super::super::is_would_block(&e)),
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the write never showed"
            );
        };
        assert_eq!(&buf[..n], b"late");
        // End-of-file completes the poll too: 0, not EAGAIN.
        for _ in 0..2 {
            assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        }
        assert!(fd.empty.armed());
        drop(writer.join().unwrap());
        assert_eq!(read_now(&fd).unwrap(), 0);
    }

    /// More pipes armed than a default completion queue holds (128), all written at once:
    /// each reads its own bytes at the first read, none answers `again` from a completion
    /// held back in the kernel's overflow list.
    #[cfg(target_os = "linux")]
    #[test]
    fn many_armed_pipes_all_see_their_writes() {
        let pipes: Vec<_> = (0..150).map(|_| owned_read_end()).collect();
        for (fd, _) in &pipes {
            for _ in 0..2 {
                assert!(super::super::is_would_block(&read_now(fd).unwrap_err()));
            }
            assert!(fd.empty.armed());
        }
        for (i, (_, w)) in pipes.iter().enumerate() {
            io::Write::write_all(&mut &*w, format!("pipe {i}").as_bytes()).unwrap();
        }
        for (i, (fd, _)) in pipes.iter().enumerate() {
            let mut buf = [0u8; 16];
            let n = fd.read_now(&mut buf).unwrap().unwrap();
            assert_eq!(&buf[..n], format!("pipe {i}").as_bytes());
        }
    }

    /// Dropping an armed watch cancels its poll, which lets go of the pipe: with no reader
    /// left, a write fails with `EPIPE` (a poll still holding the private description would
    /// keep a reader alive and the write would succeed).
    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_an_armed_pipe_lets_its_reader_go() {
        let (fd, w) = owned_read_end();
        for _ in 0..2 {
            assert!(super::super::is_would_block(&read_now(&fd).unwrap_err()));
        }
        assert!(fd.empty.armed());
        drop(fd);
        let e = io::Write::write(&mut &w, b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    /// On the stack (up to [`POLL_ON_STACK`]) and beyond it, each answer is its own
    /// descriptor's, in order, and `ready` holds nothing from before.
    #[test]
    fn each_descriptor_gets_its_own_answer_on_the_stack_and_beyond() {
        for n in [1, 3, POLL_ON_STACK, POLL_ON_STACK + 1, 19] {
            let pipes: Vec<_> = (0..n).map(|_| std::io::pipe().unwrap()).collect();
            // Every third pipe has a byte; the others are empty.
            for (_, w) in pipes.iter().step_by(3) {
                io::Write::write_all(&mut &*w, b"x").unwrap();
            }
            let fds: Vec<_> = pipes.iter().map(|(r, _)| (r.as_raw_fd(), false)).collect();
            let stale = Polled {
                ready: true,
                hangup: true,
            };
            let mut ready = vec![stale; 40];
            poll_many_into(&fds, Duration::ZERO, &mut ready).unwrap();
            let want: Vec<Polled> = (0..n)
                .map(|i| Polled {
                    ready: i % 3 == 0,
                    hangup: false,
                })
                .collect();
            assert_eq!(ready, want, "{n} descriptors");
            // The write ends, polled for writing: all ready.
            let fds: Vec<_> = pipes.iter().map(|(_, w)| (w.as_raw_fd(), true)).collect();
            poll_many_into(&fds, Duration::ZERO, &mut ready).unwrap();
            assert!(ready.iter().all(|p| p.ready && !p.hangup), "{n} write ends");
            assert_eq!(ready.len(), n);
        }
    }

    /// A pipe's read end says `hangup` once every writer has closed, with bytes still in it
    /// or none (Linux `pipe_poll`: `POLLIN | POLLHUP`, then `POLLHUP`), and not before; the
    /// same through [`HostFd::wait`] and [`poll_many_into`].
    #[test]
    fn a_pipe_hangs_up_when_its_writers_are_gone() {
        let (r, mut w) = std::io::pipe().unwrap();
        let host = HostFd::borrowed(r.as_raw_fd(), libc::O_RDONLY);
        let fds = [(r.as_raw_fd(), false)];
        let mut ready = Vec::new();
        let both = |h: &HostFd, ready: &mut Vec<Polled>| {
            poll_many_into(&fds, Duration::ZERO, ready).unwrap();
            (h.wait(false, Duration::ZERO).unwrap(), ready[0])
        };
        let none = Polled::default();
        assert_eq!(both(&host, &mut ready), (none, none));
        io::Write::write_all(&mut w, b"hi").unwrap();
        let data = Polled {
            ready: true,
            hangup: false,
        };
        assert_eq!(both(&host, &mut ready), (data, data));
        drop(w);
        let gone = Polled {
            ready: true,
            hangup: true,
        };
        assert_eq!(both(&host, &mut ready), (gone, gone));
        io::Read::read_exact(&mut &r, &mut [0u8; 2]).unwrap();
        assert_eq!(both(&host, &mut ready), (gone, gone));
    }

    /// A connected socket hangs up in the same poll once its peer has shut down its side
    /// (`POLLRDHUP`; `POLLHUP` only comes when both sides have); polled for writing it is
    /// still writable, with no hang-up.
    #[test]
    fn a_socket_hangs_up_when_its_peer_shuts_down() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        let fd = ours.as_raw_fd();
        let mut ready = Vec::new();
        let mut poll = |write: bool, timeout: Duration| {
            poll_many_into(&[(fd, write)], timeout, &mut ready).unwrap();
            ready[0]
        };
        let (data, gone) = (
            Polled {
                ready: true,
                hangup: false,
            },
            Polled {
                ready: true,
                hangup: true,
            },
        );
        assert_eq!(poll(false, Duration::ZERO), Polled::default());
        io::Write::write_all(&mut peer, b"hi").unwrap();
        assert_eq!(poll(false, Duration::from_secs(10)), data);
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while poll(false, Duration::from_millis(10)) != gone {
            assert!(
                std::time::Instant::now() < deadline,
                "no hang-up after the peer's shutdown"
            );
        }
        // Writable, not hung up: the data pollers look at is the read side's.
        assert_eq!(poll(true, Duration::ZERO), data);
    }

    /// `Duration::MAX` is a wait without a timeout: it returns when the descriptor becomes
    /// ready (here after a writer thread's 50 ms), not at once and not never. A zero timeout
    /// still answers at once.
    #[test]
    fn a_wait_without_timeout_ends_when_the_descriptor_is_ready() {
        let (r, mut w) = std::io::pipe().unwrap();
        let fds = [(r.as_raw_fd(), false)];
        assert_eq!(poll_many(&fds, Duration::ZERO).unwrap(), [false]);
        let start = std::time::Instant::now();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            io::Write::write_all(&mut w, b"x").unwrap();
            w
        });
        assert_eq!(poll_many(&fds, Duration::MAX).unwrap(), [true]);
        assert!(start.elapsed() >= Duration::from_millis(50));
        let _w = writer.join().unwrap();
        assert_eq!(poll_many(&fds, Duration::MAX).unwrap(), [true]);
    }

    /// Every condition round-trips: this host's number for it gives the WASI errno that
    /// stands for it.
    #[test]
    fn host_errors_map_to_their_wasi_errno() {
        for (raw, posix) in HOST_ERRNOS {
            let w = wasi_errno(&io::Error::from_raw_os_error(*raw));
            assert_eq!(w.posix(), Some(*posix), "{raw} ({})", posix.name());
        }
        assert_eq!(
            HOST_ERRNOS.len(),
            75 + usize::from(cfg!(target_os = "freebsd"))
        );
        let of = |raw| wasi_errno(&io::Error::from_raw_os_error(raw));
        assert_eq!(of(libc::EAGAIN), WasiErrno::Again);
        assert_eq!(of(libc::EWOULDBLOCK), WasiErrno::Again);
        assert_eq!(of(libc::ECONNRESET), WasiErrno::Connreset);
        assert_eq!(of(libc::EPIPE), WasiErrno::Pipe);
        assert_eq!(of(libc::EINPROGRESS), WasiErrno::Inprogress);
        // A number WASI has no errno for, and an error with no number.
        #[cfg(target_os = "linux")]
        assert_eq!(of(libc::ENOKEY), WasiErrno::Io);
        assert_eq!(wasi_errno(&io::Error::other("x")), WasiErrno::Io);
        assert_eq!(
            wasi_errno(&io::Error::from(io::ErrorKind::WouldBlock)),
            WasiErrno::Again
        );
    }
}
