//! The wasmtime engine guests run on.

use wasmtime::Engine;

/// The wasmtime version the host is built on (pinned exactly in the workspace manifest).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// A fresh engine configured for guests, with epoch interruption when deadlines will be set
/// and fuel when fuel will be. Compiled code is cached on disk (wasmtime's cache, in its
/// default location) when that can be set up; without it everything still works.
pub fn engine(epochs: bool, fuel: bool) -> anyhow::Result<Engine> {
    let mut config = wasmtime::Config::new();
    if let Ok(cache) = wasmtime::Cache::from_file(None) {
        config.cache(Some(cache));
    }
    crate::limits::configure(&mut config, epochs, fuel);
    // WASI 0.3 components: the component model's async ABI (streams, futures, BLOCKED).
    config.wasm_component_model_async(true);
    let engine = Engine::new(&config)?;
    if epochs {
        crate::limits::start_ticker(&engine);
    }
    Ok(engine)
}
