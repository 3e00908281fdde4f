//! The guest's stdout and stderr as the host manages them.
//!
//! `inherit` writes straight to the host's descriptor (never changing its flags); `pipe:` is a
//! bounded [`MemPipe`] that a host thread drains at the given rate into the host's descriptor,
//! or not at all until the guest exits. [`Output::finish`] stops the drain and forwards what
//! is left (and waits for what the host holds for an `inherit` output: Windows' pump), so
//! nothing the guest wrote is lost. Bytes forwarded are counted for the report.

use crate::pipe::MemPipe;
use crate::signal::Signal;
use crate::spec::{Drain, OutputSpec};
use crate::sys::{self, HostFd};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// The most a captured `inherit` output holds (the suite keeps 64 KiB of it in reports):
/// a guest decides how much it writes, and may write gigabytes from a few pages.
pub const CAPTURE_KEEP: usize = 16 << 20;

/// Which of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// fd 1.
    Stdout,
    /// fd 2.
    Stderr,
}

/// Where the guest's bytes go.
#[derive(Clone)]
pub enum Sink {
    /// The host's own descriptor.
    Host(Arc<HostFd>),
    /// A bounded pipe drained by the host.
    Pipe(Arc<MemPipe>),
}

/// Where drained bytes go: the host's descriptor, or a buffer (`suite` captures output).
#[derive(Clone)]
pub enum Target {
    /// The host's own stdout/stderr.
    Host(Arc<HostFd>),
    /// A buffer read after the run.
    Buffer(Arc<std::sync::Mutex<Vec<u8>>>),
}

