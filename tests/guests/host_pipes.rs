//! The host's own stdin and stderr as real pipes (Linux): the guest's non-blocking calls on
//! them do exactly what the same calls do natively on a non-blocking pipe, and the pipe the
//! host shares with its parent never gets `O_NONBLOCK` (the test keeps a descriptor of the same
//! open file description and looks at its flags afterwards).

use super::BIN;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use wouldblock_tests::guests::*;
use wouldblock_tests::DEADLINE;

/// A pipe (read end, write end), blocking, of `size` bytes.
fn pipe(size: i32) -> (std::fs::File, std::fs::File) {
    let (r, w) = wouldblock_tests::os_pipe();
    // SAFETY: F_SETPIPE_SZ takes an int; the result is checked.
    assert_eq!(
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, size) },
        size
    );
    (r, w)
}

/// Whether the open file description behind `f` has `O_NONBLOCK`.
fn nonblocking(f: &std::fs::File) -> bool {
    // SAFETY: F_GETFL on an open descriptor.
    let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0);
    flags & libc::O_NONBLOCK != 0
}

/// Kills `child` if it is still running at [`DEADLINE`]; dropping the guard disarms it.
struct Deadline(Option<mpsc::Sender<()>>);

impl Deadline {
    fn arm(pid: u32) -> Deadline {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(DEADLINE) {
                // SAFETY: kill with a pid and a signal number.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        });
        Deadline(Some(tx))
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let _ = self.0.take().map(|tx| tx.send(()));
    }
}

/// Spawns `cmd` with `stderr` (a pipe of a set size: the shared helpers make their own) as its
/// stderr, stdout piped and stdin empty, killed at [`DEADLINE`] unless the guard is dropped.
fn spawn_on_stderr(mut cmd: Command, stderr: std::fs::File) -> (std::process::Child, Deadline) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap();
    let deadline = Deadline::arm(child.id());
    (child, deadline)
}

/// What the `write_full_pipe` guest's writes return natively: 5000-byte `write()`s (at most
/// 16) on a non-blocking pipe of `size` bytes nobody drains, as the guest's `WB` lines.
fn native_full_pipe_writes(size: i32) -> Vec<String> {
    let (_r, w) = pipe(size);
    // SAFETY: F_SETFL on our own descriptor.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let chunk = [b'x'; 5000];
    let mut lines = Vec::new();
    for _ in 0..16 {
        match (&w).write(&chunk) {
            Ok(n) => lines.push(format!(
                "WB op=fd_write fd=2 errno=0 name=success len=5000 n={n}"
            )),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                lines.push("WB op=fd_write fd=2 errno=6 name=again len=5000".into());
                break;
            }
            Err(e) => panic!("native write: {e}"),
        }
    }
    lines
}

/// A guest filling the host's stderr, a real 64 KiB pipe: every write returns what the same
/// write returns natively (13 whole, one short, then `again`); the bytes all arrive; the pipe
/// the host was given keeps its flags.
#[test]
pub fn host_stderr_pipe_fills_as_natively() {
    let expected = native_full_pipe_writes(65536);
    assert!(
        expected.last().unwrap().contains("name=again"),
        "{expected:?}"
    );
    let (mut rx, tx) = pipe(65536);
    let shared = tx.try_clone().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", P1_RUST_WRITE_FULL_PIPE]);
    let (mut child, _deadline) = spawn_on_stderr(cmd, tx);
    // The guest's lines until its `again`: only then drain the pipe (the host writes its own
    // lines to the same stderr as it exits).
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut wb = Vec::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        let done = line.contains("op=fd_write") && !line.contains("errno=0 ");
        wb.push(line.trim_end().to_string());
        line.clear();
        if done {
            break;
        }
    }
    let drain = std::thread::spawn(move || {
        let mut all = Vec::new();
        rx.read_to_end(&mut all).unwrap();
        all
    });
    let status = child.wait().unwrap();
    assert!(
        !nonblocking(&shared),
        "the host's stderr pipe was made non-blocking"
    );
    // The last write end but the host's: the drain sees end-of-file once the host is gone.
    drop(shared);
    let stderr = drain.join().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        wb[0],
        "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4"
    );
    assert_eq!(wb[1..], expected[..], "guest vs native");
    let written: usize = expected
        .iter()
        .filter_map(|l| l.split(" n=").nth(1))
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    let xs = stderr.iter().take_while(|&&b| b == b'x').count();
    assert_eq!(xs, written, "bytes that arrived");
}

