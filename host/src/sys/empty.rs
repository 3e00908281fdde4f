//! An `again` without a system call: a descriptor the host found empty stays known empty
//! until the kernel says otherwise.
//!
//! Contract ([`EmptyWatch`], one per descriptor the guest reads without blocking):
//! - [`EmptyWatch::after_read`] is told the outcome of every non-blocking read. After two
//!   `EAGAIN`s in a row (nothing read between), the watch arms a one-shot `POLLIN` poll of
//!   the descriptor on an io_uring of the host's (Linux only).
//! - [`EmptyWatch::still_empty`] is true while that poll has not completed, on the thread
//!   that armed it: the read may answer `EAGAIN` without asking the kernel. Anything that
//!   makes the descriptor readable (data, end-of-file, an error, a hang-up) completes the
//!   poll, and the next read asks the kernel again. After [`RECHECK_EVERY`] answers from
//!   memory in a row, one read asks the kernel anyway.
//! - Dropping the watch cancels its poll, so the descriptor's file is not held open by it
//!   (a socket's peer sees the close).
//!
//! Why the answer is the kernel's, not a guess: without `IORING_SETUP_COOP_TASKRUN` or
//! `DEFER_TASKRUN`, the kernel posts the poll's completion as task work of the thread that
//! submitted it, notified like a signal (`TWA_SIGNAL`): that thread runs it before it
//! returns to user space from any system call or interrupt, and if it is running, it is
//! interrupted to run it. So whatever way the guest learns that a writer wrote (a poll, a
//! read of another descriptor, any system call) the completion is there first; a thread
//! spinning in user code sees the old answer only for as long as that interrupt takes to
//! reach it — the answer a native read made that moment earlier would have had. Which is
//! why only the arming thread trusts the watch: another thread reads through the kernel.
//!
//! Bounded: at most [`MAX_ARMED`] polls are outstanding in the process; past that, reads
//! ask the kernel every time. The completion queue has room for all of them, so no
//! completion waits in the kernel's overflow list (where a completed poll would look
//! outstanding). Where io_uring is missing or refused (an old kernel,
//! `kernel.io_uring_disabled`, a seccomp filter) or a submission fails once, the watch is off
//! for the rest of the process and every read asks the kernel, as it did before; a
//! descriptor whose poll the kernel fails (any error but a cancellation) is never watched
//! again. Elsewhere than Linux the watch is always off.
//!
//! # References
//! - `io_uring_enter(2)`, `IORING_OP_POLL_ADD` (one-shot unless `IORING_POLL_ADD_MULTI`) and
//!   `IORING_OP_ASYNC_CANCEL`: <https://man7.org/linux/man-pages/man2/io_uring_enter.2.html>
//! - `io_uring_setup(2)`, `IORING_SETUP_COOP_TASKRUN`: "by default, io_uring will interrupt
//!   a task running in userspace when a completion event comes in":
//!   <https://man7.org/linux/man-pages/man2/io_uring_setup.2.html>

pub use imp::EmptyWatch;

impl EmptyWatch {
    /// One non-blocking read of `fd` through the watch: `EAGAIN` from memory while the
    /// descriptor is known empty, else `read` (a `read(2)`, a `recv(2)`), whose outcome the
    /// watch then remembers. The one place both the pipes and the sockets go through.
    #[inline(always)]
    pub fn read(
        &self,
        fd: crate::sys::RawHandle,
        read: impl FnOnce() -> std::io::Result<usize>,
    ) -> std::io::Result<usize> {
        if self.still_empty() {
            return Err(crate::sys::would_block());
        }
        let done = read();
        self.after_read(fd, matches!(&done, Err(e) if crate::sys::is_would_block(e)));
        done
    }
}

/// Whether the watch works on this platform (Linux); elsewhere it is always off.
#[cfg(test)]
pub const EMPTY_WATCH: bool = cfg!(target_os = "linux");

/// Answers from memory in a row, at most: then one read asks the kernel (the poll stays
/// armed). It bounds how stale an answer can be whatever the interrupt takes to arrive
/// (about 20 us more than a native spinning read on this project's VM, where
/// [`RECHECK_EVERY`] answers take about 3 us), for a few nanoseconds per call.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const RECHECK_EVERY: u32 = 64;

