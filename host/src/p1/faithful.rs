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

use super::fds::{Endpoint, ALL_FLAGS, NONBLOCK, SETTABLE};
use super::{stock, FaithfulCtx, GetCtx};
use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::limits::Deadline;
use crate::output::Sink;
use crate::pipe::{ReadOutcome, PIPE_BUF};
use std::ops::Range;
use std::time::{Duration, Instant};
use wasmtime::{Caller, Linker, Result};

const MODULE: &str = "wasi_snapshot_preview1";

/// How long a blocking read waits between checks that the guest may go on waiting.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Registers `$func` as the import `$name`: a closure over the accessor `$get` with the
/// ABI's parameter list.
macro_rules! wrap {
    ($linker:ident, $get:ident, $name:literal => $func:path, ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(MODULE, $name, move |caller: Caller<'_, T>, $($arg: $ty),*| {
            $func(caller, $get, $($arg),*)
        })?
    };
}
pub(super) use wrap;

/// Shadows the stock imports in `linker` with the faithful ones; `get` finds the faithful
/// context in the store's data.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: impl GetCtx<T>) -> Result<()> {
    linker.allow_shadowing(true);
    wrap!(linker, get, "fd_read" => fd_read, (fd: i32, iovs: i32, len: i32, nread: i32));
    wrap!(linker, get, "fd_write" => fd_write, (fd: i32, iovs: i32, len: i32, nwritten: i32));
    wrap!(linker, get, "poll_oneoff" => super::poll::poll_oneoff, (subs: i32, evs: i32, n: i32, nevents: i32));
    wrap!(linker, get, "fd_fdstat_get" => fd_fdstat_get, (fd: i32, buf: i32));
    wrap!(linker, get, "fd_fdstat_set_flags" => fd_fdstat_set_flags, (fd: i32, flags: i32));
    wrap!(linker, get, "fd_close" => fd_close, (fd: i32));
    wrap!(linker, get, "fd_renumber" => fd_renumber, (from: i32, to: i32));
    super::sockets::add_to_linker(linker, get)?;
    linker.allow_shadowing(false);
    Ok(())
}

pub(super) fn errno(e: WasiErrno) -> i32 {
    i32::from(e.raw())
}

/// The byte range `[ptr, ptr+len)` of guest memory, or `fault`.
pub(super) fn guest_range(mem: &[u8], ptr: u32, len: u32) -> Result<Range<usize>, WasiErrno> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(WasiErrno::Fault)?;
    if end > mem.len() {
        return Err(WasiErrno::Fault);
    }
    Ok(start..end)
}

pub(super) fn read_u32(mem: &[u8], ptr: u32) -> Result<u32, WasiErrno> {
    let r = guest_range(mem, ptr, 4)?;
    Ok(u32::from_le_bytes(mem[r].try_into().expect("4 bytes")))
}

pub(super) fn write_u32(mem: &mut [u8], ptr: u32, value: u32) -> Result<(), WasiErrno> {
    let r = guest_range(mem, ptr, 4)?;
    mem[r].copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// The first non-empty buffer of an iovec array (as wasmtime-wasi reads), or an empty range.
/// A short read into it is what POSIX `readv` allows.
pub(super) fn first_iovec(mem: &[u8], iovs: u32, iovs_len: u32) -> Result<Range<usize>, WasiErrno> {
    guest_range(mem, iovs, iovs_len.checked_mul(8).ok_or(WasiErrno::Fault)?)?;
    for i in 0..iovs_len {
        let base = iovs + i * 8;
        let (buf, len) = (read_u32(mem, base)?, read_u32(mem, base + 4)?);
        if len != 0 {
            return guest_range(mem, buf, len);
        }
    }
    Ok(0..0)
}

fn fd_read<T: 'static>(
    mut caller: Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nread: i32,
) -> Result<i32> {
    if get(caller.data_mut()).fds.get(fd as u32).is_none() {
        return stock::call(&mut caller, get, |ctx, mem| {
            stock::in_tokio(stock::abi::fd_read(ctx, mem, fd, iovs, iovs_len, nread))
        });
    }
    let (mem, state) = stock::memory_and_state(&mut caller, get)?;
    let m = state.fds.get(fd as u32).expect("checked above");
    let nonblocking = m.flags & NONBLOCK != 0;
    let source = match &m.endpoint {
        Endpoint::Read(source) => source,
        Endpoint::Stream(s) => {
            let s = s.clone();
            return Ok(errno(read_socket(
                mem,
                state,
                fd as u32,
                &s,
                iovs,
                iovs_len,
                nread,
                nonblocking,
            )?));
        }
        Endpoint::Listener(_) => return Ok(errno(WasiErrno::Notconn)),
        Endpoint::Write(_) => return Ok(errno(WasiErrno::Badf)),
    };
    let buf = match first_iovec(mem, iovs as u32, iovs_len as u32)
        .and_then(|buf| write_u32(mem, nread as u32, 0).map(|()| buf))
    {
        Ok(buf) => buf,
        Err(e) => return Ok(errno(e)),
    };
    if buf.is_empty() {
        // POSIX: a zero-byte read returns 0 at once, whatever the pipe holds.
        return Ok(errno(WasiErrno::Success));
    }
    loop {
        let n = match source.try_read(&mut mem[buf.clone()]) {
            Ok(ReadOutcome::Data(n)) => n,
            Ok(ReadOutcome::Eof) => 0,
            Ok(ReadOutcome::WouldBlock) if nonblocking => {
                state
                    .events
                    .record("fd_read", fd as u32, m.handle, WasiErrno::Again);
                return Ok(errno(WasiErrno::Again));
            }
            Ok(ReadOutcome::WouldBlock) => match source.wait_readable(WAIT_SLICE) {
                Ok(_) => {
                    crate::limits::check(state.deadline)?;
                    continue;
                }
                Err(_) => return Ok(errno(WasiErrno::Io)),
            },
            Err(_) => return Ok(errno(WasiErrno::Io)),
        };
        write_u32(mem, nread as u32, n as u32).expect("checked before reading");
        return Ok(errno(WasiErrno::Success));
    }
}

