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
/// guest's own is accepted, its "hi" received; a port not allowed is access-denied. Faithful:
/// the host's own sockets, each would-block recorded; stock: wasmtime-wasi's.
#[test]
pub fn p3_rust_net_accept_nonblocking() {
    let port = wouldblock_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let run = |mode: &str, more: &[&str]| {
        let mut args = vec!["--wasi", mode, "--allow-net", &addr];
        args.extend([P3_RUST_NET_ACCEPT_NONBLOCKING, &addr]);
        args.extend(more);
        run_reported("p3-net-accept", &args)
    };
    for mode in ["faithful", "stock"] {
        let (out, r) = run(mode, &[]);
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
        // Faithful: the host's own sockets record each BLOCKED look and each cancel, and the
        // last read, after "hi" was sent, gets it at once (tokio's own read would say
        // WouldBlock until its event loop saw the socket readable again). Stock: wasmtime-wasi's
        // sockets, unobserved.
        let again =
            |call: &str, handle: &str| (call.into(), handle.into(), "again".into(), 1, None);
        let expected = if mode == "faithful" {
            vec![
                again("stream.read", "listener"),
                again("stream.cancel-read", "listener"),
                again("stream.read", "socket"),
                again("stream.cancel-read", "socket"),
            ]
        } else {
            vec![]
        };
        assert_eq!(events(&r), expected, "{mode}");
        assert_eq!(r["abi"], "p3");
    }
    // A client whose connect(2) has returned is accepted by the very next look: at once from
    // the host's own sockets, as POSIX's accept would; BLOCKED from wasmtime-wasi's, whose
    // tokio listener answers from its readiness flag until its event loop turns.
    for (mode, look) in [
        ("faithful", vec![]),
        (
            "stock",
            vec!["WB op=stream.read fd=listener result=blocked"],
        ),
    ] {
        let (out, r) = run(mode, &["look-after-connect"]);
        let mut expected = vec![
            "WB op=listen fd=none errno=0 name=success",
            "WB op=stream.read fd=listener result=blocked",
            "WB op=stream.cancel-read fd=listener errno=6 name=again result=cancelled n=0",
        ];
        expected.extend(look);
        expected.extend([
            "WB op=stream.read fd=listener errno=0 name=success n=1 data=",
            "WB op=connect fd=none errno=0 name=success",
        ]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), expected),
            "{mode}: {out:?}"
        );
        let listener = |call: &str| (call.into(), "listener".into(), "again".into(), 1, None);
        let recorded = if mode == "faithful" {
            vec![listener("stream.read"), listener("stream.cancel-read")]
        } else {
            vec![]
        };
        assert_eq!(events(&r), recorded, "{mode}");
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

/// The rules of a WASI 0.3 `tcp-socket` (order of calls, bad values and addresses, a denied
/// connect, options read back), line for line the same from the host's own sockets (faithful)
/// and wasmtime-wasi's (stock). Nothing here would block: no events.
#[test]
pub fn p3_rust_net_tcp_semantics() {
    let addr = format!("127.0.0.1:{}", wouldblock_tests::free_port());
    for mode in ["faithful", "stock"] {
        let (out, r) = run_reported(
            "p3-net-semantics",
            &[
                "--wasi",
                mode,
                "--allow-net",
                &addr,
                P3_RUST_NET_TCP_SEMANTICS,
                &addr,
            ],
        );
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), NET_TCP_SEMANTICS.to_vec()),
            "{mode}: {out:?}"
        );
        assert_eq!(events(&r), [], "{mode}");
    }
}

