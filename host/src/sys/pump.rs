//! A pipe's worth of room in front of a handle whose writes can only block: POSIX
//! non-blocking write semantics over a blocking writer, without touching the handle's mode.
//!
//! Windows has no non-blocking write of an inherited pipe that leaves the pipe alone:
//! `PIPE_NOWAIT` (`SetNamedPipeHandleState`) changes the mode of the pipe end the host shares
//! with its parent, and the free-space figure (`FILE_PIPE_LOCAL_INFORMATION`'s
//! `WriteQuotaAvailable`) drops by the size of any read the other side has pending, so it
//! reads 0 while a reader waits for data (Cygwin documents this in its `select` for pipes),
//! and Wine reports the whole quota whatever is queued. So the host's side of such a pipe is
//! a [`Pump`]: a buffer of `capacity` bytes that a thread of its own empties into the handle
//! with ordinary blocking writes, in order.
//!
//! What a writer sees is a POSIX pipe of `capacity` bytes (plus whatever the handle itself
//! absorbs once the thread's write of it returned):
//! - [`Pump::try_write`] takes what fits ([`accepted`]): a write of at most `PIPE_BUF` bytes all or
//!   nothing, a larger one short; `WouldBlock` when nothing fits (POSIX `write`, `O_NONBLOCK`).
//! - [`Pump::free`] is the room left, [`Pump::wait_room`] waits for some.
//! - Bytes taken are bytes written: they reach the handle in order, and [`Pump::flush`] waits
//!   until they have. Once a write of the handle fails (the reader gone) every later write
//!   fails with that error, as `EPIPE` does; the bytes still held are dropped, as a pipe's are.
//!
//! Platform-neutral (the unit tests drive it over a Unix pipe); used on Windows.

#![cfg_attr(not(windows), allow(dead_code))]

use crate::pipe::accepted;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Room in front of one handle. See the module documentation.
pub struct Pump {
    state: Mutex<State>,
    changed: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct State {
    /// Bytes taken by the thread, in flight: counted in `held` until their write returns.
    held: usize,
    /// Bytes not yet taken by the thread.
    pending: Vec<u8>,
    /// The first failed write, for every write after it (an `io::Error` is not `Clone`).
    failed: Option<(io::ErrorKind, Option<i32>)>,
}

impl State {
    fn error(&self) -> Option<io::Error> {
        self.failed.map(|(kind, raw)| match raw {
            Some(code) => io::Error::from_raw_os_error(code),
            None => kind.into(),
        })
    }
}

impl Pump {
    /// Starts the thread that empties the pump through `write` (one blocking write: the bytes
    /// it wrote).
    pub fn spawn(
        capacity: usize,
        mut write: impl FnMut(&[u8]) -> io::Result<usize> + Send + 'static,
    ) -> io::Result<Arc<Pump>> {
        let pump = Arc::new(Pump {
            state: Mutex::default(),
            changed: Condvar::new(),
            capacity,
        });
        let feeder = pump.clone();
        std::thread::Builder::new()
            .name("wouldblock-pump".into())
            .spawn(move || feeder.run(&mut write))?;
        Ok(pump)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The thread: takes what is pending, writes it all, then gives its room back.
    fn run(&self, write: &mut dyn FnMut(&[u8]) -> io::Result<usize>) {
        loop {
            let chunk = {
                let mut st = self.lock();
                while st.pending.is_empty() {
                    st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                std::mem::take(&mut st.pending)
            };
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let n = match write(rest) {
                    Ok(0) => Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => other,
                };
                let mut st = self.lock();
                match n {
                    Ok(n) => {
                        rest = &rest[n..];
                        st.held -= n;
                    }
                    Err(e) => {
                        st.failed = Some((e.kind(), e.raw_os_error()));
                        st.held = 0;
                        st.pending = Vec::new();
                        drop(st);
                        self.changed.notify_all();
                        return;
                    }
                }
                drop(st);
                self.changed.notify_all();
            }
        }
    }

    /// The room left.
    pub fn free(&self) -> usize {
        self.capacity - self.lock().held
    }

    /// Takes what fits of `buf` without waiting (see the module documentation).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut st = self.lock();
        if let Some(e) = st.error() {
            return Err(e);
        }
        let n = accepted(buf.len(), self.capacity - st.held, self.capacity);
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        st.held += n;
        st.pending.extend_from_slice(&buf[..n]);
        drop(st);
        self.changed.notify_all();
        Ok(n)
    }

    /// Waits up to `timeout` until `need` bytes (at most the capacity) fit, or a write failed
    /// (the next write reports it); whether one of the two happened.
    pub fn wait_room(&self, need: usize, timeout: Duration) -> bool {
        let need = need.min(self.capacity);
        let st = self.lock();
        let (st, _) = self
            .changed
            .wait_timeout_while(st, timeout, |st| {
                st.failed.is_none() && self.capacity - st.held < need
            })
            .unwrap_or_else(|p| p.into_inner());
        st.failed.is_some() || self.capacity - st.held >= need
    }