/// Polls outstanding at once in the process, at most.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const MAX_ARMED: usize = 256;

#[cfg(target_os = "linux")]
mod imp {
    use super::{MAX_ARMED, RECHECK_EVERY};
    use io_uring::{opcode, types, IoUring};
    use std::cell::Cell;
    use std::os::fd::RawFd;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
    use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

    /// The user data of a cancellation's own completion (a poll's is its slot's address).
    const CANCEL: u64 = 0;
    /// Submissions go in one at a time.
    const SQ_ENTRIES: u32 = 8;
    /// At most [`MAX_ARMED`] polls are outstanding and every access drains the queue first,
    /// so at most `MAX_ARMED` + 1 completions are ever pending.
    const CQ_ENTRIES: u32 = 4 * MAX_ARMED as u32;

    /// What the ring and the readers share about one descriptor.
    #[derive(Default)]
    struct Slot {
        /// A poll is outstanding (set before it is submitted, cleared by its completion).
        armed: AtomicBool,
        /// The thread that armed it ([`thread_token`]).
        owner: AtomicU64,
        /// `EAGAIN`s in a row.
        misses: AtomicU8,
        /// Answers from memory since the kernel was last asked.
        answered: AtomicU32,
        /// The kernel failed a poll of this descriptor: it is never armed again.
        refused: AtomicBool,
    }

    /// The process's ring and how many polls it has outstanding.
    struct Ring {
        uring: IoUring,
        outstanding: usize,
    }

    /// The ring, made on first use; `None` when io_uring is not to be had.
    static RING: OnceLock<Option<Mutex<Ring>>> = OnceLock::new();
    /// Set when a submission failed: the watch is off from then on.
    static BROKEN: AtomicBool = AtomicBool::new(false);

    fn ring() -> Option<MutexGuard<'static, Ring>> {
        if BROKEN.load(Relaxed) {
            return None;
        }
        let ring = RING.get_or_init(|| {
            // Room for every completion that can be pending (each outstanding poll's, and
            // a cancellation's): none is ever held back in the kernel's overflow list,
            // where a completed poll would look outstanding until the next system call.
            let uring = IoUring::builder()
                .setup_cqsize(CQ_ENTRIES)
                .build(SQ_ENTRIES)
                .ok()?;
            Some(Mutex::new(Ring {
                uring,
                outstanding: 0,
            }))
        });
        Some(
            ring.as_ref()?
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// A number for the calling thread, never 0, never reused.
    fn thread_token() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        thread_local!(static TOKEN: Cell<u64> = const { Cell::new(0) });
        TOKEN.with(|t| match t.get() {
            0 => {
                let token = NEXT.fetch_add(1, Relaxed);
                t.set(token);
                token
            }
            token => token,
        })
    }

    impl Ring {
        /// Takes every completion posted so far: each ends its slot's poll.
        fn drain(&mut self) {
            for cqe in self.uring.completion() {
                if cqe.user_data() == CANCEL {
                    continue;
                }
                // SAFETY: a poll's user data is the `Arc<Slot>` that `arm` gave up for it,
                // and a one-shot poll completes exactly once.
                let slot = unsafe { Arc::from_raw(cqe.user_data() as *const Slot) };
                // A poll ends with the events that were ready, or cancelled when its watch
                // was dropped; any other error (a descriptor the kernel will not poll) would
                // end every poll alike, costing an `io_uring_enter` per two reads for
                // nothing: that descriptor's reads ask the kernel from then on.
                let failed = cqe.result() < 0 && cqe.result() != -libc::ECANCELED;
                if failed {
                    slot.refused.store(true, Relaxed);
                }
                slot.armed.store(false, Release);
                self.outstanding = self.outstanding.saturating_sub(1);
            }
        }

        /// Submits `sqe`; false (and the watch off for good) if the kernel refused.
        fn submit(&mut self, sqe: &io_uring::squeue::Entry) -> bool {
            // SAFETY: the entry's buffers (none) and user data outlive the operation.
            let pushed = unsafe { self.uring.submission().push(sqe) }.is_ok();
            if pushed && self.uring.submit().is_ok_and(|n| n == 1) {
                return true;
            }
            // An entry left in the queue could go in later with nothing to answer for it:
            // stop using the ring at all (reads then ask the kernel, as without one).
            BROKEN.store(true, Relaxed);
            false
        }
    }