/// What `net_tcp_semantics` prints.
const NET_TCP_SEMANTICS: &[&str] = &[
    "WB op=address-family fd=none errno=0 name=success value=IpAddressFamily::Ipv4",
    "WB op=local-address-unbound fd=none errno=28 name=inval error=invalid-state",
    "WB op=bind-multicast fd=none errno=28 name=inval error=invalid-argument",
    "WB op=bind-v6-on-v4 fd=none errno=28 name=inval error=invalid-argument",
    "WB op=bind fd=none errno=0 name=success",
    "WB op=bind-again fd=none errno=28 name=inval error=invalid-state",
    "WB op=local-address-is-bound-port fd=none errno=0 name=success value=true",
    "WB op=remote-address-unconnected fd=none errno=28 name=inval error=invalid-state",
    "WB op=backlog-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=backlog fd=none errno=0 name=success",
    "WB op=keep-alive-on fd=none errno=0 name=success",
    "WB op=keep-alive-enabled fd=none errno=0 name=success value=true",
    "WB op=keep-alive-idle-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=keep-alive-idle fd=none errno=0 name=success",
    "WB op=keep-alive-idle-s fd=none errno=0 name=success value=3",
    "WB op=keep-alive-interval fd=none errno=0 name=success",
    "WB op=keep-alive-interval-s fd=none errno=0 name=success value=2",
    "WB op=keep-alive-count-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=keep-alive-count fd=none errno=0 name=success",
    "WB op=keep-alive-count fd=none errno=0 name=success value=5",
    "WB op=hop-limit-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=hop-limit fd=none errno=0 name=success",
    "WB op=hop-limit fd=none errno=0 name=success value=42",
    "WB op=receive-buffer-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=receive-buffer fd=none errno=0 name=success",
    "WB op=send-buffer fd=none errno=0 name=success",
    "WB op=is-listening fd=none errno=0 name=success value=false",
    "WB op=listen fd=none errno=0 name=success",
    "WB op=is-listening fd=none errno=0 name=success value=true",
    "WB op=listen-again fd=none errno=28 name=inval error=invalid-state",
    "WB op=connect-listening fd=none errno=28 name=inval error=invalid-state",
    "WB op=backlog-listening fd=none errno=0 name=success",
    "WB op=receive-unconnected fd=none errno=28 name=inval error=invalid-state",
    "WB op=connect-unspecified fd=none errno=28 name=inval error=invalid-argument",
    "WB op=connect-port-zero fd=none errno=28 name=inval error=invalid-argument",
    "WB op=connect-v6-on-v4 fd=none errno=28 name=inval error=invalid-argument",
    "WB op=connect-denied fd=none errno=2 name=acces error=access-denied",
    "WB op=connect-after-denied fd=none errno=28 name=inval error=invalid-state",
    "WB op=remote-address-after-denied fd=none errno=2 name=acces error=access-denied",
    "WB op=receive-after-denied fd=none errno=2 name=acces error=access-denied",
    "WB op=connect fd=none errno=0 name=success",
    "WB op=connect-again fd=none errno=28 name=inval error=invalid-state",
    "WB op=remote-address-is-server fd=none errno=0 name=success value=true",
    "WB op=receive-twice fd=none errno=28 name=inval error=invalid-state",
];

/// A 0.3 write into a slowly drained pipe that the host answered BLOCKED, awaited: it
/// completes whole once the reader has made room (a write of at most PIPE_BUF bytes goes into
/// a pipe whole or not at all), in both modes. The host used to take "any room" for "room
/// for this write": a 1000-byte write into 96 free bytes spun in the host until the reader
/// drained, and the guest never saw BLOCKED.
#[test]
pub fn p3_rust_write_after_drain() {
    for (mode, expected) in [
        (
            "faithful",
            vec![ev("stream.write", "stderr", "again", 1, None)],
        ),
        ("stock", vec![]),
    ] {
        let (out, r) = run_reported(
            "p3-write-after-drain",
            &[
                "--wasi",
                mode,
                "--stderr",
                "pipe:4096:1000/20ms",
                P3_RUST_WRITE_AFTER_DRAIN,
                "4096",
            ],
        );
        assert_eq!(
            (out.code, out.wb_lines()),
            (
                Some(0),
                vec![
                    "WB op=stream.write fd=2 result=blocked full=1",
                    "WB op=stream.write fd=2 errno=0 name=success n=1000 waited=1",
                ]
            ),
            "{mode}: {out:?}"
        );
        assert_eq!(events(&r), expected, "{mode}");
    }
}