impl Target {
    fn put(&self, bytes: &[u8]) {
        match self {
            // The host's own stdout closing early loses nothing the report needs.
            Target::Host(fd) => {
                let _ = fd.write_all(bytes);
            }
            // At most CAPTURE_KEEP bytes are kept; the count of bytes forwarded stays exact.
            Target::Buffer(b) => {
                let mut b = b.lock().unwrap_or_else(|p| p.into_inner());
                let room = CAPTURE_KEEP.saturating_sub(b.len());
                b.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
        }
    }
}

/// One output: its sink and, for a pipe, the drain.
pub struct Output {
    sink: Sink,
    host: Target,
    drain: Option<Drain>,
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
    forwarded: Arc<AtomicU64>,
}

impl Output {
    /// Sets up `spec` for `which`, waking `signal` on every change. With `capture`, what the
    /// guest writes is kept in a buffer ([`Output::captured`]) instead of reaching the host;
    /// `inherit` then becomes an unbounded pipe.
    pub fn open(spec: &OutputSpec, which: Which, signal: &Arc<Signal>, capture: bool) -> Output {
        let host = Arc::new(match which {
            Which::Stdout => sys::host_stdout(),
            Which::Stderr => sys::host_stderr(),
        });
        let target = if capture {
            Target::Buffer(Arc::default())
        } else {
            Target::Host(host.clone())
        };
        let (sink, drain) = match spec {
            OutputSpec::Inherit if capture => (
                Sink::Pipe(Arc::new(MemPipe::capture(CAPTURE_KEEP, signal.clone()))),
                None,
            ),
            OutputSpec::Inherit => (Sink::Host(host.clone()), None),
            OutputSpec::Pipe { capacity, drain } => (
                Sink::Pipe(Arc::new(MemPipe::new(*capacity, signal.clone()))),
                *drain,
            ),
        };
        Output {
            sink,
            host: target,
            drain,
            stop: Arc::default(),
            thread: None,
            forwarded: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The sink, for handles that write it.
    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Starts draining (a pipe with a drain rate). Idempotent.
    pub fn start(&mut self) {
        let (Sink::Pipe(pipe), Some(drain), None) = (&self.sink, self.drain, &self.thread) else {
            return;
        };
        let (pipe, host, stop, forwarded) = (
            pipe.clone(),
            self.host.clone(),
            self.stop.clone(),
            self.forwarded.clone(),
        );
        let thread = std::thread::Builder::new()
            .name("wouldblock-drain".into())
            .spawn(move || {
                // `finish` wakes the sleep at once: a slow drain never delays the exit.
                while !stop.sleep(drain.every) {
                    forward(&pipe.take(drain.bytes), &host, &forwarded);
                }
            })
            .expect("spawning the drain thread");
        self.thread = Some(thread);
    }

    /// What a capturing output holds (empty otherwise).
    pub fn captured(&self) -> Vec<u8> {
        match &self.host {
            Target::Buffer(b) => b.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            Target::Host(_) => Vec::new(),
        }
    }

    /// Stops the drain and forwards everything still in the pipe; returns the bytes the guest
    /// wrote to a pipe sink in all (0 for `inherit`, whose bytes went straight through).
    pub fn finish(&mut self) -> u64 {
        self.stop.set();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut dropped = 0;
        match &self.sink {
            Sink::Pipe(pipe) => {
                forward(&pipe.take(usize::MAX), &self.host, &self.forwarded);
                dropped = pipe.dropped();
            }
            // What the host still holds for the guest (Windows' pump) reaches the handle
            // before the host writes its own lines there.
            Sink::Host(fd) => fd.flush(),
        }
        // Bytes a capture pipe took but did not keep were written all the same.
        self.forwarded.load(Ordering::Acquire) + dropped
    }
}

impl Sink {
    /// Writes all of `data` now, whatever a pipe's capacity (the host's own lines, such as
    /// `--invoke`'s results, after the guest is done).
    pub fn write_unbounded(&self, data: &[u8]) {
        match self {
            Sink::Host(fd) => {
                let _ = fd.write_all(data);
            }
            Sink::Pipe(p) => p.write(data),
        }
    }

    /// Whether a non-blocking write of `len` bytes would take some now (all of it, up to
    /// `PIPE_BUF`).
    pub fn has_room(&self, len: usize) -> bool {
        match self {
            Sink::Pipe(p) => {
                p.free() > 0 && p.free() >= len.min(crate::pipe::PIPE_BUF).min(p.capacity())
            }
            Sink::Host(fd) => fd.wait_writable(std::time::Duration::ZERO).unwrap_or(false),
        }
    }

    /// A wasmtime-wasi stdout over a pipe sink (preview2, stock preview1); `None` for
    /// `inherit`, which wasmtime-wasi serves itself.
    pub fn stdout_stream(&self) -> Option<PipeStdout> {
        match self {
            Sink::Pipe(pipe) => Some(PipeStdout(pipe.clone())),
            Sink::Host(_) => None,
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A stop flag with a sleep that ends as soon as it is set (the drain's, stdin's feeder's).
#[derive(Default)]
pub struct Stop {
    stopped: Mutex<bool>,
    changed: Condvar,
}

impl Stop {
    /// Sets the flag, waking every sleeper.
    pub fn set(&self) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.changed.notify_all();
    }

    /// Sleeps for `d` or until set; true when set.
    pub fn sleep(&self, d: std::time::Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, d, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

fn forward(bytes: &[u8], target: &Target, forwarded: &AtomicU64) {
    if bytes.is_empty() {
        return;
    }
    target.put(bytes);
    forwarded.fetch_add(bytes.len() as u64, Ordering::AcqRel);
}

/// wasmtime-wasi's view of a pipe sink.
pub struct PipeStdout(Arc<MemPipe>);

impl IsTerminal for PipeStdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PipeStdout {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(PipeWriter(self.0.clone()))
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(PipeWriter(self.0.clone()))
    }
}

struct PipeWriter(Arc<MemPipe>);

impl tokio::io::AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let n = self.0.try_write(buf);
            if n > 0 || buf.is_empty() {
                return Poll::Ready(Ok(n));
            }
            if self.0.poll_writable(cx, buf.len()).is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl OutputStream for PipeWriter {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        // The caller asked check_write first and writes at most that much: it all fits.
        if self.0.try_write(&bytes) != bytes.len() {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "write exceeded the permitted size"
            )));
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(self.0.free())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for PipeWriter {
    async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.0.poll_writable(cx, 1)).await
    }
}
