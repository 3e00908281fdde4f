//! Shared by the `run_*` targets: runs a module through the whole host (load, link, run) with
//! a small deadline and memory limit. Any outcome is fine; a panic or a hang is a finding.

use std::sync::OnceLock;
use std::time::Duration;
use wouldblock::internals::run::{self, RunOptions, WasiMode};
use wouldblock::internals::spec::{OutputSpec, StdinSpec};
use wouldblock::internals::Limits;

/// One engine for every run of the target (with epochs: each run has a deadline).
pub fn engine() -> &'static run::GuestEngine {
    static ENGINE: OnceLock<run::GuestEngine> = OnceLock::new();
    ENGINE.get_or_init(|| run::engine(true, false).expect("engine"))
}

/// A file name of this process's own for a guest, in the temp directory.
pub fn scratch_path(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("wouldblock-fuzz-{tag}-{}.wasm", std::process::id()))
}

pub fn run_module(bytes: &[u8]) {
    let path = scratch_path("module");
    std::fs::write(&path, bytes).unwrap();
    let opts = RunOptions {
        guest: path,
        args: vec!["1".into(), "2".into()],
        stdin: StdinSpec::Open,
        stdout: OutputSpec::Inherit,
        stderr: OutputSpec::Inherit,
        wasi: WasiMode::Faithful,
        tcplisten: vec![],
        capture: true,
        limits: Limits {
            timeout: Some(Duration::from_millis(200)),
            max_memory: Some(16 << 20),
            fuel: None,
        },
        ..RunOptions::default()
    };
    let _ = run::run(engine(), &opts);
}
