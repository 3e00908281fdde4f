//! Preview2 streams observed at the component boundary: wrappers that record every
//! would-block a guest meets on a stream (an empty non-blocking `read` or `skip` on an open
//! stream, a zero-permit `check-write`) as an `again` event on its handle, and otherwise pass
//! every call through unchanged. Blocking reads and writes wait; they are not would-blocks and
//! are not recorded.
//!
//! Used for the connections of wasi:sockets ([`crate::p2net`]) and for stdin, stdout and
//! stderr ([`ObservedStdin`], [`ObservedStdout`]), whatever their source (`--stdin` and
//! `--stdout`/`--stderr` specs, or the host's own handles).

use crate::errno::WasiErrno;
use crate::events::{Handle, SharedLog};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, InputStream, OutputStream, Pollable, StreamResult,
};

/// An input stream that records empty non-blocking reads and skips.
pub struct ObservedInput {
    inner: DynInputStream,
    log: SharedLog,
    id: u32,
    handle: Handle,
}

impl ObservedInput {
    /// Observes `inner`, recording as `handle` number `id`.
    pub fn new(inner: DynInputStream, log: SharedLog, id: u32, handle: Handle) -> Self {
        ObservedInput {
            inner,
            log,
            id,
            handle,
        }
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for ObservedInput {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let r = self.inner.read(size)?;
        if r.is_empty() && size > 0 {
            self.log
                .record("input-stream.read", self.id, self.handle, WasiErrno::Again);
        }
        Ok(r)
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        self.inner.blocking_read(size).await
    }

    fn skip(&mut self, n: usize) -> StreamResult<usize> {
        let skipped = self.inner.skip(n)?;
        if skipped == 0 && n > 0 {
            self.log
                .record("input-stream.skip", self.id, self.handle, WasiErrno::Again);
        }
        Ok(skipped)
    }

    async fn blocking_skip(&mut self, n: usize) -> StreamResult<usize> {
        self.inner.blocking_skip(n).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ObservedInput {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

/// An output stream that records zero-permit `check-write`s.
pub struct ObservedOutput {
    inner: DynOutputStream,
    log: SharedLog,
    id: u32,
    handle: Handle,
}

impl ObservedOutput {
    /// Observes `inner`, recording as `handle` number `id`.
    pub fn new(inner: DynOutputStream, log: SharedLog, id: u32, handle: Handle) -> Self {
        ObservedOutput {
            inner,
            log,
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
        let n = self.inner.check_write()?;
        if n == 0 {
            self.log.record(
                "output-stream.check-write",
                self.id,
                self.handle,
                WasiErrno::Again,
            );
        }
        Ok(n)
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
    log: SharedLog,
}

impl<S> ObservedStdin<S> {
    /// Observes `inner`.
    pub fn new(inner: S, log: SharedLog) -> Self {
        ObservedStdin { inner, log }
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
            self.log.clone(),
            0,
            Handle::Stdin,
        ))
    }
}

/// A guest's stdout or stderr (any [`StdoutStream`]) whose preview2 streams are observed as
/// fd 1 or 2.
pub struct ObservedStdout<S> {
    inner: S,
    log: SharedLog,
    handle: Handle,
}

impl<S> ObservedStdout<S> {
    /// Observes `inner` as `handle` ([`Handle::Stdout`] or [`Handle::Stderr`]).
    pub fn new(inner: S, log: SharedLog, handle: Handle) -> Self {
        ObservedStdout { inner, log, handle }
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
            self.log.clone(),
            fd,
            self.handle,
        ))
    }
}
