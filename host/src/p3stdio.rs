//! WASI 0.3 stdio at the component boundary: the host's own producer behind
//! `wasi:cli/stdin@0.3.0#read-via-stream` and consumers behind `wasi:cli/std{out,err}@0.3.0`'s
//! `write-via-stream`, over the same sources and sinks as preview1 and preview2 (`--stdin`,
//! `--stdout`, `--stderr`), shadowing wasmtime-wasi's.
//!
//! In 0.3 nothing says EAGAIN: a `stream.read`/`stream.write` the host cannot complete at once
//! gives the guest the canonical ABI's BLOCKED; the guest waits or cancels, and a cancel with
//! nothing moved completes as `Cancelled` (wasi-libc's p3 target turns that into EAGAIN for
//! `O_NONBLOCK`). The host answers from the handle's state at the moment of the call:
//! - a read completes at once with what is there, or end-of-file (`Dropped`); only an open,
//!   empty stdin gives BLOCKED, and the read then completes as soon as data or end-of-file
//!   comes. wasmtime-wasi reads stdin on a task of its own, so data already waiting is BLOCKED
//!   at its first look; here it is not;
//! - a zero-length read (a readiness probe) completes exactly when a read would not block,
//!   else BLOCKED until it would; wasmtime-wasi answers every probe "ready";
//! - a write takes what the sink has room for now (a bounded `pipe:` takes at most its free
//!   space, whole up to `PIPE_BUF`), completing short when that is less than asked, and gives
//!   BLOCKED only when nothing fits; a zero-length write completes when a write would take
//!   something.
//!
//! Events, on the handle (fd 0, 1, 2) with the Python rendering of the others:
//! - `stream.read`/`stream.write` -> `again`: the host answered BLOCKED (once per operation);
//! - `stream.cancel-read`/`stream.cancel-write` -> `again`: a cancel (of a read, a write or a
//!   probe) completed as `Cancelled` with nothing moved, the EAGAIN of 0.3;
//! - `stream.write` -> `success`: a short write (the bytes it took in `characters_written`);
//!   an `again` on a write carries the bytes of the short writes just before it, as a
//!   preview1 write does;
//! - `stream.probe-read`/`stream.probe-write`: a zero-length operation, `success` when the
//!   host answered ready at once, `again` when it answered BLOCKED.
//!
//! `--chaos` ([`crate::chaos`]) injects what 0.3 allows, marked `injected`: `again` answers
//! BLOCKED to the first look of a read or write that could complete (held a millisecond: one
//! that waits then completes, one that cancels sees EAGAIN); `short` cuts a read, or a write
//! (one of at most `PIPE_BUF` bytes on a pipe stays whole); `wake` answers a probe ready when
//! it is not (the next read or write is then BLOCKED, as after a spurious `select(2)`
//! wake-up). Without `--chaos` nothing of this costs a system call.

use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::output::Sink;
use crate::p2observe::Observer;
use crate::pipe::ReadOutcome;
use crate::stdin::Source;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime::component::{
    Destination, FutureReader, Linker, Source as Items, StreamConsumer, StreamProducer,
    StreamReader, StreamResult, VecBuffer,
};
use wasmtime::StoreContextMut;
use wasmtime_wasi::p3::bindings::cli::types::ErrorCode;

/// The most one read hands the guest at once (wasmtime-wasi's own stdin buffer size).
const READ_CHUNK: usize = 8192;

/// What a store gives the 0.3 stdio functions.
pub trait P3Stdio: Send + 'static {
    /// The run's stdin, stdout and stderr, and where their events go.
    fn stdio(&self) -> &Stdio;
}

/// The run's stdio for 0.3 streams.
#[derive(Clone)]
pub struct Stdio {
    /// stdin's source.
    pub stdin: Source,
    /// stdout's sink.
    pub stdout: Sink,
    /// stderr's sink.
    pub stderr: Sink,
    /// Where the run's events go and its `--chaos`: its preview2 streams' observer (one
    /// random sequence for both).
    pub obs: Observer,
}

