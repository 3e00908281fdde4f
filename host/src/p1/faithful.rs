//! The faithful preview1 overrides: non-blocking stdin that returns `again` when POSIX would.
//!
//! Shadows `fd_read`, `fd_write`, `fd_fdstat_get`, `fd_fdstat_set_flags`, `fd_close`,
//! `fd_renumber` and `poll_oneoff` ([`super::poll`]). A call on a descriptor the host does not
//! manage goes to wasmtime-wasi unchanged ([`super::stock`]). On a managed descriptor
//! (stdin, stdout, stderr):
//! - `fd_fdstat_set_flags` accepts `nonblock` and `append`, ignores the sync flags as Linux
//!   `F_SETFL` does on a pipe, and rejects undefined bits with `inval`;
//! - `fd_fdstat_get` reports the flags the guest set;
//! - `fd_read` returns data when there is some, 0 at end-of-file, and with `nonblock` set and
//!   nothing to read, `again` at once (recorded as an event); without `nonblock` it waits;
//! - `fd_write` with `nonblock` set writes what fits with POSIX pipe semantics (at most
//!   `PIPE_BUF` bytes are atomic) and returns `again` when nothing fits, recorded with
//!   `characters_written` = the bytes of short writes just before; without `nonblock` it
//!   waits for space and writes everything.
//!
//! With `--chaos`, `inject.rs` turns some of these calls into what POSIX allows them to be
//! (`again`, short counts) before they reach the handle. With `--record`/`--replay`, `tape.rs`
//! writes down or answers the calls marked `taped` (`clock_time_get` and `random_get` are
//! shadowed for that alone).

use super::abi::{self, first_iovec, gather, guest_range, iovecs, iovecs_len, write_u32, Fdflags};
use super::call::{wrap, Done};
use super::fds::Endpoint;
use super::inject;
use super::{stock, wait_slice, FaithfulCtx, GetCtx, WAIT_SLICE};
use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::limits::Deadline;
use crate::output::Sink;
use crate::pipe::{ReadOutcome, PIPE_BUF};
use std::time::{Duration, Instant};
use wasmtime::{Caller, Linker, Result};

/// Shadows the stock imports in `linker` with the faithful ones; `get` finds the faithful
/// context in the store's data.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: impl GetCtx<T>) -> Result<()> {
    linker.allow_shadowing(true);
    wrap!(linker, get, "fd_read" => fd_read, (fd: i32, iovs: i32, len: i32, nread: i32), taped Fd);
    wrap!(linker, get, "fd_write" => fd_write, (fd: i32, iovs: i32, len: i32, nwritten: i32), taped Fd);
    wrap!(linker, get, "poll_oneoff" => super::poll::poll_oneoff, (subs: i32, evs: i32, n: i32, nevents: i32), taped Always);
    wrap!(linker, get, "fd_fdstat_get" => fd_fdstat_get, (fd: i32, buf: i32), taped Fd);
    wrap!(linker, get, "clock_time_get" => clock_time_get, (id: i32, precision: i64, time: i32), taped Always);
    wrap!(linker, get, "random_get" => random_get, (buf: i32, len: i32), taped Always);
    wrap!(linker, get, "fd_fdstat_set_flags" => fd_fdstat_set_flags, (fd: i32, flags: i32));
    wrap!(linker, get, "fd_close" => fd_close, (fd: i32));
    wrap!(linker, get, "fd_renumber" => fd_renumber, (from: i32, to: i32));
    super::sockets::add_to_linker(linker, get)?;
    linker.allow_shadowing(false);
    Ok(())
}

