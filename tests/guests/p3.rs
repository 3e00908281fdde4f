//! WASI 0.3 components: stdin read through `read-via-stream`, stdout and stderr written
//! through `write-via-stream`, each operation looked at once. The host answers BLOCKED exactly
//! when a POSIX non-blocking call would say EAGAIN, and records every BLOCKED, cancel, short
//! write and readiness probe on its handle; `--wasi stock` is wasmtime-wasi's own 0.3 stdio.
//! A non-blocking copy loop over the host's own pipe; 0.3 TCP sockets (accept and receive
//! streams BLOCKED with nothing there, wasmtime-wasi's own and not recorded).

use super::{wouldblock, BIN};
use std::process::Command;
use wouldblock_tests::guests::*;
use wouldblock_tests::{os_pipe, read_json, run_with_deadline, run_with_stdin, temp_dir, DEADLINE};

const BLOCKED: &str = "WB op=stream.read fd=0 result=blocked";
const CANCELLED: &str = "WB op=stream.cancel-read fd=0 errno=6 name=again result=cancelled n=0";

/// Runs `wouldblock run` with `args` (the guest last) and `--report`: the output and the
/// report.
fn run_reported(tag: &str, args: &[&str]) -> (wouldblock_tests::Output, serde_json::Value) {
    let report = temp_dir(tag).join("r.json");
    let mut all = vec!["run", "--report", report.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = wouldblock(&all);
    let r = read_json(&report);
    (out, r)
}

/// `(call, handle, wasi_name, count, characters_written)` of each reported event.
fn events(report: &serde_json::Value) -> Vec<(String, String, String, u64, Option<u64>)> {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["call"].as_str().unwrap().to_string(),
                e["handle"].as_str().unwrap().to_string(),
                e["wasi_name"].as_str().unwrap().to_string(),
                e["count"].as_u64().unwrap(),
                e["characters_written"].as_u64(),
            )
        })
        .collect()
}

fn ev(
    call: &str,
    handle: &str,
    name: &str,
    count: u64,
    written: Option<u64>,
) -> (String, String, String, u64, Option<u64>) {
    (call.into(), handle.into(), name.into(), count, written)
}

#[test]
pub fn p3_rust_stdin_nonblock_read() {
    let (out, r) = run_reported(
        "p3-stdin-nonblock-read",
        &[
            "--stdin",
            "open",
            "--platform",
            "macos",
            P3_RUST_STDIN_NONBLOCK_READ,
        ],
    );
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec![BLOCKED, CANCELLED]),
        "{out:?}"
    );
    assert_eq!(
        out.host_lines(),
        [
            "wouldblock: stream.read(fd=0, stdin) -> again (6) x1 = BlockingIOError: \
             [Errno 35] Resource temporarily unavailable [macos]",
            "wouldblock: stream.cancel-read(fd=0, stdin) -> again (6) x1 = BlockingIOError: \
             [Errno 35] Resource temporarily unavailable [macos]",
        ],
        "{out:?}"
    );
    assert_eq!(r["abi"], "p3");
    assert_eq!(
        events(&r),
        [
            ev("stream.read", "stdin", "again", 1, None),
            ev("stream.cancel-read", "stdin", "again", 1, None),
        ]
    );
    assert_eq!(r["events"][1]["python"]["errno"], 35);
    // Data and end-of-file complete the read at the first look: nothing recorded.
    for (stdin, line) in [
        (
            "data:hello",
            "WB op=stream.read fd=0 errno=0 name=success n=5 data=hello",
        ),
        (
            "eof",
            "WB op=stream.read fd=0 errno=0 name=success n=0 closed=1",
        ),
    ] {
        let out = wouldblock(&["run", "--stdin", stdin, P3_RUST_STDIN_NONBLOCK_READ]);
        assert_eq!(
            (out.code, out.wb_lines(), out.host_lines().len()),
            (Some(0), vec![line], 0),
            "{stdin}: {out:?}"
        );
    }
    // wasmtime-wasi's own stdio: the same answers, nothing observed.
    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--stdin",
        "open",
        P3_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_eq!(
        (out.code, out.wb_lines(), out.host_lines().len()),
        (Some(0), vec![BLOCKED, CANCELLED], 0),
        "{out:?}"
    );
}

