//! Loading a guest: `.wasm` binary or `.wat` text, core module or component, read from the
//! bytes (never from a flag or the file name).

use crate::run::RunError;
use anyhow::anyhow;
use std::path::Path;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// A guest ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// A preview1 core module.
    P1,
    /// A preview2 component.
    P2,
    /// A WASI 0.3 component.
    P3,
}

impl Abi {
    /// `p1`, `p2` or `p3`.
    pub fn name(self) -> &'static str {
        match self {
            Abi::P1 => "p1",
            Abi::P2 => "p2",
            Abi::P3 => "p3",
        }
    }
}

/// A compiled guest (cheap to clone: wasmtime shares the code).
#[derive(Clone)]
pub enum Guest {
    /// A preview1 core module.
    Module(Module),
    /// A preview2 component.
    Component(Component),
    /// A WASI 0.3 component (it exports `wasi:cli/run@0.3.*`).
    P3(Component),
}

impl Guest {
    /// `p1`, `p2` or `p3`.
    pub fn abi(&self) -> &'static str {
        match self {
            Guest::Module(_) => Abi::P1,
            Guest::Component(_) => Abi::P2,
            Guest::P3(_) => Abi::P3,
        }
        .name()
    }

    /// Whether it is a component (preview2 or 0.3).
    pub fn is_component(&self) -> bool {
        !matches!(self, Guest::Module(_))
    }
}

/// The largest guest file read (CPython for WASI is ~25 MB): a larger one is refused before
/// it is read.
pub const MAX_GUEST_BYTES: u64 = 512 << 20;

/// Reads a regular file of at most `max` bytes: never a FIFO or a device (which could block
/// or never end), never more than `max` bytes into memory. The error is one line.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory, not a file".into());
    }
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, socket or device is not read)".into());
    }
    let too_big = || format!("larger than {} MiB", max >> 20);
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads and compiles the guest at `path`. Every failure is an input error.
pub fn load(engine: &Engine, path: &Path) -> Result<Guest, RunError> {
    let shown = path.display();
    let input = |msg: String| RunError::Input(anyhow!("{shown}: {msg}"));
    let bytes = read_regular(path, MAX_GUEST_BYTES).map_err(input)?;
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
        let component = Component::new(engine, &binary)
            .map_err(|e| input(format!("invalid component: {e:#}")))?;
        Ok(if crate::p3::is_p3_command(engine, &component) {
            Guest::P3(component)
        } else {
            Guest::Component(component)
        })
    } else if wasmparser::Parser::is_core_wasm(&binary) {
        Module::new(engine, &binary)
            .map(Guest::Module)
            .map_err(|e| input(format!("invalid module: {e:#}")))
    } else {
        Err(input("unsupported WebAssembly version or layer".into()))
    }
}
