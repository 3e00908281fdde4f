//! Windows: the same contract as `unix.rs`, on Win32 handles and Winsock.
//!
//! - A pipe's readiness comes from `PeekNamedPipe` (bytes waiting, or the writer gone), never
//!   from changing the handle's mode; waits poll it in short slices. A console or a file is
//!   always readable (a read of a console may still wait for a line: documented limitation).
//! - The host's stdout and stderr, when they are pipes, have a [`Pump`] in front for the
//!   guest's non-blocking writes: POSIX non-blocking semantics over blocking `WriteFile`s,
//!   the handle's mode untouched (see `pump.rs` for why Windows offers nothing better).
//!   Blocking writes wait until the pump is empty, then `WriteFile` themselves, so each
//!   stream keeps its order. A console or a file is always writable.
//! - Sockets are polled with `WSAPoll`, their queues read with `ioctlsocket(FIONREAD)`.
//!
//! Compile-checked in CI (`cargo check --target x86_64-pc-windows-gnu`), run under Wine by
//! `make test-windows`, and on Windows by the portability workflow. `poll_many` covers
//! sockets only ([`HOST_FDS_POLLABLE`] is false): `poll_oneoff` asks the host's own handles
//! by peeking, in slices. A pipe that is not a Win32 pipe (under Wine, a Unix pipe handed
//! down by a Unix parent) cannot be peeked: it reads as always ready, and reads of it block.

