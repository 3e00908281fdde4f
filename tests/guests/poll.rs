//! poll_oneoff over stdin, a bounded stderr pipe and clocks, in the faithful and stock modes.

use super::wouldblock;
use wouldblock_tests::guests::*;

const POLL1: &str = "WB op=poll_oneoff fd=none errno=0 name=success nevents=1";
const CLOCK: &str = "WB op=event fd=none errno=0 name=success type=clock";

/// `poll_stdin` expectations per stdin spec: (spec, faithful lines, stock lines).
fn poll_stdin_cases() -> Vec<(&'static str, Vec<&'static str>, Vec<&'static str>)> {
    let hello = "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello";
    vec![
        // Nothing arrives: only the 100 ms clock fires, in both modes.
        ("open", vec![POLL1, CLOCK], vec![POLL1, CLOCK]),
        // Data there, writer closed: readable with nbytes = 5 and hangup (POLLIN|POLLHUP);
        // stock says nbytes=1 and no hangup.
        (
            "data:hello",
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=5 hangup=1",
                hello,
            ],
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=1 hangup=0",
                hello,
            ],
        ),
        // End-of-file: readable, nbytes=0, hangup (the guest reads only announced bytes).
        (
            "eof",
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=0 hangup=1",
            ],
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=1 hangup=0",
                "WB op=fd_read fd=0 errno=0 name=success n=0 data=",
            ],
        ),
        // Data 30 ms in: the poll wakes for it, well before the 100 ms clock.
        (
            "after:30:hello",
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=5 hangup=1",
                hello,
            ],
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=1 hangup=0",
                hello,
            ],
        ),
    ]
}

#[test]
pub fn p1_rust_poll_stdin() {
    for (spec, faithful, stock) in poll_stdin_cases() {
        let out = wouldblock(&["run", "--stdin", spec, P1_RUST_POLL_STDIN]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), faithful),
            "{spec}: {out:?}"
        );
        let out = wouldblock(&[
            "run",
            "--wasi",
            "stock",
            "--stdin",
            spec,
            P1_RUST_POLL_STDIN,
        ]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), stock),
            "{spec} stock: {out:?}"
        );
    }
}

/// Preview2 through the adapter: the same answers as stock preview1 (nbytes=1, no hangup).
#[test]
pub fn p2_rust_poll_stdin() {
    for (spec, _, stock) in poll_stdin_cases() {
        let out = wouldblock(&["run", "--stdin", spec, P2_RUST_POLL_STDIN]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), stock),
            "{spec}: {out:?}"
        );
    }
}

/// wasi-libc's poll(): a timeout is 0 events; POLLIN and POLLHUP as the host reports them.
#[test]
pub fn p1_c_poll_stdin() {
    let none = "WB op=poll_oneoff fd=none errno=0 name=success nevents=0";
    let cases = [
        ("open", vec![none], vec![none]),
        (
            "data:hello",
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read in=1 hup=1",
                "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello",
            ],
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read in=1 hup=0",
                "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello",
            ],
        ),
        (
            "eof",
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read in=1 hup=1",
                "WB op=fd_read fd=0 errno=0 name=success n=0 data=",
            ],
            vec![
                POLL1,
                "WB op=event fd=0 errno=0 name=success type=fd_read in=1 hup=0",
                "WB op=fd_read fd=0 errno=0 name=success n=0 data=",
            ],
        ),
    ];
    for (spec, faithful, stock) in cases {
        let out = wouldblock(&["run", "--stdin", spec, P1_C_POLL_STDIN]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), faithful),
            "{spec}: {out:?}"
        );
        let out = wouldblock(&["run", "--wasi", "stock", "--stdin", spec, P1_C_POLL_STDIN]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), stock),
            "{spec} stock: {out:?}"
        );
    }
}