/// The host's own stdin, a real pipe (`--stdin inherit`): open and empty, BLOCKED and
/// cancelled; with data written before the start, complete at the first look.
#[cfg(unix)]
#[test]
pub fn p3_stdin_read_inherited_pipe() {
    use std::io::Write as _;
    let (r, w) = os_pipe();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--stdin", "inherit", P3_RUST_STDIN_NONBLOCK_READ]);
    let out = run_with_stdin(cmd, r, DEADLINE);
    drop(w);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec![BLOCKED, CANCELLED]),
        "{out:?}"
    );
    let (r, mut w) = os_pipe();
    w.write_all(b"piped").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--stdin", "inherit", P3_RUST_STDIN_NONBLOCK_READ]);
    let out = run_with_stdin(cmd, r, DEADLINE);
    drop(w);
    assert_eq!(
        (out.code, out.wb_lines(), out.host_lines().len()),
        (
            Some(0),
            vec!["WB op=stream.read fd=0 errno=0 name=success n=5 data=piped"],
            0
        ),
        "{out:?}"
    );
}

#[test]
pub fn p3_rust_stdin_nonblock_then_block() {
    let (out, r) = run_reported(
        "p3-stdin-nonblock-then-block",
        &["--stdin", "after:100:hi", P3_RUST_STDIN_NONBLOCK_THEN_BLOCK],
    );
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                BLOCKED,
                "WB op=stream.read fd=0 errno=0 name=success n=2 data=hi"
            ]
        ),
        "{out:?}"
    );
    assert_eq!(events(&r), [ev("stream.read", "stdin", "again", 1, None)]);
    // A read that waits forever on an open stdin is stopped at the deadline.
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--timeout",
        "300ms",
        P3_RUST_STDIN_NONBLOCK_THEN_BLOCK,
    ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(124), vec![BLOCKED]),
        "{out:?}"
    );
}

#[test]
pub fn p3_rust_poll_stdin() {
    let (out, r) = run_reported("p3-poll-stdin", &["--stdin", "open", P3_RUST_POLL_STDIN]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec![BLOCKED, CANCELLED]),
        "{out:?}"
    );
    assert_eq!(
        events(&r),
        [
            ev("stream.probe-read", "stdin", "again", 1, None),
            ev("stream.cancel-read", "stdin", "again", 1, None),
        ]
    );
    let (out, r) = run_reported("p3-poll-stdin", &["--stdin", "data:hi", P3_RUST_POLL_STDIN]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=stream.read fd=0 len=0 result=ready",
                "WB op=stream.read fd=0 errno=0 name=success n=2 data=hi",
            ]
        ),
        "{out:?}"
    );
    assert_eq!(
        events(&r),
        [ev("stream.probe-read", "stdin", "success", 1, None)]
    );
    // wasmtime-wasi answers the probe "ready" without looking; the read then BLOCKs.
    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--stdin",
        "open",
        P3_RUST_POLL_STDIN,
    ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=stream.read fd=0 len=0 result=ready",
                BLOCKED,
                CANCELLED
            ]
        ),
        "{out:?}"
    );
}

#[test]
pub fn p3_rust_write_full_pipe() {
    let (out, r) = run_reported(
        "p3-write-full-pipe",
        &[
            "--stderr",
            "pipe:8192",
            "--platform",
            "linux",
            P3_RUST_WRITE_FULL_PIPE,
        ],
    );
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=stream.write fd=2 errno=0 name=success n=8192",
                "WB op=stream.write fd=2 result=blocked written=8192",
                "WB op=stream.cancel-write fd=2 errno=6 name=again result=cancelled n=0",
            ]
        ),
        "{out:?}"
    );
    assert_eq!(
        events(&r),
        [
            ev("stream.write", "stderr", "success", 1, Some(8192)),
            ev("stream.write", "stderr", "again", 1, Some(8192)),
            ev("stream.cancel-write", "stderr", "again", 1, Some(8192)),
        ]
    );
    assert_eq!(
        r["events"][2]["python"]["line"],
        "BlockingIOError: [Errno 11] Resource temporarily unavailable"
    );
    assert_eq!(r["events"][2]["python"]["characters_written"], 8192);
    // Exactly what fitted went through.
    assert_eq!(r["captured"]["stderr"], 8192);
    // Room for all of it: 256 KiB in four complete writes, nothing recorded. (An inherited
    // pipe the reader drains may fill between writes: then BLOCKED, as POSIX says EAGAIN.)
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--stderr", "pipe:1048576", P3_RUST_WRITE_FULL_PIPE]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.wb_lines().len(), 5, "{out:?}");
    assert_eq!(
        out.wb_lines()[4],
        "WB op=stream.write fd=2 errno=0 name=success total=262144"
    );
    assert_eq!(out.host_lines().len(), 0);
}