/// `fd_read` on a connected socket.
#[allow(clippy::too_many_arguments)]
fn read_socket(
    mem: &mut [u8],
    state: &mut FaithfulCtx,
    fd: u32,
    s: &std::net::TcpStream,
    iovs: i32,
    iovs_len: i32,
    nread: i32,
    nonblocking: bool,
) -> Result<WasiErrno> {
    let buf = match first_iovec(mem, iovs as u32, iovs_len as u32)
        .and_then(|buf| write_u32(mem, nread as u32, 0).map(|()| buf))
    {
        Ok(buf) => buf,
        Err(e) => return Ok(e),
    };
    if buf.is_empty() {
        return Ok(WasiErrno::Success);
    }
    let read = super::sockets::stream_read(
        s,
        &mut mem[buf],
        nonblocking,
        (false, false),
        state.deadline,
    )?;
    Ok(match read {
        Ok(n) => {
            write_u32(mem, nread as u32, n as u32).expect("checked before reading");
            WasiErrno::Success
        }
        Err(WasiErrno::Again) => {
            state
                .events
                .record("fd_read", fd, Handle::Socket, WasiErrno::Again);
            WasiErrno::Again
        }
        Err(e) => e,
    })
}

/// The most host memory one write call gathers, whatever the guest's iovecs add up to (they
/// may all point at the same bytes): 1 MiB, Linux's default `pipe-max-size`, so no pipe of
/// an unprivileged process takes more in one non-blocking write. A larger non-blocking write
/// is a short write, as POSIX allows; a blocking one goes out in pieces of this size.
pub(super) const MAX_GATHER: usize = 1 << 20;

/// The buffers of an iovec array, each checked against guest memory, read one at a time:
/// nothing is allocated for them, however many there are.
pub(super) fn iovecs(
    mem: &[u8],
    iovs: u32,
    iovs_len: u32,
) -> Result<impl Iterator<Item = Result<Range<usize>, WasiErrno>> + '_, WasiErrno> {
    guest_range(mem, iovs, iovs_len.checked_mul(8).ok_or(WasiErrno::Fault)?)?;
    Ok((0..iovs_len).map(move |i| {
        let base = iovs + i * 8;
        guest_range(mem, read_u32(mem, base)?, read_u32(mem, base + 4)?)
    }))
}

/// The total length of an iovec array's buffers, every one checked (`fault` for any that
/// lies outside guest memory, before a byte is written).
pub(super) fn iovecs_len(mem: &[u8], iovs: u32, iovs_len: u32) -> Result<u64, WasiErrno> {
    iovecs(mem, iovs, iovs_len)?.try_fold(0u64, |n, r| Ok(n + r?.len() as u64))
}

