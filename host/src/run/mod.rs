//! One guest run, end to end: load, configure WASI, run, collect the exit code and events.
//!
//! [`options`] says what the run is asked to do, [`stdio`] opens its handles, [`engine`] makes
//! the engine, [`error`] says why a run did not produce a guest exit code (and the process
//! exit code for each reason); this module runs a compiled guest by its ABI and keeps what it
//! produced, however it ended.

mod engine;
mod error;
mod options;
mod stdio;

pub use engine::{engine, GuestEngine, WASMTIME_VERSION};
pub use error::{exit_status, one_line, Diverged, RunError, EXIT_HOST, EXIT_USAGE};
pub use options::{RunOptions, TapeOption, WasiMode};
pub use stdio::{Captured, Handles, Io};

use crate::events::{EventLog, SharedLog};
use crate::guest::Guest;
use wasmtime::Engine;

/// Loads the guest `opts` names and runs it ([`run_partial`]): the fuzz targets' entry.
#[cfg(feature = "internals")]
pub fn run(engine: &GuestEngine, opts: &RunOptions) -> Result<Finished, RunError> {
    let guest = crate::guest::load(engine, &opts.guest)?;
    run_partial(engine, &guest, opts)
}

/// A run that started, however it ended: what it produced up to there.
pub struct Finished {
    /// `p1`, `p2` or `p3`.
    pub abi: &'static str,
    /// The guest's exit code, or why it stopped.
    pub result: Result<i32, RunError>,
    /// The would-block events it met.
    pub events: EventLog,
    /// Bytes that went through `pipe:` outputs.
    pub captured: Captured,
    /// The guest's stdout, when captured.
    pub stdout: Vec<u8>,
    /// The guest's stderr, when captured.
    pub stderr: Vec<u8>,
    /// The run's `--chaos` and seed, if any.
    pub chaos: Option<(crate::chaos::ChaosSpec, u64)>,
}

/// How long after its deadline a run blocked where neither epochs nor the host's own waits
/// reach (inside wasmtime-wasi: a stock read of a FIFO, a preview2 wait) is abandoned.
pub const ABANDON_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// Runs an already compiled guest and keeps everything it produced even when it is stopped
/// (a trap, the deadline, the memory limit). `Err` only when it could not start.
///
/// With a deadline the guest runs on a thread of its own; should it still be running
/// [`ABANDON_GRACE`] after the deadline, it is abandoned there (the thread stays blocked
/// until the process ends) and reported as stopped by the deadline, with the output it wrote
/// and the events it met.
pub fn run_partial(
    engine: &Engine,
    guest: &Guest,
    opts: &RunOptions,
) -> Result<Finished, RunError> {
    if guest.is_component() && !opts.tcplisten.is_empty() {
        return Err(RunError::Input(anyhow::anyhow!(
            "--tcplisten hands sockets to preview1 modules; {} is a component",
            opts.guest.display()
        )));
    }
    if opts.wasi == WasiMode::Stock && opts.chaos.is_some() {
        return Err(RunError::Input(anyhow::anyhow!(
            "--chaos injects into the faithful preview1 layer; --wasi stock runs without it"
        )));
    }
    if let Some(tape) = &opts.tape {
        let option = match tape {
            TapeOption::Record(_) => "--record",
            TapeOption::Replay(_) => "--replay",
        };
        let refused = if guest.is_component() {
            Some(format!("{} is a component", opts.guest.display()))
        } else if opts.wasi == WasiMode::Stock {
            Some("--wasi stock runs without it".into())
        } else if opts.invoke.is_some() {
            Some("--invoke runs without it".into())
        } else if matches!(tape, TapeOption::Replay(_)) && opts.chaos.is_some() {
            Some("the recording holds what --chaos injected; a replay injects nothing".into())
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(RunError::Input(anyhow::anyhow!(
                "{option} records the faithful preview1 boundary of a module's _start; {why}"
            )));
        }
    }
    if let (true, Some(name)) = (guest.is_component(), &opts.invoke) {
        return Err(RunError::Input(anyhow::anyhow!(
            "--invoke {name}: calls functions of preview1 modules; {} is a component",
            opts.guest.display()
        )));
    }
    let mut io = Io::open(opts).map_err(RunError::Input)?;
    let handles = io.handles();
    let events = opts.events.clone().unwrap_or_default();
    let abi = guest.abi();
    io.start();
    let result = match opts.limits.timeout {
        None => execute(engine, guest, opts, &handles, &events),
        Some(timeout) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let (engine, guest, opts2, log) =
                (engine.clone(), guest.clone(), opts.clone(), events.clone());
            std::thread::Builder::new()
                .name("wouldblock-guest".into())
                .stack_size(8 << 20)
                .spawn(move || {
                    let _ = tx.send(execute(&engine, &guest, &opts2, &handles, &log));
                })
                .map_err(RunError::host)?;
            match rx.recv_timeout(timeout.saturating_add(ABANDON_GRACE)) {
                Ok(r) => r,
                Err(_) => Ok(Err(RunError::Timeout(anyhow::anyhow!(
                    "{}",
                    crate::limits::DeadlineExceeded(timeout)
                )))),
            }
        }
    };
    // Whatever happened, what the guest wrote reaches the host.
    let captured = io.finish();
    let result = result?;
    Ok(Finished {
        abi,
        result,
        events: events.snapshot(),
        captured,
        stdout: io.stdout.captured(),
        stderr: io.stderr.captured(),
        chaos: opts.chaos.clone(),
    })
}

/// Runs the guest on this thread, by its ABI.
fn execute(
    engine: &Engine,
    guest: &Guest,
    opts: &RunOptions,
    handles: &Handles,
    events: &SharedLog,
) -> Result<Result<i32, RunError>, RunError> {
    match guest {
        Guest::Module(m) => crate::p1::run(engine, m, opts, handles, events),
        Guest::Component(c) => crate::p2::run(engine, c, opts, handles, events),
        Guest::P3(c) => crate::p3::run(engine, c, opts, handles, events),
    }
}
