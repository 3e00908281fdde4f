//! An in-memory pipe with POSIX pipe semantics, between the host and a guest.
//!
//! Promises: bytes come out in the order they went in, none lost or duplicated; a reader sees
//! "would block" only while the pipe is empty and its writer still open, and end-of-file only
//! once it is empty and the writer closed; a writer sees "would block" only when the bytes do
//! not fit. Readiness is known without a syscall. Waiting works synchronously (through the
//! pipe's [`Signal`]) and from async code ([`MemPipe::poll_readable`],
//! [`MemPipe::poll_writable`]), so the same pipe serves preview1 and preview2 guests.
//!
//! The guest's stdin is an unbounded pipe the host writes; a `pipe:` stdout or stderr is a
//! bounded pipe the guest writes and a host thread drains.

use crate::signal::Signal;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// `PIPE_BUF` as on Linux: writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;

/// How many bytes of a non-blocking write of `len` bytes a pipe of `capacity` with `free`
/// bytes of room takes (POSIX `write` with `O_NONBLOCK`): a write of at most [`PIPE_BUF`]
/// bytes (or of the whole capacity, when smaller) whole or not at all, a larger one what
/// fits. 0 for a non-empty write means "would block".
pub fn accepted(len: usize, free: usize, capacity: usize) -> usize {
    if len <= PIPE_BUF.min(capacity) && free < len {
        0
    } else {
        len.min(free)
    }
}

/// The outcome of a non-blocking read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were read (0 only for a zero-length read).
    Data(usize),
    /// The writer is closed and every byte has been read.
    Eof,
    /// Nothing to read yet: POSIX would say EAGAIN.
    WouldBlock,
}

#[derive(Default)]
struct State {
    buf: VecDeque<u8>,
    writer_closed: bool,
    wakers: Vec<Waker>,
    /// Bytes accepted but not kept (a capture pipe past its keep limit).
    dropped: u64,
}

/// A pipe of `capacity` bytes.
pub struct MemPipe {
    state: Mutex<State>,
    capacity: usize,
    signal: Arc<Signal>,
    /// A reader has looked (read, or asked for readiness) at least once.
    looked: AtomicBool,
    /// The most bytes held; what is accepted beyond is counted and dropped.
    keep: usize,
}

impl MemPipe {
    /// An empty pipe that holds at most `capacity` bytes (`usize::MAX`: unbounded), waking
    /// `signal` on every change.
    pub fn new(capacity: usize, signal: Arc<Signal>) -> Self {
        MemPipe {
            state: Mutex::default(),
            capacity,
            signal,
            looked: AtomicBool::new(false),
            keep: usize::MAX,
        }
    }

    /// A pipe that takes every write whole, as a host stdout that is always drained would,
    /// but holds at most `keep` bytes: past that, bytes are counted ([`MemPipe::dropped`])
    /// and dropped. For captured output, whose volume the guest decides.
    pub fn capture(keep: usize, signal: Arc<Signal>) -> Self {
        MemPipe {
            keep,
            ..MemPipe::new(usize::MAX, signal)
        }
    }

    /// Bytes accepted and dropped past the keep limit.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Appends what fits under the keep limit, counts the rest.
    fn append(&self, st: &mut State, data: &[u8]) {
        let kept = data.len().min(self.keep.saturating_sub(st.buf.len()));
        st.buf.extend(&data[..kept]);
        st.dropped += (data.len() - kept) as u64;
    }

    /// Notes that a reader looked; the first time, wakes whoever waits for it
    /// ([`MemPipe::wait_for_reader`]).
    fn look(&self) {
        if !self.looked.load(Ordering::Relaxed) && !self.looked.swap(true, Ordering::AcqRel) {
            self.signal.notify();
        }
    }

