//! An in-memory pipe with POSIX pipe semantics, shared by a host-side producer and a guest.
//!
//! Promises: bytes come out in the order they went in, none lost or duplicated; a reader sees
//! "would block" only while the pipe is empty and its writer still open, and end-of-file only
//! once it is empty and the writer closed. The reader learns readiness without a syscall.
//! Waiting is possible both synchronously ([`MemPipe::wait_readable`]) and from async code
//! ([`MemPipe::poll_readable`]), so the same pipe serves preview1 and preview2 guests.
//!
//! It does not bound its size: a producer's writes always succeed.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The outcome of a non-blocking read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were read (never 0).
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
}

/// A pipe: one host-side writer, any number of guest-side readers.
#[derive(Default)]
pub struct MemPipe {
    state: Mutex<State>,
    readable: Condvar,
}

impl MemPipe {
    /// An empty pipe with its writer open.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the buffer half-updated (every update is
        // a single VecDeque call), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads what is there into `out`, without waiting.
    pub fn try_read(&self, out: &mut [u8]) -> ReadOutcome {
        let mut st = self.lock();
        if st.buf.is_empty() {
            return if st.writer_closed {
                ReadOutcome::Eof
            } else {
                ReadOutcome::WouldBlock
            };
        }
        if out.is_empty() {
            return ReadOutcome::Data(0);
        }
        let n = out.len().min(st.buf.len());
        let (a, b) = st.buf.as_slices();
        let from_a = n.min(a.len());
        out[..from_a].copy_from_slice(&a[..from_a]);
        out[from_a..n].copy_from_slice(&b[..n - from_a]);
        st.buf.drain(..n);
        ReadOutcome::Data(n)
    }

    /// Bytes buffered now, and whether the writer has closed.
    pub fn readiness(&self) -> (usize, bool) {
        let st = self.lock();
        (st.buf.len(), st.writer_closed)
    }

    /// Appends `data` and wakes readers.
    pub fn write(&self, data: &[u8]) {
        let wakers = {
            let mut st = self.lock();
            st.buf.extend(data);
            std::mem::take(&mut st.wakers)
        };
        self.wake(wakers);
    }

    /// Closes the writer: once drained, readers see end-of-file.
    pub fn close_writer(&self) {
        let wakers = {
            let mut st = self.lock();
            st.writer_closed = true;
            std::mem::take(&mut st.wakers)
        };
        self.wake(wakers);
    }

    fn wake(&self, wakers: Vec<Waker>) {
        self.readable.notify_all();
        for w in wakers {
            w.wake();
        }
    }

    /// Waits up to `timeout` for data or end-of-file; true if a read would not block now.
    pub fn wait_readable(&self, timeout: Duration) -> bool {
        let st = self.lock();
        let (st, _) = self
            .readable
            .wait_timeout_while(st, timeout, |st| st.buf.is_empty() && !st.writer_closed)
            .unwrap_or_else(|p| p.into_inner());
        !st.buf.is_empty() || st.writer_closed
    }

    /// Async readiness: ready once a read would not block.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if !st.buf.is_empty() || st.writer_closed {
            return Poll::Ready(());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn would_block_then_data_then_eof() {
        let p = MemPipe::new();
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

    #[test]
    fn wait_wakes_on_write_from_another_thread() {
        let p = Arc::new(MemPipe::new());
        assert!(!p.wait_readable(Duration::from_millis(1)));
        let q = p.clone();
        let t = std::thread::spawn(move || q.write(b"x"));
        assert!(p.wait_readable(Duration::from_secs(10)));
        t.join().unwrap();
    }
}
