//! A wake-up signal shared by everything one guest can wait on.
//!
//! Every change to a host-managed handle (data written, drained, a writer closed) bumps a
//! generation counter. A waiter reads the generation, checks its conditions, and then waits
//! for the generation to move on: a change between the check and the wait is never lost.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// The signal; share it with `Arc`.
#[derive(Default)]
pub struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    /// A fresh signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current generation; pass it to [`Signal::wait_past`].
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Something changed: wake every waiter.
    pub fn notify(&self) {
        let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        *g = g.wrapping_add(1);
        self.changed.notify_all();
    }

    /// Waits until the generation differs from `seen` or `deadline` passes; true if it moved.
    pub fn wait_past(&self, seen: u64, deadline: Instant) -> bool {
        let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        while *g == seen {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self
                .changed
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
