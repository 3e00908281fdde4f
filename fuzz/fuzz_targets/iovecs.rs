//! Iovec amplification: a guest of two pages passes `fd_write` / `sock_send` an arbitrary
//! iovec array (up to 4096 entries, each pointing anywhere with any length, all free to
//! overlap), blocking or not, to stdout, stderr or a socket. The host may write, fail with
//! `fault`, or stop at the deadline; it must never hold more than a bounded amount of host
//! memory for it. `fuzz/run` runs this target with `-malloc_limit_mb=64`: any single
//! allocation above 64 MiB is a finding (gathering the iovecs used to allocate their sum).
#![no_main]

use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

#[derive(Debug)]
struct Call {
    nonblocking: bool,
    fd: u8,
    send: bool,
    iovecs: Vec<(u32, u32)>,
}

impl<'a> Arbitrary<'a> for Call {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.int_in_range(0..=4096usize)?;
        let mut iovecs = Vec::with_capacity(n);
        for _ in 0..n {
            // Mostly inside the guest's 128 KiB, sometimes anywhere.
            let ptr = if u.ratio(7, 8)? {
                u.int_in_range(0..=131_071)?
            } else {
                u.arbitrary()?
            };
            let len = if u.ratio(7, 8)? {
                u.int_in_range(0..=131_072)?
            } else {
                u.arbitrary()?
            };
            iovecs.push((ptr, len));
        }
        Ok(Call {
            nonblocking: u.arbitrary()?,
            fd: u.int_in_range(1..=2)?,
            send: u.arbitrary()?,
            iovecs,
        })
    }
}

/// The guest: the iovecs as data at 64 KiB, then one call.
fn module(c: &Call) -> String {
    let bytes: String = c
        .iovecs
        .iter()
        .flat_map(|(p, l)| p.to_le_bytes().into_iter().chain(l.to_le_bytes()))
        .map(|b| format!("\\{b:02x}"))
        .collect();
    let n = c.iovecs.len();
    let call = if c.send {
        format!("(drop (call $send (i32.const {}) (i32.const 65536) (i32.const {n}) (i32.const 0) (i32.const 0)))", c.fd)
    } else {
        format!(
            "(drop (call $write (i32.const {}) (i32.const 65536) (i32.const {n}) (i32.const 0)))",
            c.fd
        )
    };
    let flags = if c.nonblocking { 4 } else { 0 };
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $flags (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 65536) "{bytes}")
  (func (export "_start")
    (drop (call $flags (i32.const {fd}) (i32.const {flags})))
    {call}))"#,
        fd = c.fd
    )
}

fuzz_target!(|c: Call| {
    let wasm = wat::parse_str(module(&c)).expect("the module is valid");
    common::run_module(&wasm);
});
