//! The guest's stdin as the host manages it: a source that can say "would block" honestly.
//!
//! Sources: an in-memory [`MemPipe`] fed on a schedule (`eof`, `open`, `data:`, `after:`), or a
//! host descriptor (`inherit`, `file:`) whose flags are never changed: read through `sys`'s
//! private non-blocking description of the same pipe where there is one, else `poll` + `read`.
//! A `Stdin` is created before the guest starts; [`Stdin::start`] starts its schedule, so that
//! compiling the guest does not eat into an `after:` delay.
//!
//! For preview2 and stock preview1, [`Stdin::stdin_stream`] gives wasmtime-wasi a stream over
//! the same source that never reads ahead.

use crate::pipe::{MemPipe, ReadOutcome};
use crate::signal::Signal;
use crate::spec::StdinSpec;
use crate::sys::{self, HostFd};
use anyhow::{Context as _, Result};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

/// Where the bytes come from.
#[derive(Clone)]
pub enum Source {
    /// An in-memory pipe the host writes on a schedule.
    Mem(Arc<MemPipe>),
    /// A host descriptor: the host's stdin or an opened file.
    Host(Arc<HostFd>),
}

/// The guest's stdin.
pub struct Stdin {
    source: Source,
    spec: StdinSpec,
    started: bool,
    finished: Arc<crate::output::Stop>,
}

impl Stdin {
    /// Opens the source `spec` names, waking `signal` on every change. Fails (an input error)
    /// when a `file:` cannot be opened.
    pub fn open(spec: &StdinSpec, signal: &Arc<Signal>) -> Result<Stdin> {
        let source = match spec {
            StdinSpec::Inherit => Source::Host(Arc::new(sys::host_stdin())),
            StdinSpec::File(path) => {
                // Checked before opening: opening a FIFO blocks until a writer comes, and a
                // device may never end. `--stdin inherit` with a shell redirect reads those.
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("--stdin file:{}", path.display()))?;
                if !meta.is_file() {
                    anyhow::bail!(
                        "--stdin file:{}: not a regular file (for a FIFO or device, redirect it to --stdin inherit)",
                        path.display()
                    );
                }
                let file = std::fs::File::open(path)
                    .with_context(|| format!("--stdin file:{}", path.display()))?;
                Source::Host(Arc::new(HostFd::from_file(file)))
            }
            StdinSpec::Eof | StdinSpec::Open | StdinSpec::Data(_) | StdinSpec::After(..) => {
                Source::Mem(Arc::new(MemPipe::new(usize::MAX, signal.clone())))
            }
        };
        Ok(Stdin {
            source,
            spec: spec.clone(),
            started: false,
            finished: Arc::default(),
        })
    }

    /// The run is over: a feeder still waiting gives up (and so does a guest's reader,
    /// which sees end-of-file).
    pub fn finish(&self) {
        self.finished.set();
        if let Source::Mem(pipe) = &self.source {
            pipe.close_writer();
            // Wake a feeder still waiting for the guest's first look.
            pipe.signal().notify();
        }
    }

    /// Starts the schedule: from now on data arrives as the spec says. Idempotent.
    pub fn start(&mut self) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let Source::Mem(pipe) = &self.source else {
            return;
        };
        match &self.spec {
            StdinSpec::Eof => pipe.close_writer(),
            StdinSpec::Open => {}
            StdinSpec::Data(bytes) => {
                pipe.write_and_close(bytes);
            }
            StdinSpec::After(delay, bytes) => {
                // The delay counts from the guest's first read or poll of stdin, so that how
                // long the guest takes to start (compiling, a busy machine, an interpreter's
                // own start-up) never decides whether it meets the empty pipe. The feeder
                // ends at the run's finish if the guest never looks.
                let (pipe, delay, bytes) = (pipe.clone(), *delay, bytes.clone());
                let finished = self.finished.clone();
                std::thread::Builder::new()
                    .name("wouldblock-stdin-feed".into())
                    .spawn(move || {
                        let far = Instant::now() + Duration::from_secs(24 * 3600);
                        if pipe.wait_for_reader(far) && !finished.sleep(delay) {
                            pipe.write_and_close(&bytes);
                        }
                    })
                    .expect("spawning the stdin feeder thread");
            }
            StdinSpec::Inherit | StdinSpec::File(_) => {}
        }
    }

    /// The source, for handles that read it.
    pub fn source(&self) -> &Source {
        &self.source
    }
}

impl Source {
    /// A wasmtime-wasi stdin over the same source (preview2, stock preview1).
    pub fn stdin_stream(&self) -> SourceStdin {
        SourceStdin(self.clone())
    }

