//! Running preview1 core modules, in the faithful or the stock mode.

mod abi;
mod call;
mod ctx;
mod faithful;
mod fds;
mod inject;
mod poll;
mod sockets;
pub mod stock;
mod tape;

pub use ctx::{add_to_linker, FaithfulCtx, FaithfulCtxBuilder, GetCtx};

use crate::events::SharedLog;
use crate::run::{exit_status, Handles, RunError, RunOptions, WasiMode};
use ctx::{Listener, Placeholder};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Linker, Module, Store};

/// How long a blocking call (a read, a write, an accept, a poll with a deadline) waits
/// between checks that the guest may go on waiting: the run's deadline is never missed by
/// more than this.
const WAIT_SLICE: std::time::Duration = std::time::Duration::from_millis(50);

/// How long one step of a blocking call waits: [`WAIT_SLICE`] when the run has a deadline to
/// look at between steps, else as long as it takes ([`Duration::MAX`](std::time::Duration):
/// a `poll` with no timeout, which spares the kernel arming and cancelling a timer on every
/// wait — 0.3 us of each wake-up on the machine of BENCHMARKS.md).
fn wait_slice(deadline: Option<crate::limits::Deadline>) -> std::time::Duration {
    match deadline {
        Some(_) => WAIT_SLICE,
        None => std::time::Duration::MAX,
    }
}

/// The store state of a `wouldblock run` of a preview1 guest.
pub struct P1State {
    /// The faithful context (in stock mode only its wasmtime-wasi context is linked).
    pub ctx: FaithfulCtx,
    /// Memory and table limits.
    pub limiter: crate::limits::Limiter,
}

/// Runs `module` to completion: the guest's exit code, or why it stopped; the events it met
/// go to `events` either way. `Err` when it could not start.
pub fn run(
    engine: &Engine,
    module: &Module,
    opts: &RunOptions,
    io: &Handles,
    events: &SharedLog,
) -> Result<Result<i32, RunError>, RunError> {
    let mut linker: Linker<P1State> = Linker::new(engine);
    match opts.wasi {
        WasiMode::Faithful => add_to_linker(&mut linker, |s: &mut P1State| &mut s.ctx),
        WasiMode::Stock => {
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut P1State| &mut s.ctx.wasi)
        }
    }
    .map_err(RunError::host)?;
    if opts.trap_unknown_imports {
        linker
            .define_unknown_imports_as_traps(module)
            .map_err(RunError::host)?;
    }
    let mut builder = opts.wasi_builder().map_err(RunError::Input)?;
    let listeners = bind_listeners(opts, &mut builder)?;
    match opts.wasi {
        // The host answers for fds 0-2 itself; stock keeps the numbers taken (with the
        // right terminal-ness for fdstat) and never touches the data.
        WasiMode::Faithful => {
            builder.stdin(Placeholder::for_stdin(&opts.stdin));
        }
        WasiMode::Stock => io.configure_stock(&mut builder, &opts.stdin),
    }
    let mut ctx = FaithfulCtx::new(builder.build_p1(), events.clone(), io.signal.clone());
    if opts.wasi == WasiMode::Faithful {
        ctx.manage_stdio(io);
        ctx.chaos = opts
            .chaos
            .clone()
            .map(|(spec, seed)| crate::chaos::Chaos::new(spec, seed));
    }
    if opts.wasi == WasiMode::Faithful {
        ctx.tape = open_tape(opts, &listeners)?;
    }
    let replaying = matches!(opts.tape, Some(crate::run::TapeOption::Replay(_)));
    for l in &listeners {
        if let Some(port0) = l.announce {
            if !opts.capture && !replaying {
                eprintln!("wouldblock: listening on {port0} (fd {})", l.listener.fd);
            }
        }
        if let (Some(tx), Ok(addr)) = (&opts.announce, l.listener.socket.local_addr()) {
            let _ = tx.send(addr);
        }
    }
    ctx.manage_listeners(
        reserve_fd(opts),
        listeners.into_iter().map(|b| b.listener).collect(),
    )
    .map_err(RunError::host)?;
    let state = P1State {
        ctx,
        limiter: crate::limits::Limiter::new(opts.limits.max_memory),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    crate::limits::before_instantiate(&mut store);
    let instance = match linker
        .instantiate(&mut store, module)
        .context("instantiating the module")
    {
        Ok(i) => i,
        Err(e) if store.data().limiter.denied => return Err(RunError::MemoryLimit(e.into())),
        Err(e) => return Err(RunError::input(e)),
    };
    if let Some(name) = &opts.invoke {
        return invoke(&mut store, &instance, name, opts, &io.stdout);
    }
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .context("the module exports no `_start` function: not a WASI command")
        .map_err(RunError::input)?;
    store.data_mut().ctx.deadline =
        crate::limits::apply(&mut store, &opts.limits).map_err(RunError::host)?;
    let result = start.call(&mut store, ());
    let status = exit_status(result.map(|()| 0), store.data().limiter.denied);
    Ok(match &mut store.data_mut().ctx.tape {
        Some(tape) => tape.finish(status),
        None => status,
    })
}