/// Shadows wasmtime-wasi's `read-via-stream` and `write-via-stream` (add wasmtime-wasi's p3
/// first, with shadowing allowed).
pub fn add_to_linker<T: P3Stdio>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    type Done = FutureReader<Result<(), ErrorCode>>;
    linker.instance("wasi:cli/stdin@0.3.0")?.func_wrap(
        "read-via-stream",
        |mut store: StoreContextMut<'_, T>,
         (): ()|
         -> wasmtime::Result<((StreamReader<u8>, Done),)> {
            let stdio = store.data().stdio().clone();
            let producer = ReadProducer::new(stdio.stdin, stdio.obs);
            let stream = StreamReader::new(&mut store, producer)?;
            // Reading stdin never fails here: end-of-file and errors end the stream.
            let done = FutureReader::new(&mut store, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(((stream, done),))
        },
    )?;
    for (interface, which) in [
        ("wasi:cli/stdout@0.3.0", Handle::Stdout),
        ("wasi:cli/stderr@0.3.0", Handle::Stderr),
    ] {
        linker.instance(interface)?.func_wrap(
            "write-via-stream",
            move |mut store: StoreContextMut<'_, T>,
                  (data,): (StreamReader<u8>,)|
                  -> wasmtime::Result<(Done,)> {
                let stdio = store.data().stdio().clone();
                let sink = if which == Handle::Stdout {
                    stdio.stdout
                } else {
                    stdio.stderr
                };
                let (tx, rx) = tokio::sync::oneshot::channel();
                data.pipe(
                    &mut store,
                    WriteConsumer::new(
                        StdSink {
                            sink,
                            handle: which,
                            failed: Some(tx),
                        },
                        stdio.obs,
                    ),
                )?;
                let done = FutureReader::new(&mut store, async move {
                    wasmtime::error::Ok(match rx.await {
                        Ok(code) => Err(code),
                        Err(_) => Ok(()),
                    })
                })?;
                Ok((done,))
            },
        )?;
    }
    Ok(())
}

/// A BLOCKED that `--chaos` injected, held for a millisecond of the runtime's timer: a guest
/// that cancels at once sees EAGAIN (the cancel moves nothing), one that waits is woken when
/// it ends. The timer runs only while the guest waits, so it never races a cancel (an
/// immediate wake-up does: the host may complete the operation before the guest cancels).
#[derive(Default)]
struct Injected(Option<Pin<Box<tokio::time::Sleep>>>);

impl Injected {
    /// Holds from now; `cx` is woken when the hold ends.
    fn start(&mut self, cx: &mut Context<'_>) {
        let mut hold = Box::pin(tokio::time::sleep(std::time::Duration::from_millis(1)));
        let _ = hold.as_mut().poll(cx);
        self.0 = Some(hold);
    }

    /// Whether the hold goes on (`cx` woken when it ends); it is over once this says no.
    fn holding(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(hold) = &mut self.0 else {
            return false;
        };
        if hold.as_mut().poll(cx).is_pending() {
            return true;
        }
        self.0 = None;
        false
    }

    /// Ends the hold (a cancel): whether there was one.
    fn end(&mut self) -> bool {
        self.0.take().is_some()
    }
}

/// The host end a 0.3 `stream<u8>` reads from: stdin's source, or a TCP connection
/// ([`crate::p3net`]).
pub(crate) trait ReadEnd: Send + 'static {
    /// The handle events name, and its number (the fd, or the socket's resource).
    fn handle(&self) -> (Handle, u32);
    /// Whether a read would not block now.
    fn readable_now(&self) -> bool;
    /// Ready when a read would not block; otherwise `cx` is woken when it would.
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()>;
    /// A read that does not wait.
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<ReadOutcome>;
    /// The stream ended: end-of-file (`None`) or an error.
    fn ended(&mut self, error: Option<io::Error>);
}

