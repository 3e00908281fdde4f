//! The host's own stdin as a real Win32 pipe (Windows, and Wine): a guest's non-blocking
//! `fd_read` of an empty inherited pipe returns `again` at once, data in it is read, and
//! `poll_oneoff` reports the pipe ready only when data is there, with `nbytes` = the bytes
//! waiting, exactly as on Linux (`tests/guests/host_pipes.rs`). The pipes are the ones Rust's
//! `Stdio::piped()` makes (named pipes, which `PeekNamedPipe` answers for). Each child is
//! killed at the deadline; a hang is a failure.
#![cfg(windows)]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use wouldblock_tests::guests::*;
use wouldblock_tests::DEADLINE;

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

/// Runs `wouldblock run --stdin inherit GUEST` with a pipe as stdin holding `data`, its write
/// end open until the guest is done (killed at the deadline): exit code, stdout, stderr.
fn run_with(guest: &str, data: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(["run", "--stdin", "inherit", guest])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting wouldblock");
    let _disarm = arm(&child);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(data).unwrap();
    stdin.flush().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (String::new(), String::new());
        out.read_to_string(&mut o).unwrap();
        err.read_to_string(&mut e).unwrap();
        (o, e)
    });
    let status = child.wait().unwrap();
    drop(stdin);
    let (o, e) = reader.join().unwrap();
    (status.code().unwrap_or(-1), o, e)
}

/// Kills `child` when the deadline passes first (the test then fails on its exit status);
/// dropping the returned sender disarms it.
fn arm(child: &Child) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let pid = child.id();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(DEADLINE) {
            let _ = Command::new("taskkill")
                .args(["/F", "/PID", &pid.to_string()])
                .status();
        }
    });
    tx
}

fn wb(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("WB ")).collect()
}

#[test]
fn empty_inherited_pipe_is_again_at_once() {
    // Nothing is ever written: a read that waited would be killed at the deadline.
    let (code, out, err) = run_with(P1_RUST_STDIN_NONBLOCK_READ, b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        wb(&out),
        [
            "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4",
            "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=4",
            "WB op=fd_read fd=0 errno=6 name=again",
        ]
    );
    assert!(
        err.contains("fd_read(fd=0, stdin) -> again (6) x1 = BlockingIOError"),
        "{err}"
    );
}

#[test]
fn data_in_an_inherited_pipe_is_read() {
    let (code, out, err) = run_with(P1_RUST_STDIN_NONBLOCK_READ, b"hi");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        wb(&out).last().copied(),
        Some("WB op=fd_read fd=0 errno=0 name=success n=2 data=hi")
    );
}

#[test]
fn poll_waits_for_data_on_an_inherited_pipe() {
    // Empty and open: only the guest's 100 ms clock fires.
    let (code, out, err) = run_with(P1_RUST_POLL_STDIN, b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        wb(&out),
        [
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=none errno=0 name=success type=clock",
        ]
    );
    // Five bytes waiting, writer open: stdin is ready with nbytes = 5, as on Linux.
    let (code, out, err) = run_with(P1_RUST_POLL_STDIN, b"hello");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        wb(&out),
        [
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=5 hangup=0",
            "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello",
        ]
    );
}
