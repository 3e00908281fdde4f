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

use crate::errno::WasiErrno;
use crate::events::{Handle, SharedLog};
use crate::output::Sink;
use crate::pipe::ReadOutcome;
use crate::stdin::Source;
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
    /// The run's events.
    pub log: SharedLog,
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
            let producer = StdinProducer {
                source: stdio.stdin,
                log: stdio.log,
                blocked: false,
            };
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
                    SinkConsumer {
                        sink,
                        handle: which,
                        log: stdio.log,
                        blocked: false,
                        short: 0,
                        failed: Some(tx),
                    },
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

/// stdin's side of the guest's `stream<u8>`.
struct StdinProducer {
    source: Source,
    log: SharedLog,
    /// The operation in progress was answered BLOCKED (recorded once).
    blocked: bool,
}

impl StdinProducer {
    /// BLOCKED, recorded once per operation; or `Cancelled` when the guest cancels.
    fn not_ready(
        &mut self,
        call: &'static str,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        if finish {
            self.blocked = false;
            self.log
                .record("stream.cancel-read", 0, Handle::Stdin, WasiErrno::Again);
            return Poll::Ready(Ok(StreamResult::Cancelled));
        }
        if !std::mem::replace(&mut self.blocked, true) {
            self.log.record(call, 0, Handle::Stdin, WasiErrno::Again);
        }
        Poll::Pending
    }

    /// A probe's answer: ready (recorded `success` when at once) or BLOCKED.
    fn probe(
        &mut self,
        cx: &mut Context<'_>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        loop {
            if self.source.readable_now() {
                if !std::mem::take(&mut self.blocked) {
                    self.log
                        .record("stream.probe-read", 0, Handle::Stdin, WasiErrno::Success);
                }
                return Poll::Ready(Ok(StreamResult::Completed));
            }
            if finish || self.source.poll_readable(cx).is_pending() {
                return self.not_ready("stream.probe-read", finish);
            }
        }
    }
}

impl<D> StreamProducer<D> for StdinProducer {
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
        loop {
            match self.source.try_read(dst.remaining()) {
                Ok(ReadOutcome::Data(n)) => {
                    dst.mark_written(n);
                    self.blocked = false;
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Ok(ReadOutcome::Eof) | Err(_) => return Poll::Ready(Ok(StreamResult::Dropped)),
                Ok(ReadOutcome::WouldBlock) => {
                    if finish || self.source.poll_readable(cx).is_pending() {
                        return self.not_ready("stream.read", finish);
                    }
                }
            }
        }
    }
}

/// stdout's or stderr's side of the guest's `stream<u8>`.
struct SinkConsumer {
    sink: Sink,
    handle: Handle,
    log: SharedLog,
    /// The operation in progress was answered BLOCKED (recorded once).
    blocked: bool,
    /// Bytes of the short writes since the last would-block.
    short: u64,
    /// Tells `write-via-stream`'s future the stream failed.
    failed: Option<tokio::sync::oneshot::Sender<ErrorCode>>,
}

impl SinkConsumer {
    fn fd(&self) -> u32 {
        if self.handle == Handle::Stdout {
            1
        } else {
            2
        }
    }

    /// Writes what fits now: `Ok(0)` when nothing does.
    fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
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

    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<()> {
        match &self.sink {
            Sink::Pipe(pipe) => pipe.poll_writable(cx),
            Sink::Host(fd) => crate::stdin::poll_host(fd, cx, false),
        }
    }

    fn not_ready(
        &mut self,
        call: &'static str,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let fd = self.fd();
        if finish {
            self.blocked = false;
            self.log.record_write(
                "stream.cancel-write",
                fd,
                self.handle,
                WasiErrno::Again,
                self.short,
                false,
            );
            self.short = 0;
            return Poll::Ready(Ok(StreamResult::Cancelled));
        }
        if !std::mem::replace(&mut self.blocked, true) {
            self.log
                .record_write(call, fd, self.handle, WasiErrno::Again, self.short, false);
        }
        Poll::Pending
    }
}

impl<D> StreamConsumer<D> for SinkConsumer {
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
            loop {
                if self.sink.has_room(1) {
                    if !std::mem::take(&mut self.blocked) {
                        let fd = self.fd();
                        self.log
                            .record("stream.probe-write", fd, self.handle, WasiErrno::Success);
                    }
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                if finish || self.poll_writable(cx).is_pending() {
                    return self.not_ready("stream.probe-write", finish);
                }
            }
        }
        loop {
            match self.write_now(src.remaining()) {
                Ok(0) => {
                    if finish || self.poll_writable(cx).is_pending() {
                        return self.not_ready("stream.write", finish);
                    }
                }
                Ok(n) => {
                    src.mark_read(n);
                    self.blocked = false;
                    if n < len {
                        let fd = self.fd();
                        self.log.record_write(
                            "stream.write",
                            fd,
                            self.handle,
                            WasiErrno::Success,
                            n as u64,
                            false,
                        );
                        self.short += n as u64;
                    } else {
                        self.short = 0;
                    }
                    return Poll::Ready(Ok(StreamResult::Completed));
                }
                Err(e) => {
                    if let Some(tx) = self.failed.take() {
                        let _ = tx.send(if e.kind() == io::ErrorKind::BrokenPipe {
                            ErrorCode::Pipe
                        } else {
                            ErrorCode::Io
                        });
                    }
                    return Poll::Ready(Ok(StreamResult::Dropped));
                }
            }
        }
    }
}