    /// See the module's contract.
    #[derive(Default)]
    pub struct EmptyWatch {
        slot: Arc<Slot>,
    }

    impl EmptyWatch {
        /// True when the descriptor is known to be still empty: this thread armed its poll
        /// and the poll has not completed.
        #[inline(always)]
        pub fn still_empty(&self) -> bool {
            let slot = &*self.slot;
            if !slot.armed.load(Acquire) || slot.owner.load(Relaxed) != thread_token() {
                return false;
            }
            let answered = slot.answered.load(Relaxed);
            if answered >= RECHECK_EVERY {
                slot.answered.store(0, Relaxed);
                return false;
            }
            slot.answered.store(answered + 1, Relaxed);
            let Some(mut ring) = ring() else {
                return false;
            };
            ring.drain();
            slot.armed.load(Acquire)
        }

        /// After a non-blocking read of `fd`: `empty` when it said `EAGAIN`. The second in a
        /// row arms the poll.
        #[inline(always)]
        pub fn after_read(&self, fd: RawFd, empty: bool) {
            let slot = &*self.slot;
            if !empty {
                if slot.misses.load(Relaxed) != 0 {
                    slot.misses.store(0, Relaxed);
                }
                return;
            }
            let misses = slot.misses.load(Relaxed);
            if misses == 0 {
                slot.misses.store(1, Relaxed);
                return;
            }
            if !slot.refused.load(Relaxed) {
                self.arm(fd);
            }
        }

        #[cold]
        fn arm(&self, fd: RawFd) {
            let Some(mut ring) = ring() else {
                return;
            };
            ring.drain();
            if self.slot.armed.load(Acquire) || ring.outstanding >= MAX_ARMED {
                return;
            }
            self.slot.owner.store(thread_token(), Relaxed);
            self.slot.armed.store(true, Release);
            let data = Arc::into_raw(self.slot.clone()) as u64;
            let poll = opcode::PollAdd::new(types::Fd(fd), libc::POLLIN as u32)
                .build()
                .user_data(data);
            if ring.submit(&poll) {
                ring.outstanding += 1;
            } else {
                self.slot.armed.store(false, Release);
            }
        }

        /// Whether a poll is outstanding, for tests.
        #[cfg(test)]
        pub fn armed(&self) -> bool {
            self.slot.armed.load(Acquire)
        }
    }

    impl Drop for EmptyWatch {
        fn drop(&mut self) {
            if !self.slot.armed.load(Acquire) {
                return;
            }
            let Some(mut ring) = ring() else {
                return;
            };
            ring.drain();
            if self.slot.armed.load(Acquire) {
                let poll = Arc::as_ptr(&self.slot) as u64;
                // The poll then completes (cancelled) and lets go of the descriptor's file;
                // a later drain frees its slot.
                ring.submit(&opcode::AsyncCancel::new(poll).build().user_data(CANCEL));
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// Off: every read asks the kernel.
    #[derive(Default)]
    pub struct EmptyWatch {
        _off: (),
    }

    impl EmptyWatch {
        /// Never known empty here.
        #[inline(always)]
        pub fn still_empty(&self) -> bool {
            false
        }

        /// Nothing to remember here.
        #[inline(always)]
        pub fn after_read(&self, _fd: crate::sys::RawHandle, _empty: bool) {}

        /// Never armed here.
        #[cfg(test)]
        pub fn armed(&self) -> bool {
            false
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::EmptyWatch;

    #[test]
    fn a_descriptor_the_kernel_will_not_poll_is_not_watched_again() {
        let watch = EmptyWatch::default();
        // -1 is no descriptor: the kernel ends its poll with EBADF at once.
        watch.after_read(-1, true);
        watch.after_read(-1, true);
        assert!(watch.armed(), "the second EAGAIN in a row arms the poll");
        assert!(!watch.still_empty(), "a failed poll is no answer");
        assert!(!watch.armed());
        for _ in 0..4 {
            watch.after_read(-1, true);
            assert!(!watch.armed(), "a refused descriptor is never armed again");
            assert!(!watch.still_empty());
        }
    }
}