/// The first `limit` bytes of an iovec array's data (checked by [`iovecs_len`]): borrowed
/// when one buffer holds them, else gathered into at most `limit` bytes of host memory.
pub(super) fn gather(
    mem: &[u8],
    iovs: u32,
    iovs_len: u32,
    limit: usize,
) -> Result<std::borrow::Cow<'_, [u8]>, WasiErrno> {
    // Empty buffers are skipped; a buffer outside guest memory is still an error.
    let mut ranges = iovecs(mem, iovs, iovs_len)?.filter(|r| !matches!(r, Ok(r) if r.is_empty()));
    let Some(first) = ranges.next().transpose()? else {
        return Ok(std::borrow::Cow::Borrowed(&[][..]));
    };
    if first.len() >= limit {
        return Ok(std::borrow::Cow::Borrowed(
            &mem[first.start..first.start + limit],
        ));
    }
    let mut out = Vec::with_capacity(limit);
    out.extend_from_slice(&mem[first]);
    for r in ranges {
        let r = r?;
        let take = r.len().min(limit - out.len());
        out.extend_from_slice(&mem[r.start..r.start + take]);
        if out.len() == limit {
            break;
        }
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Writes an iovec array's data blocking, in pieces that need no more host memory than
/// [`MAX_GATHER`]: `write` gets each piece (a write of at most `PIPE_BUF` bytes is one
/// piece, so it stays atomic). Stops at the first error or trap.
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
fn write_blocking(
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
            Sink::Host(fd) => match fd.write_now(rest) {
                Some(Ok(n)) => n,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Err(e) = fd.wait_writable(WAIT_SLICE) {
                        return Ok(Err(write_errno(&e)));
                    }
                    0
                }
                Some(Err(e)) => return Ok(Err(write_errno(&e))),
                // No private non-blocking description of this descriptor: wait for room in
                // slices, then one blocking write (a reader that stalls mid-write is the one
                // wait the host cannot leave; the run is then abandoned at its deadline).
                None => match fd.wait_writable(WAIT_SLICE) {
                    Ok(true) => match fd.write(rest) {
                        Ok(n) => n,
                        Err(e) => return Ok(Err(write_errno(&e))),
                    },
                    Ok(false) => 0,
                    Err(e) => return Ok(Err(write_errno(&e))),
                },
            },
        };
        if n == 0 {
            crate::limits::check(deadline)?;
        }
        done += n;
    }
    Ok(Ok(()))
}

fn fd_write<T: 'static>(
    mut caller: Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> Result<i32> {
    if get(caller.data_mut()).fds.get(fd as u32).is_none() {
        return stock::call(&mut caller, get, |ctx, mem| {
            stock::in_tokio(stock::abi::fd_write(ctx, mem, fd, iovs, iovs_len, nwritten))
        });
    }
    let (mem, state) = stock::memory_and_state(&mut caller, get)?;
    let (iovs, iovs_len) = (iovs as u32, iovs_len as u32);
    if let Err(e) = guest_range(mem, nwritten as u32, 4) {
        return Ok(errno(e));
    }
    if let Some(Endpoint::Stream(stream)) = state.fds.get(fd as u32).map(|m| &m.endpoint) {
        let stream = stream.clone();
        let sent =
            super::sockets::send(mem, state, fd as u32, &stream, "fd_write", (iovs, iovs_len))?;
        return Ok(errno(match sent {
            Ok(n) => {
                write_u32(mem, nwritten as u32, n as u32).expect("checked above");
                WasiErrno::Success
            }
            Err(e) => e,
        }));
    }
    let total = match iovecs_len(mem, iovs, iovs_len) {
        Ok(n) => n,
        Err(e) => return Ok(errno(e)),
    };
    let deadline = state.deadline;
    let m = state.fds.get_mut(fd as u32).expect("checked above");
    let Endpoint::Write(sink) = &m.endpoint else {
        return Ok(errno(WasiErrno::Badf));
    };
    let result = if total == 0 {
        Ok(0)
    } else if m.flags & NONBLOCK != 0 {
        // At most MAX_GATHER bytes: more would be a short write anyway.
        let data = match gather(mem, iovs, iovs_len, total.min(MAX_GATHER as u64) as usize) {
            Ok(d) => d,
            Err(e) => return Ok(errno(e)),
        };
        match write_nonblocking(sink, &data) {
            Ok(0) => Err(WasiErrno::Again),
            other => other,
        }
    } else {
        write_iovecs_blocking(mem, iovs, iovs_len, total, |piece| {
            write_blocking(sink, piece, deadline)
        })?
        .map(|()| total as usize)
    };
    let n = match result {
        Ok(n) => n,
        Err(WasiErrno::Again) => {
            let written = std::mem::take(&mut m.short_written);
            state
                .events
                .record_write("fd_write", fd as u32, m.handle, WasiErrno::Again, written);
            return Ok(errno(WasiErrno::Again));
        }
        Err(e) => return Ok(errno(e)),
    };
    if (n as u64) < total {
        m.short_written += n as u64;
    } else {
        m.short_written = 0;
    }
    write_u32(mem, nwritten as u32, n as u32).expect("checked before writing");
    Ok(errno(WasiErrno::Success))
}

