//! Preview2 streams observed at the component boundary: wrappers that record every
//! would-block a guest meets on a stream (an empty non-blocking `read` or `skip` on an open
//! stream, a zero-permit `check-write`) as an `again` event on its handle, and otherwise pass
//! every call through unchanged. Blocking reads and writes wait; they are not would-blocks and
//! are not recorded.
//!
//! Used for the connections of wasi:sockets ([`crate::p2net`]) and for stdin, stdout and
//! stderr ([`ObservedStdin`], [`ObservedStdout`]), whatever their source (`--stdin` and
//! `--stdout`/`--stderr` specs, or the host's own handles).
//!
//! With `--chaos` ([`Observer::chaos`]) the wrappers also inject what a preview2 stream may
//! do, each injection recorded as an injected event:
//! - `again`: a non-blocking `read` that got bytes returns an empty list instead, the bytes
//!   kept for the next read (nothing is lost or reordered); a `check-write` with room gives a
//!   zero permit;
//! - `short`: a read returns only some of the bytes it got (blocking reads too), the rest
//!   kept; a `check-write` gives a smaller permit (on stdio never below `PIPE_BUF` bytes, as
//!   a pipe keeps writes of up to that whole);
//! - `wake` does not apply: a preview2 pollable promises readiness when it resolves.
//!
//! Bytes kept back make the stream's pollable ready at once, and are read, skipped or
//! reported before anything from the stream itself.

use crate::chaos::Chaos;
use crate::errno::WasiErrno;
use crate::events::{Handle, SharedLog};
use std::sync::{Arc, Mutex};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, InputStream, OutputStream, Pollable, StreamResult,
};

/// Where observed streams record, and what they inject: one per run, shared by its streams.
#[derive(Clone, Default)]
pub struct Observer {
    /// The run's events.
    pub log: SharedLog,
    /// The run's `--chaos`, shared by every stream (one random sequence for the run).
    pub chaos: Option<Arc<Mutex<Chaos>>>,
}

impl Observer {
    /// Runs `f` on the injector, when the run has one (`None` otherwise).
    pub fn chaos<R>(&self, f: impl FnOnce(&mut Chaos) -> R) -> Option<R> {
        let chaos = self.chaos.as_ref()?;
        // Each use is one draw: a poisoned lock is still a consistent sequence.
        Some(f(&mut chaos.lock().unwrap_or_else(|p| p.into_inner())))
    }
}

/// An input stream that records empty non-blocking reads and skips.
pub struct ObservedInput {
    inner: DynInputStream,
    obs: Observer,
    id: u32,
    handle: Handle,
    /// Bytes read from `inner` that `--chaos` kept back, to be read before anything else.
    kept: bytes::Bytes,
}

impl ObservedInput {
    /// Observes `inner`, recording as `handle` number `id`.
    pub fn new(inner: DynInputStream, obs: Observer, id: u32, handle: Handle) -> Self {
        ObservedInput {
            inner,
            obs,
            id,
            handle,
            kept: bytes::Bytes::new(),
        }
    }

    /// At most `size` of the kept bytes, taken.
    fn take_kept(&mut self, size: usize) -> bytes::Bytes {
        self.kept.split_to(size.min(self.kept.len()))
    }

