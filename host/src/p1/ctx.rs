//! The faithful preview1 layer as a library: a context the embedder keeps in its own store
//! data, a builder for its handles, and [`add_to_linker`].
//!
//! Contract: after [`add_to_linker`], every `wasi_snapshot_preview1` import a module can ask
//! for is defined. The calls on the descriptors the context manages (stdin, stdout, stderr
//! and the listeners given to the builder, plus the connections they accept) are answered
//! by this crate with POSIX non-blocking semantics, and every would-block is recorded in the
//! context's event log. All other calls go to wasmtime-wasi's own preview1 implementation
//! over the [`WasiCtxBuilder`] the embedder configured. The host's own stdin, stdout and
//! stderr never have any flag changed.

use super::fds::{Endpoint, Fds, Managed};
use super::stock;
use crate::events::{EventLog, Handle, SharedLog};
use crate::run::{Handles, Io};
use crate::signal::Signal;
use crate::spec::{OutputSpec, StdinSpec};
use std::net::TcpListener;
use std::sync::Arc;
use wasmtime::Linker;
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

/// How a host call finds the [`FaithfulCtx`] in the store's data: a closure such as
/// `|state: &mut MyState| &mut state.faithful`, as `wasmtime_wasi::p1::add_to_linker_sync`
/// takes for its own context.
pub trait GetCtx<T>: Fn(&mut T) -> &mut FaithfulCtx + Copy + Send + Sync + 'static {}

impl<T, F> GetCtx<T> for F where F: Fn(&mut T) -> &mut FaithfulCtx + Copy + Send + Sync + 'static {}

/// Defines every `wasi_snapshot_preview1` import in `linker`: wasmtime-wasi's own, with the
/// calls on the descriptors `get`'s context manages answered faithfully (non-blocking reads
/// and writes return `again` exactly when POSIX would return `EAGAIN`).
///
/// ```
/// use wasmtime::{Engine, Linker, Module, Store};
/// use wouldblock::{FaithfulCtx, StdinSpec};
///
/// struct State {
///     faithful: FaithfulCtx,
/// }
///
/// let engine = Engine::default();
/// let mut linker: Linker<State> = Linker::new(&engine);
/// wouldblock::add_to_linker(&mut linker, |s: &mut State| &mut s.faithful)?;
///
/// // A guest that sets stdin non-blocking and reads it while it is open and empty.
/// let module = Module::new(&engine, r#"
///     (module
///       (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set (param i32 i32) (result i32)))
///       (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
///       (memory (export "memory") 1)
///       (func (export "read_once") (result i32)
///         (drop (call $set (i32.const 0) (i32.const 4)))   ;; fdflags.nonblock
///         (i32.store (i32.const 0) (i32.const 16))         ;; iovec: buf 16, len 8
///         (i32.store (i32.const 4) (i32.const 8))
///         (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 32))))
/// "#)?;
///
/// let faithful = FaithfulCtx::builder()
///     .stdin(StdinSpec::Open)
///     .build(wasmtime_wasi::WasiCtxBuilder::new())?;
/// let mut store = Store::new(&engine, State { faithful });
/// let instance = linker.instantiate(&mut store, &module)?;
/// let read_once = instance.get_typed_func::<(), i32>(&mut store, "read_once")?;
///
/// assert_eq!(read_once.call(&mut store, ())?, 6); // errno `again`
/// let events = store.data().faithful.events();
/// assert_eq!(events.events()[0].call, "fd_read");
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: impl GetCtx<T>,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, move |t| &mut get(t).wasi)?;
    super::faithful::add_to_linker(linker, get)
}

