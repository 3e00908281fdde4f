//! One guest run, end to end: load, configure WASI, run, collect the exit code and events.
//!
//! Exit codes of `wouldblock run` (also in the README and `--help`): the guest's own exit code
//! when it exits; [`EXIT_USAGE`] for bad usage or input; [`EXIT_TRAP`] when the guest traps;
//! [`EXIT_TIMEOUT`] when it hits its deadline (or runs out of fuel); [`EXIT_MEMORY`] when it
//! hits its memory limit; [`EXIT_HOST`] when the host itself fails.

use crate::events::EventLog;
use crate::events::SharedLog;
use crate::guest::Guest;
use crate::output::{Output, Sink, Which};
use crate::signal::Signal;
use crate::spec::{DirSpec, EnvSpec, OutputSpec, StdinSpec};
use crate::stdin::{Source, Stdin};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

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

/// Which preview1 implementation runs the guest.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum WasiMode {
    /// Non-blocking handles behave as POSIX: `again` when a call would block.
    #[default]
    Faithful,
    /// Unmodified wasmtime-wasi, for comparison.
    Stock,
}

impl WasiMode {
    /// `faithful` or `stock`.
    pub fn name(self) -> &'static str {
        match self {
            WasiMode::Faithful => "faithful",
            WasiMode::Stock => "stock",
        }
    }
}

/// Everything a run needs besides the engine. The default is `wouldblock run` with no options
/// (the guest still to be named).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The guest file.
    pub guest: PathBuf,
    /// The guest's arguments after argv\[0\] (with `invoke`, the function's arguments).
    pub args: Vec<String>,
    /// The guest's argv\[0\] (default: `guest` as given).
    pub argv0: Option<String>,
    /// Call this export of a preview1 module instead of `_start`.
    pub invoke: Option<String>,
    /// Preopened directories.
    pub dirs: Vec<DirSpec>,
    /// The guest's whole environment.
    pub envs: Vec<EnvSpec>,
    /// Where stdin comes from.
    pub stdin: StdinSpec,
    /// Where stdout goes.
    pub stdout: OutputSpec,
    /// Where stderr goes.
    pub stderr: OutputSpec,
    /// Faithful or stock preview1.
    pub wasi: WasiMode,
    /// Listening sockets for a preview1 guest.
    pub tcplisten: Vec<crate::net::ListenSpec>,
    /// Addresses a preview2 guest may bind or connect to.
    pub allow_net: Vec<crate::p2net::AllowNet>,
    /// Keep the guest's stdout and stderr in [`Finished`] instead of writing them out.
    pub capture: bool,
    /// Told the address of each `--tcplisten` socket once it is bound.
    pub announce: Option<std::sync::mpsc::Sender<std::net::SocketAddr>>,
    /// Where the run records its events (a new log when `None`), for a caller that watches
    /// them while the guest runs.
    pub events: Option<SharedLog>,
    /// Imports the host does not provide become functions that trap when called (wasmtime's
    /// `-W unknown-imports-trap`), instead of failing instantiation.
    pub trap_unknown_imports: bool,
    /// Deadline, memory and fuel.
    pub limits: crate::limits::Limits,
}

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

impl RunOptions {
    /// A WASI context builder with the arguments, environment and preopens; stdio is left to
    /// the caller. The host environment is not inherited.
    pub fn wasi_builder(&self) -> anyhow::Result<WasiCtxBuilder> {
        let mut b = WasiCtxBuilder::new();
        match &self.argv0 {
            Some(name) => b.arg(name),
            None => b.arg(self.guest.to_string_lossy()),
        };
        // With --invoke the arguments are the function's, as in `wasmtime run`.
        if self.invoke.is_none() {
            b.args(&self.args);
        }
        for e in &self.envs {
            // `--env NAME` takes the host's value, and sets nothing when the host has none.
            match &e.value {
                Some(v) => b.env(&e.key, v),
                None => match std::env::var(&e.key) {
                    Ok(v) => b.env(&e.key, v),
                    Err(_) => &mut b,
                },
            };
        }
        for d in &self.dirs {
            if !d.host.is_dir() {
                anyhow::bail!("--dir {}: not a directory on the host", d.host.display());
            }
            b.preopened_dir(&d.host, &d.guest, FsPerms::ReadWrite)
                .map_err(|e| anyhow::anyhow!("--dir {}: {e}", d.host.display()))?;
        }
        Ok(b)
    }
}

/// The guest's three standard handles and the signal they wake.
pub struct Io {
    /// Woken by every change to a host-managed handle.
    pub signal: Arc<Signal>,
    /// fd 0.
    pub stdin: Stdin,
    /// fd 1.
    pub stdout: Output,
    /// fd 2.
    pub stderr: Output,
}

/// What the ABI runners need of [`Io`]: shared references to the same handles, so that the
/// run can be abandoned at its deadline while [`Io`] still forwards what the guest wrote.
#[derive(Clone)]
pub struct Handles {
    /// Woken by every change to a host-managed handle.
    pub signal: Arc<Signal>,
    /// fd 0.
    pub stdin: Source,
    /// fd 1.
    pub stdout: Sink,
    /// fd 2.
    pub stderr: Sink,
}

impl Io {
    /// Opens the handles `opts` names.
    pub fn open(opts: &RunOptions) -> anyhow::Result<Io> {
        Io::with_specs(&opts.stdin, &opts.stdout, &opts.stderr, opts.capture)
    }

