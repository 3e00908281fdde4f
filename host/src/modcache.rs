//! Compiled guests cached by the guest file's identity, in front of wasmtime's own cache.
//!
//! wasmtime's cache keys compiled code by a SHA-256 of the whole wasm and stores it
//! zstd-compressed: a warm start of CPython for WASI (25 MB of wasm) spent ~17 ms hashing and
//! ~11 ms decompressing, a quarter of its ~105 ms. This cache keys an entry by what the file
//! system says of the guest file instead — device, inode, size, modification time and
//! status-change time (which nobody can set back: any write to the file, or a restored
//! modification time, changes it) — with the engine's compatibility hash and the host's
//! versions, and keeps wasmtime's serialized artifact uncompressed, mapped on load (read
//! where it cannot be mapped).
//!
//! Contract:
//! - A hit is the artifact this host compiled from the same file, unchanged since, for an
//!   engine with the same settings (wasmtime also checks its version and settings in the
//!   artifact's header, and refuses a mismatch).
//! - Entries are written whole (a temporary file renamed into place) and never modified,
//!   so a mapping never sees a change; an evicted entry is unlinked, never truncated.
//! - Any failure (no cache directory, a bad or foreign entry, a full disk) falls back to
//!   compiling (through wasmtime's cache where it is used), without a word: the cache is
//!   only ever speed.
//! - At most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] bytes: adding one past either
//!   removes the oldest.
//! - Where the platform gives no file identity that a write always changes
//!   ([`crate::sys::file_identity`]; Windows), an entry is keyed by the guest's SHA-256
//!   instead, as wasmtime's cache keys it: the file is read to be hashed, and nothing else
//!   changes. There this cache is the only one (see [`crate::run::engine`]).

use crate::guest::Guest;
use sha2::Digest;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// The most entries kept.
pub const MAX_ENTRIES: usize = 256;
/// The most bytes kept (wasmtime's own cache keeps about as much by default).
pub const MAX_BYTES: u64 = 1 << 30;

/// The cache entry of one guest file as it is now, for one engine.
pub struct Entry {
    dir: PathBuf,
    key: String,
}

const MODULE: &str = "module";
const COMPONENT: &str = "component";

impl Entry {
    /// The entry for the guest `file` as opened, whose metadata is `meta`, on `engine`;
    /// `None` when there is no cache to use.
    pub fn for_file(
        engine: &Engine,
        file: &std::fs::File,
        meta: &std::fs::Metadata,
    ) -> Option<Entry> {
        let dir = crate::sys::cache_home()?.join("wouldblock").join(format!(
            "modules-{}-wasmtime-{}",
            env!("CARGO_PKG_VERSION"),
            crate::run::WASMTIME_VERSION
        ));
        let engine_hash = {
            let mut h = std::hash::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        let key = match crate::sys::file_identity(meta) {
            // Two 64-bit hashes with different prefixes: a 128-bit name.
            Some(identity) => {
                let half = |salt: u8| {
                    let mut h = std::hash::DefaultHasher::new();
                    (salt, identity, engine_hash).hash(&mut h);
                    h.finish()
                };
                format!("{:016x}{:016x}", half(1), half(2))
            }
            // Whoever writes the guest chooses its contents: a cryptographic name, so that no
            // two guests can be made to share an entry.
            None => {
                let bytes = crate::sys::map_file(file, meta.len()).ok()?;
                let contents = sha2::Sha256::digest(&*bytes);
                let name = sha2::Sha256::new()
                    .chain_update(contents)
                    .chain_update(engine_hash.to_le_bytes())
                    .finalize();
                name.iter().map(|b| format!("{b:02x}")).collect()
            }
        };
        Some(Entry { dir, key })
    }

    fn path(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("{}.{kind}", self.key))
    }

    /// The cached guest, when there is a usable entry.
    pub fn load(&self, engine: &Engine) -> Option<Guest> {
        // SAFETY (both kinds, both ways): entries are artifacts this cache wrote with
        // `serialize`, renamed whole into place and never modified (see the module's
        // contract); wasmtime checks the header's version and settings. Whoever can write the
        // user's cache directory could make this run any code — as with wasmtime's own cache,
        // which deserializes its entries the same way.
        let module = self.path(MODULE);
        if module.exists() {
            let mapped = unsafe { Module::deserialize_file(engine, &module) };
            return mapped
                .or_else(|_| unsafe { Module::deserialize(engine, read(&module)?) })
                .ok()
                .map(Guest::Module);
        }
        let component = self.path(COMPONENT);
        if component.exists() {
            let mapped = unsafe { Component::deserialize_file(engine, &component) };
            let c = mapped
                .or_else(|_| unsafe { Component::deserialize(engine, read(&component)?) })
                .ok()?;
            return Some(Guest::from_component(engine, c));
        }
        None
    }

    /// Stores the serialized guest (a component's or a module's), compiled from the file this
    /// entry is for; failures are ignored.
    pub fn store(&self, component: bool, bytes: &[u8]) {
        let kind = if component { COMPONENT } else { MODULE };
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| tempfile::NamedTempFile::new_in(&self.dir))
            .and_then(|mut tmp| {
                std::io::Write::write_all(&mut tmp, bytes)?;
                tmp.persist(self.path(kind)).map_err(|e| e.error)
            });
        if written.is_ok() {
            evict(&self.dir, MAX_ENTRIES, MAX_BYTES);
        }
    }
}

/// An entry's bytes, for when it cannot be mapped: Wine refuses the copy-on-write, executable
/// file mapping wasmtime makes on Windows (`VirtualProtect` fails, "Access denied").
fn read(entry: &std::path::Path) -> wasmtime::Result<Vec<u8>> {
    Ok(std::fs::read(entry)?)
}

/// Removes the oldest entries of `dir` until at most `entries` and `bytes` remain (and any
/// temporary file an interrupted store left behind more than an hour ago).
fn evict(dir: &std::path::Path, entries: usize, bytes: u64) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut all: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    for e in list.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with(".tmp") {
            let stale = now
                .duration_since(modified)
                .is_ok_and(|age| age.as_secs() > 3600);
            if stale {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        all.push((modified, meta.len(), path));
    }
    all.sort();
    let mut total: u64 = all.iter().map(|e| e.1).sum();
    let mut left = all.len();
    for (_, len, path) in all {
        if left <= entries && total <= bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            left -= 1;
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::evict;

    #[test]
    fn eviction_removes_the_oldest_first_until_within_both_limits() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        for (i, len) in [10usize, 20, 30, 40].into_iter().enumerate() {
            let p = dir.path().join(format!("e{i}.module"));
            std::fs::write(&p, vec![0u8; len]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(t0 + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        let names = || {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        evict(dir.path(), 3, 1000);
        assert_eq!(names(), ["e1.module", "e2.module", "e3.module"]);
        evict(dir.path(), 3, 70);
        assert_eq!(names(), ["e2.module", "e3.module"]);
        evict(dir.path(), 3, 70);
        assert_eq!(
            names(),
            ["e2.module", "e3.module"],
            "within both: nothing removed"
        );
    }
}
