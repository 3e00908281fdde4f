//! Running preview1 core modules, in the faithful or the stock mode.

mod faithful;
mod fds;
pub mod stock;

use crate::events::{EventLog, Handle};
use crate::run::{exit_status, RunError, RunOptions, WasiMode};
use crate::spec::StdinSpec;
use crate::stdin::Stdin;
use fds::{Fds, Managed};
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
    mut stdin: Stdin,
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
            let terminal = opts.stdin == StdinSpec::Inherit
                && std::io::IsTerminal::is_terminal(&std::io::stdin());
            builder.stdin(Placeholder { terminal });
            fds.insert(
                0,
                Managed {
                    handle: Handle::Stdin,
                    source: stdin.source().clone(),
                    flags: 0,
                },
            );
        }
        WasiMode::Stock => match opts.stdin {
            StdinSpec::Inherit => {
                builder.inherit_stdin();
            }
            _ => {
                builder.stdin(stdin.stdin_stream());
            }
        },
    }
    let state = P1State {
        wasi: builder.build_p1(),
        fds,
        events: EventLog::default(),
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
    stdin.start();
    let result = start.call(&mut store, ());
    let code = exit_status(result.map(|()| 0))?;
    Ok((code, std::mem::take(&mut store.data_mut().events)))
}
