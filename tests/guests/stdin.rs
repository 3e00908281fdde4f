//! Non-blocking stdin: the Python docs' example in every form, blocking after non-blocking,
//! and a descriptor the host does not manage.

use super::{again_event, expected_report, wouldblock};
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, temp_dir};

const SET_NONBLOCK: &str = "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4";
pub const SET_NONBLOCK_BADF: &str = "WB op=fd_fdstat_set_flags fd=0 errno=8 name=badf flags=4";
const GET_NONBLOCK: &str = "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=4";
const CLEAR_FLAGS: &str = "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=0";
const GET_CLEARED: &str = "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=0";
const READ_AGAIN: &str = "WB op=fd_read fd=0 errno=6 name=again";
const READ_EOF: &str = "WB op=fd_read fd=0 errno=0 name=success n=0 data=";
const READ_HELLO: &str = "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello";
const AGAIN_LINE: &str = "wouldblock: fd_read(fd=0, stdin) -> again (6) x1 = \
    BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]";

/// The Python docs' example (any p1 form): `again` on an open pipe, data, or end-of-file.
fn check_p1_nonblock_read(guest: &str, tag: &str) {
    let dir = temp_dir(tag);
    let report = dir.join("report.json");
    let report_arg = report.to_str().unwrap();

    // An open pipe with no data: `again` at once, reported as Python's BlockingIOError.
    let out = wouldblock(&["run", "--stdin", "open", "--report", report_arg, guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, GET_NONBLOCK, READ_AGAIN],
        "{out:?}"
    );
    assert_eq!(out.host_lines(), [AGAIN_LINE], "{out:?}");
    assert_eq!(
        read_json(&report),
        expected_report(guest, "p1", "faithful", 0, vec![again_event(1)])
    );

    // Data 50 ms after the guest starts: the read comes first and sees `again`. (Legal
    // nondeterminism: a guest stalled for 50 ms before its read would see the data instead.)
    let out = wouldblock(&["run", "--stdin", "after:50:hello", guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    assert_eq!(lines[..2], [SET_NONBLOCK, GET_NONBLOCK], "{out:?}");
    match lines[2] {
        READ_AGAIN => assert_eq!(out.host_lines(), [AGAIN_LINE], "{out:?}"),
        READ_HELLO => assert!(out.host_lines().is_empty(), "{out:?}"),
        other => panic!("unexpected read result {other:?}: {out:?}"),
    }
    assert_eq!(lines.len(), 3, "{out:?}");

    // Data already there: a non-blocking read returns it.
    let out = wouldblock(&["run", "--stdin", "data:hello", guest]);
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, GET_NONBLOCK, READ_HELLO],
        "{out:?}"
    );
    assert!(out.host_lines().is_empty(), "{out:?}");

    // End-of-file: 0, not `again`; no event.
    let out = wouldblock(&["run", "--stdin", "eof", "--report", report_arg, guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, GET_NONBLOCK, READ_EOF],
        "{out:?}"
    );
    assert!(out.host_lines().is_empty(), "{out:?}");
    assert_eq!(
        read_json(&report),
        expected_report(guest, "p1", "faithful", 0, vec![])
    );

    // The host's own stdin (here /dev/null, at end-of-file), read without touching its flags.
    let out = wouldblock(&["run", guest]);
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, GET_NONBLOCK, READ_EOF],
        "{out:?}"
    );

    // Stock wasmtime-wasi refuses the flag on stdin: the guest exits 1 without reading.
    let out = wouldblock(&[
        "run", "--wasi", "stock", "--stdin", "open", "--report", report_arg, guest,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.wb_lines(), [SET_NONBLOCK_BADF], "{out:?}");
    assert_eq!(
        read_json(&report),
        expected_report(guest, "p1", "stock", 1, vec![])
    );
}

#[test]
pub fn p1_rust_stdin_nonblock_read() {
    check_p1_nonblock_read(P1_RUST_STDIN_NONBLOCK_READ, "p1-rust-read");
}

#[test]
pub fn p1_c_stdin_nonblock_read() {
    check_p1_nonblock_read(P1_C_STDIN_NONBLOCK_READ, "p1-c-read");
}

#[test]
pub fn p1_wat_stdin_nonblock_read() {
    check_p1_nonblock_read(P1_WAT_STDIN_NONBLOCK_READ, "p1-wat-read");
}

