//! Per-run limits: a wall-clock deadline, a memory ceiling, and fuel.
//!
//! - Deadline: epoch interruption stops a guest running wasm (a loop spinning on `again`
//!   included) within one tick of [`EPOCH_TICK`]; host waits (a blocking read, a poll) check
//!   the same deadline between their slices and fail the call with [`DeadlineExceeded`]. For
//!   a guest blocked where the host cannot look (inside wasmtime-wasi's own preview2 waits),
//!   the `run` command's watchdog ends the process shortly after the deadline.
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

/// The error a host wait returns once the deadline has passed.
#[derive(Debug)]
pub struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Fails with [`DeadlineExceeded`] once `deadline` has passed.
pub fn check(deadline: Option<Instant>) -> wasmtime::Result<()> {
    match deadline {
        Some(d) if Instant::now() >= d => Err(wasmtime::Error::new(DeadlineExceeded)),
        _ => Ok(()),
    }
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
pub fn apply<T>(
    store: &mut wasmtime::Store<T>,
    limits: &Limits,
) -> wasmtime::Result<Option<Instant>> {
    match limits.timeout {
        Some(t) => {
            let ticks = t.as_nanos() / EPOCH_TICK.as_nanos() + 1;
            store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(NEVER).min(NEVER));
            store.epoch_deadline_trap();
        }
        None => store.set_epoch_deadline(NEVER),
    }
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    // A deadline past what an Instant can hold is no deadline.
    Ok(limits.timeout.and_then(|t| Instant::now().checked_add(t)))
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
