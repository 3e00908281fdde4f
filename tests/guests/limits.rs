//! Runaway and greedy guests: a deadline, fuel and a memory limit stop them with their
//! documented exit codes, one error line, the events they met and the output they wrote
//! kept; a trap prints its wasm backtrace as one compact block. Never a hang or a panic.

use super::wouldblock;
use std::time::{Duration, Instant};
use wouldblock_tests::guests::*;
use wouldblock_tests::Output;

const SET_NONBLOCK: &str = "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4";

/// The error line and what follows it on stderr.
fn error_block(out: &Output) -> Vec<&str> {
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("wouldblock: error: "))
        .unwrap_or_else(|| panic!("no error line: {out:?}"));
    assert!(!out.stderr.contains("panicked"), "{out:?}");
    lines[at..].to_vec()
}

/// The run of `what` was stopped by its `--timeout 300ms`: exit 124, and the deadline's error
/// line is the last thing on stderr.
fn assert_stopped_at_300ms(what: &str, out: &Output) {
    assert_eq!(out.code, Some(124), "{what}: {out:?}");
    assert_eq!(
        error_block(out),
        ["wouldblock: error: guest stopped: deadline of 300ms exceeded"],
        "{out:?}"
    );
}

/// A guest spinning on `again` is stopped by the deadline (exit 124); the events it met
/// are still reported. The bound here only proves it stopped rather than hung.
#[test]
pub fn p1_rust_spin_on_again() {
    let started = Instant::now();
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--timeout",
        "300ms",
        P1_RUST_SPIN_ON_AGAIN,
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not stop"
    );
    assert_stopped_at_300ms(P1_RUST_SPIN_ON_AGAIN, &out);
    assert_eq!(out.wb_lines(), [SET_NONBLOCK], "{out:?}");
    let events: Vec<&str> = out
        .host_lines()
        .into_iter()
        .filter(|l| l.contains("-> again"))
        .collect();
    assert_eq!(events.len(), 1, "{out:?}");
    assert!(
        events[0].starts_with("wouldblock: fd_read(fd=0, stdin) -> again (6) x"),
        "{out:?}"
    );

    // Fuel stops it too.
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--fuel",
        "5000000",
        P1_RUST_SPIN_ON_AGAIN,
    ]);
    assert_eq!(out.code, Some(124), "{out:?}");
    assert_eq!(
        error_block(&out),
        ["wouldblock: error: guest stopped: all fuel consumed"],
        "{out:?}"
    );

    // The report says how it ended.
    let dir = wouldblock_tests::temp_dir("spin-report");
    let report = dir.join("r.json");
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--timeout",
        "100ms",
        "--report",
        report.to_str().unwrap(),
        P1_RUST_SPIN_ON_AGAIN,
    ]);
    assert_eq!(out.code, Some(124), "{out:?}");
    let r = wouldblock_tests::read_json(&report);
    assert_eq!(
        (r["exit_code"].as_i64(), r["stopped"].as_str()),
        (Some(124), Some("guest stopped: deadline of 100ms exceeded"))
    );
    assert_eq!(r["events"][0]["call"], "fd_read");
}

#[test]
pub fn p2_rust_spin_on_again() {
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--timeout",
        "300ms",
        P2_RUST_SPIN_ON_AGAIN,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
}

/// Blocked in the host, not in wasm: a blocking read of a pipe that never receives data, a
/// poll with no clock; the host's waits give up at the deadline.
#[test]
pub fn blocked_in_the_host() {
    for (guest, stdin) in [
        (P1_RUST_STDIN_NONBLOCK_THEN_BLOCK, "open"),
        (P1_RUST_EVENT_LOOP, "open"),
    ] {
        let out = wouldblock(&["run", "--stdin", stdin, "--timeout", "300ms", guest]);
        assert_stopped_at_300ms(guest, &out);
    }
    // The same read of an inherited host pipe that stays open and empty: the host waits in
    // `poll`, in slices under a deadline (a wait it could not leave would be abandoned at the
    // deadline all the same, which is why this passes with or without the slices).
    #[cfg(unix)]
    for guest in [P1_RUST_STDIN_NONBLOCK_THEN_BLOCK, P1_RUST_EVENT_LOOP] {
        let (read_end, _write_end) = wouldblock_tests::os_pipe();
        let mut cmd = std::process::Command::new(super::BIN);
        cmd.args(["run", "--timeout", "300ms", guest]);
        let out = wouldblock_tests::run_with_stdin(cmd, read_end, wouldblock_tests::DEADLINE);
        assert_stopped_at_300ms(guest, &out);
    }
    // A preview2 guest blocked inside wasmtime-wasi's own poll: abandoned just after the
    // deadline, reported the same way.
    let port = wouldblock_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let out = wouldblock(&[
        "run",
        "--allow-net",
        &addr,
        "--timeout",
        "300ms",
        P2_RUST_NET_ECHO_SERVER,
        &addr,
    ]);
    assert_stopped_at_300ms(P2_RUST_NET_ECHO_SERVER, &out);
}

/// A memory limit refuses the growth; the allocator aborts; exit 125 with what it printed
/// before, and the trap's wasm backtrace as one compact block.
fn check_memory_hog(guest: &str) {
    let out = wouldblock(&["run", "--max-memory", "32MiB", guest]);
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=allocated fd=none errno=0 name=success mib=8",
            "WB op=allocated fd=none errno=0 name=success mib=16",
            "WB op=allocated fd=none errno=0 name=success mib=24",
        ],
        "{out:?}"
    );
    let block = error_block(&out);
    assert_eq!(block[0], "wouldblock: error: guest hit its memory limit: wasm trap: wasm `unreachable` instruction executed", "{out:?}");
    assert_eq!(block[1], "wouldblock: wasm backtrace:", "{out:?}");
    assert!(block.len() > 2, "{out:?}");
    for (i, frame) in block[2..].iter().enumerate() {
        assert!(frame.starts_with(&format!("{i:>4}: ")), "{frame}");
    }
    // Without the limit the same guest fills 4 GiB of wasm memory: not run here.
}

#[test]
pub fn p1_rust_memory_hog() {
    check_memory_hog(P1_RUST_MEMORY_HOG);
}

#[test]
pub fn p2_rust_memory_hog() {
    check_memory_hog(P2_RUST_MEMORY_HOG);
}

/// A plain trap (no limit involved): exit 134, the trap and its backtrace.
#[test]
pub fn plain_trap() {
    let dir = wouldblock_tests::temp_dir("trap");
    let wat = dir.join("trap.wat");
    std::fs::write(
        &wat,
        "(module (memory (export \"memory\") 1) (func (export \"_start\") unreachable))",
    )
    .unwrap();
    let out = wouldblock(&["run", wat.to_str().unwrap()]);
    assert_eq!(out.code, Some(134), "{out:?}");
    assert_eq!(
        error_block(&out),
        [
            "wouldblock: error: guest trapped: wasm trap: wasm `unreachable` instruction executed",
            "wouldblock: wasm backtrace:",
            "   0: <unknown>!<wasm function 0>",
        ],
        "{out:?}"
    );
}