/// A zero-length 0.3 write is the POLLOUT probe: ready while stderr's pipe has room (recorded
/// `success`), and with the pipe full a probe raced against a 50 ms clock loses and is
/// cancelled (recorded `again`). Stock: wasmtime-wasi answers every probe ready, full or not.
#[test]
pub fn p3_rust_poll_write() {
    let full = [
        "WB op=stream.write fd=2 errno=0 name=success n=0 len=0",
        "WB op=stream.write fd=2 result=blocked written=8192",
        "WB op=stream.cancel-write fd=2 errno=6 name=again result=cancelled n=0",
    ];
    for (mode, last, expected) in [
        (
            "faithful",
            vec![
                "WB op=clock fd=none errno=0 name=success",
                "WB op=stream.cancel-write fd=2 errno=6 name=again result=cancelled n=0",
            ],
            vec![
                ev("stream.probe-write", "stderr", "success", 1, None),
                ev("stream.write", "stderr", "again", 1, None),
                ev("stream.cancel-write", "stderr", "again", 2, None),
                ev("stream.probe-write", "stderr", "again", 1, None),
            ],
        ),
        (
            "stock",
            vec!["WB op=stream.write fd=2 errno=0 name=success n=0 len=0"],
            vec![],
        ),
    ] {
        let (out, r) = run_reported(
            "p3-poll-write",
            &["--wasi", mode, "--stderr", "pipe:8192", P3_RUST_POLL_WRITE],
        );
        let mut wb = full.to_vec();
        wb.extend(last);
        assert_eq!((out.code, out.wb_lines()), (Some(0), wb), "{mode}: {out:?}");
        assert_eq!(events(&r), expected, "{mode}");
        assert_eq!(r["captured"]["stderr"], 8192, "{mode}");
    }
}

/// A 0.3 guest that reads without ever waiting (BLOCKED, cancel, again) is stopped by the
/// deadline and by fuel alike, in both modes; faithful counts every BLOCKED and every cancel.
#[test]
pub fn p3_rust_spin_on_again() {
    for mode in ["faithful", "stock"] {
        for (limit, value, why) in [
            (
                "--timeout",
                "300ms",
                "guest stopped: deadline of 300ms exceeded",
            ),
            ("--fuel", "5000000", "guest stopped: all fuel consumed"),
        ] {
            let (out, r) = run_reported(
                "p3-spin",
                &[
                    "--wasi",
                    mode,
                    "--stdin",
                    "open",
                    limit,
                    value,
                    P3_RUST_SPIN_ON_AGAIN,
                ],
            );
            assert_eq!(
                (out.code, out.wb_lines()),
                (Some(124), vec![BLOCKED]),
                "{mode} {limit}: {out:?}"
            );
            assert_eq!(r["stopped"], why, "{mode} {limit}");
            let seen = events(&r);
            if mode == "stock" {
                assert_eq!(seen, [], "{limit}");
                continue;
            }
            let count = |call: &str| {
                seen.iter()
                    .find(|e| e.0 == call && e.1 == "stdin" && e.2 == "again")
                    .map_or(0, |e| e.3)
            };
            let (reads, cancels) = (count("stream.read"), count("stream.cancel-read"));
            assert_eq!(seen.len(), 2, "{limit}: {seen:?}");
            // Many rounds; the last read may have been stopped before its cancel.
            assert!(reads > 100 && (reads - cancels) <= 1, "{limit}: {seen:?}");
        }
    }
}

