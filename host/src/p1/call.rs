//! How an override ends, and the one conversion of that to what the ABI returns.
//!
//! Contract: an override returns [`Done`]: `Ok(())` is `success`; `Err(Fail::Errno(e))` is
//! the errno `e` returned to the guest; `Err(Fail::Trap(t))` stops the guest (the deadline,
//! a host failure). `?` works on both kinds of error. [`to_abi`] is the only place that turns
//! an outcome into the ABI's integer, [`from_abi`] the only place that reads one (what a
//! delegated wasmtime-wasi call returned). [`wrap!`] registers an override in a linker.

use crate::errno::WasiErrno;

/// Why an override did not succeed.
pub enum Fail {
    /// The guest is told this errno.
    Errno(WasiErrno),
    /// The call traps.
    Trap(wasmtime::Error),
}

impl From<WasiErrno> for Fail {
    fn from(e: WasiErrno) -> Self {
        Fail::Errno(e)
    }
}

impl From<wasmtime::Error> for Fail {
    fn from(e: wasmtime::Error) -> Self {
        Fail::Trap(e)
    }
}

/// What an override returns.
pub type Done = Result<(), Fail>;

/// The ABI's return value for `done`: the errno as an integer, or the trap.
pub fn to_abi(done: Done) -> wasmtime::Result<i32> {
    match done {
        Ok(()) => Ok(i32::from(WasiErrno::Success.raw())),
        Err(Fail::Errno(e)) => Ok(i32::from(e.raw())),
        Err(Fail::Trap(t)) => Err(t),
    }
}

/// The errno `e` as an outcome: `success` is `Ok(())`.
pub fn done(e: WasiErrno) -> Done {
    match e {
        WasiErrno::Success => Ok(()),
        e => Err(e.into()),
    }
}

/// A delegated call's ABI return value as an outcome (an errno wasmtime-wasi never returns
/// reads as `io`).
pub fn from_abi(raw: i32) -> Done {
    done(
        u32::try_from(raw)
            .ok()
            .and_then(WasiErrno::from_raw)
            .unwrap_or(WasiErrno::Io),
    )
}

/// Registers the override `$func` as the import `$name` of `wasi_snapshot_preview1`: a
/// closure over the accessor `$get`, with the ABI's parameter list, whose [`Done`] goes
/// through [`to_abi`]. With `taped SCOPE`, the call goes through `--record`/`--replay`'s
/// [`super::tape::around`] first.
macro_rules! wrap {
    ($linker:ident, $get:ident, $name:literal => $func:path, ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(
            "wasi_snapshot_preview1",
            $name,
            move |mut caller: wasmtime::Caller<'_, T>, $($arg: $ty),*| {
                $crate::p1::call::to_abi($func(&mut caller, $get, $($arg),*))
            },
        )?
    };
    ($linker:ident, $get:ident, $name:literal => $func:path, ($($arg:ident: $ty:ty),*), taped $scope:ident) => {
        $linker.func_wrap(
            "wasi_snapshot_preview1",
            $name,
            move |mut caller: wasmtime::Caller<'_, T>, $($arg: $ty),*| {
                let args = [$(i64::from($arg)),*];
                $crate::p1::call::to_abi($crate::p1::tape::around(
                    &mut caller,
                    $get,
                    $name,
                    $crate::p1::tape::Scope::$scope,
                    &args,
                    |caller| $func(caller, $get, $($arg),*),
                ))
            },
        )?
    };
}
pub(crate) use wrap;
