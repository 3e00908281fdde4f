//! A deadline during blocking calls: a guest makes a sequence of host calls that block
//! (accept on a listener nobody connects to, a read of an open empty stdin, a write into a
//! full stdout pipe, a poll with nothing ready and no clock, a sleep), with arbitrary
//! arguments. Under a 100 ms deadline the run must come back within a second of it, with the
//! deadline as its reason or an exit of the guest's own; never hang, never panic.
#![no_main]

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use wouldblock::internals::run::{self, RunError, RunOptions, WasiMode};
use wouldblock::internals::spec::{OutputSpec, StdinSpec};

#[path = "common.rs"]
#[allow(dead_code)] // this target runs its own options, not `run_module`
mod common;

#[derive(Arbitrary, Debug)]
enum Op {
    /// `sock_accept(fd, flags, ptr)`: fd 3 is the listener.
    Accept { fd: u8, flags: u8, ptr: u16 },
    /// `fd_read(fd, iov at ptr)`: fd 0 is an open, empty stdin.
    Read { fd: u8, ptr: u16, len: u16 },
    /// `fd_write(fd, iov at ptr)`: fd 1 is a 4 KiB pipe nobody drains.
    Write { fd: u8, ptr: u16, len: u16 },
    /// `sock_recv(fd, …)`.
    Recv { fd: u8, flags: u8, len: u16 },
    /// `poll_oneoff` on one descriptor, `write` or not, with no clock.
    Poll { fd: u8, write: bool },
    /// `fd_fdstat_set_flags(fd, flags)`.
    Flags { fd: u8, flags: u16 },
}

fn wat(ops: &[Op]) -> String {
    let body: String = ops
        .iter()
        .take(16)
        .map(|op| match *op {
            Op::Accept { fd, flags, ptr } => format!(
                "(drop (call $accept (i32.const {fd}) (i32.const {flags}) (i32.const {ptr})))"
            ),
            Op::Read { fd, ptr, len } => format!(
                "(i32.store (i32.const 0) (i32.const {ptr})) (i32.store (i32.const 4) (i32.const {len})) (drop (call $read (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 8)))"
            ),
            Op::Write { fd, ptr, len } => format!(
                "(i32.store (i32.const 0) (i32.const {ptr})) (i32.store (i32.const 4) (i32.const {len})) (drop (call $write (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 8)))"
            ),
            Op::Recv { fd, flags, len } => format!(
                "(i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const {len})) (drop (call $recv (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const {flags}) (i32.const 8) (i32.const 12)))"
            ),
            Op::Poll { fd, write } => format!(
                "(i32.store8 (i32.const 0x108) (i32.const {})) (i32.store (i32.const 0x110) (i32.const {fd})) (drop (call $poll (i32.const 0x100) (i32.const 0x200) (i32.const 1) (i32.const 0x300)))",
                if write { 2 } else { 1 }
            ),
            Op::Flags { fd, flags } => {
                format!("(drop (call $flags (i32.const {fd}) (i32.const {flags})))")
            }
        })
        .collect();
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $flags (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start") {body}))"#
    )
}

const TIMEOUT: Duration = Duration::from_millis(100);

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(ops) = Vec::<Op>::arbitrary(&mut u) else {
        return;
    };
    let path = common::scratch_path("deadline");
    std::fs::write(&path, wat(&ops)).unwrap();
    let opts = RunOptions {
        guest: path,
        stdin: StdinSpec::Open,
        stdout: OutputSpec::Pipe {
            capacity: 4096,
            drain: None,
        },
        stderr: OutputSpec::Inherit,
        wasi: WasiMode::Faithful,
        tcplisten: vec!["127.0.0.1:0".parse().unwrap()],
        capture: true,
        limits: wouldblock::internals::Limits {
            timeout: Some(TIMEOUT),
            max_memory: Some(16 << 20),
            fuel: None,
        },
        ..RunOptions::default()
    };
    let started = Instant::now();
    let result = run::run(common::engine(), &opts).and_then(|f| f.result);
    let took = started.elapsed();
    assert!(
        took < TIMEOUT + Duration::from_secs(1),
        "the run took {took:?} with a {TIMEOUT:?} deadline: {ops:?}"
    );
    match result {
        Ok(_) | Err(RunError::Timeout(_)) | Err(RunError::Trap(_)) => {}
        Err(e) => panic!("unexpected {}: {ops:?}", e.message()),
    }
});
