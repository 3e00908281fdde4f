//! Running WASI 0.3 components (`wasi:cli/run@0.3.x`) on wasmtime-wasi's experimental `p3`,
//! as the wasmtime 48 CLI does: both the 0.2 and the 0.3 interfaces linked (Rust's std on
//! wasm32-wasip2 imports 0.2 stdio next to the 0.3 the guest uses), `run` called inside
//! `Store::run_concurrent` on a single-threaded tokio runtime.
//!
//! Faithful (the default): the 0.3 stdio streams are the host's own ([`crate::p3stdio`]),
//! answering BLOCKED exactly when POSIX would say EAGAIN and recording every would-block.
//! `--wasi stock`: wasmtime-wasi's own 0.3 stdio over the same sources, unobserved (it reads
//! stdin on a task of its own and answers every zero-length probe "ready").
//! TCP sockets are the host's own too ([`crate::p3net`]), their streams observed alike.
//! The 0.2 interfaces are observed as for a preview2 component ([`crate::p2observe`]).

use crate::events::SharedLog;
use crate::p2::P2State;
use crate::p3net::{Net, P3Net};
use crate::p3stdio::{P3Stdio, Stdio};
use crate::run::{exit_status, Handles, RunError, RunOptions, WasiMode};
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p3::bindings::Command;
use wasmtime_wasi::{WasiCtxView, WasiView};

/// The store state of a 0.3 guest: a preview2 guest's, and the handles for 0.3 streams.
struct P3State {
    p2: P2State,
    stdio: Stdio,
    net: Net,
}

impl WasiView for P3State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.p2.ctx()
    }
}

impl P3Net for P3State {
    fn table(&mut self) -> &mut wasmtime::component::ResourceTable {
        self.p2.ctx().table
    }

    fn net(&self) -> &Net {
        &self.net
    }
}

impl P3Stdio for P3State {
    fn stdio(&self) -> &Stdio {
        &self.stdio
    }
}

/// Whether `component` is a WASI 0.3 command: it exports `wasi:cli/run@0.3.*` (preferred
/// over a 0.2 `run` it may export too, as the wasmtime 48 CLI does).
pub fn is_p3_command(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .exports(engine)
        .any(|(name, _)| name.starts_with("wasi:cli/run@0.3."))
}

/// Runs `component` to completion: the guest's exit code, or why it stopped; the events it
/// met go to `events` either way. `Err` when it could not start.
pub fn run(
    engine: &Engine,
    component: &Component,
    opts: &RunOptions,
    io: &Handles,
    events: &SharedLog,
) -> Result<Result<i32, RunError>, RunError> {
    let mut linker: Linker<P3State> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(RunError::host)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(RunError::host)?;
    if opts.wasi == WasiMode::Faithful {
        linker.allow_shadowing(true);
        crate::p3stdio::add_to_linker(&mut linker).map_err(RunError::host)?;
        crate::p3net::add_to_linker(&mut linker).map_err(RunError::host)?;
        linker.allow_shadowing(false);
    }
    if opts.trap_unknown_imports {
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(RunError::host)?;
    }
    let p2 = P2State::new(opts, io, events)?;
    let state = P3State {
        stdio: Stdio {
            stdin: io.stdin.clone(),
            stdout: io.stdout.clone(),
            stderr: io.stderr.clone(),
            obs: p2.observer.clone(),
        },
        net: Net {
            allow: opts.allow_net.clone().into(),
            obs: p2.observer.clone(),
        },
        p2,
    };
    // Time for --timeout; I/O for wasmtime-wasi's 0.3 sockets, which register with the
    // current runtime's reactor (without one, a guest's first socket would panic the host).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
        .map_err(RunError::host)?;
    let mut store = Store::new(engine, state);
    store.limiter(|s| s.p2.limiter());
    crate::limits::before_instantiate(&mut store);
    runtime.block_on(async {
        let command = match Command::instantiate_async(&mut store, component, &linker)
            .await
            .context("instantiating the component as a WASI 0.3 wasi:cli/command")
        {
            Ok(c) => c,
            Err(e) if store.data().p2.memory_denied() => {
                return Err(RunError::MemoryLimit(e.into()))
            }
            Err(e) => return Err(RunError::input(e)),
        };
        crate::limits::apply(&mut store, &opts.limits).map_err(RunError::host)?;
        let call = store.run_concurrent(async |s| command.wasi_cli_run().call_run(s).await);
        // A guest that waits on a stream the host never completes runs no wasm the epoch
        // could stop: the deadline is also kept here.
        let result = match opts.limits.timeout {
            Some(t) => match tokio::time::timeout(t, call).await {
                Ok(r) => r,
                Err(_) => Err(wasmtime::Error::new(crate::limits::DeadlineExceeded(t))),
            },
            None => call.await,
        };
        let result = result
            .and_then(|r| r)
            .map(|r| if r.is_ok() { 0 } else { 1 });
        Ok(exit_status(result, store.data().p2.memory_denied()))
    })
}