/// The same through stdout's `write-via-stream` (its own handle and sink): the report goes to
/// stderr.
#[test]
pub fn p3_rust_write_full_pipe_stdout() {
    let (out, r) = run_reported(
        "p3-write-full-pipe-stdout",
        &[
            "--stdout",
            "pipe:8192",
            "--platform",
            "linux",
            P3_RUST_WRITE_FULL_PIPE,
            "stdout",
        ],
    );
    let wb: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("WB "))
        .collect();
    assert_eq!(
        (out.code, wb),
        (
            Some(0),
            vec![
                "WB op=stream.write fd=1 errno=0 name=success n=8192",
                "WB op=stream.write fd=1 result=blocked written=8192",
                "WB op=stream.cancel-write fd=1 errno=6 name=again result=cancelled n=0",
            ]
        ),
        "{out:?}"
    );
    assert_eq!(
        events(&r),
        [
            ev("stream.write", "stdout", "success", 1, Some(8192)),
            ev("stream.write", "stdout", "again", 1, Some(8192)),
            ev("stream.cancel-write", "stdout", "again", 1, Some(8192)),
        ]
    );
    assert_eq!(r["events"][2]["python"]["characters_written"], 8192);
    assert_eq!(r["captured"]["stdout"], 8192);
}

/// WASI 0.3 sockets with `--allow-net`, in both modes: the stream of accepted connections
/// and a connection's receive stream, each read once with nothing there, are BLOCKED and
/// cancelled (EAGAIN for wasi-libc's non-blocking `accept` and `recv`); a client of the
/// guest's own is accepted, its "hi" received; a port not allowed is access-denied. These
/// streams are wasmtime-wasi's own in both modes: the host does not record them yet.
#[test]
pub fn p3_rust_net_accept_nonblocking() {
    let port = wouldblock_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    for mode in ["faithful", "stock"] {
        let (out, r) = run_reported(
            "p3-net-accept",
            &[
                "--wasi",
                mode,
                "--allow-net",
                &addr,
                P3_RUST_NET_ACCEPT_NONBLOCKING,
                &addr,
            ],
        );
        assert_eq!(
            (out.code, out.wb_lines()),
            (
                Some(0),
                vec![
                    "WB op=listen fd=none errno=0 name=success",
                    "WB op=stream.read fd=listener result=blocked",
                    "WB op=stream.cancel-read fd=listener errno=6 name=again result=cancelled n=0",
                    "WB op=connect fd=none errno=0 name=success",
                    "WB op=stream.read fd=listener errno=0 name=success n=1 data=",
                    "WB op=stream.read fd=conn result=blocked",
                    "WB op=stream.cancel-read fd=conn errno=6 name=again result=cancelled n=0",
                    "WB op=stream.write fd=client errno=0 name=success n=2",
                    "WB op=send fd=none errno=0 name=success",
                    "WB op=stream.read fd=conn errno=0 name=success n=2 data=hi",
                    "WB op=listen-denied fd=none errno=2 name=acces error=access-denied",
                ]
            ),
            "{mode}: {out:?}"
        );
        assert_eq!(events(&r), [], "{mode}");
        assert_eq!(r["abi"], "p3");
    }
    // Without --allow-net nothing is allowed.
    let mut cmd = Command::new(BIN);
    cmd.args(["run", P3_RUST_NET_ACCEPT_NONBLOCKING, &addr]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(1),
            vec!["WB op=listen fd=none errno=2 name=acces error=access-denied"]
        ),
        "{out:?}"
    );
}

/// The 0.3 non-blocking copy over the host's own stdin pipe, fed in two chunks 150 ms apart:
/// between them its look at the empty pipe is BLOCKED and cancelled, its zero-length read
/// waits for the second chunk, and the copy is whole. The `again-is-eof` variant stops at that
/// cancel, after the first chunk.
#[test]
pub fn p3_rust_copy_loop() {
    let chunks = || {
        vec![
            (std::time::Duration::ZERO, b"first chunk, ".to_vec()),
            (
                std::time::Duration::from_millis(150),
                b"second chunk".to_vec(),
            ),
        ]
    };
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--platform", "linux", P3_RUST_COPY_LOOP]);
    let out = wouldblock_tests::run_with_feed(cmd, chunks(), DEADLINE);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "first chunk, second chunk"),
        "{out:?}"
    );
    // Once at least (twice if the first look came before the first chunk).
    let calls: Vec<&str> = out
        .host_lines()
        .iter()
        .map(|l| {
            let (call, rest) = l
                .split_once(" -> again (6) x")
                .unwrap_or_else(|| panic!("{l}"));
            assert!(
                rest.ends_with(
                    " = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"
                ),
                "{l}"
            );
            call
        })
        .collect();
    assert_eq!(
        calls,
        [
            "wouldblock: stream.read(fd=0, stdin)",
            "wouldblock: stream.cancel-read(fd=0, stdin)",
            "wouldblock: stream.probe-read(fd=0, stdin)",
        ],
        "{out:?}"
    );
    let mut cmd = Command::new(BIN);
    cmd.args(["run", P3_RUST_COPY_LOOP, "again-is-eof"]);
    let out = wouldblock_tests::run_with_feed(cmd, chunks(), DEADLINE);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "first chunk, "),
        "{out:?}"
    );
}