    /// Waits until a reader has looked at the pipe (read it, or asked whether it is
    /// readable), or `deadline`; true if one has.
    pub fn wait_for_reader(&self, deadline: Instant) -> bool {
        loop {
            let seen = self.signal.generation();
            if self.looked.load(Ordering::Acquire) {
                return true;
            }
            if !self.signal.wait_past(seen, deadline) {
                return self.looked.load(Ordering::Acquire);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a single VecDeque call, so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes synchronous and async waiters after a change.
    fn changed(&self, mut st: MutexGuard<'_, State>) {
        let wakers = std::mem::take(&mut st.wakers);
        drop(st);
        self.signal.notify();
        for w in wakers {
            w.wake();
        }
    }

    /// The capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The signal this pipe wakes.
    pub fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    /// Reads what is there into `out`, without waiting.
    pub fn try_read(&self, out: &mut [u8]) -> ReadOutcome {
        self.look();
        let mut st = self.lock();
        if st.buf.is_empty() {
            return if st.writer_closed {
                ReadOutcome::Eof
            } else {
                ReadOutcome::WouldBlock
            };
        }
        let n = out.len().min(st.buf.len());
        let (a, b) = st.buf.as_slices();
        let from_a = n.min(a.len());
        out[..from_a].copy_from_slice(&a[..from_a]);
        out[from_a..n].copy_from_slice(&b[..n - from_a]);
        st.buf.drain(..n);
        if n > 0 {
            self.changed(st);
        }
        ReadOutcome::Data(n)
    }

    /// Takes up to `max` bytes, for the host-side reader of an output pipe.
    pub fn take(&self, max: usize) -> Vec<u8> {
        let mut st = self.lock();
        let n = max.min(st.buf.len());
        let out: Vec<u8> = st.buf.drain(..n).collect();
        if n > 0 {
            self.changed(st);
        }
        out
    }

    /// Bytes buffered now, and whether the writer has closed.
    pub fn readiness(&self) -> (usize, bool) {
        self.look();
        let st = self.lock();
        (st.buf.len(), st.writer_closed)
    }

    /// Free space now.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.lock().buf.len())
    }

    /// A non-blocking write with POSIX pipe semantics: a write of at most [`PIPE_BUF`] bytes
    /// goes in whole or not at all; a larger one takes what fits. Returns the bytes accepted;
    /// 0 for a non-empty `data` means "would block".
    pub fn try_write(&self, data: &[u8]) -> usize {
        let mut st = self.lock();
        let n = accepted(
            data.len(),
            self.capacity.saturating_sub(st.buf.len()),
            self.capacity,
        );
        if n > 0 {
            self.append(&mut st, &data[..n]);
            self.changed(st);
        }
        n
    }

    /// Appends all of `data` regardless of capacity (the host feeding a guest's stdin).
    pub fn write(&self, data: &[u8]) {
        let mut st = self.lock();
        self.append(&mut st, data);
        self.changed(st);
    }

    /// Appends `data` and closes the writer in one step: no reader sees the data without the
    /// end-of-file behind it (a scheduled `data:`/`after:` stdin is deterministic).
    pub fn write_and_close(&self, data: &[u8]) {
        let mut st = self.lock();
        self.append(&mut st, data);
        st.writer_closed = true;
        self.changed(st);
    }

    /// Closes the writer: once drained, readers see end-of-file.
    pub fn close_writer(&self) {
        let mut st = self.lock();
        st.writer_closed = true;
        self.changed(st);
    }

    /// True when a read would not block.
    pub fn is_readable(&self) -> bool {
        self.look();
        let st = self.lock();
        !st.buf.is_empty() || st.writer_closed
    }

    /// True when a write of up to [`PIPE_BUF`] bytes would not block (as `poll`'s `POLLOUT`).
    pub fn is_writable(&self) -> bool {
        self.free() >= PIPE_BUF.min(self.capacity)
    }

    /// Waits until `ready(self)` or `deadline`; true if ready.
    pub fn wait_until(&self, ready: impl Fn(&Self) -> bool, deadline: Instant) -> bool {
        loop {
            let seen = self.signal.generation();
            if ready(self) {
                return true;
            }
            if !self.signal.wait_past(seen, deadline) {
                return ready(self);
            }
        }
    }

    fn poll_until(&self, cx: &mut Context<'_>, ready: impl Fn(&State) -> bool) -> Poll<()> {
        let mut st = self.lock();
        if ready(&st) {
            return Poll::Ready(());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Async readiness for reading.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.look();
        self.poll_until(cx, |st| !st.buf.is_empty() || st.writer_closed)
    }

    /// Async readiness for a write of `len` bytes: ready when [`MemPipe::try_write`] would
    /// take something (room for all of a write of at most [`PIPE_BUF`] bytes, see
    /// [`accepted`]); for `len` 0 or 1, at least one byte of space. (Ready on any room, a
    /// writer looping on `try_write` of 1000 bytes into 96 free spun until the reader drained.)
    pub fn poll_writable(&self, cx: &mut Context<'_>, len: usize) -> Poll<()> {
        let (cap, len) = (self.capacity, len.max(1));
        self.poll_until(cx, move |st| {
            accepted(len, cap.saturating_sub(st.buf.len()), cap) > 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pipe(capacity: usize) -> MemPipe {
        MemPipe::new(capacity, Arc::new(Signal::new()))
    }

    #[test]
    fn would_block_then_data_then_eof() {
        let p = pipe(usize::MAX);
        let mut buf = [0u8; 4];
        assert_eq!(p.try_read(&mut buf), ReadOutcome::WouldBlock);
        p.write(b"hello");
        assert_eq!(p.try_read(&mut buf), ReadOutcome::Data(4));
        assert_eq!(&buf, b"hell");
        p.close_writer();
        assert_eq!(p.try_read(&mut buf), ReadOutcome::Data(1));
        assert_eq!(buf[0], b'o');
        assert_eq!(p.try_read(&mut buf), ReadOutcome::Eof);
    }

    /// Writable for a write of `len` bytes exactly when `try_write` of it takes something:
    /// a writer that waits for "writable" and then tries again never spins.
    #[test]
    fn writable_means_a_write_of_that_length_goes_in() {
        let p = pipe(4096);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(p.try_write(&[1; 4000]), 4000);
        for (len, ready) in [(0, true), (1, true), (96, true), (97, false), (1000, false)] {
            assert_eq!(p.poll_writable(&mut cx, len).is_ready(), ready, "{len}");
            assert_eq!(p.try_write(&vec![2; len]) > 0, ready && len > 0, "{len}");
            if ready && len > 0 {
                p.take(len);
            }
        }
        // Larger than PIPE_BUF: what fits goes in, so any room will do.
        assert!(p.poll_writable(&mut cx, 5000).is_ready());
        assert_eq!(p.take(4000).len(), 4000);
        assert!(p.poll_writable(&mut cx, 1000).is_ready());
    }

    #[test]
    fn posix_pipe_writes() {
        let p = pipe(8192);
        // Small writes are atomic: all or nothing.
        assert_eq!(p.try_write(&[1; 6000]), 6000);
        assert!(!p.is_writable());
        assert_eq!(p.try_write(&[2; 3000]), 0);
        // A write larger than PIPE_BUF takes what fits.
        assert_eq!(p.try_write(&[3; 5000]), 2192);
        assert_eq!(p.free(), 0);
        assert_eq!(p.take(100).len(), 100);
        assert_eq!(p.try_write(&[4; 200]), 0);
        assert_eq!(p.try_write(&[4; 100]), 100);
        // A pipe smaller than PIPE_BUF: atomic up to its capacity.
        let small = pipe(16);
        assert!(small.is_writable());
        assert_eq!(small.try_write(&[5; 10]), 10);
        assert!(!small.is_writable());
        assert_eq!(small.try_write(&[5; 10]), 0);
        assert_eq!(small.try_write(&[5; 20]), 6);
    }

    #[test]
    fn a_capture_pipe_takes_everything_and_keeps_its_limit() {
        let p = MemPipe::capture(10, Arc::new(Signal::new()));
        assert_eq!(p.try_write(&[1; 6]), 6);
        assert_eq!(p.try_write(&[2; 6]), 6);
        assert_eq!(p.try_write(&[3; 100_000]), 100_000);
        assert_eq!(p.take(usize::MAX), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
        assert_eq!(p.dropped(), 100_002);
    }

    #[test]
    fn wait_wakes_on_write_from_another_thread() {
        let p = Arc::new(pipe(usize::MAX));
        let soon = Instant::now() + Duration::from_millis(1);
        assert!(!p.wait_until(MemPipe::is_readable, soon));
        let q = p.clone();
        let t = std::thread::spawn(move || q.write(b"x"));
        assert!(p.wait_until(
            MemPipe::is_readable,
            Instant::now() + Duration::from_secs(10)
        ));
        t.join().unwrap();
    }
}