/// The faithful preview1 state of one guest instance: wasmtime-wasi's preview1 context for
/// everything the layer does not answer itself, the descriptors it manages, and the log of
/// every would-block it returned. Keep one in your store's data per instance (it remembers
/// the instance's exported memory) and hand [`add_to_linker`] a closure that finds it.
pub struct FaithfulCtx {
    /// wasmtime-wasi's preview1 context: every call the layer does not override.
    pub(crate) wasi: WasiP1Ctx,
    /// Descriptors the layer answers for itself.
    pub(crate) fds: Fds,
    /// Would-block events met so far.
    pub(crate) events: SharedLog,
    /// Woken by every change to a managed handle.
    pub(crate) signal: Arc<Signal>,
    /// When host waits give up (`--timeout`).
    pub(crate) deadline: Option<crate::limits::Deadline>,
    /// The guest's `memory` export, once a host call has looked it up: a name lookup on
    /// every call was a third of an `again` round trip.
    pub(crate) memory: Option<wasmtime::Memory>,
    /// The handles' schedules (stdin's feed, the output drains) when the context owns them.
    io: Option<Io>,
    /// `--chaos`: what to inject at the boundary, and its random sequence.
    pub(crate) chaos: Option<crate::chaos::Chaos>,
    /// `--record` or `--replay`.
    pub(crate) tape: Option<super::tape::Tape>,
    /// `poll_oneoff`'s buffers, kept from call to call (none before the first call).
    pub(crate) poll_scratch: Option<Box<super::poll::PollScratch>>,
}

impl FaithfulCtx {
    /// A builder with stdin, stdout and stderr inherited from the host (read and written
    /// without ever changing the host's flags) and no listeners.
    pub fn builder() -> FaithfulCtxBuilder {
        FaithfulCtxBuilder::default()
    }

    /// A context over a built preview1 context, managing nothing yet.
    pub(crate) fn new(wasi: WasiP1Ctx, events: SharedLog, signal: Arc<Signal>) -> Self {
        FaithfulCtx {
            wasi,
            fds: Fds::default(),
            events,
            signal,
            deadline: None,
            memory: None,
            io: None,
            chaos: None,
            tape: None,
            poll_scratch: None,
        }
    }

    /// The would-block events the guest has met so far, in order of first occurrence, each
    /// with its count; [`crate::Event::python`] renders one as Python would raise it.
    pub fn events(&self) -> EventLog {
        self.events.snapshot()
    }

    /// What the guest wrote to stdout, when the builder captured it, once
    /// [`FaithfulCtx::finish`] has run (empty otherwise).
    pub fn stdout(&self) -> Vec<u8> {
        self.io
            .as_ref()
            .map_or_else(Vec::new, |io| io.stdout.captured())
    }

    /// What the guest wrote to stderr, when the builder captured it, once
    /// [`FaithfulCtx::finish`] has run (empty otherwise).
    pub fn stderr(&self) -> Vec<u8> {
        self.io
            .as_ref()
            .map_or_else(Vec::new, |io| io.stderr.captured())
    }

    /// Ends the handles' schedules: a stdin feed still waiting stops (a reader then sees
    /// end-of-file), and what is still in bounded output pipes is forwarded to the host.
    /// Idempotent; dropping the context does the same.
    pub fn finish(&mut self) {
        if let Some(io) = &mut self.io {
            io.finish();
        }
    }

    /// Manages fds 0-2 over `handles`.
    pub(crate) fn manage_stdio(&mut self, handles: &Handles) {
        self.fds.insert(
            0,
            Managed::new(Handle::Stdin, Endpoint::Read(handles.stdin.clone())),
        );
        self.fds.insert(
            1,
            Managed::new(Handle::Stdout, Endpoint::Write(handles.stdout.clone())),
        );
        self.fds.insert(
            2,
            Managed::new(Handle::Stderr, Endpoint::Write(handles.stderr.clone())),
        );
    }

    /// Manages each listener under its number, after reserving the numbers in wasmtime-wasi's
    /// table (see [`stock::reserve`]); `hidden` is the preopened reserve directory.
    pub(crate) fn manage_listeners(
        &mut self,
        hidden: u32,
        listeners: Vec<Listener>,
    ) -> wasmtime::Result<()> {
        if listeners.is_empty() {
            return Ok(());
        }
        let numbers: Vec<u32> = listeners.iter().map(|l| l.fd).collect();
        stock::reserve(&mut self.wasi, hidden, &numbers)?;
        for l in listeners {
            let mut managed =
                Managed::new(Handle::Listener, Endpoint::Listener(Arc::new(l.socket)));
            if l.nonblock {
                managed.flags = super::abi::Fdflags::NONBLOCK;
            }
            self.fds.insert(l.fd, managed);
        }
        Ok(())
    }
}