use super::pump::Pump;
use super::Polled;
use crate::fdwait::Waiters;
use std::io;
use std::os::windows::io::{AsRawHandle, AsRawSocket, OwnedHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{GetLastError, ERROR_BROKEN_PIPE, HANDLE};
use windows_sys::Win32::Networking::WinSock::{
    ioctlsocket, WSAPoll, FIONREAD, POLLERR, POLLHUP, POLLRDNORM, POLLWRNORM, SOCKET, WSAPOLLFD,
};
use windows_sys::Win32::Storage::FileSystem::{
    GetFileSizeEx, GetFileType, ReadFile, SetFilePointerEx, WriteFile, FILE_CURRENT,
    FILE_TYPE_DISK, FILE_TYPE_PIPE,
};
use windows_sys::Win32::System::Console::{
    GetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::Pipes::PeekNamedPipe;

/// A raw socket for [`poll_many`].
pub type RawHandle = SOCKET;

/// How long a wait on a pipe sleeps between looks.
const SLICE: Duration = Duration::from_millis(1);

/// The room the host holds in front of an output pipe: Linux's default pipe capacity
/// (`pipe(7)`: 65,536 bytes), so that a guest filling an inherited pipe nobody drains sees
/// what it sees on Linux (the pipe's own quota comes on top once a write of it returns).
const PUMP_CAPACITY: usize = 65536;

/// A host handle the guest reads or writes: the host's stdio or an opened file.
pub struct HostFd {
    handle: HANDLE,
    _owned: Option<OwnedHandle>,
    /// The room in front of an output pipe, shared by every `HostFd` of that std handle.
    pump: Option<Arc<Pump>>,
    /// Who waits for it to be readable or writable, from async code.
    waiters: Waiters,
}

// SAFETY: a Win32 handle may be used from any thread.
unsafe impl Send for HostFd {}
// SAFETY: as above; every call on it is a single Win32 call.
unsafe impl Sync for HostFd {}

fn std_handle(which: u32) -> HostFd {
    // SAFETY: GetStdHandle has no preconditions.
    HostFd {
        handle: unsafe { GetStdHandle(which) },
        _owned: None,
        pump: None,
        waiters: Waiters::default(),
    }
}

/// The std handle `which` (stdout or stderr) with its pump when it is a pipe: one pump per
/// handle for the whole process, started on first use.
fn std_output(which: u32, pump: &'static OnceLock<Option<Arc<Pump>>>) -> HostFd {
    let mut fd = std_handle(which);
    let handle = fd.handle as usize;
    fd.pump = pump
        .get_or_init(|| {
            // SAFETY: GetFileType only reads the handle's kind.
            if unsafe { GetFileType(handle as HANDLE) } != FILE_TYPE_PIPE {
                return None;
            }
            Pump::spawn(PUMP_CAPACITY, move |b| write_file(handle as HANDLE, b)).ok()
        })
        .clone();
    fd
}

/// The host's own stdin.
pub fn host_stdin() -> HostFd {
    std_handle(STD_INPUT_HANDLE)
}

/// The host's own stdout.
pub fn host_stdout() -> HostFd {
    static PUMP: OnceLock<Option<Arc<Pump>>> = OnceLock::new();
    std_output(STD_OUTPUT_HANDLE, &PUMP)
}

/// The host's own stderr.
pub fn host_stderr() -> HostFd {
    static PUMP: OnceLock<Option<Arc<Pump>>> = OnceLock::new();
    std_output(STD_ERROR_HANDLE, &PUMP)
}

/// One `WriteFile` of `buf` to `handle`: the bytes written.
fn write_file(handle: HANDLE, buf: &[u8]) -> io::Result<usize> {
    let mut n = 0u32;
    let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    // SAFETY: buf is valid for len bytes; no overlapped I/O.
    let ok = unsafe { WriteFile(handle, buf.as_ptr(), len, &mut n, std::ptr::null_mut()) };
    if ok != 0 {
        Ok(n as usize)
    } else {
        Err(io::Error::last_os_error())
    }
}

impl HostFd {
    /// Takes ownership of an opened file.
    pub fn from_file(file: std::fs::File) -> HostFd {
        let owned = OwnedHandle::from(file);
        HostFd {
            handle: owned.as_raw_handle() as HANDLE,
            _owned: Some(owned),
            pump: None,
            waiters: Waiters::default(),
        }
    }

    /// Who waits for it to be readable or writable, from async code.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    /// A read that never blocks, done by the system: none on Windows (the caller waits with
    /// [`HostFd::wait_readable`] and reads with [`HostFd::read`]).
    pub fn read_now(&self, _buf: &mut [u8]) -> Option<io::Result<usize>> {
        None
    }

    /// One blocking read for a blocking read with no deadline: `None` here, where reads wait
    /// in slices (see [`HostFd::wait_readable`]).
    pub fn read_blocking(&self, _buf: &mut [u8]) -> Option<io::Result<usize>> {
        None
    }

    /// A write that never blocks, as a POSIX non-blocking pipe does it (short when only part
    /// fits, never for `PIPE_BUF` bytes or fewer; `WouldBlock` when nothing does): through
    /// the pump of an output pipe; `None` for anything else.
    pub fn write_now(&self, buf: &[u8]) -> Option<io::Result<usize>> {
        self.pump.as_ref().map(|p| p.try_write(buf))
    }

    /// One step of a blocking write that returns within about `slice` while the pump still
    /// holds earlier bytes (0 then); once it is empty, one blocking `WriteFile` (a reader that
    /// stalls mid-write is the one wait the host cannot leave; the run is then abandoned at
    /// its deadline).
    pub fn write_within(&self, buf: &[u8], slice: Duration) -> io::Result<usize> {
        match &self.pump {
            Some(p) if !p.flush(Some(slice)) => Ok(0),
            _ => write_file(self.handle, buf),
        }
    }

    /// Waits until every byte the pump took has been written to the handle.
    pub fn flush(&self) {
        if let Some(p) = &self.pump {
            p.flush(None);
        }
    }

    /// Bytes waiting in a pipe (`Some(u32::MAX)` when its writer is gone: end-of-file is
    /// readable); `None` for anything that is not a pipe.
    fn peek(&self) -> Option<u32> {
        let mut avail = 0u32;
        // SAFETY: a valid handle; only the count is asked for.
        let ok = unsafe {
            PeekNamedPipe(
                self.handle,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &mut avail,
                std::ptr::null_mut(),
            )
        };
        if ok != 0 {
            return Some(avail);
        }
        // SAFETY: no preconditions.
        (unsafe { GetLastError() } == ERROR_BROKEN_PIPE).then_some(u32::MAX)
    }

    /// Waits up to `timeout` (`Duration::MAX`: without limit) for the handle to become
    /// readable; true if a read would not block.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            match self.peek() {
                None => return Ok(true),
                Some(n) if n > 0 => return Ok(true),
                Some(_) if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(false),
                Some(_) => std::thread::sleep(SLICE),
            }
        }
    }

    /// [`HostFd::wait_readable`] (`write`: [`HostFd::wait_writable`]) as a poll's answer:
    /// `hangup` once a pipe's writer is gone and its bytes are read (`PeekNamedPipe` says
    /// `ERROR_BROKEN_PIPE` only then; Linux says `POLLHUP` with bytes still waiting too).
    pub fn wait(&self, write: bool, timeout: Duration) -> io::Result<Polled> {
        if write {
            return Ok(Polled {
                ready: self.wait_writable(timeout)?,
                hangup: false,
            });
        }
        let ready = self.wait_readable(timeout)?;
        Ok(Polled {
            ready,
            hangup: ready && self.peek() == Some(u32::MAX),
        })
    }

    /// Waits up to `timeout` until the pump of an output pipe has room for `PIPE_BUF` bytes
    /// (what POSIX `POLLOUT` promises); anything else is always writable.
    pub fn wait_writable(&self, timeout: Duration) -> io::Result<bool> {
        Ok(self
            .pump
            .as_ref()
            .is_none_or(|p| p.wait_room(crate::pipe::PIPE_BUF, timeout)))
    }

    /// One `ReadFile`; 0 at end-of-file (a broken pipe included).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0u32;
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: buf is valid for len bytes; no overlapped I/O.
        let ok = unsafe {
            ReadFile(
                self.handle,
                buf.as_mut_ptr(),
                len,
                &mut n,
                std::ptr::null_mut(),
            )
        };
        if ok != 0 {
            return Ok(n as usize);
        }
        // SAFETY: no preconditions.
        if unsafe { GetLastError() } == ERROR_BROKEN_PIPE {
            return Ok(0);
        }
        Err(io::Error::last_os_error())
    }

    /// One blocking `WriteFile`, after the bytes the pump holds: the bytes written.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.flush();
        write_file(self.handle, buf)
    }

    /// Bytes waiting to be read, where the handle can tell (pipes).
    pub fn readable_bytes(&self) -> Option<u64> {
        match self.peek() {
            Some(u32::MAX) => None,
            Some(n) => Some(u64::from(n)),
            None => self.file_remaining(),
        }
    }

    /// The bytes left to read in a file (its size less the position), as Linux's `FIONREAD`
    /// says for one; `None` for anything that is not a file on disk.
    fn file_remaining(&self) -> Option<u64> {
        // SAFETY: a valid handle; each call writes only the integer it is given.
        unsafe {
            if GetFileType(self.handle) != FILE_TYPE_DISK {
                return None;
            }
            let (mut size, mut pos) = (0i64, 0i64);
            if GetFileSizeEx(self.handle, &mut size) == 0
                || SetFilePointerEx(self.handle, 0, &mut pos, FILE_CURRENT) == 0
            {
                return None;
            }
            u64::try_from(size - pos).ok()
        }
    }

    /// The room left in the pump of an output pipe; unknown for anything else.
    pub fn writable_bytes(&self) -> Option<u64> {
        self.pump.as_ref().map(|p| p.free() as u64)
    }

    /// Not a socket: host handles are polled by peeking, not by [`poll_many`].
    pub fn raw(&self) -> RawHandle {
        SOCKET::MAX
    }
}

