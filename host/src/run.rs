//! One guest run, end to end: load, configure WASI, run, collect the exit code and events.
//!
//! Exit codes of `wouldblock run` (also in the README and `--help`): the guest's own exit code
//! when it exits; [`EXIT_USAGE`] for bad usage or input; [`EXIT_TRAP`] when the guest traps;
//! [`EXIT_HOST`] when the host itself fails.

use crate::events::EventLog;
use crate::guest::{self, Guest};
use crate::spec::{DirSpec, EnvSpec, StdinSpec};
use crate::stdin::Stdin;
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// Bad usage or input: a missing or invalid guest, a malformed option.
pub const EXIT_USAGE: i32 = 2;
/// The guest trapped (as `wasmtime run` on Unix: 128 + SIGABRT).
pub const EXIT_TRAP: i32 = 134;
/// The host failed for a reason of its own (EX_SOFTWARE).
pub const EXIT_HOST: i32 = 70;

/// Which preview1 implementation runs the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WasiMode {
    /// Non-blocking handles behave as POSIX: `again` when a call would block.
    Faithful,
    /// Unmodified wasmtime-wasi, for comparison.
    Stock,
}

/// Everything a run needs besides the engine.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The guest file.
    pub guest: PathBuf,
    /// The guest's arguments after argv\[0\].
    pub args: Vec<String>,
    /// Preopened directories.
    pub dirs: Vec<DirSpec>,
    /// The guest's whole environment.
    pub envs: Vec<EnvSpec>,
    /// Where stdin comes from.
    pub stdin: StdinSpec,
    /// Faithful or stock preview1.
    pub wasi: WasiMode,
}

/// Why a run did not produce a guest exit code.
#[derive(Debug)]
pub enum RunError {
    /// Bad usage or input.
    Input(anyhow::Error),
    /// The guest trapped.
    Trap(anyhow::Error),
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
            RunError::Host(_) => EXIT_HOST,
        }
    }

    /// The one-line message, without the `wouldblock: error: ` prefix.
    pub fn message(&self) -> String {
        let (what, e) = match self {
            RunError::Input(e) => ("", e),
            RunError::Trap(e) => ("guest trapped: ", e),
            RunError::Host(e) => ("host failure: ", e),
        };
        one_line(&format!("{what}{e:#}"))
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
/// `proc_exit` is an [`I32Exit`] error, anything else is a trap.
pub fn exit_status(result: wasmtime::Result<i32>) -> Result<i32, RunError> {
    match result {
        Ok(code) => Ok(code),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(RunError::Trap(e.into())),
        },
    }
}

impl RunOptions {
    /// A WASI context builder with the arguments, environment and preopens; stdio is left to
    /// the caller. The host environment is not inherited.
    pub fn wasi_builder(&self) -> anyhow::Result<WasiCtxBuilder> {
        let mut b = WasiCtxBuilder::new();
        b.arg(self.guest.to_string_lossy());
        b.args(&self.args);
        for e in &self.envs {
            b.env(&e.key, &e.value);
        }
        for d in &self.dirs {
            if !d.host.is_dir() {
                anyhow::bail!("--dir {}: not a directory on the host", d.host.display());
            }
            b.preopened_dir(&d.host, &d.guest, FsPerms::ReadWrite)
                .map_err(|e| anyhow::anyhow!("--dir {}: {e}", d.host.display()))?;
        }
        b.inherit_stdout().inherit_stderr();
        Ok(b)
    }
}

/// What a finished run produced.
pub struct Outcome {
    /// `p1` or `p2`.
    pub abi: &'static str,
    /// The guest's exit code.
    pub exit_code: i32,
    /// The would-block events it met.
    pub events: EventLog,
}

/// A fresh engine configured for guests.
pub fn engine() -> anyhow::Result<Engine> {
    let config = wasmtime::Config::new();
    Engine::new(&config).map_err(Into::into)
}

/// Runs the guest `opts` names, to completion.
pub fn run(engine: &Engine, opts: &RunOptions) -> Result<Outcome, RunError> {
    let guest = guest::load(engine, &opts.guest)?;
    let stdin = Stdin::open(&opts.stdin).map_err(RunError::Input)?;
    let abi = guest.abi();
    let (exit_code, events) = match &guest {
        Guest::Module(m) => crate::p1::run(engine, m, opts, stdin)?,
        Guest::Component(c) => crate::p2::run(engine, c, opts, stdin)?,
    };
    Ok(Outcome {
        abi,
        exit_code,
        events,
    })
}
