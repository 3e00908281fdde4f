//! Loading a guest: `.wasm` binary or `.wat` text, core module or component, read from the
//! bytes (never from a flag or the file name).

use crate::run::{GuestEngine, RunError};
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
    /// A compiled component: a WASI 0.3 command when it exports `wasi:cli/run@0.3.*`.
    pub fn from_component(engine: &Engine, component: Component) -> Guest {
        if crate::p3::is_p3_command(engine, &component) {
            Guest::P3(component)
        } else {
            Guest::Component(component)
        }
    }

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

    /// The compiled code as bytes, as wasmtime serializes it.
    pub fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        match self {
            Guest::Module(m) => m.serialize(),
            Guest::Component(c) | Guest::P3(c) => c.serialize(),
        }
    }

    /// The same code on another engine with the same settings, from `bytes`, what
    /// [`Guest::serialize`] made of it. The error is one line.
    fn moved_to(&self, engine: &Engine, bytes: &[u8]) -> Result<Guest, String> {
        let moved = match self {
            // SAFETY: the bytes are what `Module::serialize` just produced in this process,
            // for an engine with the same settings.
            Guest::Module(_) => unsafe { Module::deserialize(engine, bytes) }.map(Guest::Module),
            // SAFETY: as above, from `Component::serialize`.
            Guest::Component(_) | Guest::P3(_) => unsafe { Component::deserialize(engine, bytes) }
                .map(|c| Guest::from_component(engine, c)),
        };
        moved.map_err(|e| format!("moving the compiled guest to its engine: {e:#}"))
    }
}

/// The largest guest file read (CPython for WASI is ~25 MB): a larger one is refused before
/// it is read.
pub const MAX_GUEST_BYTES: u64 = 512 << 20;

/// Opens a regular file of at most `max` bytes: never a FIFO or a device (which could block
/// or never end). Its metadata as opened. The error is one line.
fn open_regular(path: &Path, max: u64) -> Result<(std::fs::File, std::fs::Metadata), String> {
    const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device is not read)";
    // The path first: opening a FIFO would block.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory, not a file".into());
    }
    if !meta.is_file() {
        return Err(NOT_REGULAR.into());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // Looked at again as opened: the path may name another file by now.
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(NOT_REGULAR.into());
    }
    if meta.len() > max {
        return Err(too_large(max));
    }
    Ok((file, meta))
}

fn too_large(max: u64) -> String {
    format!("larger than {} MiB", max >> 20)
}

/// Reads a regular file of at most `max` bytes (see [`open_regular`]), never more than `max`
/// bytes into memory. The error is one line.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let (file, meta) = open_regular(path, max)?;
    // Sized up front: one read, not a doubling buffer copied as it grows.
    let mut bytes =
        Vec::with_capacity(usize::try_from(meta.len()).map_or(0, |n| n.saturating_add(1)));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

/// Reads and compiles the guest at `path` for `engine`, from the compiled-guest cache when it
/// holds it. Every failure is an input error.
pub fn load(engine: &GuestEngine, path: &Path) -> Result<Guest, RunError> {
    let shown = path.display();
    let input = |msg: String| RunError::Input(anyhow!("{shown}: {msg}"));
    let (file, meta) = open_regular(path, MAX_GUEST_BYTES).map_err(input)?;
    let cached = crate::modcache::Entry::for_file(engine, &file, &meta);
    if let Some(guest) = cached.as_ref().and_then(|c| c.load(engine)) {
        return Ok(guest);
    }
    let (guest, serialized) = match engine.caching_compiler() {
        // Compiled through wasmtime's cache, then moved to the engine it runs on; the bytes
        // that moved it are what the cache stores.
        Some(compiler) => {
            let compiled = compile(&compiler, &file, meta.len()).map_err(input)?;
            let bytes = compiled
                .serialize()
                .map_err(|e| input(format!("serializing the compiled guest: {e:#}")))?;
            (
                compiled.moved_to(engine, &bytes).map_err(input)?,
                Some(bytes),
            )
        }
        None => (compile(engine, &file, meta.len()).map_err(input)?, None),
    };
    if let Some(c) = cached {
        if let Some(bytes) = serialized.or_else(|| guest.serialize().ok()) {
            c.store(guest.is_component(), &bytes);
        }
    }
    Ok(guest)
}

/// Compiles the guest in `file` (`len` bytes): the error is one line.
fn compile(engine: &Engine, file: &std::fs::File, len: u64) -> Result<Guest, String> {
    let bytes = crate::sys::map_file(file, len).map_err(|e| e.to_string())?;
    let text_binary;
    let binary: &[u8] = if bytes.starts_with(b"\0asm") {
        &bytes
    } else {
        if bytes.is_empty() {
            return Err("empty file, not a WebAssembly module or component".into());
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| "not a WebAssembly binary (no \\0asm header) nor text".to_string())?;
        text_binary = wat::parse_str(text)
            .map_err(|e| format!("not a WebAssembly binary, and not valid text: {e}"))?;
        &text_binary
    };
    if wasmparser::Parser::is_component(binary) {
        Component::new(engine, binary)
            .map(|c| Guest::from_component(engine, c))
            .map_err(|e| format!("invalid component: {e:#}"))
    } else if wasmparser::Parser::is_core_wasm(binary) {
        Module::new(engine, binary)
            .map(Guest::Module)
            .map_err(|e| format!("invalid module: {e:#}"))
    } else {
        Err("unsupported WebAssembly version or layer".into())
    }
}
