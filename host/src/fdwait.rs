//! Async readiness of a host descriptor without a reactor: at most one helper thread per
//! descriptor and direction at a time.
//!
//! Contract: a task that finds the descriptor not ready calls [`Waiter::register`] with its
//! waker, which replaces any waker registered before; `register` says whether a helper must
//! be started (none is waiting). The helper waits for readiness (or a slice, to look again),
//! then calls [`Waiter::done`], which wakes the latest waker. However often a guest asks and
//! gives up (a 0.3 `stream.read` answered BLOCKED then cancelled, in a loop), the host starts
//! at most one thread per descriptor, direction and slice — a thread per call would let a
//! guest pile up thousands of threads, and cost ~29 us a call.

use std::sync::Mutex;
use std::task::Waker;

/// The read and the write side of one descriptor.
#[derive(Debug, Default)]
pub struct Waiters {
    read: Waiter,
    write: Waiter,
}

impl Waiters {
    /// The waiter for reads (`read`) or writes.
    pub fn get(&self, read: bool) -> &Waiter {
        if read {
            &self.read
        } else {
            &self.write
        }
    }
}

/// Who waits for one direction of one descriptor.
#[derive(Debug, Default)]
pub struct Waiter(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// The task to wake: the latest one registered.
    waker: Option<Waker>,
    /// A helper thread is waiting (and will call [`Waiter::done`]).
    helping: bool,
}

impl Waiter {
    /// Registers `waker` to be woken at the next readiness; `true` when the caller must start
    /// a helper that waits and then calls [`Waiter::done`].
    pub fn register(&self, waker: &Waker) -> bool {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut s.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        !std::mem::replace(&mut s.helping, true)
    }

    /// The helper's wait is over (ready, or the slice ran out, or it could not start): wakes
    /// the registered task, which looks again.
    pub fn done(&self) {
        let waker = {
            let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
            s.helping = false;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn one_helper_whatever_the_number_of_registrations_and_the_latest_waker_woken() {
        let w = Waiter::default();
        let (a, b) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        assert!(w.register(&wa), "the first registration starts the helper");
        for _ in 0..1000 {
            assert!(!w.register(&wa), "a helper is already waiting");
        }
        assert!(!w.register(&wb));
        w.done();
        assert_eq!(
            (a.0.load(Ordering::SeqCst), b.0.load(Ordering::SeqCst)),
            (0, 1)
        );
        w.done();
        assert_eq!(
            b.0.load(Ordering::SeqCst),
            1,
            "woken once, then nothing is registered"
        );
        assert!(
            w.register(&wa),
            "after done, the next registration starts a helper again"
        );
    }
}