#[inline(always)]
fn fd_read<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nread: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let Some(m) = ctx.fds.get(fd as u32) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_read(wasi, mem, fd, iovs, iovs_len, nread))
        });
    };
    let nonblocking = m.flags.contains(Fdflags::NONBLOCK);
    let source = match &m.endpoint {
        Endpoint::Read(source) => source,
        Endpoint::Stream(s) => {
            let s = s.clone();
            return read_socket(
                mem,
                ctx,
                fd as u32,
                &s,
                (iovs, iovs_len, nread),
                nonblocking,
            );
        }
        Endpoint::Listener(_) => return Err(WasiErrno::Notconn.into()),
        Endpoint::Write(_) => return Err(WasiErrno::Badf.into()),
    };
    let buf = first_iovec(mem, iovs as u32, iovs_len as u32)?;
    write_u32(mem, nread as u32, 0)?;
    if buf.is_empty() {
        // POSIX: a zero-byte read returns 0 at once, whatever the pipe holds.
        return Ok(());
    }
    let key = ("fd_read", fd as u32, m.handle);
    let len = buf.len();
    let asked = inject::before_read(
        &mut ctx.chaos,
        &ctx.events,
        key,
        nonblocking,
        || source.waiting(),
        len,
    )?;
    let buf = buf.start..buf.start + asked;
    // A blocking read with no deadline may block in the read itself.
    let may_block = !nonblocking && ctx.deadline.is_none();
    loop {
        let read = if may_block {
            source.read_blocking(&mut mem[buf.clone()])
        } else {
            source.try_read(&mut mem[buf.clone()])
        };
        let n = match read {
            Ok(ReadOutcome::Data(n)) => n,
            Ok(ReadOutcome::Eof) => 0,
            Ok(ReadOutcome::WouldBlock) if nonblocking => {
                ctx.events
                    .record("fd_read", fd as u32, m.handle, WasiErrno::Again);
                return Err(WasiErrno::Again.into());
            }
            Ok(ReadOutcome::WouldBlock) => match source.wait_readable(wait_slice(ctx.deadline)) {
                Ok(_) => {
                    crate::limits::check(ctx.deadline)?;
                    continue;
                }
                Err(_) => return Err(WasiErrno::Io.into()),
            },
            Err(_) => return Err(WasiErrno::Io.into()),
        };
        inject::after_cut(&ctx.events, key, len, asked, n);
        return Ok(write_u32(mem, nread as u32, n as u32)?);
    }
}