    /// `got`, the bytes a read of the stream returned, as `--chaos` lets them through: none
    /// (`again`, non-blocking reads only) or some (`short`), the rest kept, put back before
    /// what is already kept.
    fn inject(&mut self, mut got: bytes::Bytes, nonblocking: bool) -> bytes::Bytes {
        let (call, id, handle) = ("input-stream.read", self.id, self.handle);
        let n = got.len();
        let Some(give) = self.obs.chaos(|c| {
            if nonblocking && n > 0 && c.again(handle) {
                0
            } else {
                c.read_len(handle, n)
            }
        }) else {
            return got;
        };
        if give < n {
            let rest = got.split_off(give);
            self.kept = if self.kept.is_empty() {
                rest
            } else {
                [rest, std::mem::take(&mut self.kept)].concat().into()
            };
            let errno = if give == 0 {
                WasiErrno::Again
            } else {
                WasiErrno::Success
            };
            self.obs.log.record_injected(call, id, handle, errno);
        }
        got
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for ObservedInput {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let got = if self.kept.is_empty() {
            self.inner.read(size)?
        } else {
            self.take_kept(size)
        };
        let r = self.inject(got, true);
        if r.is_empty() && size > 0 && !self.kept.is_empty() {
            // Recorded as injected by `inject`.
            return Ok(r);
        }
        if r.is_empty() && size > 0 {
            self.obs
                .log
                .record("input-stream.read", self.id, self.handle, WasiErrno::Again);
        }
        Ok(r)
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let got = if self.kept.is_empty() {
            self.inner.blocking_read(size).await?
        } else {
            self.take_kept(size)
        };
        Ok(self.inject(got, false))
    }

    fn skip(&mut self, n: usize) -> StreamResult<usize> {
        if !self.kept.is_empty() {
            return Ok(self.take_kept(n).len());
        }
        let skipped = self.inner.skip(n)?;
        if skipped == 0 && n > 0 {
            self.obs
                .log
                .record("input-stream.skip", self.id, self.handle, WasiErrno::Again);
        }
        Ok(skipped)
    }

    async fn blocking_skip(&mut self, n: usize) -> StreamResult<usize> {
        if !self.kept.is_empty() {
            return Ok(self.take_kept(n).len());
        }
        self.inner.blocking_skip(n).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ObservedInput {
    async fn ready(&mut self) {
        if self.kept.is_empty() {
            self.inner.ready().await
        }
    }
}

/// An output stream that records zero-permit `check-write`s.
pub struct ObservedOutput {
    inner: DynOutputStream,
    obs: Observer,
    id: u32,
    handle: Handle,
}

impl ObservedOutput {
    /// Observes `inner`, recording as `handle` number `id`.
    pub fn new(inner: DynOutputStream, obs: Observer, id: u32, handle: Handle) -> Self {
        ObservedOutput {
            inner,
            obs,
            id,
            handle,
        }
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for ObservedOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        let (call, id, handle) = ("output-stream.check-write", self.id, self.handle);
        let n = self.inner.check_write()?;
        if n == 0 {
            self.obs.log.record(call, id, handle, WasiErrno::Again);
            return Ok(0);
        }
        let permit = self
            .obs
            .chaos(|c| {
                if c.again(handle) {
                    0
                } else {
                    c.permit_len(handle, n)
                }
            })
            .unwrap_or(n);
        if permit < n {
            let errno = if permit == 0 {
                WasiErrno::Again
            } else {
                WasiErrno::Success
            };
            self.obs.log.record_injected(call, id, handle, errno);
        }
        Ok(permit)
    }

    async fn blocking_write_and_flush(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.inner.blocking_write_and_flush(bytes).await
    }

    async fn write_ready(&mut self) -> StreamResult<usize> {
        self.inner.write_ready().await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ObservedOutput {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

/// A guest's stdin (any [`StdinStream`]) whose preview2 streams are observed as fd 0.
pub struct ObservedStdin<S> {
    inner: S,
    obs: Observer,
}

impl<S> ObservedStdin<S> {
    /// Observes `inner`.
    pub fn new(inner: S, obs: Observer) -> Self {
        ObservedStdin { inner, obs }
    }
}

impl<S: IsTerminal> IsTerminal for ObservedStdin<S> {
    fn is_terminal(&self) -> bool {
        self.inner.is_terminal()
    }
}

impl<S: StdinStream> StdinStream for ObservedStdin<S> {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        self.inner.async_stream()
    }

    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(ObservedInput::new(
            self.inner.p2_stream(),
            self.obs.clone(),
            0,
            Handle::Stdin,
        ))
    }
}

/// A guest's stdout or stderr (any [`StdoutStream`]) whose preview2 streams are observed as
/// fd 1 or 2.
pub struct ObservedStdout<S> {
    inner: S,
    obs: Observer,
    handle: Handle,
}

impl<S> ObservedStdout<S> {
    /// Observes `inner` as `handle` ([`Handle::Stdout`] or [`Handle::Stderr`]).
    pub fn new(inner: S, obs: Observer, handle: Handle) -> Self {
        ObservedStdout { inner, obs, handle }
    }
}

impl<S: IsTerminal> IsTerminal for ObservedStdout<S> {
    fn is_terminal(&self) -> bool {
        self.inner.is_terminal()
    }
}

impl<S: StdoutStream> StdoutStream for ObservedStdout<S> {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        self.inner.async_stream()
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        let fd = if self.handle == Handle::Stderr { 2 } else { 1 };
        Box::new(ObservedOutput::new(
            self.inner.p2_stream(),
            self.obs.clone(),
            fd,
            self.handle,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Waker};

    /// A stream that gives its bytes once, then never has more (and never closes).
    struct Once(bytes::Bytes);

    #[wasmtime_wasi::async_trait]
    impl InputStream for Once {
        fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
            Ok(self.0.split_to(size.min(self.0.len())))
        }
    }

    #[wasmtime_wasi::async_trait]
    impl Pollable for Once {
        async fn ready(&mut self) {
            if self.0.is_empty() {
                std::future::pending::<()>().await
            }
        }
    }

    fn observed(spec: &str) -> (ObservedInput, SharedLog) {
        let obs = Observer {
            log: SharedLog::default(),
            chaos: Some(Arc::new(Mutex::new(Chaos::new(spec.parse().unwrap(), 0)))),
        };
        let log = obs.log.clone();
        let inner = Box::new(Once(bytes::Bytes::from_static(b"abcdef")));
        (ObservedInput::new(inner, obs, 0, Handle::Stdin), log)
    }

    /// Whether `ready()` resolves without waiting.
    fn ready_now(input: &mut ObservedInput) -> bool {
        let mut ready = std::pin::pin!(input.ready());
        ready
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[test]
    fn bytes_kept_by_an_injected_again_are_ready_and_read_next() {
        let (mut input, log) = observed("again=/2");
        // The first read goes through, the second is an injected again: its bytes are kept,
        // the stream stays ready (its own pollable never will be again).
        assert_eq!(&input.read(2).unwrap()[..], b"ab");
        assert_eq!(&input.read(8).unwrap()[..], b"");
        assert!(ready_now(&mut input));
        assert_eq!(&input.read(2).unwrap()[..], b"cd");
        assert_eq!(input.skip(8).unwrap(), 2);
        assert!(!ready_now(&mut input));
        // Now a real would-block: recorded, not injected.
        assert_eq!(&input.read(8).unwrap()[..], b"");
        let events = log.snapshot();
        let e: Vec<_> = events
            .events()
            .iter()
            .map(|e| (e.errno, e.count, e.injected))
            .collect();
        assert_eq!(
            e,
            [(WasiErrno::Again, 1, true), (WasiErrno::Again, 1, false)]
        );
    }

    #[test]
    fn a_short_read_keeps_the_rest_in_order() {
        let (mut input, log) = observed("short=/1");
        let mut got = Vec::new();
        while got.len() < 6 {
            let r = input.read(6).unwrap();
            let left = 6 - got.len();
            // Cut below what is there, but for the last byte.
            assert!(!r.is_empty() && (r.len() < left || left == 1), "{r:?}");
            got.extend_from_slice(&r);
        }
        assert_eq!(got, b"abcdef");
        assert!(log.snapshot().events().iter().all(|e| e.injected));
    }
}
