//! Non-blocking writes to a bounded stdout/stderr pipe: POSIX pipe semantics, `again` with
//! `characters_written`, writing again after the host drains, and nothing lost.

use super::{expected_report, wouldblock};
use crate::stdin::SET_NONBLOCK_BADF;
use serde_json::json;
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, temp_dir, Output};

const SET_NONBLOCK_2: &str = "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4";
const SET_NONBLOCK_2_BADF: &str = "WB op=fd_fdstat_set_flags fd=2 errno=8 name=badf flags=4";

/// The host's stderr: first the bytes the guest wrote to its stderr pipe, then the host's
/// own lines. Asserts the first part is `len` copies of `byte` and returns the host lines.
fn split_stderr(out: &Output, byte: u8, len: usize) -> Vec<String> {
    let b = &out.stderr_bytes;
    assert!(
        b.len() >= len,
        "stderr shorter than the {len} guest bytes: {out:?}"
    );
    assert!(
        b[..len].iter().all(|c| *c == byte),
        "guest bytes corrupted: {out:?}"
    );
    String::from_utf8_lossy(&b[len..])
        .lines()
        .map(String::from)
        .collect()
}

/// The event for one `again` on stderr after `written` bytes of short writes, on Linux.
fn write_again_event(count: u64, written: u64) -> serde_json::Value {
    let on = |platform: &str, errno: i32| {
        json!({
            "platform": platform, "handle_kind": "pipe", "exception": "BlockingIOError",
            "errno": errno, "name": "EAGAIN", "strerror": "Resource temporarily unavailable",
            "characters_written": written,
            "line": format!("BlockingIOError: [Errno {errno}] Resource temporarily unavailable"),
        })
    };
    json!({
        "call": "fd_write", "fd": 2, "handle": "stderr", "wasi_errno": 6, "wasi_name": "again",
        "count": count, "characters_written": written, "python": on("linux", 11),
        "renderings": [on("linux", 11), on("macos", 35), on("freebsd", 35), on("windows", 11), on("wasi", 6)],
    })
}

const WRITE_FULL: [&str; 4] = [
    SET_NONBLOCK_2,
    "WB op=fd_write fd=2 errno=0 name=success len=5000 n=5000",
    "WB op=fd_write fd=2 errno=0 name=success len=5000 n=3192",
    "WB op=fd_write fd=2 errno=6 name=again len=5000",
];

