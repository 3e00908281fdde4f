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
    /// `--chaos` and its seed: what a faithful run injects at the boundary.
    pub chaos: Option<(crate::chaos::ChaosSpec, u64)>,
    /// `--record FILE` or `--replay FILE`.
    pub tape: Option<TapeOption>,
}

/// A faithful preview1 run's tape.
#[derive(Clone, Debug)]
pub enum TapeOption {
    /// Record what the guest sees at the boundary into this file.
    Record(PathBuf),
    /// Answer the guest from this recording, without the outside world.
    Replay(std::sync::Arc<crate::recording::Recording>),
}

impl RunOptions {
    /// A WASI context builder with the arguments, environment and preopens; stdio is left to
    /// the caller. The host environment is not inherited.
    pub fn wasi_builder(&self) -> anyhow::Result<WasiCtxBuilder> {
        let mut b = WasiCtxBuilder::new();
        b.args(&self.guest_argv());
        for (key, value) in self.guest_env() {
            b.env(key, value);
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

    /// The guest's argv, argv\[0\] included.
    pub fn guest_argv(&self) -> Vec<String> {
        let argv0 = match &self.argv0 {
            Some(name) => name.clone(),
            None => self.guest.to_string_lossy().into_owned(),
        };
        let mut argv = vec![argv0];
        // With --invoke the arguments are the function's, as in `wasmtime run`.
        if self.invoke.is_none() {
            argv.extend(self.args.iter().cloned());
        }
        argv
    }

    /// The guest's environment: `--env NAME` takes the host's value, and sets nothing when
    /// the host has none.
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.envs
            .iter()
            .filter_map(|e| match &e.value {
                Some(v) => Some((e.key.clone(), v.clone())),
                None => std::env::var(&e.key).ok().map(|v| (e.key.clone(), v)),
            })
            .collect()
    }

    /// These options made to replay `rec`: the recorded argv, environment and listeners (as
    /// stand-ins on loopback), stdin never read, and the recorded `--timeout`,
    /// `--max-memory` and `--fuel` unless given.
    pub fn replaying(mut self, rec: std::sync::Arc<crate::recording::Recording>) -> Self {
        let h = &rec.header;
        let mut argv = h.argv.iter().cloned();
        self.argv0 = argv.next();
        self.args = argv.collect();
        self.envs = h
            .env
            .iter()
            .map(|(key, value)| EnvSpec {
                key: key.clone(),
                value: Some(value.clone()),
            })
            .collect();
        self.tcplisten = h
            .listeners
            .iter()
            .map(|l| crate::net::ListenSpec {
                addr: (std::net::Ipv4Addr::LOCALHOST, 0).into(),
                fd: Some(l.fd),
                nonblock: l.nonblock,
            })
            .collect();
        self.stdin = StdinSpec::Open;
        let limits = &mut self.limits;
        if limits.timeout.is_none() {
            limits.timeout = h.timeout_ms.map(std::time::Duration::from_millis);
        }
        if limits.max_memory.is_none() {
            limits.max_memory = h.max_memory.and_then(|b| usize::try_from(b).ok());
        }
        limits.fuel = limits.fuel.or(h.fuel);
        self.tape = Some(TapeOption::Replay(rec));
        self
    }
}
