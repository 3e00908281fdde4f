//! The library surface, used as an embedder uses it: a store type of the test's own, the
//! faithful layer added with `wouldblock::add_to_linker` and a closure, contexts built with
//! `FaithfulCtx::builder()`. Only the crate's public items are used here. Each guest runs on a
//! thread of its own and must finish before the deadline.

use std::net::TcpListener;
#[path = "embedder.rs"]
mod embedder;

use wasmtime::{Engine, Module};
use wouldblock::{
    FaithfulCtx, FaithfulCtxBuilder, Handle, OutputSpec, Platform, StdinSpec, WasiErrno,
};
use wouldblock_tests::guests::*;

/// Runs the preview1 command `guest` over the context `builder` makes (outputs captured):
/// its exit code, and the context afterwards, finished.
fn run(guest: &str, builder: &mut FaithfulCtxBuilder) -> (i32, FaithfulCtx) {
    let faithful = builder
        .capture_output(true)
        .build(wasmtime_wasi::WasiCtxBuilder::new())
        .expect("the context builds");
    let engine = Engine::default();
    let module = Module::from_file(&engine, guest).unwrap();
    embedder::run_module(engine, module, faithful)
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn open_stdin_read_is_again_and_renders_per_platform() {
    let (code, ctx) = run(
        P1_RUST_STDIN_NONBLOCK_READ,
        FaithfulCtx::builder().stdin(StdinSpec::Open),
    );
    assert_eq!(code, 0);
    assert_eq!(
        lines(&ctx.stdout()),
        [
            "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4",
            "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=4",
            "WB op=fd_read fd=0 errno=6 name=again",
        ]
    );
    let log = ctx.events();
    let [e] = log.events() else {
        panic!("one event: {:?}", log.events())
    };
    assert_eq!(
        (e.call, e.fd, e.handle, e.errno, e.count),
        ("fd_read", 0, Handle::Stdin, WasiErrno::Again, 1)
    );
    let line = |p| e.python(p).expect("a rendering").line;
    assert_eq!(
        line(Platform::Linux),
        "BlockingIOError: [Errno 11] Resource temporarily unavailable"
    );
    assert_eq!(
        line(Platform::Macos),
        "BlockingIOError: [Errno 35] Resource temporarily unavailable"
    );
}

#[test]
fn data_on_stdin_is_read_without_an_event() {
    let (code, ctx) = run(
        P1_RUST_STDIN_NONBLOCK_READ,
        FaithfulCtx::builder().stdin("data:hi".parse().unwrap()),
    );
    assert_eq!(code, 0);
    assert_eq!(
        lines(&ctx.stdout()).last().map(String::as_str),
        Some("WB op=fd_read fd=0 errno=0 name=success n=2 data=hi")
    );
    assert!(ctx.events().events().is_empty());
}

#[test]
fn full_bounded_stderr_is_a_short_write_then_again() {
    let spec: OutputSpec = "pipe:8192".parse().unwrap();
    let (code, ctx) = run(P1_RUST_WRITE_FULL_PIPE, FaithfulCtx::builder().stderr(spec));
    assert_eq!(code, 0);
    assert_eq!(
        lines(&ctx.stdout()),
        [
            "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4",
            "WB op=fd_write fd=2 errno=0 name=success len=5000 n=5000",
            "WB op=fd_write fd=2 errno=0 name=success len=5000 n=3192",
            "WB op=fd_write fd=2 errno=6 name=again len=5000",
        ]
    );
    assert_eq!(ctx.stderr().len(), 8192);
    let log = ctx.events();
    let [e] = log.events() else {
        panic!("one event: {:?}", log.events())
    };
    assert_eq!((e.call, e.fd, e.handle), ("fd_write", 2, Handle::Stderr));
    let py = e.python(Platform::Linux).unwrap();
    assert_eq!(py.characters_written, Some(3192));
    assert_eq!(py.exception, "BlockingIOError");
}

#[test]
fn a_listener_without_a_client_is_again() {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, ctx) = run(
        P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        FaithfulCtx::builder().listener(socket, 3, false),
    );
    assert_eq!(code, 0);
    assert_eq!(
        lines(&ctx.stdout()),
        [
            "WB op=fd_fdstat_set_flags fd=3 errno=0 name=success flags=4",
            "WB op=sock_accept fd=3 errno=6 name=again flags=0",
        ]
    );
    let log = ctx.events();
    let [e] = log.events() else {
        panic!("one event: {:?}", log.events())
    };
    assert_eq!(
        (e.call, e.fd, e.handle),
        ("sock_accept", 3, Handle::Listener)
    );
    // A Windows socket says WSAEWOULDBLOCK where a pipe says EAGAIN.
    assert_eq!(
        e.python(Platform::Windows).unwrap().line,
        "BlockingIOError: [WinError 10035] A non-blocking socket operation could not be completed immediately"
    );
}

#[test]
fn the_builder_refuses_listener_numbers_it_cannot_give() {
    let socket = || TcpListener::bind("127.0.0.1:0").unwrap();
    let build = |b: &mut FaithfulCtxBuilder, wasi| b.build(wasi).err().map(|e| e.to_string());
    let plain = wasmtime_wasi::WasiCtxBuilder::new;
    assert_eq!(
        build(FaithfulCtx::builder().listener(socket(), 2, false), plain()).as_deref(),
        Some("listener descriptor 2 is out of range (3 to 1023) or given twice")
    );
    assert_eq!(
        build(
            FaithfulCtx::builder()
                .listener(socket(), 5, false)
                .listener(socket(), 5, true),
            plain()
        )
        .as_deref(),
        Some("listener descriptor 5 is out of range (3 to 1023) or given twice")
    );
    // A preopened directory holds 3: the listener cannot have it.
    let dir = std::env::temp_dir();
    let mut wasi = plain();
    wasi.preopened_dir(&dir, "/tmp", wasmtime_wasi::FsPerms::ReadOnly)
        .unwrap();
    assert_eq!(
        build(FaithfulCtx::builder().listener(socket(), 3, false), wasi).as_deref(),
        Some("listener descriptor 3 is taken: a preopened directory (or stdio) has it")
    );
}
