//! The host's own stdin and stderr as real Win32 pipes (Windows, and Wine).
//!
//! - stdin: a guest's non-blocking `fd_read` of an empty inherited pipe returns `again` at
//!   once, data in it is read, and `poll_oneoff` reports the pipe ready only when data is
//!   there, with `nbytes` = the bytes waiting, and at end-of-file with `hangup`, exactly as
//!   on Linux (`tests/guests/host_pipes.rs`). These pipes are the ones Rust's
//!   `Stdio::piped()` makes.
//! - stderr, an anonymous pipe of 4 KiB (`CreatePipe`) nobody drains: the guest's
//!   non-blocking writes fill it as they fill a 64 KiB Linux pipe (`host_pipes.rs` gets that
//!   sequence from the Linux kernel: 13 writes of 5000, one of 536, then `again`), every byte
//!   arrives in order, a blocked writer is woken by the drain, and the pipe end the host
//!   shares with this test never becomes `PIPE_NOWAIT` (`GetNamedPipeHandleStateW` on a
//!   duplicate of it).
//!
//! Each child is killed at the deadline; a hang is a failure.
#![cfg(windows)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::Pipes::{CreatePipe, GetNamedPipeHandleStateW, PIPE_NOWAIT};
use wouldblock_tests::guests::*;
use wouldblock_tests::{exit_by, spawn, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

/// Runs `wouldblock run --stdin inherit GUEST` with a pipe as stdin holding `data`, its write
/// end open until the guest is done (killed at the deadline): exit code, stdout, stderr.
fn run_with(guest: &str, data: &[u8]) -> (i32, String, String) {
    run_stdin(guest, data, false)
}

/// [`run_with`], the pipe's write end closed after `data` when `close`.
fn run_stdin(guest: &str, data: &[u8], close: bool) -> (i32, String, String) {
    let mut child = spawn(
        Command::new(BIN)
            .args(["run", "--stdin", "inherit", guest])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let _disarm = arm(&child);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(data).unwrap();
    stdin.flush().unwrap();
    let stdin = (!close).then_some(stdin);
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

/// Kills `child` when the deadline passes first (the test then fails on its exit status), or
/// at once when the test panics before the returned guard is dropped: a failing test leaves no
/// run behind. Dropping the guard otherwise disarms it.
fn arm(child: &Child) -> Armed {
    let (tx, rx) = mpsc::channel::<()>();
    let pid = child.id();
    std::thread::spawn(move || {
        // `Ok` is the guard's disarming; a timeout, or the guard dropped by a panic, kills.
        if rx.recv_timeout(DEADLINE).is_err() {
            let _ = Command::new("taskkill")
                .args(["/F", "/PID", &pid.to_string()])
                .status();
        }
    });
    Armed(tx)
}

/// [`arm`]'s guard: dropped outside a panic, it disarms the kill.
struct Armed(mpsc::Sender<()>);

impl Drop for Armed {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = self.0.send(());
        }
    }
}

fn wb(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("WB ")).collect()
}

