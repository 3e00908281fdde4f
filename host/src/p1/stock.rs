//! Glue to wasmtime-wasi's own preview1 implementation, for calls the host does not override.
//!
//! An override cannot call the stock `Func` it shadows (a host-to-host call has no calling
//! instance, so "missing required memory export"). Instead it calls the wiggle-generated ABI
//! functions in `wasmtime_wasi::p1::wasi_snapshot_preview1` directly, with a `GuestMemory`
//! over the caller's exported memory, exactly as the stock import does. That module is public
//! but documented as internal: this file is the only place that touches it, and wasmtime is
//! pinned to an exact version.

use super::{FaithfulCtx, GetCtx};
use wasmtime::{bail, Result};
use wasmtime::{AsContextMut, Caller, Extern};
use wasmtime_wasi::p1::WasiP1Ctx;
use wiggle::{GuestMemory, GuestPtr};

pub use wasmtime_wasi::p1::wasi_snapshot_preview1 as abi;
pub use wasmtime_wasi::runtime::in_tokio;

/// The caller's linear memory and the faithful context, borrowed together.
pub fn memory_and_state<'a, T: 'static>(
    caller: &'a mut Caller<'_, T>,
    get: impl GetCtx<T>,
) -> Result<(&'a mut [u8], &'a mut FaithfulCtx)> {
    let memory = match get(caller.data_mut()).memory {
        Some(m) => m,
        None => match caller.get_export("memory") {
            Some(Extern::Memory(m)) => {
                get(caller.data_mut()).memory = Some(m);
                m
            }
            Some(Extern::SharedMemory(_)) => bail!("guests with shared memory are not supported"),
            _ => bail!("missing required memory export"),
        },
    };
    let (mem, data) = memory.data_and_store_mut(caller);
    Ok((mem, get(data)))
}

/// Runs the stock call `f` for the caller and returns what it returned, as an outcome: the
/// override delegates the whole call.
pub fn delegate<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    f: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> Result<i32>,
) -> Done {
    from_abi(call(caller, get, f)?)
}

/// Runs a stock call `f` for the caller, as the stock import would.
pub fn call<T: 'static, R>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    f: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> Result<R>,
) -> Result<R> {
    let fuel = caller.as_context_mut().hostcall_fuel();
    let (mem, state) = memory_and_state(caller, get)?;
    state.wasi.set_hostcall_fuel(fuel);
    let mut mem = GuestMemory::Unshared(mem);
    f(&mut state.wasi, &mut mem)
}

use super::call::{from_abi, Done};
use crate::errno::WasiErrno;
use wasmtime_wasi::p1::types;
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1;

/// A stock call's typed result: the value, or the errno it returned to the guest.
fn errno_of<T>(r: Result<T, types::Error>) -> Result<Result<T, WasiErrno>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => {
            let errno = e.downcast()?;
            let raw = errno as u32;
            Ok(Err(WasiErrno::from_raw(raw).unwrap_or(WasiErrno::Io)))
        }
    }
}

/// How a descriptor the host does not manage polls, as stock sees it.
pub enum Pollable {
    /// A regular file: always ready; this many bytes from the position to the end.
    File {
        /// Bytes left to read.
        remaining: u64,
    },
}

/// Stock's view of the unmanaged descriptor `fd` for `poll_oneoff`: a regular file, or the
/// errno stock's own `poll_oneoff` would fail the call with (`badf`).
pub fn pollable<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: u32,
) -> Result<Result<Pollable, WasiErrno>> {
    call(caller, get, |ctx, mem| {
        let stat = match errno_of(in_tokio(ctx.fd_fdstat_get(mem, fd.into())))? {
            Ok(stat) => stat,
            Err(e) => return Ok(Err(e)),
        };
        if !matches!(stat.fs_filetype, types::Filetype::RegularFile) {
            return Ok(Err(WasiErrno::Badf));
        }
        let size = match errno_of(in_tokio(ctx.fd_filestat_get(mem, fd.into())))? {
            Ok(st) => st.size,
            Err(e) => return Ok(Err(e)),
        };
        let pos = errno_of(ctx.fd_tell(mem, fd.into()))?.unwrap_or(0);
        Ok(Ok(Pollable::File {
            remaining: size.saturating_sub(pos),
        }))
    })
}