/// `fd_read` on a connected socket: `(iovs, iovs_len, nread)` as the guest passed them.
fn read_socket(
    mem: &mut [u8],
    ctx: &mut FaithfulCtx,
    fd: u32,
    s: &crate::net::Conn,
    (iovs, iovs_len, nread): (i32, i32, i32),
    nonblocking: bool,
) -> Done {
    let buf = first_iovec(mem, iovs as u32, iovs_len as u32)?;
    write_u32(mem, nread as u32, 0)?;
    if buf.is_empty() {
        return Ok(());
    }
    let key = ("fd_read", fd, Handle::Socket);
    let len = buf.len();
    let asked = inject::before_read(
        &mut ctx.chaos,
        &ctx.events,
        key,
        nonblocking,
        || crate::sys::socket_readable_bytes(s.socket()),
        len,
    )?;
    let buf = buf.start..buf.start + asked;
    let read =
        super::sockets::stream_read(s, &mut mem[buf], nonblocking, (false, false), ctx.deadline)?;
    match read {
        Ok(n) => {
            inject::after_cut(&ctx.events, key, len, asked, n);
            Ok(write_u32(mem, nread as u32, n as u32)?)
        }
        Err(WasiErrno::Again) => {
            ctx.events
                .record("fd_read", fd, Handle::Socket, WasiErrno::Again);
            Err(WasiErrno::Again.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The most host memory one write call gathers, whatever the guest's iovecs add up to (they
/// may all point at the same bytes): 1 MiB, Linux's default `pipe-max-size`, so no pipe of
/// an unprivileged process takes more in one non-blocking write. A larger non-blocking write
/// is a short write, as POSIX allows; a blocking one goes out in pieces of this size.
pub(super) const MAX_GATHER: usize = 1 << 20;

/// Writes an iovec array's data blocking, in pieces that need no more host memory than
/// [`MAX_GATHER`]: `write` gets each piece (a write of at most `PIPE_BUF` bytes is one
/// piece, so it stays atomic). Stops at the first error or trap.
#[inline(always)]
pub(super) fn write_iovecs_blocking(
    mem: &[u8],
    iovs: u32,
    iovs_len: u32,
    total: u64,
    mut write: impl FnMut(&[u8]) -> Result<Result<(), WasiErrno>>,
) -> Result<Result<(), WasiErrno>> {
    if total <= PIPE_BUF as u64 {
        let data = match gather(mem, iovs, iovs_len, total as usize) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        return write(&data);
    }
    let ranges = match iovecs(mem, iovs, iovs_len) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    for r in ranges {
        let r = match r {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        for piece in mem[r].chunks(MAX_GATHER) {
            if let Err(e) = write(piece)? {
                return Ok(Err(e));
            }
        }
    }
    Ok(Ok(()))
}

/// The WASI errno for a failed host write.
fn write_errno(e: &std::io::Error) -> WasiErrno {
    match e.kind() {
        std::io::ErrorKind::WouldBlock => WasiErrno::Again,
        std::io::ErrorKind::BrokenPipe => WasiErrno::Pipe,
        _ => WasiErrno::Io,
    }
}

/// One non-blocking write attempt: the bytes accepted (0: would block).
fn write_nonblocking(sink: &Sink, data: &[u8]) -> Result<usize, WasiErrno> {
    match sink {
        Sink::Pipe(p) => Ok(p.try_write(data)),
        Sink::Host(fd) => match fd.write_now(data) {
            Some(written) => accepted(written),
            None => write_after_pollout(fd, data),
        },
    }
}

/// A non-blocking write where the host has only `poll`: at most `PIPE_BUF` bytes, only after
/// `POLLOUT`, which promises room for that many, so the write never blocks.
fn write_after_pollout(fd: &crate::sys::HostFd, data: &[u8]) -> Result<usize, WasiErrno> {
    match fd.wait_writable(Duration::ZERO) {
        Ok(true) => accepted(fd.write(&data[..data.len().min(PIPE_BUF)])),
        Ok(false) => Ok(0),
        Err(e) => Err(write_errno(&e)),
    }
}

/// A host write's bytes accepted, `EAGAIN` being 0.
fn accepted(written: std::io::Result<usize>) -> Result<usize, WasiErrno> {
    written.or_else(|e| match write_errno(&e) {
        WasiErrno::Again => Ok(0),
        other => Err(other),
    })
}

/// A blocking write of all of `data`; gives up with [`crate::limits::DeadlineExceeded`] at
/// the deadline.
#[inline(always)]
pub(super) fn write_blocking(
    sink: &Sink,
    data: &[u8],
    deadline: Option<Deadline>,
) -> Result<Result<(), WasiErrno>> {
    let mut done = 0;
    while done < data.len() {
        let rest = &data[done..];
        let n = match sink {
            Sink::Pipe(p) => {
                let n = p.try_write(rest);
                if n == 0 {
                    let need = rest.len().min(PIPE_BUF).min(p.capacity());
                    p.wait_until(|p| p.free() >= need, Instant::now() + WAIT_SLICE);
                }
                n
            }
            Sink::Host(fd) => match fd.write_within(rest, wait_slice(deadline)) {
                Ok(n) => n,
                Err(e) => return Ok(Err(write_errno(&e))),
            },
        };
        if n == 0 {
            crate::limits::check(deadline)?;
        }
        done += n;
    }
    Ok(Ok(()))
}

/// Inlined down to the system call, as `fd_read` is ([`crate::stdin::Source::try_read`] says why).
#[inline(always)]
fn fd_write<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let Some(m) = ctx.fds.get_mut(fd as u32) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_write(
                wasi, mem, fd, iovs, iovs_len, nwritten,
            ))
        });
    };
    let (iovs, iovs_len) = (iovs as u32, iovs_len as u32);
    guest_range(mem, nwritten as u32, 4)?;
    let sink = match &m.endpoint {
        Endpoint::Write(sink) => sink,
        Endpoint::Stream(stream) => {
            let stream = stream.clone();
            let n =
                super::sockets::send(mem, ctx, fd as u32, &stream, "fd_write", (iovs, iovs_len))??;
            return Ok(write_u32(mem, nwritten as u32, n as u32)?);
        }
        Endpoint::Read(_) | Endpoint::Listener(_) => {
            // Checked as before: the iovecs first, then the descriptor's direction.
            iovecs_len(mem, iovs, iovs_len)?;
            return Err(WasiErrno::Badf.into());
        }
    };
    let total = iovecs_len(mem, iovs, iovs_len)?;
    let mut injected = false;
    let result = if total == 0 {
        Ok(0)
    } else if m.flags.contains(Fdflags::NONBLOCK) {
        // At most MAX_GATHER bytes: more would be a short write anyway.
        let len = total.min(MAX_GATHER as u64) as usize;
        match inject::before_write(&mut ctx.chaos, m.handle, || sink.has_room(len), len) {
            inject::Write::Again => {
                injected = true;
                Err(WasiErrno::Again)
            }
            inject::Write::Offer(offer) => {
                let data = gather(mem, iovs, iovs_len, offer)?;
                let result = match write_nonblocking(sink, &data) {
                    Ok(0) => Err(WasiErrno::Again),
                    other => other,
                };
                if let Ok(n) = result {
                    inject::after_cut(
                        &ctx.events,
                        ("fd_write", fd as u32, m.handle),
                        len,
                        offer,
                        n,
                    );
                }
                result
            }
        }
    } else {
        write_iovecs_blocking(mem, iovs, iovs_len, total, |piece| {
            write_blocking(sink, piece, ctx.deadline)
        })?
        .map(|()| total as usize)
    };
    let n = m.account_write(
        &ctx.events,
        ("fd_write", fd as u32),
        total as usize,
        result,
        injected,
    )?;
    Ok(write_u32(mem, nwritten as u32, n as u32)?)
}