/// A 0.3 stdin read and a zero clock polled together once: with data waiting both are ready
/// at once (as POSIX poll reports every ready descriptor); with an open empty stdin the read
/// is BLOCKED, the clock ready, and the read then cancelled (EAGAIN). Both modes alike.
#[test]
pub fn p3_rust_poll_ready_and_timeout() {
    const CLOCK: &str = "WB op=clock fd=none errno=0 name=success";
    for mode in ["faithful", "stock"] {
        let (out, r) = run_reported(
            "p3-ready-timeout",
            &[
                "--wasi",
                mode,
                "--stdin",
                "data:hi",
                P3_RUST_POLL_READY_AND_TIMEOUT,
            ],
        );
        assert_eq!(
            (out.code, out.wb_lines()),
            (
                Some(0),
                vec![
                    "WB op=stream.read fd=0 errno=0 name=success n=2 data=hi",
                    CLOCK
                ]
            ),
            "{mode}: {out:?}"
        );
        assert_eq!(events(&r), [], "{mode}");
        let (out, r) = run_reported(
            "p3-ready-timeout",
            &[
                "--wasi",
                mode,
                "--stdin",
                "open",
                P3_RUST_POLL_READY_AND_TIMEOUT,
            ],
        );
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), vec![BLOCKED, CLOCK, CANCELLED]),
            "{mode}: {out:?}"
        );
        let expected = if mode == "faithful" {
            vec![
                ev("stream.read", "stdin", "again", 1, None),
                ev("stream.cancel-read", "stdin", "again", 1, None),
            ]
        } else {
            vec![]
        };
        assert_eq!(events(&r), expected, "{mode}");
    }
}

/// A 0.3 event loop copying a slow stdin into a slowly drained stderr, both sides looked at
/// once and BLOCKED cancelled, waiting on zero-length reads and writes when both are stuck:
/// every byte arrives, about one wait per drain, and the short writes the guest counted
/// before each cancelled write are the `characters_written` the host recorded. Stock:
/// wasmtime-wasi answers every zero-length write "ready", so the same loop spins.
#[test]
pub fn p3_rust_event_loop() {
    let text = "abcdefghij".repeat(20);
    let stdin = format!("after:50:{text}");
    let summary = |out: &wouldblock_tests::Output| -> (usize, u64) {
        let lines = out.wb_lines();
        let last = lines.last().expect("a summary line");
        let rest = last
            .strip_prefix(
                "WB op=event_loop fd=none errno=0 name=success read=200 written=200 polls=",
            )
            .unwrap_or_else(|| panic!("unexpected summary {last:?}"));
        let (polls, written) = rest.split_once(" characters_written=").unwrap();
        (polls.parse().unwrap(), written.parse().unwrap())
    };
    for mode in ["faithful", "stock"] {
        let (out, r) = run_reported(
            "p3-event-loop",
            &[
                "--wasi",
                mode,
                "--stdin",
                &stdin,
                "--stderr",
                "pipe:16:16/5ms",
                P3_RUST_EVENT_LOOP,
            ],
        );
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stderr_bytes.starts_with(text.as_bytes()), "{out:?}");
        assert_eq!(r["captured"]["stderr"], 200, "{mode}");
        let (polls, characters_written) = summary(&out);
        let seen = events(&r);
        if mode == "stock" {
            assert!(polls > 200, "stock: {polls} waits: {out:?}");
            assert_eq!(seen, [], "stock");
            continue;
        }
        assert!((8..=40).contains(&polls), "{polls} waits: {out:?}");
        let cancels: Vec<_> = seen
            .iter()
            .filter(|e| e.0 == "stream.cancel-write")
            .collect();
        assert_eq!(cancels.len(), 1, "{seen:?}");
        assert_eq!(
            (cancels[0].1.as_str(), cancels[0].2.as_str()),
            ("stderr", "again")
        );
        assert_eq!(cancels[0].4, Some(characters_written), "{seen:?}");
        assert!(
            seen.iter()
                .any(|e| e.0 == "stream.probe-write" && e.2 == "again"),
            "{seen:?}"
        );
    }
}
