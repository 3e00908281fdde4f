//! `--chaos` through the command line, on the `copy_loop` guest: exact output whatever is
//! injected, each injection an event line marked `injected` and a report event with
//! `injected: true`, the seed in the report; refused (exit 2, one line) where nothing can be
//! injected. The property test over many seeds is `tests/chaos.rs`.

use super::{wouldblock, SET_NONBLOCK_BADF};
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, temp_dir};

#[test]
pub fn p1_rust_copy_loop() {
    let dir = temp_dir("chaos-cli");
    let report = dir.join("report.json");
    let text = "every byte, in order, short read after short read";
    let out = wouldblock(&[
        "run",
        "--stdin",
        &format!("data:{text}"),
        "--chaos",
        "short@stdin=/1,again@stdout=/2",
        "--chaos-seed",
        "11",
        "--report",
        report.to_str().unwrap(),
        P1_RUST_COPY_LOOP,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, text, "{out:?}");
    // Every read with data is cut short (the last byte left is whole), every second write
    // with room says `again`: the events say so, marked injected, and nothing else.
    let lines = out.host_lines();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert_eq!(
        lines[0],
        "wouldblock: chaos seed 11 (--chaos-seed 11 repeats it)"
    );
    let lines = &lines[1..];
    let short = lines[0]
        .strip_prefix("wouldblock: fd_read(fd=0, stdin) -> success (0) x")
        .and_then(|l| l.strip_suffix(" injected = a short read, no exception [linux]"))
        .unwrap_or_else(|| panic!("{out:?}"));
    let short: u64 = short.parse().unwrap();
    assert!(short >= 2, "{out:?}");
    assert!(
        lines[1].starts_with("wouldblock: fd_write(fd=1, stdout) -> again (6) x")
            && lines[1].ends_with(
                " injected = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"
            ),
        "{out:?}"
    );
    let r = read_json(&report);
    assert_eq!(
        r["chaos"],
        serde_json::json!({"spec": "short@stdin=/1,again@stdout=/2", "seed": 11})
    );
    let events = r["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["injected"] == true), "{r}");
    assert_eq!(events[0]["count"], short);
    assert_eq!(events[0]["python"], serde_json::Value::Null);
    assert_eq!(events[1]["wasi_name"], "again");

    // Nothing to inject into: stock preview1.
    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--chaos",
        "again=0.5",
        P1_RUST_COPY_LOOP,
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(
        out.stderr.trim_end(),
        "wouldblock: error: --chaos injects into the faithful preview1 layer; --wasi stock runs without it"
    );
}

#[test]
pub fn p2_rust_copy_loop() {
    let out = wouldblock(&["run", "--stdin", "eof", P2_RUST_COPY_LOOP]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(1), vec![SET_NONBLOCK_BADF]),
        "{out:?}"
    );
    // A component takes --chaos on its streams (`p2_rust_stream_copy_loop`); through the
    // preview1 adapter this guest still stops at the flag the adapter refuses, its line
    // written whole through whatever the adapter's stream was told (here a zero permit).
    let out = wouldblock(&[
        "run",
        "--stdin",
        "eof",
        "--chaos",
        "again=0.5",
        "--chaos-seed",
        "3",
        P2_RUST_COPY_LOOP,
    ]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(1), vec![SET_NONBLOCK_BADF]),
        "{out:?}"
    );
    assert_eq!(
        out.host_lines(),
        [
            "wouldblock: chaos seed 3 (--chaos-seed 3 repeats it)",
            "wouldblock: output-stream.check-write(fd=1, stdout) -> again (6) x1 injected = \
             BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"
        ]
    );
}

/// Preview2 streams used directly: every read that got bytes is cut short (the rest kept
/// and read next), every second `check-write` with room gives a zero permit; the copy is
/// exact, each injection an injected event on its stream; the bug that takes an empty read
/// for end-of-file loses everything under `again@stdin=/1`.
#[test]
pub fn p2_rust_stream_copy_loop() {
    let report = temp_dir("chaos-p2-cli").join("report.json");
    let text = "every byte, in order, through preview2 streams";
    let out = wouldblock(&[
        "run",
        "--stdin",
        &format!("data:{text}"),
        "--chaos",
        "short@stdin=/1,again@stdout=/2",
        "--chaos-seed",
        "5",
        "--report",
        report.to_str().unwrap(),
        P2_RUST_STREAM_COPY_LOOP,
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), text), "{out:?}");
    let lines = out.host_lines();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert_eq!(
        lines[0],
        "wouldblock: chaos seed 5 (--chaos-seed 5 repeats it)"
    );
    let short: u64 = lines[1]
        .strip_prefix("wouldblock: input-stream.read(fd=0, stdin) -> success (0) x")
        .and_then(|l| l.strip_suffix(" injected = a short read, no exception [linux]"))
        .unwrap_or_else(|| panic!("{out:?}"))
        .parse()
        .unwrap();
    assert!(short >= 2, "{out:?}");
    assert!(
        lines[2].starts_with("wouldblock: output-stream.check-write(fd=1, stdout) -> again (6) x")
            && lines[2].ends_with(
                " injected = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"
            ),
        "{out:?}"
    );
    let r = read_json(&report);
    assert_eq!(r["abi"], "p2");
    assert_eq!(
        r["chaos"],
        serde_json::json!({"spec": "short@stdin=/1,again@stdout=/2", "seed": 5})
    );
    assert!(
        r["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["injected"] == true),
        "{r}"
    );
    let out = wouldblock(&[
        "run",
        "--stdin",
        &format!("data:{text}"),
        "--chaos",
        "again@stdin=/1",
        P2_RUST_STREAM_COPY_LOOP,
        "again-is-eof",
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out:?}");
}

#[test]
pub fn p1_rust_stream_copy_loop() {
    let out = wouldblock(&["run", P1_RUST_STREAM_COPY_LOOP]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec!["WB op=skip fd=none errno=0 name=success reason=preview2-only"]
        ),
        "{out:?}"
    );
}