fn fd_fdstat_get<T: 'static>(
    mut caller: Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    buf: i32,
) -> Result<i32> {
    if let Some(m) = get(caller.data_mut()).fds.get(fd as u32) {
        if m.endpoint.is_socket() {
            let flags = m.flags;
            let (mem, _) = stock::memory_and_state(&mut caller, get)?;
            return Ok(errno(
                super::sockets::write_socket_fdstat(mem, buf as u32, flags)
                    .err()
                    .unwrap_or(WasiErrno::Success),
            ));
        }
    }
    let ret = stock::call(&mut caller, get, |ctx, mem| {
        stock::in_tokio(stock::abi::fd_fdstat_get(ctx, mem, fd, buf))
    })?;
    if ret != errno(WasiErrno::Success) {
        return Ok(ret);
    }
    let (mem, state) = stock::memory_and_state(&mut caller, get)?;
    if let Some(m) = state.fds.get(fd as u32) {
        // `fdstat.fs_flags` is the u16 at offset 2.
        let Ok(r) = guest_range(mem, (buf as u32).wrapping_add(2), 2) else {
            return Ok(errno(WasiErrno::Fault));
        };
        mem[r].copy_from_slice(&m.flags.to_le_bytes());
    }
    Ok(ret)
}

fn fd_fdstat_set_flags<T: 'static>(
    mut caller: Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: i32,
    flags: i32,
) -> Result<i32> {
    let Some(m) = get(caller.data_mut()).fds.get_mut(fd as u32) else {
        return stock::call(&mut caller, get, |ctx, mem| {
            stock::abi::fd_fdstat_set_flags(ctx, mem, fd, flags)
        });
    };
    let Ok(flags) = u16::try_from(flags) else {
        return Ok(errno(WasiErrno::Inval));
    };
    if flags & !ALL_FLAGS != 0 {
        return Ok(errno(WasiErrno::Inval));
    }
    m.flags = flags & SETTABLE;
    Ok(errno(WasiErrno::Success))
}

fn fd_close<T: 'static>(mut caller: Caller<'_, T>, get: impl GetCtx<T>, fd: i32) -> Result<i32> {
    if get(caller.data_mut())
        .fds
        .get(fd as u32)
        .is_some_and(|m| !m.stock_beneath)
    {
        get(caller.data_mut()).fds.remove(fd as u32);
        return Ok(errno(WasiErrno::Success));
    }
    let ret = stock::call(&mut caller, get, |ctx, mem| {
        stock::in_tokio(stock::abi::fd_close(ctx, mem, fd))
    })?;
    if ret == errno(WasiErrno::Success) {
        get(caller.data_mut()).fds.remove(fd as u32);
    }
    Ok(ret)
}

/// `fd_renumber`, across both tables. Numbers wasmtime-wasi holds stay held: a number the
/// host manages keeps the stock descriptor under it as a placeholder rather than closing it,
/// so that stock never hands the number out again while the guest uses it.
fn fd_renumber<T: 'static>(
    mut caller: Caller<'_, T>,
    get: impl GetCtx<T>,
    from: i32,
    to: i32,
) -> Result<i32> {
    let (f, t) = (from as u32, to as u32);
    let host_only = |c: &mut Caller<'_, T>, fd: u32| {
        get(c.data_mut())
            .fds
            .get(fd)
            .is_some_and(|m| !m.stock_beneath)
    };
    let (from_host_only, to_host_only) = (host_only(&mut caller, f), host_only(&mut caller, t));
    if !from_host_only && !to_host_only {
        let ret = stock::call(&mut caller, get, |ctx, mem| {
            stock::in_tokio(stock::abi::fd_renumber(ctx, mem, from, to))
        })?;
        if ret == errno(WasiErrno::Success) {
            get(caller.data_mut()).fds.renumber(f, t);
        }
        return Ok(ret);
    }
    let in_stock = |c: &mut Caller<'_, T>, fd: u32| -> Result<bool> {
        match get(c.data_mut()).fds.get(fd) {
            Some(m) => Ok(m.stock_beneath),
            None => stock::is_open(c, get, fd),
        }
    };
    let (from_in_stock, to_in_stock) = (in_stock(&mut caller, f)?, in_stock(&mut caller, t)?);
    let open = |c: &mut Caller<'_, T>, fd: u32, stock: bool| {
        stock || get(c.data_mut()).fds.get(fd).is_some()
    };
    if !open(&mut caller, f, from_in_stock) || !open(&mut caller, t, to_in_stock) {
        return Ok(errno(WasiErrno::Badf));
    }
    if f == t {
        return Ok(errno(WasiErrno::Success));
    }
    let Some(mut moved) = get(caller.data_mut()).fds.remove(f) else {
        // A plain stock descriptor (a file) cannot take a number only the host knows.
        return Ok(errno(WasiErrno::Notsup));
    };
    if moved.stock_beneath {
        stock::call(&mut caller, get, |ctx, mem| {
            stock::in_tokio(stock::abi::fd_close(ctx, mem, from))
        })?;
    }
    moved.stock_beneath = to_in_stock;
    let fds = &mut get(caller.data_mut()).fds;
    fds.remove(t);
    fds.insert(t, moved);
    Ok(errno(WasiErrno::Success))
}