    /// Opens the handles the specs name, capturing the outputs when `capture`.
    pub fn with_specs(
        stdin: &StdinSpec,
        stdout: &OutputSpec,
        stderr: &OutputSpec,
        capture: bool,
    ) -> anyhow::Result<Io> {
        let signal = Arc::new(Signal::new());
        Ok(Io {
            stdin: Stdin::open(stdin, &signal)?,
            stdout: Output::open(stdout, Which::Stdout, &signal, capture),
            stderr: Output::open(stderr, Which::Stderr, &signal, capture),
            signal,
        })
    }

    /// The handles, for a runner.
    pub fn handles(&self) -> Handles {
        Handles {
            signal: self.signal.clone(),
            stdin: self.stdin.source().clone(),
            stdout: self.stdout.sink().clone(),
            stderr: self.stderr.sink().clone(),
        }
    }

    /// Starts the schedules: stdin's feed, the output drains.
    pub fn start(&mut self) {
        self.stdin.start();
        self.stdout.start();
        self.stderr.start();
    }

    /// Forwards what is left in the output pipes; the bytes that went through each.
    pub fn finish(&mut self) -> Captured {
        self.stdin.finish();
        Captured {
            stdout: self.stdout.finish(),
            stderr: self.stderr.finish(),
        }
    }
}

impl Handles {
    /// Gives a preview2 guest the handles, each observed ([`crate::p2observe`]): its
    /// would-blocks are recorded in `log`. In stock mode an inherited stdin is wasmtime-wasi's
    /// own, as in [`Handles::configure_stock`].
    pub fn configure_p2(
        &self,
        builder: &mut WasiCtxBuilder,
        stdin: &StdinSpec,
        mode: WasiMode,
        log: &SharedLog,
    ) {
        use crate::events::Handle;
        use crate::p2observe::{ObservedStdin, ObservedStdout};
        match stdin {
            // Faithful: the host's own stdin read as a preview1 guest's is (a non-blocking
            // read that finds data in the pipe returns it), not through wasmtime-wasi's
            // worker thread (which reads ahead, and returns nothing until it has).
            StdinSpec::Inherit if mode == WasiMode::Stock => {
                builder.stdin(ObservedStdin::new(wasmtime_wasi::cli::stdin(), log.clone()))
            }
            _ => builder.stdin(ObservedStdin::new(self.stdin.stdin_stream(), log.clone())),
        };
        for (sink, handle) in [
            (&self.stdout, Handle::Stdout),
            (&self.stderr, Handle::Stderr),
        ] {
            let log = log.clone();
            match (sink.stdout_stream(), handle) {
                (Some(s), Handle::Stdout) => builder.stdout(ObservedStdout::new(s, log, handle)),
                (Some(s), _) => builder.stderr(ObservedStdout::new(s, log, handle)),
                (None, Handle::Stdout) => builder.stdout(ObservedStdout::new(
                    wasmtime_wasi::cli::stdout(),
                    log,
                    handle,
                )),
                (None, _) => builder.stderr(ObservedStdout::new(
                    wasmtime_wasi::cli::stderr(),
                    log,
                    handle,
                )),
            };
        }
    }

    /// Gives wasmtime-wasi the handles (stock preview1): `inherit` as wasmtime-wasi's own,
    /// anything else as streams over the host-managed handles.
    pub fn configure_stock(&self, builder: &mut WasiCtxBuilder, stdin: &StdinSpec) {
        match stdin {
            StdinSpec::Inherit => builder.inherit_stdin(),
            _ => builder.stdin(self.stdin.stdin_stream()),
        };
        match self.stdout.stdout_stream() {
            Some(s) => builder.stdout(s),
            None => builder.inherit_stdout(),
        };
        match self.stderr.stdout_stream() {
            Some(s) => builder.stderr(s),
            None => builder.inherit_stderr(),
        };
    }
}

/// Bytes the guest wrote through `pipe:` outputs (0 for `inherit`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Captured {
    /// Through stdout.
    pub stdout: u64,
    /// Through stderr.
    pub stderr: u64,
}

/// The wasmtime version the host is built on (pinned exactly in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// A fresh engine configured for guests, with epoch interruption when deadlines will be set
/// and fuel when fuel will be. Compiled code is cached on disk (wasmtime's cache, in its
/// default location) when that can be set up; without it everything still works.
pub fn engine(epochs: bool, fuel: bool) -> anyhow::Result<Engine> {
    let mut config = wasmtime::Config::new();
    if let Ok(cache) = wasmtime::Cache::from_file(None) {
        config.cache(Some(cache));
    }
    crate::limits::configure(&mut config, epochs, fuel);
    let engine = Engine::new(&config)?;
    if epochs {
        crate::limits::start_ticker(&engine);
    }
    Ok(engine)
}

/// Loads the guest `opts` names and runs it ([`run_partial`]): the fuzz targets' entry.
#[cfg(feature = "internals")]
pub fn run(engine: &Engine, opts: &RunOptions) -> Result<Finished, RunError> {
    let guest = crate::guest::load(engine, &opts.guest)?;
    run_partial(engine, &guest, opts)
}

/// A run that started, however it ended: what it produced up to there.
pub struct Finished {
    /// `p1` or `p2`.
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
    if matches!(guest, Guest::Component(_)) && !opts.tcplisten.is_empty() {
        return Err(RunError::Input(anyhow::anyhow!(
            "--tcplisten hands sockets to preview1 modules; {} is a component",
            opts.guest.display()
        )));
    }
    if let (Guest::Component(_), Some(name)) = (guest, &opts.invoke) {
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
    }
}