/// A test that panics while its run is under way leaves no run behind: [`arm`]'s guard,
/// dropped by the panic, kills it at once rather than at the deadline.
#[test]
fn a_test_that_panics_mid_run_leaves_no_run() {
    // Blocked in `poll_oneoff` on a stdin that stays open: it never ends by itself.
    let mut child = spawn(
        Command::new(BIN)
            .args(["run", "--stdin", "inherit", P1_RUST_BENCH_WAKE, "10"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let guard = arm(&child);
    let test = std::thread::spawn(move || {
        let _guard = guard;
        panic!("deliberate: a test failing while its run waits");
    });
    assert!(test.join().is_err());
    // Only the kill ends it (its stdin stays open for the 10 rounds it waits for). No exit
    // status is asked for: Wine's `taskkill /F` leaves the process's as 0.
    let until = std::time::Instant::now() + DEADLINE / 2;
    assert!(
        exit_by(&mut child, until).is_some(),
        "the run outlived the panic"
    );
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

/// The writer gone and nothing left to read: stdin is ready with `nbytes` 0 and `hangup`,
/// as on Linux (`POLLHUP`).
#[test]
fn poll_sees_the_end_of_an_inherited_pipe() {
    let (code, out, err) = run_stdin(P1_RUST_POLL_STDIN, b"", true);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        wb(&out),
        [
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=0 errno=0 name=success type=fd_read nbytes=0 hangup=1",
        ]
    );
}

/// An anonymous pipe of `size` bytes: (read end, write end), neither inheritable (`Command`
/// makes the child's copy inheritable itself).
fn anonymous_pipe(size: u32) -> (std::fs::File, OwnedHandle) {
    let (mut r, mut w): (HANDLE, HANDLE) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: two out-pointers to handles; no security attributes.
    let ok = unsafe { CreatePipe(&mut r, &mut w, std::ptr::null(), size) };
    assert_ne!(ok, 0, "CreatePipe: {}", std::io::Error::last_os_error());
    // SAFETY: both handles were just created and are owned here only.
    unsafe {
        (
            std::fs::File::from_raw_handle(r as _),
            OwnedHandle::from_raw_handle(w as _),
        )
    }
}

/// Whether the pipe end behind `h` is in `PIPE_NOWAIT` mode.
fn nowait(h: &OwnedHandle) -> bool {
    let mut state = 0u32;
    // SAFETY: a valid pipe handle; only the state is asked for.
    let ok = unsafe {
        GetNamedPipeHandleStateW(
            h.as_raw_handle() as HANDLE,
            &mut state,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    assert_ne!(
        ok,
        0,
        "GetNamedPipeHandleState: {}",
        std::io::Error::last_os_error()
    );
    state & PIPE_NOWAIT != 0
}

/// A run whose stderr is a 4 KiB anonymous pipe nobody reads until [`Stderr::drain`].
struct Stderr {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    rx: std::fs::File,
    shared: OwnedHandle,
    _disarm: Armed,
}

impl Stderr {
    fn spawn(args: &[&str]) -> Stderr {
        let (rx, tx) = anonymous_pipe(4096);
        let shared = tx.try_clone().unwrap();
        let mut child = spawn(
            Command::new(BIN)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(tx)),
        );
        let _disarm = arm(&child);
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Stderr {
            child,
            stdout,
            rx,
            shared,
            _disarm,
        }
    }

    /// The guest's `WB` lines up to and including the first that satisfies `last`.
    fn wb_until(&mut self, mut last: impl FnMut(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        while self.stdout.read_line(&mut line).unwrap() > 0 {
            let l = line.trim_end().to_string();
            line.clear();
            if !l.starts_with("WB ") {
                continue;
            }
            let done = last(&l);
            lines.push(l);
            if done {
                return lines;
            }
        }
        panic!("the guest ended before the line looked for: {lines:?}");
    }

    /// Drains stderr from now on; waits for the host to exit: its exit code, the rest of its
    /// stdout's `WB` lines, every byte of stderr, and whether the shared pipe end was left in
    /// `PIPE_NOWAIT` mode.
    fn drain(mut self) -> (i32, Vec<String>, Vec<u8>, bool) {
        let mut rx = self.rx;
        let drain = std::thread::spawn(move || {
            let mut all = Vec::new();
            rx.read_to_end(&mut all).unwrap();
            all
        });
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        let nowait = nowait(&self.shared);
        // The last write end but the host's: the drain sees end-of-file once the host is gone.
        drop(self.shared);
        let stderr = drain.join().unwrap();
        let wb = rest
            .lines()
            .filter(|l| l.starts_with("WB "))
            .map(String::from)
            .collect();
        (status.code().unwrap_or(-1), wb, stderr, nowait)
    }
}

fn write_ok(len: usize, n: usize) -> String {
    format!("WB op=fd_write fd=2 errno=0 name=success len={len} n={n}")
}

/// Bytes the `WB` write lines report written.
fn written(lines: &[String]) -> usize {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("WB op=fd_write ")?.split(" n=").nth(1))
        .map(|n| n.parse::<usize>().unwrap())
        .sum()
}

#[test]
fn full_inherited_stderr_pipe_fills_as_on_linux() {
    let mut run = Stderr::spawn(&["run", P1_RUST_WRITE_FULL_PIPE]);
    let wb = run.wb_until(|l| l.contains("op=fd_write") && !l.contains("errno=0 "));
    let (code, rest, stderr, nowait) = run.drain();
    assert_eq!(code, 0);
    assert!(rest.is_empty(), "{rest:?}");
    let mut expected = vec!["WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4".into()];
    expected.extend(std::iter::repeat_n(write_ok(5000, 5000), 13));
    expected.push(write_ok(5000, 536));
    expected.push("WB op=fd_write fd=2 errno=6 name=again len=5000".into());
    assert_eq!(wb, expected);
    let xs = stderr.iter().take_while(|&&b| b == b'x').count();
    assert_eq!(xs, 65536, "bytes that arrived before the host's own lines");
    let text = String::from_utf8_lossy(&stderr[xs..]);
    assert!(
        text.contains("fd_write(fd=2, stderr) -> again (6) x1 = BlockingIOError"),
        "{text}"
    );
    assert!(!nowait, "the host's stderr pipe was made PIPE_NOWAIT");
}

#[test]
fn poll_for_writing_an_inherited_pipe_sees_its_room() {
    let mut run = Stderr::spawn(&["run", P1_RUST_POLL_WRITE]);
    // Up to the second poll's event (the fifth line), then stderr is drained: the host exits
    // only once its room has gone into the pipe.
    let mut events = 0;
    let wb = run.wb_until(|l| {
        events += usize::from(l.starts_with("WB op=event "));
        events == 2
    });
    let (code, _, stderr, nowait) = run.drain();
    assert_eq!(code, 0);
    assert_eq!(
        wb[..4],
        [
            "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4",
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=2 errno=0 name=success type=fd_write nbytes=65536 hangup=0",
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
        ]
    );
    // The second poll comes after the fill loop's `again`: only its 50 ms clock fires, unless
    // the pump's first write into the 4 KiB pipe returned only after that `again` (a loaded
    // machine), which frees exactly the pipe's quota in the host's room.
    assert!(
        [
            "WB op=event fd=none errno=0 name=success type=clock",
            "WB op=event fd=2 errno=0 name=success type=fd_write nbytes=4096 hangup=0",
        ]
        .contains(&wb[4].as_str()),
        "{wb:?}"
    );
    assert!(stderr.iter().take_while(|&&b| b == b'z').count() >= 65536);
    assert!(!nowait);
}

#[test]
fn a_writer_blocked_on_an_inherited_pipe_is_woken_by_the_drain() {
    let mut run = Stderr::spawn(&["run", P1_RUST_WRITE_AFTER_DRAIN]);
    let filled = run.wb_until(|l| l.contains("name=again"));
    // 1000-byte writes are atomic: at least the pump's 64 KiB went in whole (what the pipe
    // itself took from the first writes comes on top), then `again`.
    let whole = filled
        .iter()
        .filter(|l| **l == write_ok(1000, 1000))
        .count();
    assert!(whole >= 65, "{filled:?}");
    assert_eq!(filled.len(), whole + 2, "{filled:?}");
    let (code, rest, stderr, nowait) = run.drain();
    assert_eq!(code, 0);
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert_eq!(
        rest[0],
        "WB op=poll_oneoff fd=none errno=0 name=success nevents=1"
    );
    let nbytes: usize = rest[1]
        .strip_prefix("WB op=event fd=2 errno=0 name=success type=fd_write nbytes=")
        .and_then(|n| n.strip_suffix(" hangup=0"))
        .unwrap_or_else(|| panic!("{rest:?}"))
        .parse()
        .unwrap();
    assert!((4096..=65536).contains(&nbytes), "{nbytes}");
    assert_eq!(rest[2], write_ok(1000, 1000));
    let ys = stderr.iter().take_while(|&&b| b == b'y').count();
    assert_eq!(ys, written(&filled) + 1000, "every byte written arrived");
    assert!(!nowait);
}

#[test]
fn a_mebibyte_through_an_inherited_pipe_arrives_whole() {
    // Drained from the start: the guest waits in poll whenever the host's room is full.
    let run = Stderr::spawn(&["run", P1_RUST_BENCH_THROUGHPUT, "out", "1048576"]);
    let (code, wb, stderr, nowait) = run.drain();
    assert_eq!(code, 0);
    assert_eq!(wb.len(), 1, "{wb:?}");
    assert!(
        wb[0].starts_with("WB op=bench_out fd=2 errno=0 name=success bytes=1048576 again="),
        "{wb:?}"
    );
    assert_eq!(stderr.iter().take_while(|&&b| b == 0x5a).count(), 1 << 20);
    assert!(!nowait);
}
