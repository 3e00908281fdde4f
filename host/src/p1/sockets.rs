//! Preview1 sockets: `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`, stream I/O
//! shared with `fd_read`/`fd_write`, and guards that keep every other call on a socket away
//! from wasmtime-wasi (which has no sockets in preview1 and holds only placeholders).
//!
//! - `again` exactly when the OS says EAGAIN: no pending connection, no data, a full send
//!   buffer. Each is recorded as an event (`listener` or `socket` handle, so that Windows
//!   renders it as `WSAEWOULDBLOCK`).
//! - An accepted socket gets exactly the fdflags passed to `sock_accept` (`nonblock` or
//!   nothing), whatever the listener's: Linux and BSD differ on inheritance, WASI does not.
//! - Blocking calls wait with `poll(2)`; the host-side sockets stay non-blocking throughout.
//! - Calls that make no sense on a socket get the errno Linux gives: `spipe` for seeks and
//!   positioned I/O, `notdir` for path calls, `inval` for syncs and sizes, `badf` for prestat.

use super::abi::{
    self, first_iovec, gather, guest_range, iovecs_len, write_u16, write_u32, Fdflags, Fdstat,
    Filestat, Filetype, Rights,
};
use super::call::{done, wrap, Done};
use super::faithful::{write_iovecs_blocking, MAX_GATHER};
use super::fds::{Endpoint, Managed};
use super::inject;
use super::{stock, wait_slice, FaithfulCtx, GetCtx};
use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::limits::Deadline;
use crate::net;
use crate::sys;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Caller, Linker, Result};

/// `riflags.recv_peek`.
const RIFLAGS_PEEK: i32 = 1;
/// `riflags.recv_waitall`.
const RIFLAGS_WAITALL: i32 = 2;

/// Rights reported for a socket: read, write, set flags, poll, shutdown, accept, filestat.
fn socket_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::POLL_FD_READWRITE
        | Rights::SOCK_SHUTDOWN
        | Rights::SOCK_ACCEPT
        | Rights::FD_FILESTAT_GET
}

/// Waits up to one slice ([`wait_slice`]) for `h` to be readable (`write` false) or writable;
/// fails with [`crate::limits::DeadlineExceeded`] once the deadline has passed, so that no
/// blocking socket call outlives the run's `--timeout`.
fn wait(h: sys::RawHandle, write: bool, deadline: Option<Deadline>) -> Result<()> {
    let _ = sys::poll_many(&[(h, write)], wait_slice(deadline));
    crate::limits::check(deadline)
}

/// Reads from a connected socket into `buf`: one call when non-blocking, else waiting for
/// data (and with `waitall`, until `buf` is full or the peer is done), until the deadline.
#[inline(always)]
pub fn stream_read(
    s: &net::Conn,
    buf: &mut [u8],
    nonblocking: bool,
    flags: (bool, bool),
    deadline: Option<Deadline>,
) -> Result<Result<usize, WasiErrno>> {
    let (peek, waitall) = flags;
    let mut filled = 0;
    loop {
        match net::recv(s, &mut buf[filled..], peek) {
            Ok(0) => return Ok(Ok(filled)),
            Ok(n) => {
                filled += n;
                if !waitall || peek || filled == buf.len() {
                    return Ok(Ok(filled));
                }
            }
            Err(e) => {
                // `again`, the hot case, known without the errno table.
                let errno = if sys::is_would_block(&e) {
                    WasiErrno::Again
                } else {
                    net::wasi_errno(&e)
                };
                match errno {
                    WasiErrno::Again if nonblocking => {
                        return Ok(if filled > 0 {
                            Ok(filled)
                        } else {
                            Err(WasiErrno::Again)
                        });
                    }
                    WasiErrno::Again | WasiErrno::Intr => {
                        wait(sys::raw_handle(s.socket()), false, deadline)?
                    }
                    other => return Ok(Err(other)),
                }
            }
        }
    }
}

/// Writes to a connected socket: one call when non-blocking (a short count is legal), else
/// everything, waiting for room until the deadline.
pub fn stream_write(
    s: &TcpStream,
    data: &[u8],
    nonblocking: bool,
    deadline: Option<Deadline>,
) -> Result<Result<usize, WasiErrno>> {
    let mut done = 0;
    while done < data.len() {
        match net::send(s, &data[done..]) {
            Ok(n) => {
                done += n;
                if nonblocking {
                    break;
                }
            }
            Err(e) => match net::wasi_errno(&e) {
                WasiErrno::Again if nonblocking => break,
                WasiErrno::Again | WasiErrno::Intr => wait(sys::raw_handle(s), true, deadline)?,
                other => return Ok(Err(other)),
            },
        }
    }
    if done == 0 && !data.is_empty() {
        return Ok(Err(WasiErrno::Again));
    }
    Ok(Ok(done))
}