/// The host's stdin, a real pipe that stays open: `again` while empty (one event, as Python's
/// BlockingIOError), then the bytes once written; the pipe keeps its flags.
#[test]
pub fn host_stdin_pipe_reads_as_natively() {
    for (data, read) in [
        (&b""[..], "WB op=fd_read fd=0 errno=6 name=again"),
        (
            b"hello",
            "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello",
        ),
    ] {
        let (rx, mut tx) = pipe(65536);
        tx.write_all(data).unwrap();
        let shared = rx.try_clone().unwrap();
        let child = Command::new(BIN)
            .args(["run", P1_RUST_STDIN_NONBLOCK_READ])
            .stdin(Stdio::from(rx))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _deadline = Deadline::arm(child.id());
        let out = child.wait_with_output().unwrap();
        drop(tx);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("WB ")).collect();
        assert_eq!(
            lines,
            [
                "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4",
                "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=4",
                read,
            ],
            "{out:?}"
        );
        let again_lines = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("-> again"))
            .count();
        assert_eq!(again_lines, usize::from(data.is_empty()), "{out:?}");
        assert!(
            !nonblocking(&shared),
            "the host's stdin pipe was made non-blocking"
        );
    }
}

/// `wouldblock run [--timeout 30s] GUEST ARGS`.
fn run_poll(guest: &str, args: &[&str], timeout: bool) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("run");
    if timeout {
        cmd.args(["--timeout", "30s"]);
    }
    cmd.arg(guest).args(args);
    cmd
}

/// How a poll of one host descriptor is asked for: alone (the wake-up's short path), alone
/// with a deadline, and beside a clock (both the general path).
const POLL_FORMS: [(&[&str], bool); 3] = [(&["alone"], false), (&["alone"], true), (&[], false)];

/// `poll_oneoff` on the host's stdin, a real pipe, answers as Linux `poll` does: `nbytes`
/// the bytes waiting, and `hangup` once every writer has closed (`POLLHUP`, with bytes still
/// waiting or none), not before; the same on the short path and the general one.
#[test]
pub fn poll_on_a_host_stdin_pipe_reports_nbytes_and_hangup_as_poll_does() {
    let hello = "WB op=fd_read fd=0 errno=0 name=success n=5 data=hello";
    for (data, close, event, read) in [
        (&b"hello"[..], false, "nbytes=5 hangup=0", Some(hello)),
        (b"hello", true, "nbytes=5 hangup=1", Some(hello)),
        (b"", true, "nbytes=0 hangup=1", None),
    ] {
        for (args, timeout) in POLL_FORMS {
            let (rx, mut tx) = pipe(65536);
            tx.write_all(data).unwrap();
            let writer = (!close).then_some(tx);
            let cmd = run_poll(P1_RUST_POLL_STDIN, args, timeout);
            let out = wouldblock_tests::run_with_stdin(cmd, rx, DEADLINE);
            drop(writer);
            let event = format!("WB op=event fd=0 errno=0 name=success type=fd_read {event}");
            let mut want = vec![
                "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
                event.as_str(),
            ];
            want.extend(read);
            let case = format!("{data:?} closed={close} {args:?} timeout={timeout}");
            assert_eq!(
                (out.code, out.wb_lines()),
                (Some(0), want),
                "{case}: {out:?}"
            );
        }
    }
}

/// `poll_oneoff` for writing on the host's stderr, a real empty 64 KiB pipe: ready, with
/// `nbytes` its free space, on the short path and the general one.
#[test]
pub fn poll_on_a_host_stderr_pipe_reports_its_free_space() {
    for timeout in [false, true] {
        let (_rx, tx) = pipe(65536);
        let cmd = run_poll(P1_RUST_POLL_WRITE, &["alone"], timeout);
        let (child, _deadline) = spawn_on_stderr(cmd, tx);
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("WB ")).collect();
        assert_eq!(
            (out.status.code(), lines),
            (
                Some(0),
                vec![
                    "WB op=fd_fdstat_set_flags fd=2 errno=0 name=success flags=4",
                    "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
                    "WB op=event fd=2 errno=0 name=success type=fd_write nbytes=65536 hangup=0",
                ]
            ),
            "timeout={timeout}"
        );
    }
}

/// What both copying guests below begin with: the imports, a page of memory, and `$check`,
/// which exits 100 + errno when a call fails (an `again` would be 106).
const CAT_PRELUDE: &str = r#"
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno))))))"#;

/// A guest module: [`CAT_PRELUDE`], then `start`.
fn cat_guest(start: &str) -> String {
    format!("(module{CAT_PRELUDE}\n{start})")
}

