//! A wasmtime host of its own that embeds wouldblock's faithful preview1 layer.
//!
//! The host has its own store type (`Host`) and its own import (`host.count_again`); it adds
//! the faithful layer with `wouldblock::add_to_linker` and a closure that finds the context
//! in its store, runs a guest with stdin an open pipe nobody writes to, and prints what the
//! guest met at the boundary as Python would raise it.
//!
//! `cargo run --example embed` runs the guest below; `cargo run --example embed -- FILE`
//! runs any preview1 command module instead (its `_start`, with the same stdin).

use wasmtime::{Caller, Engine, Linker, Module, Store};
use wouldblock::{FaithfulCtx, Platform, StdinSpec};

/// The host's own store data: the faithful context is one field among others.
struct Host {
    faithful: FaithfulCtx,
    /// How many times the guest called `host.count_again`.
    agains_reported: u32,
}

/// Sets stdin non-blocking, reads it once, tells the host when the read returned `again`
/// (errno 6) and writes `fd_read -> errno N` to stdout.
const GUEST: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "host" "count_again" (func $count_again))
  (memory (export "memory") 1)
  (data (i32.const 64) "fd_read -> errno ?\n")
  (func (export "_start") (local $errno i32)
    (drop (call $set_flags (i32.const 0) (i32.const 4)))   ;; fdflags.nonblock on stdin
    (i32.store (i32.const 0) (i32.const 128))              ;; iovec: 16 bytes at 128
    (i32.store (i32.const 4) (i32.const 16))
    (local.set $errno (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (i32.eq (local.get $errno) (i32.const 6)) (then (call $count_again)))
    (i32.store8 (i32.const 81) (i32.add (i32.const 48) (local.get $errno)))
    (i32.store (i32.const 16) (i32.const 64))              ;; iovec: the line
    (i32.store (i32.const 20) (i32.const 19))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))
"#;

fn main() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut linker: Linker<Host> = Linker::new(&engine);
    wouldblock::add_to_linker(&mut linker, |h: &mut Host| &mut h.faithful)?;
    linker.func_wrap("host", "count_again", |mut caller: Caller<'_, Host>| {
        caller.data_mut().agains_reported += 1;
    })?;

    let module = match std::env::args_os().nth(1) {
        Some(file) => Module::from_file(&engine, file)?,
        None => Module::new(&engine, GUEST)?,
    };
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    wasi.arg("guest");
    let faithful = FaithfulCtx::builder().stdin(StdinSpec::Open).build(wasi)?;
    let mut store = Store::new(
        &engine,
        Host {
            faithful,
            agains_reported: 0,
        },
    );
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    if let Err(e) = start.call(&mut store, ()) {
        match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) if exit.0 == 0 => {}
            _ => return Err(e),
        }
    }

    let host = store.data();
    println!(
        "host: the guest reported {} would-block(s)",
        host.agains_reported
    );
    let platform = Platform::host().unwrap_or(Platform::Linux);
    for event in host.faithful.events().events() {
        let python = event
            .python(platform)
            .map_or_else(|| "no Python error".to_string(), |py| py.line);
        println!(
            "host: {}(fd={}, {}) -> {} x{}: {python}",
            event.call,
            event.fd,
            event.handle.name(),
            event.errno.name(),
            event.count
        );
    }
    Ok(())
}
