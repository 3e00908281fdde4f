//! Glue to wasmtime-wasi's own preview1 implementation, for calls the host does not override.
//!
//! An override cannot call the stock `Func` it shadows (a host-to-host call has no calling
//! instance, so "missing required memory export"). Instead it calls the wiggle-generated ABI
//! functions in `wasmtime_wasi::p1::wasi_snapshot_preview1` directly, with a `GuestMemory`
//! over the caller's exported memory, exactly as the stock import does. That module is public
//! but documented as internal: this file is the only place that touches it, and wasmtime is
//! pinned to an exact version.

use super::P1State;
use wasmtime::{bail, Result};
use wasmtime::{AsContextMut, Caller, Extern};
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1 as _;
use wasmtime_wasi::p1::WasiP1Ctx;
use wiggle::GuestMemory;

pub use wasmtime_wasi::p1::wasi_snapshot_preview1 as abi;
pub use wasmtime_wasi::runtime::in_tokio;

/// The caller's linear memory and the store's state, borrowed together.
pub fn memory_and_state<'a>(
    caller: &'a mut Caller<'_, P1State>,
) -> Result<(&'a mut [u8], &'a mut P1State)> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m.data_and_store_mut(caller)),
        Some(Extern::SharedMemory(_)) => bail!("guests with shared memory are not supported"),
        _ => bail!("missing required memory export"),
    }
}

/// Runs a stock call `f` for the caller, as the stock import would.
pub fn call<R>(
    caller: &mut Caller<'_, P1State>,
    f: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> Result<R>,
) -> Result<R> {
    let fuel = caller.as_context_mut().hostcall_fuel();
    let (mem, state) = memory_and_state(caller)?;
    state.wasi.set_hostcall_fuel(fuel);
    let mut mem = GuestMemory::Unshared(mem);
    f(&mut state.wasi, &mut mem)
}