/// A guest copying stdin to stdout with blocking calls, 4096 bytes at a time.
const BLOCKING_CAT: &str = r#"
  (func (export "_start")
    (loop $l
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 4096))
      (call $check (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (if (i32.eqz (i32.load (i32.const 16))) (then (return)))
      (i32.store (i32.const 4) (i32.load (i32.const 16)))
      (call $check (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
      (br_if $l (i32.eq (i32.load (i32.const 20)) (i32.load (i32.const 16)))))
    (call $exit (i32.const 99)))"#;

/// stdin and stdout regular files (no private non-blocking description of either): the
/// guest's blocking reads and writes are the host's blocking `read`/`write` without a
/// deadline, and wait in slices with one; the copy is exact either way.
#[test]
pub fn blocking_calls_on_regular_files_copy_exactly() {
    let dir = wouldblock_tests::temp_dir("blocking-files");
    let guest = dir.join("cat.wat");
    std::fs::write(&guest, cat_guest(BLOCKING_CAT)).unwrap();
    let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 251) as u8).collect();
    let input = dir.join("in");
    std::fs::write(&input, &data).unwrap();
    for timeout in [None, Some("30s")] {
        let output = dir.join("out");
        let mut cmd = Command::new(BIN);
        cmd.arg("run");
        if let Some(t) = timeout {
            cmd.args(["--timeout", t]);
        }
        let mut child = cmd
            .arg(&guest)
            .stdin(std::fs::File::open(&input).unwrap())
            .stdout(std::fs::File::create(&output).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _deadline = Deadline::arm(child.id());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0), "{timeout:?}: {err}");
        assert!(std::fs::read(&output).unwrap() == data, "{timeout:?}");
    }
}

/// stdin a socket its parent made non-blocking (the shared description says `EAGAIN`), no
/// data for 200 ms: the guest's blocking read still waits for the data, and never sees
/// `again` (which would exit 106).
#[test]
pub fn a_blocking_read_waits_even_when_the_shared_description_is_non_blocking() {
    let dir = wouldblock_tests::temp_dir("blocking-nonblocking-socket");
    let guest = dir.join("cat.wat");
    std::fs::write(&guest, cat_guest(BLOCKING_CAT)).unwrap();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let child = Command::new(BIN)
        .args(["run"])
        .arg(&guest)
        .stdin(std::os::fd::OwnedFd::from(theirs))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _deadline = Deadline::arm(child.id());
    std::thread::sleep(std::time::Duration::from_millis(200));
    (&ours).write_all(b"late bytes").unwrap();
    drop(ours);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"late bytes");
}

/// A guest that sets stdin non-blocking and spins on `fd_read` until end-of-file, copying
/// what it reads to stdout; any failure but `again` exits 100 + errno.
const SPINNING_CAT: &str = r#"
  (func (export "_start") (local $errno i32)
    (call $check (call $flags (i32.const 0) (i32.const 4)))
    (loop $l
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 4096))
      (local.set $errno (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $l (i32.eq (local.get $errno) (i32.const 6)))
      (call $check (local.get $errno))
      (if (i32.eqz (i32.load (i32.const 16))) (then (return)))
      (i32.store (i32.const 4) (i32.load (i32.const 16)))
      (call $check (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
      (br $l)))"#;

/// stdin a real pipe another process writes twice, 200 ms apart, then closes, while the
/// guest spins on non-blocking reads: after two `again`s in a row the host answers `again`
/// from memory (Linux, `host/src/sys/empty.rs`) until the kernel says the pipe changed, and
/// the guest still gets both writes, in order, and the end-of-file.
#[test]
pub fn a_guest_spinning_on_again_sees_every_write_and_the_end() {
    let dir = wouldblock_tests::temp_dir("spinning-cat");
    let guest = dir.join("spin.wat");
    std::fs::write(&guest, cat_guest(SPINNING_CAT)).unwrap();
    let (r, w) = pipe(65536);
    let child = Command::new(BIN)
        .args(["run"])
        .arg(&guest)
        .stdin(r)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _deadline = Deadline::arm(child.id());
    for part in [&b"first "[..], b"second"] {
        std::thread::sleep(std::time::Duration::from_millis(200));
        (&w).write_all(part).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    drop(w);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "first second");
    // Spinning for 600 ms makes far more than three `again`s.
    let agains: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("wouldblock: fd_read(fd=0, stdin) -> again (6) x"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no again event: {err}"));
    assert!(agains > 3, "{agains} agains: {err}");
}