/// The guest's view of clock `id` now (`clock_time_get`), or its errno.
pub fn clock_now<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    id: u32,
) -> Result<Result<u64, WasiErrno>> {
    let id = match id {
        0 => types::Clockid::Realtime,
        1 => types::Clockid::Monotonic,
        _ => return Ok(Err(WasiErrno::Inval)),
    };
    call(caller, get, |ctx, mem| {
        errno_of(ctx.clock_time_get(mem, id, 1))
    })
}

/// Reserves `numbers` in wasmtime-wasi's own table, so that it never hands them out. Opens
/// placeholders (of the directory preopened at `hidden`, never seen by the guest) up to one
/// past the highest number, moves that last one onto `hidden` (which closes the preopen), and
/// closes the numbers in between that are not reserved. The placeholders stay open under the
/// reserved numbers; the host answers every call on them. `numbers` are distinct, at least
/// `hidden` and at most [`crate::net::MAX_LISTEN_FD`] (the caller chose them).
///
/// wasmtime-wasi opens a path on a blocking thread of the ambient tokio runtime, and its
/// global one keeps worker threads for the rest of the process (which would make every
/// system call of a guest with listeners pay for a shared descriptor table; see
/// [`crate::run::GuestEngine`]). So the opens run on a runtime of this thread's own, whose
/// blocking thread is joined before this returns.
pub fn reserve(ctx: &mut WasiP1Ctx, hidden: u32, numbers: &[u32]) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let mut path = *b".";
    let mut mem = GuestMemory::Unshared(&mut path);
    // Outside a guest call nothing has set the per-call copying budget: allow this call's.
    ctx.set_hostcall_fuel(1 << 16);
    let Some(&max) = numbers.iter().max() else {
        return Ok(());
    };
    let fail = |what: &str, e: WasiErrno| {
        wasmtime::format_err!(
            "reserving descriptor numbers for sockets: {what}: {}",
            e.name()
        )
    };
    for _ in hidden..=max {
        let fd = rt.block_on(ctx.path_open(
            &mut mem,
            hidden.into(),
            types::Lookupflags::empty(),
            GuestPtr::new((0, 1)),
            types::Oflags::DIRECTORY,
            types::Rights::FD_READDIR,
            types::Rights::empty(),
            types::Fdflags::empty(),
        ));
        errno_of(fd)?.map_err(|e| fail("path_open", e))?;
    }
    errno_of(rt.block_on(ctx.fd_renumber(&mut mem, (max + 1).into(), hidden.into())))?
        .map_err(|e| fail("fd_renumber", e))?;
    for fd in (hidden..=max).filter(|n| !numbers.contains(n)) {
        errno_of(rt.block_on(ctx.fd_close(&mut mem, fd.into())))?
            .map_err(|e| fail("fd_close", e))?;
    }
    Ok(())
}

/// Whether wasmtime-wasi has `fd` open.
pub fn is_open<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    fd: u32,
) -> Result<bool> {
    call(caller, get, |ctx, mem| {
        Ok(errno_of(in_tokio(ctx.fd_fdstat_get(mem, fd.into())))?.is_ok())
    })
}

/// The number of the last preopened directory: preopens are numbered from 3 up, in the order
/// they were added, and `fd_prestat_get` answers `badf` past the last.
pub fn last_preopen(ctx: &mut WasiP1Ctx) -> Result<u32> {
    let mut scratch = [0u8; 8];
    let mut mem = GuestMemory::Unshared(&mut scratch);
    ctx.set_hostcall_fuel(1 << 16);
    let mut last = None;
    for fd in 3u32.. {
        match errno_of(ctx.fd_prestat_get(&mut mem, fd.into()))? {
            Ok(_) => last = Some(fd),
            Err(_) => break,
        }
    }
    last.ok_or_else(|| wasmtime::format_err!("no preopened directory to reserve numbers with"))
}
