//! Running preview1 core modules, in the faithful or the stock mode.

mod faithful;
mod fds;
mod poll;
pub mod stock;

use crate::events::{EventLog, Handle};
use crate::run::{exit_status, Io, RunError, RunOptions, WasiMode};
use crate::signal::Signal;
use crate::spec::StdinSpec;
use fds::{Endpoint, Fds, Managed};
use std::sync::Arc;
use wasmtime::error::Context as _;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The store state of a preview1 guest.
pub struct P1State {
    /// wasmtime-wasi's preview1 context: every call the host does not override.
    pub wasi: WasiP1Ctx,
    /// Descriptors the host answers for itself.
    pub fds: Fds,
    /// Would-block events met so far.
    pub events: EventLog,
    /// Woken by every change to a host-managed handle.
    pub signal: Arc<Signal>,
}

/// Stdin as stock wasmtime-wasi sees it in faithful mode: the host reads fd 0 itself, so the
/// stock table only keeps the number taken, with the right terminal-ness, and never reads.
struct Placeholder {
    terminal: bool,
}

impl IsTerminal for Placeholder {
    fn is_terminal(&self) -> bool {
        self.terminal
    }
}

impl StdinStream for Placeholder {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(tokio::io::empty())
    }
}

/// Runs `module` to completion; the guest's exit code and its events.
pub fn run(
    engine: &Engine,
    module: &Module,
    opts: &RunOptions,
    io: &mut Io,
) -> Result<(i32, EventLog), RunError> {
    let mut linker: Linker<P1State> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s| &mut s.wasi).map_err(RunError::host)?;
    if opts.wasi == WasiMode::Faithful {
        faithful::add_to_linker(&mut linker).map_err(RunError::host)?;
    }
    let mut builder = opts.wasi_builder().map_err(RunError::Input)?;
    let mut fds = Fds::default();
    match opts.wasi {
        WasiMode::Faithful => {
            // The host answers for fds 0-2 itself; stock keeps the numbers taken (with the
            // right terminal-ness for fdstat) and never touches the data.
            let terminal = opts.stdin == StdinSpec::Inherit
                && std::io::IsTerminal::is_terminal(&std::io::stdin());
            builder.stdin(Placeholder { terminal });
            fds.insert(
                0,
                Managed::new(Handle::Stdin, Endpoint::Read(io.stdin.source().clone())),
            );
            fds.insert(
                1,
                Managed::new(Handle::Stdout, Endpoint::Write(io.stdout.sink().clone())),
            );
            fds.insert(
                2,
                Managed::new(Handle::Stderr, Endpoint::Write(io.stderr.sink().clone())),
            );
        }
        WasiMode::Stock => {
            io.configure_stock(&mut builder, &opts.stdin);
        }
    }
    let state = P1State {
        wasi: builder.build_p1(),
        fds,
        events: EventLog::default(),
        signal: io.signal.clone(),
    };
    let mut store = Store::new(engine, state);
    let instance = linker
        .instantiate(&mut store, module)
        .context("instantiating the module")
        .map_err(RunError::input)?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .context("the module exports no `_start` function: not a WASI command")
        .map_err(RunError::input)?;
    io.start();
    let result = start.call(&mut store, ());
    let code = exit_status(result.map(|()| 0))?;
    Ok((code, std::mem::take(&mut store.data_mut().events)))
}