/// wasmtime-wasi's own, shadowed only so that `--record`/`--replay` see it.
fn clock_time_get<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    id: i32,
    precision: i64,
    time: i32,
) -> Done {
    stock::delegate(caller, get, |wasi, mem| {
        stock::abi::clock_time_get(wasi, mem, id, precision, time)
    })
}

/// wasmtime-wasi's own, shadowed only so that `--record`/`--replay` see it.
fn random_get<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    buf: i32,
    len: i32,
) -> Done {
    stock::delegate(caller, get, |wasi, mem| {
        stock::abi::random_get(wasi, mem, buf, len)
    })
}

fn fd_fdstat_get<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    buf: i32,
) -> Done {
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let flags = match ctx.fds.get(fd as u32) {
        Some(m) if m.endpoint.is_socket() => {
            return Ok(super::sockets::write_socket_fdstat(
                mem, buf as u32, m.flags,
            )?);
        }
        Some(m) => Some(m.flags),
        None => None,
    };
    stock::delegate(caller, get, |wasi, mem| {
        stock::in_tokio(stock::abi::fd_fdstat_get(wasi, mem, fd, buf))
    })?;
    if let Some(flags) = flags {
        let (mem, _) = stock::memory_and_state(caller, get)?;
        abi::set_fdstat_flags(mem, buf as u32, flags)?;
    }
    Ok(())
}

fn fd_fdstat_set_flags<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    flags: i32,
) -> Done {
    let Some(m) = get(caller.data_mut()).fds.get_mut(fd as u32) else {
        return stock::delegate(caller, get, |wasi, mem| {
            stock::abi::fd_fdstat_set_flags(wasi, mem, fd, flags)
        });
    };
    let flags = u16::try_from(flags)
        .ok()
        .and_then(Fdflags::from_bits)
        .ok_or(WasiErrno::Inval)?;
    m.flags = flags & (Fdflags::APPEND | Fdflags::NONBLOCK);
    Ok(())
}

fn fd_close<T: 'static>(caller: &mut Caller<'_, T>, get: impl GetCtx<T>, fd: i32) -> Done {
    let fds = &mut get(caller.data_mut()).fds;
    if fds.get(fd as u32).is_some_and(|m| !m.stock_beneath) {
        fds.remove(fd as u32);
        return Ok(());
    }
    stock::delegate(caller, get, |wasi, mem| {
        stock::in_tokio(stock::abi::fd_close(wasi, mem, fd))
    })?;
    get(caller.data_mut()).fds.remove(fd as u32);
    Ok(())
}

/// `fd_renumber`, across both tables. Numbers wasmtime-wasi holds stay held: a number the
/// host manages keeps the stock descriptor under it as a placeholder rather than closing it,
/// so that stock never hands the number out again while the guest uses it.
fn fd_renumber<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    from: i32,
    to: i32,
) -> Done {
    let (f, t) = (from as u32, to as u32);
    // For each number: managed (and whether stock holds it too), or not.
    let stock_beneath =
        |c: &mut Caller<'_, T>, fd: u32| get(c.data_mut()).fds.get(fd).map(|m| m.stock_beneath);
    let (from_managed, to_managed) = (stock_beneath(caller, f), stock_beneath(caller, t));
    if from_managed != Some(false) && to_managed != Some(false) {
        stock::delegate(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_renumber(wasi, mem, from, to))
        })?;
        get(caller.data_mut()).fds.renumber(f, t);
        return Ok(());
    }
    let from_in_stock = match from_managed {
        Some(beneath) => beneath,
        None => stock::is_open(caller, get, f)?,
    };
    let to_in_stock = match to_managed {
        Some(beneath) => beneath,
        None => stock::is_open(caller, get, t)?,
    };
    if !(from_in_stock || from_managed.is_some()) || !(to_in_stock || to_managed.is_some()) {
        return Err(WasiErrno::Badf.into());
    }
    if f == t {
        return Ok(());
    }
    let Some(mut moved) = get(caller.data_mut()).fds.remove(f) else {
        // A plain stock descriptor (a file) cannot take a number only the host knows.
        return Err(WasiErrno::Notsup.into());
    };
    if moved.stock_beneath {
        stock::call(caller, get, |wasi, mem| {
            stock::in_tokio(stock::abi::fd_close(wasi, mem, from))
        })?;
    }
    moved.stock_beneath = to_in_stock;
    let fds = &mut get(caller.data_mut()).fds;
    fds.remove(t);
    fds.insert(t, moved);
    Ok(())
}