/// The host end a 0.3 `stream<u8>` writes to: stdout's or stderr's sink, or a TCP
/// connection ([`crate::p3net`]).
pub(crate) trait WriteEnd: Send + 'static {
    /// The handle events name, and its number (the fd, or the socket's resource).
    fn handle(&self) -> (Handle, u32);
    /// Whether a write would take something now.
    fn writable_now(&self) -> bool;
    /// Ready when a write of `len` bytes would take something (an in-memory pipe takes a
    /// write of at most `PIPE_BUF` bytes whole or not at all); otherwise `cx` is woken when
    /// it would.
    fn poll_writable(&self, cx: &mut Context<'_>, len: usize) -> Poll<()>;
    /// Writes what fits now: `Ok(0)` when nothing does.
    fn write_now(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// The stream failed: the guest's future learns why.
    fn failed(&mut self, error: io::Error);
}

impl ReadEnd for Source {
    fn handle(&self) -> (Handle, u32) {
        (Handle::Stdin, 0)
    }

    fn readable_now(&self) -> bool {
        Source::readable_now(self)
    }

    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        Source::poll_readable(self, cx)
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        Source::try_read(self, buf)
    }

    // Reading stdin never fails: end-of-file and errors just end the stream.
    fn ended(&mut self, _: Option<io::Error>) {}
}

/// How a probe (a zero-length read or write) looks at its end: the call it records, the end,
/// whether it is ready now, and (registering `cx`'s waker) whether it is still not ready.
struct Look<N, W> {
    call: &'static str,
    at: (Handle, u32),
    now: N,
    wait: W,
}

impl<N: FnMut() -> bool, W: FnMut(&mut Context<'_>) -> bool> Look<N, W> {
    /// Whether the probe is ready: at once when it is now (recorded `success` unless it was
    /// answered BLOCKED first), or when `--chaos` wakes it on its first look; `false` when
    /// the caller is to answer BLOCKED or, when `finish`, cancel.
    fn ready(
        mut self,
        blocked: &mut bool,
        obs: &Observer,
        cx: &mut Context<'_>,
        finish: bool,
    ) -> bool {
        let (handle, id) = self.at;
        loop {
            if (self.now)() {
                if !std::mem::take(blocked) {
                    obs.log.record(self.call, id, handle, WasiErrno::Success);
                }
                return true;
            }
            if !finish && !*blocked && obs.chaos(|c| c.wake(handle)) == Some(true) {
                obs.log
                    .record_injected(self.call, id, handle, WasiErrno::Success);
                return true;
            }
            if finish || (self.wait)(cx) {
                return false;
            }
        }
    }
}

/// A guest's 0.3 `stream<u8>` read from a [`ReadEnd`], observed.
pub(crate) struct ReadProducer<R> {
    end: R,
    obs: Observer,
    /// The operation in progress was answered BLOCKED (recorded once).
    blocked: bool,
    /// That BLOCKED was `--chaos`'s: a cancel then moves nothing (EAGAIN), as if the data
    /// had come just after it.
    injected: Injected,
}

impl<R: ReadEnd> ReadProducer<R> {
    pub(crate) fn new(end: R, obs: Observer) -> Self {
        ReadProducer {
            end,
            obs,
            blocked: false,
            injected: Injected::default(),
        }
    }

    /// BLOCKED, recorded once per operation; or `Cancelled` when the guest cancels.
    fn not_ready(
        &mut self,
        call: &'static str,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let (handle, id) = self.end.handle();
        if finish {
            self.blocked = false;
            self.injected.end();
            self.obs
                .log
                .record("stream.cancel-read", id, handle, WasiErrno::Again);
            return Poll::Ready(Ok(StreamResult::Cancelled));
        }
        if !std::mem::replace(&mut self.blocked, true) {
            self.obs.log.record(call, id, handle, WasiErrno::Again);
        }
        Poll::Pending
    }

