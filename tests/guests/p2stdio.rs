//! Preview2 stdio used through wasi:io/streams directly: an empty non-blocking read of an open
//! stdin and a zero-permit check-write on a bounded stderr pipe are recorded where they cross,
//! and rendered as Python would raise them, for every platform. The scenarios exist only in
//! preview2; their preview1 builds say so.

use super::wouldblock;
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, temp_dir};

const SKIP: &str = "WB op=skip fd=none errno=0 name=success reason=preview2-only";

#[test]
pub fn p2_rust_stream_stdin_read() {
    let report = temp_dir("p2-stream-stdin").join("r.json");
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--platform",
        "macos",
        "--report",
        report.to_str().unwrap(),
        P2_RUST_STREAM_STDIN_READ,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=input-stream.read fd=0 errno=6 name=again",
            "WB op=poll fd=0 errno=0 name=success ready=timeout",
            "WB op=input-stream.read fd=0 errno=6 name=again",
        ],
        "{out:?}"
    );
    assert_eq!(
        out.host_lines(),
        [
            "wouldblock: input-stream.read(fd=0, stdin) -> again (6) x2 = BlockingIOError: \
          [Errno 35] Resource temporarily unavailable [macos]"
        ],
        "{out:?}"
    );
    let r = read_json(&report);
    assert_eq!(r["abi"], "p2");
    let e = &r["events"][0];
    assert_eq!(
        (&e["call"], &e["handle"], &e["wasi_name"], &e["count"]),
        (
            &"input-stream.read".into(),
            &"stdin".into(),
            &"again".into(),
            &2.into()
        )
    );
    // Data that arrives later wakes the poll; what is read is it.
    let out = wouldblock(&["run", "--stdin", "after:100:hi", P2_RUST_STREAM_STDIN_READ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=input-stream.read fd=0 errno=6 name=again",
                "WB op=poll fd=0 errno=0 name=success ready=stdin",
                "WB op=input-stream.read fd=0 errno=0 name=success n=2 data=hi",
            ]
        ),
        "{out:?}"
    );
    // End-of-file is not a would-block: nothing recorded.
    let out = wouldblock(&["run", "--stdin", "eof", P2_RUST_STREAM_STDIN_READ]);
    assert_eq!(
        (out.code, out.wb_lines(), out.host_lines().len()),
        (
            Some(0),
            vec!["WB op=input-stream.read fd=0 errno=0 name=success n=0 closed=1"],
            0
        ),
        "{out:?}"
    );
}

#[test]
pub fn p1_rust_stream_stdin_read() {
    let out = wouldblock(&["run", P1_RUST_STREAM_STDIN_READ]);
    assert_eq!((out.code, out.wb_lines()), (Some(0), vec![SKIP]), "{out:?}");
}

/// An undrained 8 KiB stderr pipe: exactly 8192 bytes fit, then check-write permits nothing
/// (twice: before and after a poll that times out), each recorded; every byte reaches the
/// host's stderr at exit.
#[test]
pub fn p2_rust_stream_write_full_pipe() {
    let report = temp_dir("p2-stream-write").join("r.json");
    let out = wouldblock(&[
        "run",
        "--stderr",
        "pipe:8192",
        "--report",
        report.to_str().unwrap(),
        P2_RUST_STREAM_WRITE_FULL_PIPE,
    ]);
    // (The guest's 8 KiB of stderr are left out of the messages.)
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=output-stream.check-write fd=2 errno=6 name=again written=8192",
            "WB op=poll fd=2 errno=0 name=success ready=timeout",
            "WB op=output-stream.check-write fd=2 errno=6 name=again",
        ],
    );
    let r = read_json(&report);
    assert_eq!(r["captured"]["stderr"], 8192);
    let xs = out.stderr.bytes().take_while(|b| *b == b'x').count();
    assert_eq!(xs, 8192);
    assert_eq!(
        &out.stderr[xs..],
        "wouldblock: output-stream.check-write(fd=2, stderr) -> again (6) x2 = \
         BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]\n"
    );
    let e = &r["events"][0];
    assert_eq!(
        (&e["call"], &e["fd"], &e["handle"], &e["count"]),
        (
            &"output-stream.check-write".into(),
            &2.into(),
            &"stderr".into(),
            &2.into()
        )
    );
    // Drained, the pipe becomes writable while the guest polls.
    let out = wouldblock(&[
        "run",
        "--stderr",
        "pipe:8192:4096/10ms",
        P2_RUST_STREAM_WRITE_FULL_PIPE,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert_eq!(
        out.wb_lines()[1..],
        [
            "WB op=poll fd=2 errno=0 name=success ready=stderr",
            "WB op=output-stream.check-write fd=2 errno=0 name=success permit=some",
        ],
    );
}

#[test]
pub fn p1_rust_stream_write_full_pipe() {
    let out = wouldblock(&["run", P1_RUST_STREAM_WRITE_FULL_PIPE]);
    assert_eq!((out.code, out.wb_lines()), (Some(0), vec![SKIP]), "{out:?}");
}