/// Preview2 has no non-blocking stdin: through the preview1 adapter, set-flags on stdin gives
/// `badf`, so the guest never reads, whatever stdin holds.
#[test]
pub fn p2_rust_stdin_nonblock_read() {
    let dir = temp_dir("p2-read");
    let report = dir.join("report.json");
    for spec in ["open", "after:50:hello", "eof"] {
        let guest = P2_RUST_STDIN_NONBLOCK_READ;
        let out = wouldblock(&[
            "run",
            "--stdin",
            spec,
            "--report",
            report.to_str().unwrap(),
            guest,
        ]);
        assert_eq!(out.code, Some(1), "{spec}: {out:?}");
        assert_eq!(out.wb_lines(), [SET_NONBLOCK_BADF], "{spec}: {out:?}");
        assert!(out.host_lines().is_empty(), "{spec}: {out:?}");
        assert_eq!(
            read_json(&report),
            expected_report(guest, "p2", "faithful", 1, vec![])
        );
    }
}

/// `again` before the data arrives; clearing the flag restores a blocking read that waits for
/// it.
#[test]
pub fn p1_rust_stdin_nonblock_then_block() {
    let guest = P1_RUST_STDIN_NONBLOCK_THEN_BLOCK;
    let out = wouldblock(&["run", "--stdin", "after:50:hello", guest]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    // Legal nondeterminism, as above: a guest stalled for 50 ms reads the data first, and its
    // blocking read then sees end-of-file.
    let expected_tail = match lines[1] {
        READ_AGAIN => READ_HELLO,
        READ_HELLO => READ_EOF,
        other => panic!("unexpected first read {other:?}: {out:?}"),
    };
    assert_eq!(
        lines,
        [
            SET_NONBLOCK,
            lines[1],
            CLEAR_FLAGS,
            GET_CLEARED,
            expected_tail
        ],
        "{out:?}"
    );

    // With the data already there, both reads are immediate.
    let out = wouldblock(&["run", "--stdin", "data:hello", guest]);
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, READ_HELLO, CLEAR_FLAGS, GET_CLEARED, READ_EOF],
        "{out:?}"
    );

    // An open pipe: `again`, then a blocking read that would wait forever; the deadline of
    // the helper would catch a hang, so use end-of-file for the blocking half instead.
    let out = wouldblock(&["run", "--stdin", "eof", guest]);
    assert_eq!(
        out.wb_lines(),
        [SET_NONBLOCK, READ_EOF, CLEAR_FLAGS, GET_CLEARED, READ_EOF],
        "{out:?}"
    );
}

#[test]
pub fn p2_rust_stdin_nonblock_then_block() {
    let out = wouldblock(&[
        "run",
        "--stdin",
        "after:50:hello",
        P2_RUST_STDIN_NONBLOCK_THEN_BLOCK,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.wb_lines(), [SET_NONBLOCK_BADF], "{out:?}");
}

const DIR_FD_STOCK: [&str; 3] = [
    "WB op=fd_fdstat_set_flags fd=3 errno=8 name=badf flags=4",
    "WB op=fd_fdstat_get fd=3 errno=0 name=success flags=0",
    "WB op=fd_read fd=3 errno=8 name=badf",
];

/// A descriptor the host does not manage keeps stock behaviour: the faithful run prints
/// exactly what the stock run prints.
#[test]
pub fn p1_rust_dir_fd_stock() {
    let dir = temp_dir("dir-stock");
    let preopen = format!("{}::/sandbox", dir.display());
    for mode in ["faithful", "stock"] {
        let out = wouldblock(&[
            "run",
            "--wasi",
            mode,
            "--dir",
            &preopen,
            P1_RUST_DIR_FD_STOCK,
        ]);
        assert_eq!(out.code, Some(0), "{mode}: {out:?}");
        assert_eq!(out.wb_lines(), DIR_FD_STOCK, "{mode}: {out:?}");
        assert!(out.host_lines().is_empty(), "{mode}: {out:?}");
    }
}

#[test]
pub fn p2_rust_dir_fd_stock() {
    let dir = temp_dir("p2-dir-stock");
    let preopen = format!("{}::/sandbox", dir.display());
    let out = wouldblock(&["run", "--dir", &preopen, P2_RUST_DIR_FD_STOCK]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.wb_lines(), DIR_FD_STOCK, "{out:?}");
}