fn sock_accept<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    flags: i32,
    result: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let (listener, nonblocking) = match ctx.fds.get(fd as u32) {
        None => {
            return stock::delegate(caller, get, |wasi, mem| {
                stock::abi::sock_accept(wasi, mem, fd, flags, result)
            })
        }
        Some(Managed {
            endpoint: Endpoint::Listener(l),
            flags: listener_flags,
            ..
        }) => (l.clone(), listener_flags.contains(Fdflags::NONBLOCK)),
        Some(Managed {
            endpoint: Endpoint::Stream(_),
            ..
        }) => return Err(WasiErrno::Inval.into()),
        Some(_) => return Err(WasiErrno::Notsock.into()),
    };
    // `sock_accept` takes `nonblock` only.
    let flags = u16::try_from(flags)
        .ok()
        .and_then(Fdflags::from_bits)
        .filter(|f| (*f - Fdflags::NONBLOCK).is_empty())
        .ok_or(WasiErrno::Inval)?;
    guest_range(mem, result as u32, 4)?;
    // A connection pending counts as one waiting (asked only under --chaos).
    let pending = || {
        let ready = sys::poll_many(&[(sys::raw_handle(&*listener), false)], Duration::ZERO);
        u64::from(ready.is_ok_and(|r| r[0]))
    };
    let key = ("sock_accept", fd as u32, Handle::Listener);
    inject::before_read(&mut ctx.chaos, &ctx.events, key, nonblocking, pending, 0)?;
    let stream = loop {
        match net::accept(&listener) {
            Ok(s) => break s,
            Err(e) => match net::wasi_errno(&e) {
                WasiErrno::Again if nonblocking => {
                    ctx.events
                        .record("sock_accept", fd as u32, Handle::Listener, WasiErrno::Again);
                    return Err(WasiErrno::Again.into());
                }
                WasiErrno::Again | WasiErrno::Intr | WasiErrno::Connaborted => {
                    wait(sys::raw_handle(&*listener), false, ctx.deadline)?
                }
                other => return Err(other.into()),
            },
        }
    };
    let new_fd = ctx.fds.next_host_only();
    ctx.fds.insert(
        new_fd,
        Managed::host_only(
            Handle::Socket,
            Endpoint::Stream(Arc::new(stream.into())),
            flags,
        ),
    );
    Ok(write_u32(mem, result as u32, new_fd)?)
}

/// The connected socket `fd` manages and whether the guest set it non-blocking, or what a
/// call that needs one answers instead: `None` for a descriptor stock owns, `notconn` for a
/// listener, `notsock` for anything else.
fn managed_stream(ctx: &FaithfulCtx, fd: i32) -> Option<Result<(Arc<net::Conn>, bool), WasiErrno>> {
    let m = ctx.fds.get(fd as u32)?;
    Some(match &m.endpoint {
        Endpoint::Stream(s) => Ok((s.clone(), m.flags.contains(Fdflags::NONBLOCK))),
        Endpoint::Listener(_) => Err(WasiErrno::Notconn),
        _ => Err(WasiErrno::Notsock),
    })
}

#[allow(clippy::too_many_arguments)] // the WASI ABI's own parameter list
#[inline(always)]
fn sock_recv<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    ri_flags: i32,
    ro_len: i32,
    ro_flags: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let Some(stream) = managed_stream(ctx, fd) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::abi::sock_recv(wasi, mem, fd, iovs, iovs_len, ri_flags, ro_len, ro_flags)
        });
    };
    let (stream, nonblocking) = stream?;
    if ri_flags & !(RIFLAGS_PEEK | RIFLAGS_WAITALL) != 0 {
        return Err(WasiErrno::Inval.into());
    }
    let buf = first_iovec(mem, iovs as u32, iovs_len as u32)?;
    guest_range(mem, ro_len as u32, 4)?;
    guest_range(mem, ro_flags as u32, 2)?;
    let peek = ri_flags & RIFLAGS_PEEK != 0;
    let waitall = ri_flags & RIFLAGS_WAITALL != 0;
    let key = ("sock_recv", fd as u32, Handle::Socket);
    let (len, mut asked) = (buf.len(), buf.len());
    let n = if buf.is_empty() {
        Ok(0)
    } else {
        // MSG_WAITALL waits for the whole count: no short read to inject into it.
        let waiting = || sys::socket_readable_bytes(stream.socket());
        asked = inject::before_read(&mut ctx.chaos, &ctx.events, key, nonblocking, waiting, len)?;
        if waitall {
            asked = len;
        }
        stream_read(
            &stream,
            &mut mem[buf.start..buf.start + asked],
            nonblocking,
            (peek, waitall),
            ctx.deadline,
        )?
    };
    match n {
        Ok(n) => {
            inject::after_cut(&ctx.events, key, len, asked, n);
            write_u32(mem, ro_len as u32, n as u32)?;
            Ok(write_u16(mem, ro_flags as u32, 0)?)
        }
        Err(WasiErrno::Again) => {
            ctx.events
                .record("sock_recv", fd as u32, Handle::Socket, WasiErrno::Again);
            Err(WasiErrno::Again.into())
        }
        Err(e) => Err(e.into()),
    }
}