impl Drop for FaithfulCtx {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A listening socket handed to the guest under a descriptor number.
pub(crate) struct Listener {
    pub socket: TcpListener,
    pub fd: u32,
    /// Handed over with `fdflags.nonblock` set.
    pub nonblock: bool,
}

/// Stdin as stock wasmtime-wasi sees it when the layer manages fd 0: the stock table only
/// keeps the number taken, with the right terminal-ness, and never reads.
pub(crate) struct Placeholder {
    terminal: bool,
}

impl Placeholder {
    /// The placeholder for a stdin `spec`: a terminal exactly when the host's own stdin is
    /// inherited and is one.
    pub fn for_stdin(spec: &StdinSpec) -> Placeholder {
        Placeholder {
            terminal: *spec == StdinSpec::Inherit
                && std::io::IsTerminal::is_terminal(&std::io::stdin()),
        }
    }
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

/// Builds a [`FaithfulCtx`]: where the guest's stdin, stdout and stderr come from and go,
/// and the listening sockets it is handed. Arguments, environment and preopened directories
/// are the [`WasiCtxBuilder`]'s, given to [`FaithfulCtxBuilder::build`].
///
/// ```
/// use wouldblock::{FaithfulCtx, OutputSpec, StdinSpec};
///
/// let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
/// wasi.args(&["server", "--verbose"]).env("MODE", "test");
/// let ctx = FaithfulCtx::builder()
///     // No data for 200 ms, then `hello` and end-of-file.
///     .stdin("after:200:hello".parse::<StdinSpec>().unwrap())
///     // 64 KiB a reader drains by 4 KiB every 10 ms: writes that outrun it are short.
///     .stdout("pipe:65536:4096/10ms".parse::<OutputSpec>().unwrap())
///     // Descriptor 3, handed over already non-blocking.
///     .listener(std::net::TcpListener::bind("127.0.0.1:0")?, 3, true)
///     .build(wasi)?;
/// assert!(ctx.events().events().is_empty());
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[derive(Default)]
pub struct FaithfulCtxBuilder {
    stdin: StdinSpec,
    stdout: OutputSpec,
    stderr: OutputSpec,
    capture: bool,
    listeners: Vec<Listener>,
    chaos: Option<crate::chaos::Chaos>,
}

impl FaithfulCtxBuilder {
    /// Where stdin comes from (default: the host's own, inherited). `"open".parse()` is an
    /// open pipe nothing is ever written to: a non-blocking read returns `again`.
    pub fn stdin(&mut self, spec: StdinSpec) -> &mut Self {
        self.stdin = spec;
        self
    }

    /// Where stdout goes (default: the host's own). `"pipe:64K:4K/10ms".parse()` is a
    /// bounded pipe drained at a fixed rate: a non-blocking write to it when full is a short
    /// write, then `again`.
    pub fn stdout(&mut self, spec: OutputSpec) -> &mut Self {
        self.stdout = spec;
        self
    }

    /// Where stderr goes (default: the host's own).
    pub fn stderr(&mut self, spec: OutputSpec) -> &mut Self {
        self.stderr = spec;
        self
    }

    /// Keeps what the guest writes to stdout and stderr (see [`FaithfulCtx::stdout`]) instead
    /// of writing it to the host's.
    pub fn capture_output(&mut self, capture: bool) -> &mut Self {
        self.capture = capture;
        self
    }

    /// Injects what `spec` says at the boundary, every random choice fixed by `seed` (see
    /// [`ChaosSpec`](crate::ChaosSpec)): `again`, short reads and writes, spurious wake-ups,
    /// each recorded as an injected event.
    pub fn chaos(&mut self, spec: crate::ChaosSpec, seed: u64) -> &mut Self {
        self.chaos = Some(crate::chaos::Chaos::new(spec, seed));
        self
    }

