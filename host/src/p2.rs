//! Running preview2 components (`wasi:cli/command`) on wasmtime-wasi's preview2.
//!
//! Preview2 streams never say "would block": a non-blocking read returns an empty list and
//! `check-write` a zero permit, and wasi-libc (the preview1 adapter) only uses the blocking
//! calls. The host gives the component the same stdio sources as a preview1 guest, observed
//! ([`crate::p2observe`]): every empty read or skip of an open stdin and every zero-permit
//! `check-write` is recorded as an `again` event on its handle.

use crate::events::SharedLog;
use crate::run::{exit_status, Handles, RunError, RunOptions};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The store state of a preview2 guest.
pub struct P2State {
    ctx: WasiCtx,
    table: ResourceTable,
    /// Would-block events, shared with the observed socket streams.
    pub events: SharedLog,
    /// What the observed streams record into and inject (`--chaos`).
    pub observer: crate::p2observe::Observer,
    /// Sockets whose `finish-connect` has been called, or whose pollable the guest took: a
    /// `finish-connect` is injected (`--chaos`) only before either.
    pub connect_asked: std::collections::HashSet<u32>,
    /// Memory and table limits.
    limiter: crate::limits::Limiter,
}

impl WasiView for P2State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

impl P2State {
    /// The state of a component's store: the handles observed ([`crate::p2observe`]), the
    /// network `--allow-net` opens, the memory limit.
    pub(crate) fn new(
        opts: &RunOptions,
        io: &Handles,
        events: &SharedLog,
    ) -> Result<P2State, RunError> {
        let mut builder = opts.wasi_builder().map_err(RunError::Input)?;
        let observer = crate::p2observe::Observer {
            log: events.clone(),
            chaos: opts.chaos.clone().map(|(spec, seed)| {
                std::sync::Arc::new(std::sync::Mutex::new(crate::chaos::Chaos::new(spec, seed)))
            }),
        };
        io.configure_p2(&mut builder, &opts.stdin, opts.wasi, &observer);
        crate::p2net::configure(&mut builder, &opts.allow_net);
        Ok(P2State {
            ctx: builder.build(),
            table: ResourceTable::new(),
            events: events.clone(),
            observer,
            connect_asked: Default::default(),
            limiter: crate::limits::Limiter::new(opts.limits.max_memory),
        })
    }

    /// Whether the memory limit refused a growth.
    pub(crate) fn memory_denied(&self) -> bool {
        self.limiter.denied
    }

    /// The memory and table limits, for `Store::limiter`.
    pub(crate) fn limiter(&mut self) -> &mut crate::limits::Limiter {
        &mut self.limiter
    }
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
    let mut linker: Linker<P2State> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(RunError::host)?;
    linker.allow_shadowing(true);
    crate::p2net::add_to_linker(&mut linker).map_err(RunError::host)?;
    linker.allow_shadowing(false);
    if opts.trap_unknown_imports {
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(RunError::host)?;
    }
    let state = P2State::new(opts, io, events)?;
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    crate::limits::before_instantiate(&mut store);
    let command = match Command::instantiate(&mut store, component, &linker)
        .context("instantiating the component as a wasi:cli/command")
    {
        Ok(c) => c,
        Err(e) if store.data().limiter.denied => return Err(RunError::MemoryLimit(e.into())),
        Err(e) => return Err(RunError::input(e)),
    };
    crate::limits::apply(&mut store, &opts.limits).map_err(RunError::host)?;
    let result = command
        .wasi_cli_run()
        .call_run(&mut store)
        .map(|r| if r.is_ok() { 0 } else { 1 });
    Ok(exit_status(result, store.data().limiter.denied))
}
