//! Loading a guest: `.wasm` binary or `.wat` text, core module or component, read from the
//! bytes (never from a flag or the file name).

use crate::run::RunError;
use anyhow::anyhow;
use std::path::Path;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// A compiled guest.
pub enum Guest {
    /// A preview1 core module.
    Module(Module),
    /// A preview2 component.
    Component(Component),
}

impl Guest {
    /// `p1` or `p2`.
    pub fn abi(&self) -> &'static str {
        match self {
            Guest::Module(_) => "p1",
            Guest::Component(_) => "p2",
        }
    }
}

/// Reads and compiles the guest at `path`. Every failure is an input error.
pub fn load(engine: &Engine, path: &Path) -> Result<Guest, RunError> {
    let shown = path.display();
    let input = |msg: String| RunError::Input(anyhow!("{shown}: {msg}"));
    let meta = std::fs::metadata(path).map_err(|e| input(e.to_string()))?;
    if meta.is_dir() {
        return Err(input("is a directory, not a WebAssembly file".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| input(e.to_string()))?;
    let binary = if bytes.starts_with(b"\0asm") {
        bytes
    } else {
        if bytes.is_empty() {
            return Err(input(
                "empty file, not a WebAssembly module or component".into(),
            ));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| input("not a WebAssembly binary (no \\0asm header) nor text".into()))?;
        wat::parse_str(text)
            .map_err(|e| input(format!("not a WebAssembly binary, and not valid text: {e}")))?
    };
    if wasmparser::Parser::is_component(&binary) {
        Component::new(engine, &binary)
            .map(Guest::Component)
            .map_err(|e| input(format!("invalid component: {e}")))
    } else if wasmparser::Parser::is_core_wasm(&binary) {
        Module::new(engine, &binary)
            .map(Guest::Module)
            .map_err(|e| input(format!("invalid module: {e}")))
    } else {
        Err(input("unsupported WebAssembly version or layer".into()))
    }
}
