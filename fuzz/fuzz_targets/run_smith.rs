//! wasm-smith modules that import WASI preview1 (the calls whose `again` this project is
//! about, and the rest of the fd and poll surface) and export `_start` and `memory`, run
//! through the host: whatever the guest passes, the host does not panic or hang.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
)"#;

const EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start"))
)"#;

fn module(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut config: wasm_smith::Config = u.arbitrary()?;
    config.available_imports = Some(wat::parse_str(IMPORTS).unwrap());
    config.exports = Some(wat::parse_str(EXPORTS).unwrap());
    config.max_memory32_bytes = 1 << 24;
    config.memory64_enabled = false;
    config.threads_enabled = false;
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.canonicalize_nans = false;
    Ok(wasm_smith::Module::new(config, u)?.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if let Ok(bytes) = module(&mut u) {
        common::run_module(&bytes);
    }
});
