//! The guest's standard handles for one run: [`Io`] owns them (stdin's schedule, the output
//! drains), [`Handles`] is what the ABI runners share of them, [`Captured`] what went through.

use super::{RunOptions, WasiMode};
use crate::output::{Output, Sink, Which};
use crate::signal::Signal;
use crate::spec::{OutputSpec, StdinSpec};
use crate::stdin::{Source, Stdin};
use std::sync::Arc;
use wasmtime_wasi::WasiCtxBuilder;

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
        obs: &crate::p2observe::Observer,
    ) {
        use crate::events::Handle;
        use crate::p2observe::{ObservedStdin, ObservedStdout};
        match stdin {
            // Faithful: the host's own stdin read as a preview1 guest's is (a non-blocking
            // read that finds data in the pipe returns it), not through wasmtime-wasi's
            // worker thread (which reads ahead, and returns nothing until it has).
            StdinSpec::Inherit if mode == WasiMode::Stock => {
                builder.stdin(ObservedStdin::new(wasmtime_wasi::cli::stdin(), obs.clone()))
            }
            _ => builder.stdin(ObservedStdin::new(self.stdin.stdin_stream(), obs.clone())),
        };
        for (sink, handle) in [
            (&self.stdout, Handle::Stdout),
            (&self.stderr, Handle::Stderr),
        ] {
            let log = obs.clone();
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