    /// Hands `socket` to the guest as descriptor `fd` (from 3 to
    /// [`MAX_LISTEN_FD`](crate::MAX_LISTEN_FD), above every preopened directory), with
    /// `fdflags.nonblock` already set when `nonblocking`. The socket is put in non-blocking
    /// mode on the host; a guest's blocking `sock_accept` waits for a connection. The guest's
    /// environment gets `LISTEN_FDS` (how many) and `WOULDBLOCK_LISTEN_FDS` (their numbers).
    pub fn listener(&mut self, socket: TcpListener, fd: u32, nonblocking: bool) -> &mut Self {
        self.listeners.push(Listener {
            socket,
            fd,
            nonblock: nonblocking,
        });
        self
    }

    /// Builds the context over `wasi` (its stdio settings are replaced). Fails when a
    /// `file:` stdin cannot be opened, or a listener's number is out of range, taken twice
    /// or taken by a preopened directory.
    pub fn build(&mut self, mut wasi: WasiCtxBuilder) -> wasmtime::Result<FaithfulCtx> {
        let listeners = std::mem::take(&mut self.listeners);
        let mut seen = std::collections::BTreeSet::new();
        for l in &listeners {
            if !(3..=crate::net::MAX_LISTEN_FD).contains(&l.fd) || !seen.insert(l.fd) {
                wasmtime::bail!(
                    "listener descriptor {} is out of range (3 to {}) or given twice",
                    l.fd,
                    crate::net::MAX_LISTEN_FD
                );
            }
            l.socket.set_nonblocking(true)?;
        }
        let mut io = Io::with_specs(&self.stdin, &self.stdout, &self.stderr, self.capture)
            .map_err(|e| wasmtime::format_err!("{e:#}"))?;
        let handles = io.handles();
        wasi.stdin(Placeholder::for_stdin(&self.stdin));
        if !listeners.is_empty() {
            announce_listeners(&mut wasi, listeners.iter().map(|l| l.fd));
            preopen_reserve(&mut wasi)?;
        }
        let mut p1 = wasi.build_p1();
        let hidden = if listeners.is_empty() {
            0
        } else {
            let hidden = stock::last_preopen(&mut p1)?;
            if let Some(l) = listeners.iter().find(|l| l.fd < hidden) {
                wasmtime::bail!(
                    "listener descriptor {} is taken: a preopened directory (or stdio) has it",
                    l.fd
                );
            }
            hidden
        };
        let mut ctx = FaithfulCtx::new(p1, SharedLog::default(), handles.signal.clone());
        ctx.chaos = self.chaos.clone();
        ctx.manage_stdio(&handles);
        ctx.manage_listeners(hidden, listeners)?;
        io.start();
        ctx.io = Some(io);
        Ok(ctx)
    }
}

/// Tells the guest its listeners: `LISTEN_FDS` (how many) and `WOULDBLOCK_LISTEN_FDS` (their
/// descriptor numbers, in order).
pub(crate) fn announce_listeners(wasi: &mut WasiCtxBuilder, fds: impl Iterator<Item = u32>) {
    let numbers: Vec<String> = fds.map(|fd| fd.to_string()).collect();
    wasi.env("LISTEN_FDS", numbers.len().to_string());
    wasi.env("WOULDBLOCK_LISTEN_FDS", numbers.join(","));
}

/// Preopens an empty private directory after every other, used once to reserve listener
/// numbers in wasmtime-wasi's table (see [`stock::reserve`]); the directory itself is
/// removed at once, its open handle is all that is needed.
pub(crate) fn preopen_reserve(wasi: &mut WasiCtxBuilder) -> wasmtime::Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "wouldblock-reserve-{}-{}",
        std::process::id(),
        RESERVE_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    let opened = wasi.preopened_dir(
        &dir,
        "/.wouldblock-reserve",
        wasmtime_wasi::FsPerms::ReadOnly,
    );
    let _ = std::fs::remove_dir(&dir);
    opened.map_err(|e| wasmtime::format_err!("preopening {}: {e}", dir.display()))?;
    Ok(())
}

static RESERVE_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