    /// A probe's answer: ready (recorded `success` when at once) or BLOCKED.
    fn probe(
        &mut self,
        cx: &mut Context<'_>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let end = &self.end;
        let look = Look {
            call: "stream.probe-read",
            at: end.handle(),
            now: || end.readable_now(),
            wait: |cx: &mut Context<'_>| end.poll_readable(cx).is_pending(),
        };
        let call = look.call;
        if look.ready(&mut self.blocked, &self.obs, cx, finish) {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        self.not_ready(call, finish)
    }

    /// `--chaos` on the first look of a read that can complete (not a cancel's): BLOCKED
    /// (held, see [`Injected`]), or how many of `cap` bytes to ask for.
    fn inject(&mut self, cx: &mut Context<'_>, cap: usize, finish: bool) -> Result<usize, ()> {
        if self.obs.chaos.is_none() || finish || self.blocked || !self.end.readable_now() {
            return Ok(cap);
        }
        let (handle, id) = self.end.handle();
        match self.obs.chaos(|c| {
            if c.again(handle) {
                None
            } else {
                Some(c.read_len(handle, cap))
            }
        }) {
            None => Ok(cap),
            Some(Some(ask)) => Ok(ask),
            Some(None) => {
                self.obs
                    .log
                    .record_injected("stream.read", id, handle, WasiErrno::Again);
                self.blocked = true;
                self.injected.start(cx);
                Err(())
            }
        }
    }
}

impl<R: ReadEnd + Unpin, D> StreamProducer<D> for ReadProducer<R> {
    type Item = u8;
    type Buffer = VecBuffer<u8>;

    fn poll_produce<'a>(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'a, D>,
        dst: Destination<'a, u8, VecBuffer<u8>>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let want = dst.remaining(&mut store);
        if want == Some(0) {
            return self.probe(cx, finish);
        }
        let mut dst = dst.as_direct(store, want.unwrap_or(READ_CHUNK).min(READ_CHUNK));
        if finish && self.injected.end() || !finish && self.injected.holding(cx) {
            return self.not_ready("stream.read", finish);
        }
        let cap = dst.remaining().len();
        let Ok(ask) = self.inject(cx, cap, finish) else {
            return Poll::Pending;
        };
        loop {
            match self.end.try_read(&mut dst.remaining()[..ask]) {
                Ok(ReadOutcome::Data(n)) => {
                    dst.mark_written(n);
                    self.blocked = false;
                    if ask < cap && n == ask {
                        let (handle, id) = self.end.handle();
                        self.obs
                            .log
                            .record_injected("stream.read", id, handle, WasiErrno::Success);
                    }
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Ok(ReadOutcome::Eof) => {
                    self.end.ended(None);
                    return Poll::Ready(Ok(StreamResult::Dropped));
                }
                Err(e) => {
                    self.end.ended(Some(e));
                    return Poll::Ready(Ok(StreamResult::Dropped));
                }
                Ok(ReadOutcome::WouldBlock) => {
                    if finish || self.end.poll_readable(cx).is_pending() {
                        return self.not_ready("stream.read", finish);
                    }
                }
            }
        }
    }
}

/// stdout's or stderr's sink as the end of a 0.3 stream.
struct StdSink {
    sink: Sink,
    handle: Handle,
    /// Tells `write-via-stream`'s future the stream failed.
    failed: Option<tokio::sync::oneshot::Sender<ErrorCode>>,
}

impl WriteEnd for StdSink {
    fn handle(&self) -> (Handle, u32) {
        (
            self.handle,
            if self.handle == Handle::Stdout { 1 } else { 2 },
        )
    }

    fn writable_now(&self) -> bool {
        self.sink.has_room(1)
    }

    fn poll_writable(&self, cx: &mut Context<'_>, len: usize) -> Poll<()> {
        match &self.sink {
            Sink::Pipe(pipe) => pipe.poll_writable(cx, len),
            Sink::Host(fd) => crate::stdin::poll_host(fd, cx, false),
        }
    }

    fn write_now(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.sink {
            Sink::Pipe(pipe) => Ok(pipe.try_write(buf)),
            Sink::Host(fd) => match fd.write_now(buf) {
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                Some(written) => written,
                // No non-blocking write for this descriptor: a blocking one, as POSIX does.
                None => fd.write_all(buf).map(|()| buf.len()),
            },
        }
    }