    /// A read that never waits. Inlined, like the rest of the path from the `fd_read` import
    /// to the system call: each return after a system call costs ~8 ns (BENCHMARKS.md).
    #[inline(always)]
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        match self {
            Source::Mem(pipe) => Ok(pipe.try_read(buf)),
            Source::Host(fd) => {
                let n = match fd.read_now(buf) {
                    Some(Err(e)) if crate::sys::is_would_block(&e) => {
                        return Ok(ReadOutcome::WouldBlock)
                    }
                    Some(read) => read?,
                    None if !fd.wait_readable(Duration::ZERO)? => {
                        return Ok(ReadOutcome::WouldBlock)
                    }
                    None => fd.read(buf)?,
                };
                Ok(outcome(n, buf))
            }
        }
    }

    /// A read for a blocking `fd_read` with no deadline to keep: it may wait. One blocking
    /// `read(2)` where the host has no private non-blocking description of its descriptor
    /// ([`crate::sys::HostFd::read_blocking`]); otherwise [`Source::try_read`]. The caller
    /// waits on `WouldBlock`, as after `try_read`.
    #[inline(always)]
    pub fn read_blocking(&self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        let Source::Host(fd) = self else {
            return self.try_read(buf);
        };
        let n = match fd.read_blocking(buf) {
            None => return self.try_read(buf),
            Some(Err(e)) if crate::sys::is_would_block(&e) => return Ok(ReadOutcome::WouldBlock),
            Some(read) => read?,
        };
        Ok(outcome(n, buf))
    }

    /// The bytes waiting (0 at end-of-file, or when the handle cannot tell).
    pub fn waiting(&self) -> u64 {
        match self {
            Source::Mem(pipe) => pipe.readiness().0 as u64,
            Source::Host(fd) => fd.readable_bytes().unwrap_or(0),
        }
    }

    /// Whether a read would not block now (data or end-of-file is there).
    pub fn readable_now(&self) -> bool {
        match self {
            Source::Mem(pipe) => pipe.is_readable(),
            Source::Host(fd) => fd.wait_readable(Duration::ZERO).unwrap_or(true),
        }
    }

    /// Ready when a read would not block; otherwise `cx` is woken when it would.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Source::Mem(pipe) => pipe.poll_readable(cx),
            Source::Host(fd) => poll_host(fd, cx, true),
        }
    }

    /// Waits up to `timeout` ([`Duration::MAX`]: without limit, though an in-memory pipe
    /// may answer false after a day); true when a read would not block.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        match self {
            Source::Mem(pipe) => {
                let until = Instant::now() + timeout.min(Duration::from_secs(24 * 3600));
                Ok(pipe.wait_until(MemPipe::is_readable, until))
            }
            Source::Host(fd) => fd.wait_readable(timeout),
        }
    }
}

/// What a read of `n` bytes into `buf` says: end-of-file when it read none of a non-empty
/// buffer.
#[inline(always)]
fn outcome(n: usize, buf: &[u8]) -> ReadOutcome {
    match n {
        0 if !buf.is_empty() => ReadOutcome::Eof,
        n => ReadOutcome::Data(n),
    }
}

/// wasmtime-wasi's view of a [`Source`].
pub struct SourceStdin(Source);

impl IsTerminal for SourceStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for SourceStdin {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(SourceReader(self.0.clone()))
    }

    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(SourceReader(self.0.clone()))
    }
}

/// Reads a [`Source`] for wasmtime-wasi, without reading ahead.
struct SourceReader(Source);

/// The longest one helper of an async wait on a host descriptor waits in `poll(2)` before the
/// waiter looks again.
const HOST_FD_WAIT_SLICE: Duration = Duration::from_millis(100);

impl SourceReader {
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_readable(cx)
    }
}

/// Whether `fd` is readable (`read`) or writable now; when not, arranges for `cx` to be woken
/// when it becomes so. No reactor registration for an arbitrary descriptor here: a helper
/// thread waits for it (woken by the change at once, or after a slice to look again), one
/// per descriptor and direction at a time ([`crate::fdwait`]).
pub fn poll_host(fd: &Arc<HostFd>, cx: &mut Context<'_>, read: bool) -> Poll<()> {
    let wait = move |fd: &HostFd, t| {
        if read {
            fd.wait_readable(t)
        } else {
            fd.wait_writable(t)
        }
    };
    if !matches!(wait(fd, Duration::ZERO), Ok(false)) {
        return Poll::Ready(());
    }
    if fd.waiters().get(read).register(cx.waker()) {
        let helper = fd.clone();
        let started = std::thread::Builder::new()
            .name("wouldblock-fd-wait".into())
            .spawn(move || {
                let _ = wait(&helper, HOST_FD_WAIT_SLICE);
                helper.waiters().get(read).done();
            });
        if started.is_err() {
            // No thread to wait with: wake at once, so the task looks again.
            fd.waiters().get(read).done();
        }
    }
    Poll::Pending
}

impl tokio::io::AsyncRead for SourceReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match self.0.try_read(buf.initialize_unfilled()) {
                Ok(ReadOutcome::Data(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(ReadOutcome::Eof) => return Poll::Ready(Ok(())),
                Ok(ReadOutcome::WouldBlock) => {
                    if self.poll_ready(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// Largest single preview2 read, as wasmtime-wasi's own stdin allows.
const MAX_P2_READ: usize = 64 * 1024;

impl InputStream for SourceReader {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let mut buf = vec![0u8; size.min(MAX_P2_READ)];
        match self.0.try_read(&mut buf) {
            Ok(ReadOutcome::Data(n)) => {
                buf.truncate(n);
                Ok(buf.into())
            }
            Ok(ReadOutcome::WouldBlock) => Ok(bytes::Bytes::new()),
            Ok(ReadOutcome::Eof) => Err(StreamError::Closed),
            Err(e) => Err(StreamError::LastOperationFailed(e.into())),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for SourceReader {
    async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }
}