/// The run's `--record` (the file created, its header written) or `--replay` (refused when
/// the recording is of another guest file).
fn open_tape(opts: &RunOptions, listeners: &[Bound]) -> Result<Option<tape::Tape>, RunError> {
    let Some(t) = &opts.tape else {
        return Ok(None);
    };
    let bytes = std::fs::read(&opts.guest)
        .map_err(|e| RunError::Input(anyhow::anyhow!("{}: {e}", opts.guest.display())))?;
    let guest = crate::recording::GuestId::of(&opts.guest.to_string_lossy(), &bytes);
    match t {
        crate::run::TapeOption::Record(path) => {
            let header = crate::recording::Header {
                format: crate::recording::FORMAT.into(),
                wouldblock: format!("wouldblock {}", env!("CARGO_PKG_VERSION")),
                guest,
                argv: opts.guest_argv(),
                env: opts.guest_env(),
                listeners: listeners
                    .iter()
                    .map(|b| crate::recording::ListenerId {
                        fd: b.listener.fd,
                        nonblock: b.listener.nonblock,
                    })
                    .collect(),
                chaos: opts
                    .chaos
                    .as_ref()
                    .map(|(spec, seed)| crate::recording::ChaosId {
                        spec: spec.to_string(),
                        seed: *seed,
                    }),
                timeout_ms: opts.limits.timeout.map(|d| d.as_millis() as u64),
                max_memory: opts.limits.max_memory.map(|b| b as u64),
                fuel: opts.limits.fuel,
                dirs: opts.dirs.iter().map(|d| d.guest.clone()).collect(),
            };
            let file = std::fs::File::create(path).map_err(|e| {
                RunError::Input(anyhow::anyhow!("--record {}: {e}", path.display()))
            })?;
            tape::Tape::record(file, header)
                .map(Some)
                .map_err(|e| RunError::Input(anyhow::anyhow!("--record {}: {e}", path.display())))
        }
        crate::run::TapeOption::Replay(rec) => {
            if !rec.header.guest.same_content(&guest) {
                return Err(RunError::Input(anyhow::anyhow!(
                    "--replay: the recording is of another guest ({}, {} bytes, fnv1a64 {}); {} has {} bytes, fnv1a64 {}",
                    rec.header.guest.path,
                    rec.header.guest.size,
                    rec.header.guest.fnv1a64,
                    opts.guest.display(),
                    guest.size,
                    guest.fnv1a64
                )));
            }
            let dirs: Vec<&str> = opts.dirs.iter().map(|d| d.guest.as_str()).collect();
            if dirs != rec.header.dirs {
                return Err(RunError::Input(anyhow::anyhow!(
                    "--replay: the recorded run preopened [{}], this one [{}]: files are not in a recording, give the same --dir HOST::GUEST again",
                    rec.header.dirs.join(", "),
                    dirs.join(", ")
                )));
            }
            Ok(Some(tape::Tape::replay(rec.clone())))
        }
    }
}