/// A 8192-byte pipe nobody drains: 5000, a short 3192, `again` with characters_written=3192;
/// all 8192 bytes reach the host at exit. Stock refuses the flag.
fn check_write_full_pipe(guest: &str, tag: &str) {
    let dir = temp_dir(tag);
    let report = dir.join("report.json");
    let r = report.to_str().unwrap();
    let out = wouldblock(&["run", "--stderr", "pipe:8192", "--report", r, guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.wb_lines(), WRITE_FULL, "{out:?}");
    assert_eq!(
        split_stderr(&out, b'x', 8192),
        [
            "wouldblock: fd_write(fd=2, stderr) -> again (6) x1 = BlockingIOError: \
          [Errno 11] Resource temporarily unavailable (characters_written=3192) [linux]"
        ]
    );
    let mut want = expected_report(guest, "p1", "faithful", 0, vec![write_again_event(1, 3192)]);
    want["captured"]["stderr"] = json!(8192);
    assert_eq!(read_json(&report), want);

    let out = wouldblock(&["run", "--wasi", "stock", "--stderr", "pipe:8192", guest]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.wb_lines(), [SET_NONBLOCK_2_BADF], "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
pub fn p1_rust_write_full_pipe() {
    check_write_full_pipe(P1_RUST_WRITE_FULL_PIPE, "rust-write-full");
}

#[test]
pub fn p1_c_write_full_pipe() {
    check_write_full_pipe(P1_C_WRITE_FULL_PIPE, "c-write-full");
}

#[test]
pub fn p1_wat_write_full_pipe() {
    check_write_full_pipe(P1_WAT_WRITE_FULL_PIPE, "wat-write-full");
}

/// Preview2 (through the preview1 adapter): stderr cannot be made non-blocking.
#[test]
pub fn p2_rust_write_full_pipe() {
    let out = wouldblock(&["run", "--stderr", "pipe:8192", P2_RUST_WRITE_FULL_PIPE]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.wb_lines(), [SET_NONBLOCK_2_BADF], "{out:?}");
}

/// Fill a 4096-byte pipe drained 1000 bytes every 20 ms: four writes, `again`, a poll that
/// fires once the pipe has room for PIPE_BUF bytes again (`poll`: how the guest reports it),
/// one more write. Stock wasmtime-wasi refuses the flag.
fn write_after_drain(guest: &str, poll: &[&str]) {
    let out = wouldblock(&["run", "--stderr", "pipe:4096:1000/20ms", guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let ok = "WB op=fd_write fd=2 errno=0 name=success len=1000 n=1000";
    let mut want = vec![SET_NONBLOCK_2, ok, ok, ok, ok];
    want.push("WB op=fd_write fd=2 errno=6 name=again len=1000");
    want.extend_from_slice(poll);
    want.push(ok);
    assert_eq!(out.wb_lines(), want, "{out:?}");
    // A 1000-byte write is atomic (at most PIPE_BUF): no short write, nothing written.
    assert_eq!(
        split_stderr(&out, b'y', 5000),
        [
            "wouldblock: fd_write(fd=2, stderr) -> again (6) x1 = BlockingIOError: \
          [Errno 11] Resource temporarily unavailable [linux]"
        ]
    );
    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--stderr",
        "pipe:4096:1000/20ms",
        guest,
    ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(1), vec![SET_NONBLOCK_2_BADF]),
        "{out:?}"
    );
}

/// The Rust guest's poll reports the event: the pipe is empty again, nbytes=4096.
#[test]
pub fn p1_rust_write_after_drain() {
    write_after_drain(
        P1_RUST_WRITE_AFTER_DRAIN,
        &[
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=2 errno=0 name=success type=fd_write nbytes=4096 hangup=0",
        ],
    );
}

#[test]
pub fn p2_rust_write_after_drain() {
    let out = wouldblock(&[
        "run",
        "--stderr",
        "pipe:4096:1000/20ms",
        P2_RUST_WRITE_AFTER_DRAIN,
    ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(1), vec![SET_NONBLOCK_2_BADF]),
        "{out:?}"
    );
}

/// The event loop copies a slow producer (`after:`) into a slowly drained pipe: every byte
/// arrives in order, and it polls about once per drain (no busy spin: 200 bytes through a
/// 16-byte pipe drained every 5 ms is 13 drains).
#[test]
pub fn p1_rust_event_loop() {
    let text = "abcdefghij".repeat(20);
    let stdin = format!("after:50:{text}");
    let out = wouldblock(&[
        "run",
        "--stdin",
        &stdin,
        "--stderr",
        "pipe:16:16/5ms",
        P1_RUST_EVENT_LOOP,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    let last = lines.last().expect("a summary line");
    let polls: usize = last
        .strip_prefix("WB op=event_loop fd=none errno=0 name=success read=200 written=200 polls=")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected summary {last:?}"))
        .parse()
        .unwrap();
    assert!((13..=40).contains(&polls), "{polls} polls: {out:?}");
    assert!(out.stderr_bytes.starts_with(text.as_bytes()), "{out:?}");

    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--stdin",
        &stdin,
        P1_RUST_EVENT_LOOP,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.wb_lines(), [SET_NONBLOCK_BADF], "{out:?}");
}

#[test]
pub fn p2_rust_event_loop() {
    let out = wouldblock(&["run", "--stdin", "eof", P2_RUST_EVENT_LOOP]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(1), vec![SET_NONBLOCK_BADF]),
        "{out:?}"
    );
}

/// The C version, on wasi-libc's write() and poll().
#[test]
pub fn p1_c_write_after_drain() {
    write_after_drain(
        P1_C_WRITE_AFTER_DRAIN,
        &["WB op=poll_oneoff fd=none errno=0 name=success nevents=1 out=1"],
    );
}