    fn failed(&mut self, e: io::Error) {
        if let Some(tx) = self.failed.take() {
            let _ = tx.send(if e.kind() == io::ErrorKind::BrokenPipe {
                ErrorCode::Pipe
            } else {
                ErrorCode::Io
            });
        }
    }
}

/// A guest's 0.3 `stream<u8>` written to a [`WriteEnd`], observed.
pub(crate) struct WriteConsumer<W> {
    end: W,
    obs: Observer,
    /// The operation in progress was answered BLOCKED (recorded once).
    blocked: bool,
    /// That BLOCKED was `--chaos`'s: a cancel then moves nothing (EAGAIN).
    injected: Injected,
    /// Bytes of the short writes since the last would-block.
    short: u64,
}

impl<W: WriteEnd> WriteConsumer<W> {
    pub(crate) fn new(end: W, obs: Observer) -> Self {
        WriteConsumer {
            end,
            obs,
            blocked: false,
            injected: Injected::default(),
            short: 0,
        }
    }

    /// `--chaos` on the first look of a write that can take something (not a cancel's):
    /// BLOCKED (held, see [`Injected`]), or how many of `len` bytes to offer.
    fn inject(&mut self, cx: &mut Context<'_>, len: usize, finish: bool) -> Result<usize, ()> {
        if self.obs.chaos.is_none() || finish || self.blocked || !self.end.writable_now() {
            return Ok(len);
        }
        let (handle, id) = self.end.handle();
        match self.obs.chaos(|c| {
            if c.again(handle) {
                None
            } else {
                Some(c.write_len(handle, len))
            }
        }) {
            None => Ok(len),
            Some(Some(take)) => Ok(take),
            Some(None) => {
                self.obs.log.record_write(
                    "stream.write",
                    id,
                    handle,
                    WasiErrno::Again,
                    self.short,
                    true,
                );
                self.blocked = true;
                self.injected.start(cx);
                Err(())
            }
        }
    }

    fn not_ready(
        &mut self,
        call: &'static str,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let (handle, id) = self.end.handle();
        if finish {
            self.blocked = false;
            self.injected.end();
            self.obs.log.record_write(
                "stream.cancel-write",
                id,
                handle,
                WasiErrno::Again,
                self.short,
                false,
            );
            self.short = 0;
            return Poll::Ready(Ok(StreamResult::Cancelled));
        }
        if !std::mem::replace(&mut self.blocked, true) {
            self.obs
                .log
                .record_write(call, id, handle, WasiErrno::Again, self.short, false);
        }
        Poll::Pending
    }

    /// A zero-length write's answer: ready (recorded `success` when at once) or BLOCKED.
    fn probe(
        &mut self,
        cx: &mut Context<'_>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let end = &self.end;
        let look = Look {
            call: "stream.probe-write",
            at: end.handle(),
            now: || end.writable_now(),
            wait: |cx: &mut Context<'_>| end.poll_writable(cx, 0).is_pending(),
        };
        let call = look.call;
        if look.ready(&mut self.blocked, &self.obs, cx, finish) {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        self.not_ready(call, finish)
    }
}

impl<W: WriteEnd + Unpin, D> StreamConsumer<D> for WriteConsumer<W> {
    type Item = u8;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        store: StoreContextMut<D>,
        src: Items<'_, u8>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let mut src = src.as_direct(store);
        let len = src.remaining().len();
        if len == 0 {
            return self.probe(cx, finish);
        }
        if finish && self.injected.end() || !finish && self.injected.holding(cx) {
            return self.not_ready("stream.write", finish);
        }
        let Ok(take) = self.inject(cx, len, finish) else {
            return Poll::Pending;
        };
        loop {
            match self.end.write_now(&src.remaining()[..take]) {
                Ok(0) => {
                    if finish || self.end.poll_writable(cx, take).is_pending() {
                        return self.not_ready("stream.write", finish);
                    }
                }
                Ok(n) => {
                    src.mark_read(n);
                    self.blocked = false;
                    if n < len {
                        let (handle, id) = self.end.handle();
                        self.obs.log.record_write(
                            "stream.write",
                            id,
                            handle,
                            WasiErrno::Success,
                            n as u64,
                            take < len && n == take,
                        );
                        self.short += n as u64;
                    } else {
                        self.short = 0;
                    }
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Err(e) => {
                    self.end.failed(e);
                    return Poll::Ready(Ok(StreamResult::Dropped));
                }
            }
        }
    }
}
