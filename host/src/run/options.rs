//! What one run is asked to do: [`RunOptions`] (with `Default`: `wouldblock run` with no
//! options) and [`WasiMode`], and the WASI context builder they make.

use crate::events::SharedLog;
use crate::spec::{DirSpec, EnvSpec, OutputSpec, StdinSpec};
use std::path::PathBuf;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

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
    /// `--chaos` and its seed: what a faithful preview1 run injects at the boundary.
    pub chaos: Option<(crate::chaos::ChaosSpec, u64)>,
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
