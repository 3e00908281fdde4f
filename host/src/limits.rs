//! Per-run limits: a wall-clock deadline, a memory ceiling, and fuel.
//!
//! - Deadline: real time, not ticks. Epoch interruption looks at the clock every
//!   [`EPOCH_TICK`] while the guest runs wasm (a loop spinning on `again` included) and stops
//!   it once the deadline has passed, however late the ticker thread is; host waits (a
//!   blocking read or write, accept, recv, send, a poll) check the same deadline between
//!   their slices and fail the call with [`DeadlineExceeded`]. A guest blocked where the host
//!   cannot look (inside wasmtime-wasi) is abandoned by [`crate::run::run_partial`] shortly
//!   after the deadline, with its output and events kept.
//! - Memory: a [`Limiter`] over wasmtime's `StoreLimits` that remembers a denied growth, so a
//!   trap that follows is reported as the memory limit it is.
//! - Fuel: wasmtime's fuel; running out is reported like a deadline.
//!
//! Each costs nothing when not asked for: the engine only enables epochs or fuel on request.

use std::time::{Duration, Instant};
use wasmtime::{Engine, ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// How often the engine's epoch advances when a deadline is set.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// What a run may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time from the guest's start.
    pub timeout: Option<Duration>,
    /// Bytes of linear memory (per memory).
    pub max_memory: Option<usize>,
    /// Units of wasmtime fuel.
    pub fuel: Option<u64>,
}

/// The error a host wait (or the epoch check) returns once the deadline has passed; it
/// carries the `--timeout` it enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineExceeded(pub Duration);

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deadline of {:?} exceeded", self.0)
    }
}

impl std::error::Error for DeadlineExceeded {}

/// When a running guest must stop, and the timeout that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The moment.
    pub at: Instant,
    /// The `--timeout` it came from.
    pub timeout: Duration,
}

impl Deadline {
    /// Fails with [`DeadlineExceeded`] once the deadline has passed.
    pub fn check(&self) -> wasmtime::Result<()> {
        if Instant::now() >= self.at {
            return Err(wasmtime::Error::new(DeadlineExceeded(self.timeout)));
        }
        Ok(())
    }
}

/// Fails with [`DeadlineExceeded`] once `deadline` (if any) has passed.
pub fn check(deadline: Option<Deadline>) -> wasmtime::Result<()> {
    deadline.map_or(Ok(()), |d| d.check())
}

/// Sets up `config` for `limits` (epochs for a deadline, fuel for fuel).
pub fn configure(config: &mut wasmtime::Config, epochs: bool, fuel: bool) {
    config.epoch_interruption(epochs);
    config.consume_fuel(fuel);
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`], for as long as the process lives.
pub fn start_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("wouldblock-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Lets a fresh store instantiate without a deadline (the default epoch deadline is "now",
/// and a component runs wasm while it is instantiated); [`apply`] sets the real one.
/// On an engine with fuel, a fresh store has none: fill it until [`apply`] sets the budget.
pub fn before_instantiate<T>(store: &mut wasmtime::Store<T>) {
    store.set_epoch_deadline(NEVER);
    // Fails only when the engine has no fuel, which is then nothing to fill.
    let _ = store.set_fuel(u64::MAX);
}

/// An epoch deadline that never comes (wasmtime adds it to the current epoch: not u64::MAX).
const NEVER: u64 = u64::MAX / 4;

/// Applies the deadline and fuel to a store whose guest starts now; returns the deadline.
/// (Setting an epoch deadline is harmless on an engine without epochs, and necessary on one
/// with them: the default deadline is "now".)
///
/// The deadline is real time: at every tick the epoch callback compares the clock with it,
/// so a ticker that sleeps longer than [`EPOCH_TICK`] (it drifts by a few percent) never
/// lets a guest run past it.
pub fn apply<T>(
    store: &mut wasmtime::Store<T>,
    limits: &Limits,
) -> wasmtime::Result<Option<Deadline>> {
    // A deadline past what an Instant can hold is no deadline.
    let deadline = limits.timeout.and_then(|timeout| {
        Some(Deadline {
            at: Instant::now().checked_add(timeout)?,
            timeout,
        })
    });
    match deadline {
        Some(d) => {
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |_| {
                d.check()?;
                Ok(wasmtime::UpdateDeadline::Continue(1))
            });
        }
        None => store.set_epoch_deadline(NEVER),
    }
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    Ok(deadline)
}

/// wasmtime's store limits, remembering whether a growth was denied.
pub struct Limiter {
    inner: StoreLimits,
    /// A memory or table growth was refused.
    pub denied: bool,
}

impl Limiter {
    /// Limits memory to `max_memory` bytes (unlimited when `None`).
    pub fn new(max_memory: Option<usize>) -> Self {
        let mut b = StoreLimitsBuilder::new();
        if let Some(m) = max_memory {
            b = b.memory_size(m);
        }
        Limiter {
            inner: b.build(),
            denied: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.memory_growing(current, desired, maximum)?;
        self.denied |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.table_growing(current, desired, maximum)?;
        self.denied |= !ok;
        Ok(ok)
    }
}
