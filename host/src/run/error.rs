//! Why a run did not produce a guest exit code, and the process exit code for each reason.
//!
//! Exit codes of `wouldblock run` (also in the README and `--help`): the guest's own exit code
//! when it exits; [`EXIT_USAGE`] for bad usage or input; [`EXIT_TRAP`] when the guest traps;
//! [`EXIT_TIMEOUT`] when it hits its deadline (or runs out of fuel); [`EXIT_MEMORY`] when it
//! hits its memory limit; [`EXIT_HOST`] when the host itself fails; [`EXIT_DIVERGED`] when a
//! `--replay` stops because the guest no longer does what the recording holds.

use wasmtime_wasi::I32Exit;

/// Bad usage or input: a missing or invalid guest, a malformed option.
pub const EXIT_USAGE: i32 = 2;
/// The guest trapped (as `wasmtime run` on Unix: 128 + SIGABRT).
pub const EXIT_TRAP: i32 = 134;
/// The host failed for a reason of its own (EX_SOFTWARE).
pub const EXIT_HOST: i32 = 70;
/// The guest hit its deadline or ran out of fuel (as `timeout(1)`).
pub const EXIT_TIMEOUT: i32 = 124;
/// The guest hit its memory limit.
pub const EXIT_MEMORY: i32 = 125;
/// A `--replay` diverged from its recording (EX_DATAERR).
pub const EXIT_DIVERGED: i32 = 65;

/// Why a `--replay` stopped the guest: where it stopped doing what the recording holds.
#[derive(Debug)]
pub struct Diverged(pub String);

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Diverged {}

/// Why a run did not produce a guest exit code.
#[derive(Debug)]
pub enum RunError {
    /// Bad usage or input.
    Input(anyhow::Error),
    /// The guest trapped.
    Trap(anyhow::Error),
    /// The guest hit its deadline or ran out of fuel.
    Timeout(anyhow::Error),
    /// The guest hit its memory limit.
    MemoryLimit(anyhow::Error),
    /// The host failed.
    Host(anyhow::Error),
    /// A replay diverged from its recording.
    Diverged(anyhow::Error),
}

impl RunError {
    /// An input error from any error.
    pub fn input(e: impl Into<anyhow::Error>) -> Self {
        RunError::Input(e.into())
    }

    /// A host failure from any error.
    pub fn host(e: impl Into<anyhow::Error>) -> Self {
        RunError::Host(e.into())
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Input(_) => EXIT_USAGE,
            RunError::Trap(_) => EXIT_TRAP,
            RunError::Timeout(_) => EXIT_TIMEOUT,
            RunError::MemoryLimit(_) => EXIT_MEMORY,
            RunError::Host(_) => EXIT_HOST,
            RunError::Diverged(_) => EXIT_DIVERGED,
        }
    }

    /// For a trap: the wasm backtrace, one frame a line (`module!function`, the innermost
    /// first), read from wasmtime's [`wasmtime::WasmBacktrace`]; empty otherwise.
    pub fn backtrace(&self) -> Vec<String> {
        let (RunError::Trap(e) | RunError::MemoryLimit(e)) = self else {
            return Vec::new();
        };
        let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() else {
            return Vec::new();
        };
        bt.frames()
            .iter()
            .map(|f| {
                let module = f.module().name().unwrap_or("<unknown>");
                match f.func_name() {
                    Some(name) => format!("{module}!{name}"),
                    None => format!("{module}!<wasm function {}>", f.func_index()),
                }
            })
            .collect()
    }

    /// The one-line message, without the `wouldblock: error: ` prefix; for a trap, the trap
    /// itself (its backtrace is in [`RunError::backtrace`]).
    pub fn message(&self) -> String {
        let (what, e) = match self {
            RunError::Input(e) => ("", e),
            RunError::Trap(e) => ("guest trapped: ", e),
            RunError::Timeout(e) => ("guest stopped: ", e),
            RunError::MemoryLimit(e) => ("guest hit its memory limit: ", e),
            RunError::Host(e) => ("host failure: ", e),
            RunError::Diverged(e) => ("replay diverged ", e),
        };
        // A trap's chain carries the backtrace: only its last cause is the reason.
        let reason = match self {
            RunError::Trap(_) | RunError::MemoryLimit(_) => {
                e.chain().last().map(|c| c.to_string()).unwrap_or_default()
            }
            _ => format!("{e:#}"),
        };
        one_line(&format!("{what}{reason}"))
    }
}

/// Folds a possibly multi-line message into one line.
pub fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The guest's exit code from the result of its entry point: a normal return is `Ok`,
/// `proc_exit` is an [`I32Exit`] error; the deadline (the epoch check or a host wait) is a
/// timeout, running out of fuel too; a trap after a denied memory growth is the memory limit;
/// anything else is a trap.
pub fn exit_status(result: wasmtime::Result<i32>, memory_denied: bool) -> Result<i32, RunError> {
    let e = match result {
        Ok(code) => return Ok(code),
        Err(e) => e,
    };
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ok(exit.0);
    }
    if let Some(d) = e.downcast_ref::<Diverged>() {
        return Err(RunError::Diverged(anyhow::anyhow!("{d}")));
    }
    if let Some(d) = e.downcast_ref::<crate::limits::DeadlineExceeded>() {
        return Err(RunError::Timeout(anyhow::anyhow!("{d}")));
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            Err(RunError::Timeout(anyhow::anyhow!("all fuel consumed")))
        }
        _ if memory_denied => Err(RunError::MemoryLimit(e.into())),
        _ => Err(RunError::Trap(e.into())),
    }
}