fn sock_send<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    si_flags: i32,
    so_len: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let Some(stream) = managed_stream(ctx, fd) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::abi::sock_send(wasi, mem, fd, iovs, iovs_len, si_flags, so_len)
        });
    };
    let (stream, _) = stream?;
    if si_flags != 0 {
        return Err(WasiErrno::Inval.into());
    }
    guest_range(mem, so_len as u32, 4)?;
    let n = send(
        mem,
        ctx,
        fd as u32,
        &stream,
        "sock_send",
        (iovs as u32, iovs_len as u32),
    )??;
    Ok(write_u32(mem, so_len as u32, n as u32)?)
}

/// `sock_send` or `fd_write` on the connected socket `fd`: the iovecs' data, gathered into
/// at most [`MAX_GATHER`] bytes of host memory at a time; one send when non-blocking
/// (booked by [`Managed::account_write`]), else everything, until the deadline.
pub(super) fn send(
    mem: &[u8],
    ctx: &mut FaithfulCtx,
    fd: u32,
    stream: &TcpStream,
    call: &'static str,
    (iovs, iovs_len): (u32, u32),
) -> Result<Result<usize, WasiErrno>> {
    let total = match iovecs_len(mem, iovs, iovs_len) {
        Ok(n) => n,
        Err(e) => return Ok(Err(e)),
    };
    let deadline = ctx.deadline;
    let Some(m) = ctx.fds.get_mut(fd) else {
        return Ok(Err(WasiErrno::Badf));
    };
    let mut injected = false;
    let result = if total == 0 {
        Ok(0)
    } else if m.flags.contains(Fdflags::NONBLOCK) {
        // At most MAX_GATHER bytes: more would be a short send anyway.
        let len = total.min(MAX_GATHER as u64) as usize;
        let room = || {
            sys::poll_many(&[(sys::raw_handle(stream), true)], Duration::ZERO).is_ok_and(|r| r[0])
        };
        match inject::before_write(&mut ctx.chaos, m.handle, room, len) {
            inject::Write::Again => {
                injected = true;
                Err(WasiErrno::Again)
            }
            inject::Write::Offer(offer) => match gather(mem, iovs, iovs_len, offer) {
                Ok(data) => {
                    let result = stream_write(stream, &data, true, deadline)?;
                    if let Ok(n) = result {
                        inject::after_cut(&ctx.events, (call, fd, m.handle), len, offer, n);
                    }
                    result
                }
                Err(e) => Err(e),
            },
        }
    } else {
        write_iovecs_blocking(mem, iovs, iovs_len, total, |piece| {
            Ok(stream_write(stream, piece, false, deadline)?.map(drop))
        })?
        .map(|()| total as usize)
    };
    Ok(m.account_write(&ctx.events, (call, fd), total as usize, result, injected))
}

fn sock_shutdown<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    how: i32,
) -> Done {
    let Some(stream) = managed_stream(get(caller.data_mut()), fd) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::abi::sock_shutdown(wasi, mem, fd, how)
        });
    };
    let (stream, _) = stream?;
    if !(1..=3).contains(&how) {
        return Err(WasiErrno::Inval.into());
    }
    net::shutdown(&stream, how as u8).map_err(|e| net::wasi_errno(&e).into())
}

/// `fdstat` of a managed socket: filetype `socket_stream`, its flags, socket rights.
pub fn write_socket_fdstat(mem: &mut [u8], buf: u32, flags: Fdflags) -> Result<(), WasiErrno> {
    abi::write_fdstat(
        mem,
        buf,
        Fdstat {
            fs_filetype: Filetype::SocketStream,
            fs_flags: flags,
            fs_rights_base: socket_rights(),
            fs_rights_inheriting: socket_rights(),
        },
    )
}