/// Writable while the pipe has room (nbytes = free space); once full and undrained, only
/// the clock fires.
#[test]
pub fn p1_rust_poll_write() {
    let out = wouldblock(&["run", "--stderr", "pipe:8192", P1_RUST_POLL_WRITE]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4",
            POLL1,
            "WB op=event fd=2 errno=0 name=success type=fd_write nbytes=8192 hangup=0",
            POLL1,
            CLOCK,
        ],
        "{out:?}"
    );
    assert_eq!(
        out.stderr_bytes.iter().take_while(|b| **b == b'z').count(),
        8192,
        "{out:?}"
    );
    let out = wouldblock(&[
        "run",
        "--wasi",
        "stock",
        "--stderr",
        "pipe:8192",
        P1_RUST_POLL_WRITE,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
}

#[test]
pub fn p2_rust_poll_write() {
    let out = wouldblock(&["run", "--stderr", "pipe:8192", P2_RUST_POLL_WRITE]);
    assert_eq!(out.code, Some(1), "{out:?}");
}

const POLL_CLOCK: [&str; 7] = [
    POLL1,
    CLOCK,
    "WB op=elapsed fd=none errno=0 name=success waited=true",
    POLL1,
    CLOCK,
    "WB op=elapsed fd=none errno=0 name=success waited=true",
    "WB op=poll_oneoff fd=none errno=28 name=inval nevents=0",
];

/// Relative and absolute clocks wait their time; an unknown clock id is `inval`; the same in
/// both modes and both ABIs.
#[test]
pub fn p1_rust_poll_clock() {
    for mode in ["faithful", "stock"] {
        let out = wouldblock(&["run", "--wasi", mode, P1_RUST_POLL_CLOCK]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (Some(0), POLL_CLOCK.to_vec()),
            "{mode}: {out:?}"
        );
    }
}

#[test]
pub fn p2_rust_poll_clock() {
    let out = wouldblock(&["run", P2_RUST_POLL_CLOCK]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), POLL_CLOCK.to_vec()),
        "{out:?}"
    );
}

/// Data waiting and a clock already expired: faithful reports both in one call; stock (and
/// preview2, whose adapter polls the same way) reported only the descriptor when this was
/// written — either is legal, since the clock's readiness races with the descriptor's there.
#[test]
pub fn p1_rust_poll_ready_and_timeout() {
    let guest = P1_RUST_POLL_READY_AND_TIMEOUT;
    let read = "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=2 hangup=1";
    let out = wouldblock(&["run", "--stdin", "data:hi", guest]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=poll_oneoff fd=none errno=0 name=success nevents=2",
                read,
                CLOCK
            ]
        ),
        "{out:?}"
    );
    let out = wouldblock(&["run", "--stdin", "open", guest]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec![POLL1, CLOCK]),
        "{out:?}"
    );
    check_stock_ready_and_timeout(&["run", "--wasi", "stock", "--stdin", "data:hi", guest]);
}

/// Stock's answer with data waiting: the descriptor (nbytes=1, no hangup), maybe the clock.
fn check_stock_ready_and_timeout(args: &[&str]) {
    let read = "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=1 hangup=0";
    let out = wouldblock(args);
    let lines = out.wb_lines();
    let either = [
        vec![POLL1, read],
        vec![
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=2",
            read,
            CLOCK,
        ],
    ];
    assert!(out.code == Some(0) && either.contains(&lines), "{out:?}");
}

#[test]
pub fn p2_rust_poll_ready_and_timeout() {
    check_stock_ready_and_timeout(&["run", "--stdin", "data:hi", P2_RUST_POLL_READY_AND_TIMEOUT]);
}

/// wasi-libc's poll() with no descriptors (a lone clock) and nanosleep(): the same in both
/// modes.
#[test]
pub fn p1_c_poll_clock() {
    for mode in ["faithful", "stock"] {
        let out = wouldblock(&["run", "--wasi", mode, P1_C_POLL_CLOCK]);
        assert_eq!(
            (out.code, out.wb_lines()),
            (
                Some(0),
                vec![
                    "WB op=poll_oneoff fd=none errno=0 name=success nevents=0",
                    "WB op=elapsed fd=none errno=0 name=success waited=true",
                    "WB op=nanosleep fd=none errno=0 name=success",
                    "WB op=elapsed fd=none errno=0 name=success waited=true",
                ]
            ),
            "{mode}: {out:?}"
        );
    }
}

/// POLLOUT while the pipe has room; only the timeout once it is full and undrained.
#[test]
pub fn p1_c_poll_write() {
    let out = wouldblock(&["run", "--stderr", "pipe:8192", P1_C_POLL_WRITE]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4",
                "WB op=poll_oneoff fd=none errno=0 name=success nevents=1 out=1",
                "WB op=poll_oneoff fd=none errno=0 name=success nevents=0 out=0",
            ]
        ),
        "{out:?}"
    );
}