/// Whether [`poll_many`] waits on host handles as well as sockets: not on Windows, where
/// `WSAPoll` takes sockets only. A host handle's readiness is asked of the handle itself
/// ([`HostFd::wait_readable`] with no wait: `PeekNamedPipe` for a pipe), in short slices.
pub const HOST_FDS_POLLABLE: bool = false;

/// `WSAPoll` over sockets (`true`: for writing) for up to `timeout`; into `ready` (cleared
/// first, and left empty on an error), whether each is ready.
pub fn poll_many_into(
    fds: &[(RawHandle, bool)],
    timeout: Duration,
    ready: &mut Vec<Polled>,
) -> io::Result<()> {
    let mut pfds: Vec<WSAPOLLFD> = fds
        .iter()
        .map(|(s, write)| WSAPOLLFD {
            fd: *s,
            events: if *write { POLLWRNORM } else { POLLRDNORM },
            revents: 0,
        })
        .collect();
    let ms = super::timeout_ms(timeout);
    ready.clear();
    // SAFETY: pfds is a valid array of pfds.len() entries.
    let n = unsafe { WSAPoll(pfds.as_mut_ptr(), pfds.len() as u32, ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    ready.extend(pfds.iter().map(|p| Polled {
        ready: p.revents != 0,
        // A reset connection is `POLLERR` without `POLLHUP`: its peer is gone all the same.
        hangup: p.revents & (POLLHUP | POLLERR) != 0,
    }));
    Ok(())
}

/// The raw socket of anything with one.
pub fn raw_handle<T: AsRawSocket>(t: &T) -> RawHandle {
    t.as_raw_socket() as SOCKET
}

/// One `recv` on a connected socket (`peek`: `MSG_PEEK`).
pub fn socket_recv(s: &std::net::TcpStream, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    use std::io::Read;
    if peek {
        s.peek(buf)
    } else {
        (&*s).read(buf)
    }
}

/// One `send` on a connected socket.
pub fn socket_send(s: &std::net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    use std::io::Write;
    (&*s).write(buf)
}

/// Bytes queued to read on a socket (`FIONREAD`).
pub fn socket_readable_bytes<T: AsRawSocket>(t: &T) -> u64 {
    let mut n = 0u32;
    // SAFETY: FIONREAD writes one u32.
    let rc = unsafe { ioctlsocket(t.as_raw_socket() as SOCKET, FIONREAD, &mut n) };
    if rc == 0 {
        u64::from(n)
    } else {
        0
    }
}

/// Free space in a socket's send buffer: unknown on Windows.
pub fn socket_writable_bytes<T: AsRawSocket>(_t: &T) -> Option<u64> {
    None
}

/// The kernel release: not reported on Windows.
pub fn kernel_release() -> Option<String> {
    None
}

/// The computer's name, as Windows sets it for every process (`COMPUTERNAME`).
pub fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty())
}