/// True when `fd` is a managed socket.
fn is_socket<T: 'static>(caller: &mut Caller<'_, T>, get: impl GetCtx<T>, fd: i32) -> bool {
    get(caller.data_mut())
        .fds
        .get(fd as u32)
        .is_some_and(|m| m.endpoint.is_socket())
}

fn fd_filestat_get<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    buf: i32,
) -> Done {
    if !is_socket(caller, get, fd) {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_filestat_get(wasi, mem, fd, buf))
        });
    }
    let (mem, _) = stock::memory_and_state(caller, get)?;
    let stat = Filestat {
        dev: 0,
        ino: 0,
        filetype: Filetype::SocketStream,
        nlink: 1,
        size: 0,
        atim: 0,
        mtim: 0,
        ctim: 0,
    };
    Ok(abi::write_filestat(mem, buf as u32, stat)?)
}

// The WASI ABI's own parameter list.
#[allow(clippy::too_many_arguments)]
fn path_open<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    dirflags: i32,
    path: i32,
    path_len: i32,
    oflags: i32,
    base: i64,
    inheriting: i64,
    fdflags: i32,
    result: i32,
) -> Done {
    if is_socket(caller, get, fd) {
        return Err(WasiErrno::Notdir.into());
    }
    stock::delegate(caller, get, |wasi, mem| {
        stock::in_tokio(stock::abi::path_open(
            wasi, mem, fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, result,
        ))
    })?;
    // Stock counts up from its highest number; should it ever reach one of ours, refuse.
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let new_fd = abi::read_u32(mem, result as u32)?;
    if ctx.fds.get(new_fd).is_some() {
        stock::call(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_close(wasi, mem, new_fd as i32))
        })?;
        return Err(WasiErrno::Nfile.into());
    }
    Ok(())
}

/// Shadows a stock call that takes descriptors: on a managed socket it fails with `$errno`
/// (or succeeds for `Success`), anything else goes to wasmtime-wasi.
macro_rules! guard {
    ($kind:ident $name:ident($($arg:ident: $ty:ty),*) fds($($fd:ident),*) => $errno:ident) => {
        #[allow(clippy::too_many_arguments)] // the WASI ABI's own parameter list
        fn $name<T: 'static>(caller: &mut Caller<'_, T>, get: impl GetCtx<T>, $($arg: $ty),*) -> Done {
            if false $(|| is_socket(caller, get, $fd))* {
                return done(WasiErrno::$errno);
            }
            stock::delegate(caller, get, |wasi, mem| guard!(@$kind stock::abi::$name(wasi, mem, $($arg),*)))
        }
    };
    (@async $e:expr) => { stock::in_tokio($e) };
    (@sync $e:expr) => { $e };
}

guard!(async fd_advise(fd: i32, offset: i64, len: i64, advice: i32) fds(fd) => Spipe);
guard!(sync fd_allocate(fd: i32, offset: i64, len: i64) fds(fd) => Nodev);
guard!(async fd_datasync(fd: i32) fds(fd) => Inval);
guard!(async fd_filestat_set_size(fd: i32, size: i64) fds(fd) => Inval);
guard!(async fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32) fds(fd) => Inval);
guard!(async fd_pread(fd: i32, iovs: i32, len: i32, offset: i64, nread: i32) fds(fd) => Spipe);
guard!(sync fd_prestat_get(fd: i32, buf: i32) fds(fd) => Badf);
guard!(sync fd_prestat_dir_name(fd: i32, path: i32, len: i32) fds(fd) => Badf);
guard!(async fd_pwrite(fd: i32, iovs: i32, len: i32, offset: i64, nwritten: i32) fds(fd) => Spipe);
guard!(async fd_readdir(fd: i32, buf: i32, len: i32, cookie: i64, used: i32) fds(fd) => Notdir);
guard!(async fd_seek(fd: i32, offset: i64, whence: i32, newoffset: i32) fds(fd) => Spipe);
guard!(async fd_sync(fd: i32) fds(fd) => Inval);
guard!(sync fd_tell(fd: i32, offset: i32) fds(fd) => Spipe);
guard!(sync fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) fds(fd) => Success);
guard!(async path_create_directory(fd: i32, path: i32, len: i32) fds(fd) => Notdir);
guard!(async path_filestat_get(fd: i32, flags: i32, path: i32, len: i32, buf: i32) fds(fd) => Notdir);
guard!(async path_filestat_set_times(fd: i32, flags: i32, path: i32, len: i32, atim: i64, mtim: i64, fst: i32) fds(fd) => Notdir);
guard!(async path_link(old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) fds(old_fd, new_fd) => Notdir);
guard!(async path_readlink(fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, used: i32) fds(fd) => Notdir);
guard!(async path_remove_directory(fd: i32, path: i32, len: i32) fds(fd) => Notdir);
guard!(async path_rename(fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) fds(fd, new_fd) => Notdir);
guard!(async path_symlink(old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32) fds(fd) => Notdir);
guard!(async path_unlink_file(fd: i32, path: i32, len: i32) fds(fd) => Notdir);

