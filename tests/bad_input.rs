//! Bad input to `wouldblock run`: exit code 2 and exactly one line `wouldblock: error: …` on
//! stderr, never a panic or a backtrace, whatever RUST_BACKTRACE says.

use std::process::Command;
use wouldblock_tests::guests::{P1_RUST_STDIN_NONBLOCK_READ, P1_RUST_TRIVIAL, P2_RUST_TRIVIAL};
use wouldblock_tests::{run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

fn wouldblock(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("RUST_BACKTRACE", "full")
        .env("RUST_LIB_BACKTRACE", "1");
    run_with_deadline(cmd, None, DEADLINE)
}

/// Asserts exit code 2 and one error line that contains `needle`.
fn assert_input_error(out: &Output, needle: &str) {
    assert_eq!(out.code, Some(2), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {out:?}");
    assert!(lines[0].starts_with("wouldblock: error: "), "{out:?}");
    assert!(
        lines[0].contains(needle),
        "`{needle}` not in {:?}",
        lines[0]
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

const NOT_THERE: &str = "/nonexistent/guest.wasm";

/// What the system says when `path` cannot be opened, as this platform words it (the oracle
/// for the host's line: "No such file or directory (os error 2)" on Linux, "Path not found.
/// (os error 3)" on Windows).
fn os_error(path: &str) -> std::io::Error {
    let e = std::fs::read(path).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    e
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn missing_file() {
    let out = wouldblock(&["run", NOT_THERE]);
    assert_input_error(
        &out,
        &format!("/nonexistent/guest.wasm: {}", os_error(NOT_THERE)),
    );
}

#[test]
fn directory() {
    let dir = temp_dir("dir-guest");
    let out = wouldblock(&["run", dir.to_str().unwrap()]);
    assert_input_error(&out, "is a directory");
}

#[test]
fn empty_file() {
    let dir = temp_dir("empty");
    let out = wouldblock(&["run", &write(&dir, "empty.wasm", b"")]);
    assert_input_error(&out, "empty file");
}

/// Refused from its length, before any of it is read or mapped (a sparse file: no disk).
#[test]
fn too_large_file() {
    let dir = temp_dir("too-large");
    let path = dir.join("huge.wasm");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len((512 << 20) + 1).unwrap();
    let out = wouldblock(&["run", path.to_str().unwrap()]);
    assert_input_error(&out, "huge.wasm: larger than 512 MiB");
}

#[test]
fn not_wasm() {
    let dir = temp_dir("notwasm");
    let out = wouldblock(&["run", &write(&dir, "hello.wasm", b"hello, world\n")]);
    assert_input_error(&out, "not a WebAssembly binary, and not valid text");
    let out = wouldblock(&["run", &write(&dir, "bin.wasm", &[0xff, 0xfe, 0x00, 0x01])]);
    assert_input_error(&out, "not a WebAssembly binary (no \\0asm header) nor text");
}

#[test]
fn truncated_module() {
    let dir = temp_dir("truncated");
    let bytes = std::fs::read(P1_RUST_STDIN_NONBLOCK_READ).unwrap();
    let out = wouldblock(&["run", &write(&dir, "t.wasm", &bytes[..bytes.len() / 2])]);
    assert_input_error(&out, "invalid module");
}

#[test]
fn module_without_start() {
    let dir = temp_dir("nostart");
    let wat = b"(module (memory (export \"memory\") 1))";
    let out = wouldblock(&["run", &write(&dir, "nostart.wat", wat)]);
    assert_input_error(&out, "exports no `_start` function");
}

#[test]
fn module_with_unknown_import() {
    let dir = temp_dir("unknownimport");
    let wat = b"(module (import \"env\" \"nope\" (func)) (func (export \"_start\")))";
    let out = wouldblock(&["run", &write(&dir, "imp.wat", wat)]);
    assert_input_error(&out, "instantiating the module");
}

#[test]
fn component_that_is_not_a_command() {
    let dir = temp_dir("notcommand");
    let out = wouldblock(&["run", &write(&dir, "c.wat", b"(component)")]);
    assert_input_error(&out, "instantiating the component as a wasi:cli/command");
}

#[test]
fn malformed_stdin_spec() {
    for (spec, needle) in [
        (
            "nope",
            "expected one of inherit, eof, open, data:TEXT, after:MS:TEXT, file:PATH",
        ),
        ("after:x:hi", "MS must be a whole number"),
        ("after:50", "expected after:MS:TEXT"),
        ("file:", "file: needs a PATH"),
    ] {
        let arg = format!("--stdin={spec}");
        let out = wouldblock(&["run", &arg, P1_RUST_STDIN_NONBLOCK_READ]);
        assert_input_error(&out, needle);
    }
    let out = wouldblock(&[
        "run",
        "--stdin",
        "file:/nonexistent/in",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "--stdin file:/nonexistent/in");
}

#[test]
fn malformed_dir_and_env() {
    let out = wouldblock(&["run", "--dir", "::/x", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, "expected HOST[::GUEST]");
    let out = wouldblock(&[
        "run",
        "--dir",
        "/nonexistent/dir",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "--dir /nonexistent/dir: not a directory on the host");
    let out = wouldblock(&["run", "--env", "=x", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, "expected NAME or NAME=VALUE with a non-empty NAME");
}

#[test]
fn usage_errors() {
    let out = wouldblock(&["run"]);
    assert_input_error(&out, "required arguments were not provided");
    // Not a subcommand: a guest, as `wasmtime frobnicate` would take it.
    let out = wouldblock(&["frobnicate"]);
    assert_input_error(&out, &format!("frobnicate: {}", os_error("frobnicate")));
    let out = wouldblock(&["run", "--wasi", "fast", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(
        &out,
        "-S fast: not a wasmtime WASI option, nor faithful or stock",
    );
}

#[test]
fn malformed_chaos() {
    for (spec, why) in [
        (
            "eagain=0.1",
            "`eagain=0.1`: the fault is one of again, short, wake",
        ),
        (
            "again@tty=1",
            "`again@tty=1`: a handle is one of stdin, stdout",
        ),
        (
            "again=0",
            "`again=0`: a probability is above 0 and at most 1",
        ),
        ("short=/0", "`short=/0`: `/N` needs a whole N of at least 1"),
        ("again=0.1,wake", "`wake`: no `=`"),
    ] {
        let out = wouldblock(&["run", "--chaos", spec, P1_RUST_STDIN_NONBLOCK_READ]);
        assert_input_error(&out, why);
    }
    let out = wouldblock(&["run", "--chaos-seed", "7", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, "--chaos <SPEC>");
    let out = wouldblock(&[
        "run",
        "--chaos",
        "again=0.5",
        "--chaos-seed",
        "seven",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "invalid value 'seven' for '--chaos-seed <N>'");
}

#[test]
fn malformed_recordings() {
    let dir = temp_dir("bad-recordings");
    let guest = P1_RUST_STDIN_NONBLOCK_READ;
    let missing = dir.join("missing.jsonl");
    let missing = missing.to_str().unwrap();
    let out = wouldblock(&["run", "--replay", missing, guest]);
    assert_input_error(&out, &format!("--replay {missing}: {}", os_error(missing)));
    let out = wouldblock(&["replay", missing]);
    assert_input_error(&out, &format!("{missing}: {}", os_error(missing)));
    let text = write(&dir, "text.jsonl", b"hello\n");
    let out = wouldblock(&["replay", &text]);
    assert_input_error(
        &out,
        "text.jsonl: not a wouldblock recording (line 1 is no `wouldblock.recording/1` header)",
    );
    // A real recording, then broken ways of it.
    let rec = dir.join("good.jsonl");
    let rec = rec.to_str().unwrap();
    let out = wouldblock(&["run", "--stdin", "open", "--record", rec, guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let good = std::fs::read_to_string(rec).unwrap();
    let header = good.lines().next().unwrap();
    let bad = write(
        &dir,
        "bad.jsonl",
        format!("{header}\n{{\"line\":\"call\"}}\n").as_bytes(),
    );
    let out = wouldblock(&["run", "--replay", &bad, guest]);
    assert_input_error(&out, "bad.jsonl: line 2: missing field `at_us`");
    let twice = write(
        &dir,
        "twice.jsonl",
        format!("{header}\n{header}\n").as_bytes(),
    );
    let out = wouldblock(&["replay", &twice]);
    assert_input_error(&out, "twice.jsonl: line 2: a second header");
    let newer = write(
        &dir,
        "newer.jsonl",
        header
            .replace("wouldblock.recording/1", "wouldblock.recording/2")
            .as_bytes(),
    );
    let out = wouldblock(&["replay", &newer]);
    assert_input_error(
        &out,
        "a recording of format `wouldblock.recording/2`; this wouldblock reads `wouldblock.recording/1`",
    );
    // Another guest than the one recorded.
    let out = wouldblock(&["run", "--replay", rec, P1_RUST_TRIVIAL]);
    assert_input_error(&out, "--replay: the recording is of another guest (");
    // What a recording cannot be made or replayed with.
    let out = wouldblock(&["run", "--record", rec, "--replay", rec, guest]);
    assert_input_error(
        &out,
        "'--record <FILE>' cannot be used with '--replay <FILE>'",
    );
    let out = wouldblock(&["run", "--replay", rec, "--chaos", "again=1", guest]);
    assert_input_error(
        &out,
        "the recording holds what --chaos injected; a replay injects nothing",
    );
    let out = wouldblock(&["run", "--record", rec, "--wasi", "stock", guest]);
    assert_input_error(&out, "--record records the faithful preview1 boundary of a module's _start; --wasi stock runs without it");
    let out = wouldblock(&["run", "--record", rec, P2_RUST_TRIVIAL]);
    assert_input_error(&out, "p2_rust_trivial.wasm is a component");
    let out = wouldblock(&["run", "--record", rec, "--invoke", "f", guest]);
    assert_input_error(&out, "--invoke runs without it");
    let nowhere = "/nonexistent/dir/run.jsonl";
    let out = wouldblock(&["run", "--record", nowhere, guest]);
    assert_input_error(&out, &format!("--record {nowhere}: {}", os_error(nowhere)));
}

#[test]
fn explain_bad_input() {
    let out = wouldblock(&["explain", "9999"]);
    assert_input_error(
        &out,
        "`9999` is not a WASI errno; expected a number from 0 to 76, a POSIX name such as EAGAIN, or a name: success, 2big",
    );
    let out = wouldblock(&["explain", "nosuchname"]);
    assert_input_error(&out, "notcapable");
    let out = wouldblock(&["explain", "again", "--platform", "beos"]);
    assert_input_error(
        &out,
        "[possible values: linux, macos, freebsd, windows, wasi]",
    );
    let out = wouldblock(&["run", "--platform", "beos", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(
        &out,
        "[possible values: linux, macos, freebsd, windows, wasi]",
    );
    let out = wouldblock(&["explain", "again", "--handle", "tty"]);
    assert_input_error(&out, "[possible values: pipe, socket]");
}

#[test]
fn malformed_network_options() {
    let out = wouldblock(&[
        "run",
        "--tcplisten",
        "localhost:80",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "is not HOST:PORT[@FD][+nonblock] with a numeric host");
    let out = wouldblock(&[
        "run",
        "--tcplisten",
        "127.0.0.1",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "is not HOST:PORT[@FD][+nonblock] with a numeric host");
    let out = wouldblock(&[
        "run",
        "--allow-net",
        "127.0.0.1:80,nope",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "`nope` is not HOST:PORT");
    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = wouldblock(&["run", "--tcplisten", &addr, P1_RUST_STDIN_NONBLOCK_READ]);
    // The system's own text, as this platform words it (Linux: "Address already in use").
    let native = std::net::TcpListener::bind(&addr).unwrap_err();
    assert_eq!(native.kind(), std::io::ErrorKind::AddrInUse);
    assert_input_error(&out, &format!("--tcplisten {addr}: {native}"));
}

#[test]
fn malformed_limits() {
    let out = wouldblock(&["run", "--timeout", "5x", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(
        &out,
        "`5x` is not a duration; expected e.g. 5 (seconds), 500ms, 1.5s, 2m, 1h",
    );
    let out = wouldblock(&["run", "--timeout", "0s", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, "`0s` is not a duration above zero");
    // A drain interval has the same bound (it used to be accepted and never end).
    let out = wouldblock(&[
        "run",
        "--stdout",
        "pipe:4096:1/99999999999999999s",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(&out, "at most 10 years");
    // Found by fuzzing: a duration whose deadline would overflow (was a host panic).
    let out = wouldblock(&[
        "run",
        "--timeout",
        "18446744073709551615s",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_input_error(
        &out,
        "`18446744073709551615s` is too long; at most 10 years",
    );
    // Found by fuzzing: humantime's sum panicking on an exact carry at u64::MAX seconds.
    let huge = "18446744073709551615s 999999999ns 1ns";
    let out = wouldblock(&["run", "--timeout", huge, P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, &format!("`{huge}` is too long; at most 10 years"));
    let out = wouldblock(&["run", "--max-memory", "lots", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(
        &out,
        "`lots` is not a size; expected bytes (decimal, or hex as 0x…), or a number with K, M or G (KB, KiB…)",
    );
    let out = wouldblock(&["run", "--fuel", "lots", P1_RUST_STDIN_NONBLOCK_READ]);
    assert_input_error(&out, "invalid value 'lots' for '--fuel <N>'");
}

#[test]
fn memory_request_over_the_limit() {
    let dir = temp_dir("bigmem");
    // 1024 pages (64 MiB) of initial memory against a 16 MiB limit: refused at instantiation.
    let wat = b"(module (memory (export \"memory\") 1024) (func (export \"_start\")))";
    let out = wouldblock(&["run", "--max-memory", "16MiB", &write(&dir, "big.wat", wat)]);
    assert_eq!(out.code, Some(125), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(
        lines[0].starts_with("wouldblock: error: guest hit its memory limit: "),
        "{out:?}"
    );
}