    /// Waits until every byte taken has been written (or a write failed), up to `timeout`
    /// (`None`: as long as that takes); whether it has.
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        // A timeout too long for an `Instant` (`Duration::MAX`) is no limit.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut st = self.lock();
        while st.failed.is_none() && st.held > 0 {
            st = match deadline {
                None => self.changed.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.changed
                        .wait_timeout(st, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        true
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::Pump;
    use std::io::{self, Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::sync::Arc;
    use std::time::Duration;

    /// A blocking pipe of `size` bytes: (read end, write end).
    fn pipe(size: i32) -> (std::fs::File, std::fs::File) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors; the results are checked.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: F_SETPIPE_SZ takes an int.
        assert_eq!(
            unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, size) },
            size
        );
        // SAFETY: both descriptors were just opened and are owned here only.
        unsafe {
            (
                OwnedFd::from_raw_fd(fds[0]).into(),
                OwnedFd::from_raw_fd(fds[1]).into(),
            )
        }
    }

    fn pump_over(w: std::fs::File, capacity: usize) -> Arc<Pump> {
        Pump::spawn(capacity, move |b| (&w).write(b)).unwrap()
    }

    /// Nobody reads a 4 KiB pipe behind a 64 KiB pump: 5000-byte writes fill exactly what a
    /// 64 KiB Linux pipe takes (13 whole, 536, then `WouldBlock`); draining gives every byte
    /// back in order and the room back.
    #[test]
    fn fills_as_a_pipe_of_its_capacity_then_drains_in_order() {
        let (mut r, w) = pipe(4096);
        let pump = pump_over(w, 65536);
        let mut taken = Vec::new();
        for i in 0..16u8 {
            match pump.try_write(&[b'a' + i; 5000]) {
                Ok(n) => taken.push(n),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                    break;
                }
            }
        }
        assert_eq!(taken, [[5000; 13].as_slice(), &[536]].concat());
        assert_eq!(pump.free(), 0);
        assert!(!pump.wait_room(1, Duration::from_millis(20)));
        assert!(!pump.flush(Some(Duration::from_millis(20))));
        let mut got = vec![0; 65536];
        r.read_exact(&mut got).unwrap();
        assert!(pump.flush(Some(Duration::from_secs(10))));
        assert_eq!(pump.free(), 65536);
        let mut expected = Vec::new();
        for (i, n) in taken.iter().enumerate() {
            expected.extend(std::iter::repeat_n(b'a' + i as u8, *n));
        }
        assert!(got == expected, "bytes out of order");
    }

    /// At most PIPE_BUF bytes go all or nothing; more than that go short.
    #[test]
    fn small_writes_are_atomic_large_ones_short() {
        let (_r, w) = pipe(4096);
        let pump = pump_over(w, 10_000);
        assert_eq!(pump.try_write(&[1; 7000]).unwrap(), 7000);
        assert_eq!(
            pump.try_write(&[2; 4000]).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(pump.try_write(&[3; 3000]).unwrap(), 3000);
        assert_eq!(pump.free(), 0);
        assert_eq!(pump.try_write(&[]).unwrap(), 0);
    }

    /// The reader gone: the next writes fail as EPIPE, never block.
    #[test]
    fn a_closed_reader_fails_every_later_write() {
        let (r, w) = pipe(4096);
        let pump = pump_over(w, 65536);
        drop(r);
        assert_eq!(pump.try_write(b"lost").unwrap(), 4);
        assert!(pump.wait_room(65536, Duration::from_secs(10)));
        let e = pump.try_write(b"more").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(pump.free(), 65536);
        assert!(pump.flush(None));
    }

    /// A full pump gets its room back as the reader drains the handle.
    #[test]
    fn room_comes_back_as_the_reader_drains() {
        let (mut r, w) = pipe(4096);
        let pump = pump_over(w, 8192);
        assert_eq!(pump.try_write(&[7; 8192]).unwrap(), 8192);
        let reader = std::thread::spawn(move || {
            let mut all = vec![0; 8192 + 100];
            r.read_exact(&mut all).unwrap();
            all
        });
        assert!(pump.wait_room(100, Duration::from_secs(10)));
        assert_eq!(pump.try_write(&[8; 100]).unwrap(), 100);
        assert!(pump.flush(Some(Duration::from_secs(10))));
        let all = reader.join().unwrap();
        assert!(all[..8192].iter().all(|&b| b == 7) && all[8192..].iter().all(|&b| b == 8));
    }
}
