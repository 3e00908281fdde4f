//! Scenario `sandbox_probe`: a guest that tries to get out. With `/sandbox` preopened (and,
//! in preview1, a listener at fd 4), it tries an absolute path, `..` out of the preopen, a
//! symlink pointing outside, the host's environment, a descriptor it was never given, a
//! socket used as a file, a file used as a socket. Each attempt reports the errno it got.

use wouldblock_guest::*;

fn errno_of(r: std::io::Result<impl Sized>) -> (u16, &'static str) {
    match r {
        Ok(_) => (0, "success"),
        Err(e) => match e.raw_os_error() {
            Some(n) => (n as u16, errno_name(n as u16)),
            None => (u16::MAX, "unknown"),
        },
    }
}

fn attempt(what: &str, r: std::io::Result<impl Sized>) {
    let (n, name) = errno_of(r);
    println!("WB op=attempt fd=none errno={n} name={name} what={what}");
}

fn main() {
    attempt("absolute", std::fs::read("/etc/passwd"));
    attempt("dotdot", std::fs::read("/sandbox/../etc/passwd"));
    attempt("dotdot-dir", std::fs::read_dir("/sandbox/.."));
    attempt("symlink-out", std::fs::read("/sandbox/escape"));
    attempt("inside", std::fs::read("/sandbox/inside.txt"));
    let host_vars = ["HOME", "PATH", "USER"]
        .iter()
        .filter(|k| std::env::var_os(k).is_some())
        .count();
    println!(
        "WB op=env fd=none errno=0 name=success host_vars={host_vars} given={}",
        std::env::var("GIVEN").unwrap_or_default()
    );
    let (e, _) = read(77, &mut [0u8; 4]);
    report("fd_read", 77, e, "never-given");
    // fd 4: the listener when there is one (after the one preopen).
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_seek(fd: u32, offset: i64, whence: u32, new: *mut u64) -> u16;
        fn fd_readdir(fd: u32, buf: *mut u8, len: u32, cookie: u64, used: *mut u32) -> u16;
    }
    let mut pos = 0u64;
    // SAFETY: a valid out-parameter.
    let e = unsafe { fd_seek(4, 0, 0, &mut pos) };
    report("fd_seek", 4, e, "socket-as-file");
    let (mut buf, mut used) = ([0u8; 64], 0u32);
    // SAFETY: 64 writable bytes and a valid out-parameter.
    let e = unsafe { fd_readdir(4, buf.as_mut_ptr(), 64, 0, &mut used) };
    report("fd_readdir", 4, e, "socket-as-dir");
    let (e, _) = accept(3, 0);
    report("sock_accept", 3, e, "dir-as-socket");
}