/// Shadows the socket calls and the guards in `linker` (shadowing must be allowed).
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: impl GetCtx<T>) -> Result<()> {
    wrap!(linker, get, "sock_accept" => sock_accept, (fd: i32, flags: i32, result: i32), taped Fd);
    wrap!(linker, get, "sock_recv" => sock_recv, (fd: i32, iovs: i32, iovs_len: i32, ri_flags: i32, ro_len: i32, ro_flags: i32), taped Fd);
    wrap!(linker, get, "sock_send" => sock_send, (fd: i32, iovs: i32, iovs_len: i32, si_flags: i32, so_len: i32), taped Fd);
    wrap!(linker, get, "sock_shutdown" => sock_shutdown, (fd: i32, how: i32), taped Fd);
    wrap!(linker, get, "fd_filestat_get" => fd_filestat_get, (fd: i32, buf: i32), taped Fd);
    wrap!(linker, get, "path_open" => path_open, (fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, result: i32));
    wrap!(linker, get, "fd_advise" => fd_advise, (fd: i32, offset: i64, len: i64, advice: i32));
    wrap!(linker, get, "fd_allocate" => fd_allocate, (fd: i32, offset: i64, len: i64));
    wrap!(linker, get, "fd_datasync" => fd_datasync, (fd: i32));
    wrap!(linker, get, "fd_filestat_set_size" => fd_filestat_set_size, (fd: i32, size: i64));
    wrap!(linker, get, "fd_filestat_set_times" => fd_filestat_set_times, (fd: i32, atim: i64, mtim: i64, flags: i32));
    wrap!(linker, get, "fd_pread" => fd_pread, (fd: i32, iovs: i32, len: i32, offset: i64, nread: i32));
    wrap!(linker, get, "fd_prestat_get" => fd_prestat_get, (fd: i32, buf: i32));
    wrap!(linker, get, "fd_prestat_dir_name" => fd_prestat_dir_name, (fd: i32, path: i32, len: i32));
    wrap!(linker, get, "fd_pwrite" => fd_pwrite, (fd: i32, iovs: i32, len: i32, offset: i64, nwritten: i32));
    wrap!(linker, get, "fd_readdir" => fd_readdir, (fd: i32, buf: i32, len: i32, cookie: i64, used: i32));
    wrap!(linker, get, "fd_seek" => fd_seek, (fd: i32, offset: i64, whence: i32, newoffset: i32));
    wrap!(linker, get, "fd_sync" => fd_sync, (fd: i32));
    wrap!(linker, get, "fd_tell" => fd_tell, (fd: i32, offset: i32));
    wrap!(linker, get, "fd_fdstat_set_rights" => fd_fdstat_set_rights, (fd: i32, base: i64, inheriting: i64));
    wrap!(linker, get, "path_create_directory" => path_create_directory, (fd: i32, path: i32, len: i32));
    wrap!(linker, get, "path_filestat_get" => path_filestat_get, (fd: i32, flags: i32, path: i32, len: i32, buf: i32));
    wrap!(linker, get, "path_filestat_set_times" => path_filestat_set_times, (fd: i32, flags: i32, path: i32, len: i32, atim: i64, mtim: i64, fst: i32));
    wrap!(linker, get, "path_link" => path_link, (old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    wrap!(linker, get, "path_readlink" => path_readlink, (fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, used: i32));
    wrap!(linker, get, "path_remove_directory" => path_remove_directory, (fd: i32, path: i32, len: i32));
    wrap!(linker, get, "path_rename" => path_rename, (fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32));
    wrap!(linker, get, "path_symlink" => path_symlink, (old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32));
    wrap!(linker, get, "path_unlink_file" => path_unlink_file, (fd: i32, path: i32, len: i32));
    Ok(())
}
