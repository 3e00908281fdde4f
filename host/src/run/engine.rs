//! The wasmtime engine guests run on.
//!
//! Contract:
//! - A run's process has no thread of wasmtime's: the engine guests run on has no on-disk
//!   cache, whose worker thread would live as long as it. (In a process of one thread, Linux
//!   looks up a descriptor without touching its reference count: every `read`, `write` and
//!   `poll` a guest makes is ~45 ns cheaper on the machine of BENCHMARKS.md.)
//! - A guest that is not in the compiled-guest cache ([`crate::modcache`]) is compiled on a
//!   short-lived engine with the same settings and wasmtime's on-disk cache (keyed by the
//!   wasm's content), when that cache can be set up; its worker thread ends with that engine.
//!   Without it, the guest compiles on the engine it runs on.
//! - Where the compiled-guest cache keys entries by content (no file identity: Windows), it
//!   is the only cache: wasmtime's is not used at all. Its worker thread, which no one can
//!   join, would still be writing its statistics while a short guest exits, and a process
//!   that ends while a thread is inside a system call can hang in `ExitProcess` under Wine
//!   (about one run in 2,000 of a guest that exits at once did, on 2026-12-05).

use wasmtime::Engine;

/// The wasmtime version the host is built on (pinned exactly in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// An engine guests run on, with the settings it was made with.
#[derive(Clone)]
pub struct GuestEngine {
    engine: Engine,
    epochs: bool,
    fuel: bool,
}

impl std::ops::Deref for GuestEngine {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl GuestEngine {
    /// An engine with the same settings that compiles through wasmtime's on-disk cache;
    /// `None` where that cache is not used (see the module's contract) or cannot be set up
    /// (then compile on this one). Code it compiles runs here only once moved (serialized,
    /// then deserialized on this engine).
    pub fn caching_compiler(&self) -> Option<Engine> {
        if !crate::sys::FILE_IDENTITY {
            return None;
        }
        let mut config = config(self.epochs, self.fuel);
        with_disk_cache(&mut config).then(|| Engine::new(&config).ok())?
    }
}

/// The settings every engine of the host has.
fn config(epochs: bool, fuel: bool) -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    crate::limits::configure(&mut config, epochs, fuel);
    // WASI 0.3 components: the component model's async ABI (streams, futures, BLOCKED).
    config.wasm_component_model_async(true);
    config
}

/// Adds wasmtime's on-disk cache (its default location, and its `config.toml`) to `config`;
/// false when it cannot be set up.
fn with_disk_cache(config: &mut wasmtime::Config) -> bool {
    match wasmtime::Cache::from_file(None) {
        Ok(cache) => {
            config.cache(Some(cache));
            true
        }
        Err(_) => false,
    }
}

/// A fresh engine configured for guests, with epoch interruption when deadlines will be set
/// and fuel when fuel will be.
pub fn engine(epochs: bool, fuel: bool) -> anyhow::Result<GuestEngine> {
    let engine = Engine::new(&config(epochs, fuel))?;
    if epochs {
        crate::limits::start_ticker(&engine);
    }
    Ok(GuestEngine {
        engine,
        epochs,
        fuel,
    })
}