/// The WASI errno for an error of a host call: Winsock's `WSAE*` codes for sockets (source:
/// Microsoft's "Windows Sockets Error Codes"), `ERROR_BROKEN_PIPE`/`ERROR_NO_DATA` for pipes
/// (source: "System Error Codes (0-499)"), by name; `io` for anything else.
pub fn wasi_errno(e: &io::Error) -> crate::errno::WasiErrno {
    use crate::errno::WasiErrno as W;
    use windows_sys::Win32::Foundation::ERROR_NO_DATA;
    use windows_sys::Win32::Networking::WinSock as ws;
    if e.kind() == io::ErrorKind::WouldBlock {
        return W::Again;
    }
    let Some(raw) = e.raw_os_error() else {
        return W::Io;
    };
    const TABLE: &[(i32, crate::errno::WasiErrno)] = &[
        (ws::WSAEWOULDBLOCK, W::Again),
        (ws::WSAEINPROGRESS, W::Inprogress),
        (ws::WSAEALREADY, W::Already),
        (ws::WSAENOTSOCK, W::Notsock),
        (ws::WSAEDESTADDRREQ, W::Destaddrreq),
        (ws::WSAEMSGSIZE, W::Msgsize),
        (ws::WSAEPROTOTYPE, W::Prototype),
        (ws::WSAENOPROTOOPT, W::Noprotoopt),
        (ws::WSAEPROTONOSUPPORT, W::Protonosupport),
        (ws::WSAEOPNOTSUPP, W::Notsup),
        (ws::WSAEAFNOSUPPORT, W::Afnosupport),
        (ws::WSAEADDRINUSE, W::Addrinuse),
        (ws::WSAEADDRNOTAVAIL, W::Addrnotavail),
        (ws::WSAENETDOWN, W::Netdown),
        (ws::WSAENETUNREACH, W::Netunreach),
        (ws::WSAENETRESET, W::Netreset),
        (ws::WSAECONNABORTED, W::Connaborted),
        (ws::WSAECONNRESET, W::Connreset),
        (ws::WSAENOBUFS, W::Nobufs),
        (ws::WSAEISCONN, W::Isconn),
        (ws::WSAENOTCONN, W::Notconn),
        (ws::WSAESHUTDOWN, W::Pipe),
        (ws::WSAETIMEDOUT, W::Timedout),
        (ws::WSAECONNREFUSED, W::Connrefused),
        (ws::WSAEHOSTUNREACH, W::Hostunreach),
        (ws::WSAEACCES, W::Acces),
        (ws::WSAEINVAL, W::Inval),
        (ws::WSAEFAULT, W::Fault),
        (ws::WSAEINTR, W::Intr),
        (ws::WSAEMFILE, W::Mfile),
        (ws::WSAEBADF, W::Badf),
        (ERROR_BROKEN_PIPE as i32, W::Pipe),
        (ERROR_NO_DATA as i32, W::Pipe),
    ];
    TABLE
        .iter()
        .find(|(n, _)| *n == raw)
        .map_or(W::Io, |(_, w)| *w)
}