/// `--invoke NAME`: calls the export `name` with the run's arguments as its parameters (read
/// as `wasmtime run --invoke` reads them: decimal or `0x` integers, floats) and writes each
/// result on its own line to the guest's stdout, as wasmtime prints them. Exit code 0 when
/// the call returns.
fn invoke(
    store: &mut Store<P1State>,
    instance: &wasmtime::Instance,
    name: &str,
    opts: &RunOptions,
    stdout: &crate::output::Sink,
) -> Result<Result<i32, RunError>, RunError> {
    use wasmtime::{Val, ValType};
    let func = instance.get_func(&mut *store, name).ok_or_else(|| {
        RunError::input(anyhow::anyhow!(
            "--invoke {name}: the module exports no function of that name"
        ))
    })?;
    let ty = func.ty(&*store);
    if ty.params().len() != opts.args.len() {
        return Err(RunError::input(anyhow::anyhow!(
            "--invoke {name}: the function takes {} arguments, {} given",
            ty.params().len(),
            opts.args.len()
        )));
    }
    let int = |text: &str| -> Option<i64> {
        match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    };
    let mut params = Vec::with_capacity(opts.args.len());
    for (ty, text) in ty.params().zip(&opts.args) {
        let val = match ty {
            ValType::I32 => int(text)
                .and_then(|n| {
                    i32::try_from(n)
                        .ok()
                        .or_else(|| u32::try_from(n).ok().map(|u| u as i32))
                })
                .map(Val::I32),
            ValType::I64 => int(text).map(Val::I64),
            ValType::F32 => text.parse::<f32>().ok().map(|f| Val::F32(f.to_bits())),
            ValType::F64 => text.parse::<f64>().ok().map(|f| Val::F64(f.to_bits())),
            other => {
                return Err(RunError::input(anyhow::anyhow!(
                    "--invoke {name}: parameters of type {other} are not supported"
                )))
            }
        };
        params.push(val.ok_or_else(|| {
            RunError::input(anyhow::anyhow!("--invoke {name}: `{text}` is not a {ty}"))
        })?);
    }
    let mut results = vec![Val::I32(0); ty.results().len()];
    store.data_mut().ctx.deadline =
        crate::limits::apply(store, &opts.limits).map_err(RunError::host)?;
    if let Err(e) = func.call(&mut *store, &params, &mut results) {
        return Ok(exit_status(Err(e), store.data().limiter.denied));
    }
    let mut text = String::new();
    for r in &results {
        let line = match r {
            Val::I32(n) => n.to_string(),
            Val::I64(n) => n.to_string(),
            Val::F32(bits) => f32::from_bits(*bits).to_string(),
            Val::F64(bits) => f64::from_bits(*bits).to_string(),
            Val::V128(v) => v.as_u128().to_string(),
            Val::FuncRef(None) => "<null funcref>".into(),
            Val::FuncRef(Some(_)) => "<funcref>".into(),
            Val::ExternRef(None) => "<null externref>".into(),
            Val::ExternRef(Some(_)) => "<externref>".into(),
            Val::AnyRef(None) => "<null anyref>".into(),
            Val::AnyRef(Some(_)) => "<anyref>".into(),
            _ => "<value>".into(),
        };
        text += &line;
        text.push('\n');
    }
    stdout.write_unbounded(text.as_bytes());
    Ok(Ok(0))
}

/// Binds every `--tcplisten` address (an input error when one cannot be bound, or when its
/// `@FD` is taken), announces them to the guest ([`ctx::announce_listeners`]) and preopens
/// the reserve directory after the user's ([`ctx::preopen_reserve`]). Each listener comes
/// with its actual address when port 0 was asked for.
fn bind_listeners(
    opts: &RunOptions,
    builder: &mut wasmtime_wasi::WasiCtxBuilder,
) -> Result<Vec<Bound>, RunError> {
    if opts.tcplisten.is_empty() {
        return Ok(Vec::new());
    }
    let hidden = reserve_fd(opts);
    let mut asked = std::collections::BTreeSet::new();
    for spec in &opts.tcplisten {
        let Some(fd) = spec.fd else { continue };
        let taken = if fd < hidden {
            Some("a preopened directory (or stdio) has it")
        } else if !asked.insert(fd) {
            Some("another --tcplisten asks for it")
        } else {
            None
        };
        if let Some(why) = taken {
            return Err(RunError::Input(anyhow::anyhow!(
                "--tcplisten {spec}: descriptor {fd} is taken: {why}"
            )));
        }
    }
    // Each listener's number: asked for, or the lowest nobody asked for from `hidden` up.
    let mut free = (hidden..).filter(|n| !asked.contains(n));
    let mut out = Vec::new();
    for spec in &opts.tcplisten {
        let socket = crate::net::listen(spec)
            .map_err(|e| RunError::Input(anyhow::anyhow!("--tcplisten {spec}: {e}")))?;
        let announce = (spec.addr.port() == 0)
            .then(|| socket.local_addr().ok())
            .flatten();
        let fd = spec
            .fd
            .unwrap_or_else(|| free.next().expect("numbers left"));
        out.push(Bound {
            listener: Listener {
                socket,
                fd,
                nonblock: spec.nonblock,
            },
            announce,
        });
    }
    ctx::announce_listeners(builder, out.iter().map(|b| b.listener.fd));
    ctx::preopen_reserve(builder).map_err(RunError::host)?;
    Ok(out)
}

/// A bound `--tcplisten` socket and the guest descriptor number it gets.
struct Bound {
    listener: Listener,
    /// Its actual address, when port 0 was asked for.
    announce: Option<std::net::SocketAddr>,
}

/// Where the reserve directory is preopened: last, right after the user's directories.
fn reserve_fd(opts: &RunOptions) -> u32 {
    3 + opts.dirs.len() as u32
}