/// Windows has its table.
pub fn host_platform() -> Option<crate::errno::Platform> {
    Some(crate::errno::Platform::Windows)
}

/// A guest file's bytes, read into memory (one read, the buffer sized up front).
pub struct FileBytes(Vec<u8>);

/// Reads the first `len` bytes of `file` (a regular file at least that long), from its start
/// wherever its position is, as a mapping would see them: the compiled-guest cache reads the
/// file to hash it before the compiler reads it.
pub fn map_file(file: &std::fs::File, len: u64) -> io::Result<FileBytes> {
    use std::io::{Read as _, Seek as _};
    let cap = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    let mut bytes = Vec::with_capacity(cap);
    let mut file = file;
    file.rewind()?;
    file.take(len).read_to_end(&mut bytes)?;
    Ok(FileBytes(bytes))
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Whether [`file_identity`] can identify a file: not here.
pub const FILE_IDENTITY: bool = false;

/// No identity that every write to a file changes (Windows has no status-change time in
/// std, and its file index is not stable there): the compiled-guest cache keys by content.
pub fn file_identity(_meta: &std::fs::Metadata) -> Option<[i64; 7]> {
    None
}

/// The user's local application data (`%LOCALAPPDATA%`).
pub fn cache_home() -> Option<std::path::PathBuf> {
    std::env::var_os("LOCALAPPDATA").map(std::path::PathBuf::from)
}

/// Before a TCP bind: nothing (`SO_REUSEADDR` on Windows lets another socket steal the
/// address; its plain bind already rebinds an address in `TIME_WAIT`).
pub fn tcp_before_bind(_sock: &socket2::Socket) -> io::Result<()> {
    Ok(())
}

/// A TCP socket's keep-alive idle time, interval and probe count. Windows has no getter for
/// the first two: its documented defaults (2 hours, 1 second, 10 probes; "SIO_KEEPALIVE_VALS",
/// "TCP_KEEPCNT" in the Winsock reference), which the host then keeps up to date itself.
pub fn tcp_keepalive(sock: &socket2::Socket) -> io::Result<(Duration, Duration, u32)> {
    Ok((
        Duration::from_secs(2 * 60 * 60),
        Duration::from_secs(1),
        sock.tcp_keepalive_retries().unwrap_or(10),
    ))
}
