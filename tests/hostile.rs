#![cfg(unix)]
//! Hostile guests (hardening round 2): each is a few lines of WAT written here, run by
//! `wouldblock run` as a real process under the test deadline. Each test failed before its
//! fix: the host allocated without bound, lost output and report at a deadline, hung, or
//! took the guest's arguments for its own.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Listening, Output, DEADLINE};

/// The binary under test; `WOULDBLOCK_BIN` names another (an older build, to check that
/// these tests fail on the defects they guard against).
fn bin() -> String {
    std::env::var("WOULDBLOCK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_wouldblock").into())
}

/// The preview1 imports the guests below use.
const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
"#;

/// A module of `pages` pages whose `_start` runs `body`. Memory at 0x100 holds "hello\n";
/// `(call $hello)` writes it to stdout (iovec at 0x80, count at 0x90).
fn module(pages: u32, body: &str) -> String {
    format!(
        r#"(module {IMPORTS}
  (memory (export "memory") {pages})
  (data (i32.const 0x100) "hello\n")
  (func $hello
    (i32.store (i32.const 0x80) (i32.const 0x100))
    (i32.store (i32.const 0x84) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0x80) (i32.const 1) (i32.const 0x90))))
  (func (export "_start") (local $i i32) {body}))"#
    )
}

/// Writes `wat` to a fresh file named after `tag`.
fn guest(tag: &str, wat: &str) -> PathBuf {
    let path = temp_dir(tag).join(format!("{tag}.wat"));
    std::fs::write(&path, wat).unwrap();
    path
}

fn wouldblock(args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    run_with_deadline(cmd, None, DEADLINE)
}

/// What a measured run produced: its exit code, how many bytes it wrote to stdout, its
/// stderr, and its peak resident memory.
struct Measured {
    code: Option<i32>,
    stdout_bytes: u64,
    stderr: String,
    max_rss_mib: f64,
}

/// Runs `wouldblock args` with stdout counted, not kept (a guest may write gigabytes), and
/// takes its peak RSS from `wait4`; kills it and fails past [`DEADLINE`].
fn measured(args: &[&str]) -> Measured {
    // Reaped by `wait4` below, which also gives the peak RSS.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let counter = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        n
    });
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: our own child; both out-parameters are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("deadline of {DEADLINE:?} exceeded: wouldblock {args:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Measured {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout_bytes: counter.join().unwrap(),
        stderr: errs.join().unwrap(),
        max_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

/// The issue's guest: `n` iovecs of 1 MiB each, all pointing at the same first MiB of
/// memory, stored at 0x10004; then `$fd_write` on fd 1 with them: `n` MiB from a 1.1 MiB
/// guest (4000 in the issue: 4 GiB).
fn amplify(n: u32) -> String {
    format!(
        r#"
    (loop $l
      (i32.store (i32.add (i32.const 65540) (i32.shl (local.get $i) (i32.const 3))) (i32.const 1048576))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const {n}))))
    (drop (call $fd_write (i32.const 1) (i32.const 65536) (i32.const {n}) (i32.const 0)))"#
    )
}

/// A blocking write of 1000 iovecs of the same 1 MiB (1.05 GB and 17.8 s inside one call
/// in the issue; 4000 made the host abort on a 4 GiB allocation). The host writes each
/// straight from guest memory, in pieces of at most 1 MiB. Every byte still arrives.
#[test]
fn iovec_amplification_blocking() {
    let wat = module(17, &amplify(1000));
    let path = guest("amp-blocking", &wat);
    let out = measured(&["run", "--max-memory", "2MiB", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout_bytes, 1000 << 20);
    assert!(
        out.max_rss_mib < 200.0,
        "peak RSS {:.0} MiB for a 1.1 MiB guest",
        out.max_rss_mib
    );
}

/// The same iovecs, non-blocking, into a pipe of 64 KiB nobody drains: one short write of
/// what fits, gathered into at most 1 MiB of host memory (it was 4 GiB). The guest exits with
/// the count in KiB.
#[test]
fn iovec_amplification_nonblocking() {
    let body = format!(
        "(drop (call $set_flags (i32.const 1) (i32.const 4))) {} (call $exit (i32.shr_u (i32.load (i32.const 0)) (i32.const 10)))",
        amplify(4000)
    );
    let path = guest("amp-nonblocking", &module(17, &body));
    let out = measured(&["run", "--stdout", "pipe:65536", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(64), "{}", out.stderr);
    assert_eq!(out.stdout_bytes, 65536);
    assert!(
        out.max_rss_mib < 200.0,
        "peak RSS {:.0} MiB",
        out.max_rss_mib
    );
}

/// A guest that wrote `hello` and then blocks in a host call stops at `--timeout 1s` with
/// exit 124, its output and its report: the host's own waits give up at the deadline (they
/// used to wait until a watchdog ended the process, losing both).
fn assert_stopped_with_output(tag: &str, extra: &[&str], body: &str, client: Client) {
    let path = guest(tag, &module(2, &format!("(call $hello) {body}")));
    let dir = temp_dir(&format!("{tag}-report"));
    let report = dir.join("r.json");
    let mut args = vec![
        "run",
        "--timeout",
        "1s",
        "--stdout",
        "pipe:65536",
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let started = Instant::now();
    let out = if extra.contains(&"--tcplisten") {
        let mut cmd = Command::new(bin());
        cmd.args(&args);
        let run = Listening::spawn(cmd);
        let held = client.connect(run.addr());
        let out = run.wait();
        drop(held);
        out
    } else {
        wouldblock(&args)
    };
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not stop"
    );
    assert_eq!(out.code, Some(124), "{out:?}");
    assert_eq!(out.stdout, "hello\n", "{out:?}");
    assert!(
        out.stderr
            .contains("wouldblock: error: guest stopped: deadline of 1s exceeded"),
        "{out:?}"
    );
    let r = read_json(&report);
    assert_eq!(r["exit_code"], 124);
    assert_eq!(r["exit_by"], "wouldblock");
    assert_eq!(r["stopped"], "guest stopped: deadline of 1s exceeded");
    assert_eq!(r["captured"]["stdout"], 6);
}

/// What the test's client does to a `--tcplisten` guest.
#[derive(Clone, Copy)]
enum Client {
    /// Connect and hold the connection, sending and reading nothing.
    Silent,
    /// Nothing: no client at all.
    None,
}

impl Client {
    fn connect(self, addr: std::net::SocketAddr) -> Option<std::net::TcpStream> {
        match self {
            Client::Silent => Some(std::net::TcpStream::connect(addr).unwrap()),
            Client::None => None,
        }
    }
}

const LISTEN: [&str; 2] = ["--tcplisten", "127.0.0.1:0"];
/// Accept (blocking) on the listener, fd 3; the connection's number lands at 0x200.
const ACCEPT: &str = "(drop (call $accept (i32.const 3) (i32.const 0) (i32.const 0x200)))";
/// An iovec at 0x300 of 64 KiB from address 0.
const IOVEC_64K: &str =
    "(i32.store (i32.const 0x300) (i32.const 0)) (i32.store (i32.const 0x304) (i32.const 65536))";

#[test]
fn deadline_in_blocking_accept() {
    assert_stopped_with_output("accept", &LISTEN, ACCEPT, Client::None);
}

#[test]
fn deadline_in_blocking_recv() {
    let body = format!(
        "{ACCEPT} {IOVEC_64K} (drop (call $recv (i32.load (i32.const 0x200)) (i32.const 0x300) (i32.const 1) (i32.const 0) (i32.const 0x400) (i32.const 0x404)))"
    );
    assert_stopped_with_output("recv", &LISTEN, &body, Client::Silent);
}

#[test]
fn deadline_in_blocking_fd_read_on_a_socket() {
    let body = format!(
        "{ACCEPT} {IOVEC_64K} (drop (call $fd_read (i32.load (i32.const 0x200)) (i32.const 0x300) (i32.const 1) (i32.const 0x400)))"
    );
    assert_stopped_with_output("sockread", &LISTEN, &body, Client::Silent);
}

#[test]
fn deadline_in_blocking_send() {
    // The client never reads: the send buffers fill and a blocking send waits for room.
    let body = format!(
        "{ACCEPT} {IOVEC_64K} (loop $l (drop (call $send (i32.load (i32.const 0x200)) (i32.const 0x300) (i32.const 1) (i32.const 0) (i32.const 0x400))) (br $l))"
    );
    assert_stopped_with_output("send", &LISTEN, &body, Client::Silent);
}

#[test]
fn deadline_in_blocking_fd_write_on_a_socket() {
    let body = format!(
        "{ACCEPT} {IOVEC_64K} (loop $l (drop (call $fd_write (i32.load (i32.const 0x200)) (i32.const 0x300) (i32.const 1) (i32.const 0x400))) (br $l))"
    );
    assert_stopped_with_output("sockwrite", &LISTEN, &body, Client::Silent);
}

#[test]
fn deadline_in_blocking_write_to_a_full_pipe() {
    // 100,000 bytes into the 64 KiB stdout pipe, which nothing drains before the exit.
    let body = "(i32.store (i32.const 0x300) (i32.const 0)) (i32.store (i32.const 0x304) (i32.const 100000)) (drop (call $fd_write (i32.const 1) (i32.const 0x300) (i32.const 1) (i32.const 0x400)))";
    let path = guest("fullpipe", &module(2, body));
    let dir = temp_dir("fullpipe-report");
    let report = dir.join("r.json");
    let out = measured(&[
        "run",
        "--timeout",
        "1s",
        "--stdout",
        "pipe:65536",
        "--report",
        report.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(124), "{}", out.stderr);
    // What fit before the deadline reaches the host: the pipe's 64 KiB.
    assert_eq!(out.stdout_bytes, 65536, "{}", out.stderr);
    assert_eq!(read_json(&report)["captured"]["stdout"], 65536);
}

/// A guest spinning in wasm with a long timeout: the epoch ticker drifts by a few percent,
/// which used to let the 200 ms watchdog end the process first (line and report lost). The
/// deadline is now checked against the clock at every tick.
#[test]
fn long_timeout_on_a_spinning_guest() {
    let path = guest("spin8", &module(1, "(call $hello) (loop $l (br $l))"));
    let dir = temp_dir("spin8-report");
    let report = dir.join("r.json");
    let out = wouldblock(&[
        "run",
        "--timeout",
        "8s",
        "--report",
        report.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(124), "{out:?}");
    assert_eq!(out.stdout, "hello\n", "{out:?}");
    assert_eq!(
        out.stderr,
        "wouldblock: error: guest stopped: deadline of 8s exceeded\n"
    );
    assert_eq!(
        read_json(&report)["stopped"],
        "guest stopped: deadline of 8s exceeded"
    );
}

/// A drain slower than the deadline: everything the guest wrote still reaches the host at
/// the deadline (it kept 1 byte of ~4,100).
#[test]
fn slow_drain_at_a_deadline_keeps_everything() {
    // Non-blocking writes of 100 bytes until `again`, then spin.
    let body = "(drop (call $set_flags (i32.const 1) (i32.const 4)))
      (i32.store (i32.const 0x300) (i32.const 0)) (i32.store (i32.const 0x304) (i32.const 100))
      (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0x300) (i32.const 1) (i32.const 0x400))) (br $l))";
    let path = guest("slowdrain", &module(1, body));
    let dir = temp_dir("slowdrain-report");
    let report = dir.join("r.json");
    let out = measured(&[
        "run",
        "--timeout",
        "1s",
        "--stdout",
        "pipe:4096:1/1s",
        "--report",
        report.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(124), "{}", out.stderr);
    let r = read_json(&report);
    let captured = r["captured"]["stdout"].as_u64().unwrap();
    assert!(captured >= 4000, "{captured}");
    assert_eq!(out.stdout_bytes, captured);
}

/// A drain interval of 30 s does not hold a trivial guest's exit for 30 s: the drain wakes
/// at the exit. (The bound only proves that; the exit takes milliseconds.)
#[test]
fn slow_drain_does_not_delay_the_exit() {
    let path = guest("slowexit", &module(1, "(call $hello)"));
    let started = Instant::now();
    let out = wouldblock(&[
        "run",
        "--stdout",
        "pipe:65536:1/30s",
        path.to_str().unwrap(),
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "exit waited for the drain"
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "hello\n");
}

/// Everything after GUEST is the guest's, options and `--` included: the guest exits with
/// its argc.
#[test]
fn arguments_after_the_guest_are_the_guests() {
    let body = "(drop (call $args_sizes (i32.const 0) (i32.const 4))) (call $exit (i32.load (i32.const 0)))";
    let path = guest("argc", &module(1, body));
    let p = path.to_str().unwrap();
    for (args, argc) in [
        (vec![], 1),
        (vec!["--timeout", "1s"], 3),
        (vec!["--help"], 2),
        (vec!["--", "x"], 3),
        (vec!["x", "--timeout", "1s"], 4),
        (vec!["-V"], 2),
    ] {
        let mut all = vec!["run", p];
        all.extend(args.iter().copied());
        let out = wouldblock(&all);
        assert_eq!(out.code, Some(argc), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
}

/// A guest may exit 124 (or 2, 70, 125) itself: the report says who chose the code.
#[test]
fn the_report_says_who_chose_the_exit_code() {
    let path = guest("exit124", &module(1, "(call $exit (i32.const 124))"));
    let dir = temp_dir("exit124-report");
    let report = dir.join("r.json");
    let out = wouldblock(&[
        "run",
        "--report",
        report.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(124), "{out:?}");
    assert_eq!(out.stderr, "", "no error line: the guest chose 124");
    let r = read_json(&report);
    assert_eq!(r["exit_code"], 124);
    assert_eq!(r["exit_by"], "guest");
    assert!(r.get("stopped").is_none(), "{r}");
}

/// `poll_oneoff` with `fd_write` on stdin and `fd_read` on stdout: Linux reports neither
/// (they used to fire at once with nbytes 0, making a guest that polls so busy-loop). Only
/// the 50 ms clock fires. The guest exits with nevents * 10 + the first event's type.
#[test]
fn poll_the_wrong_way_never_fires() {
    // Subscriptions at 0x1000 (48 bytes each), events at 0x2000, nevents at 0x3000.
    let body = "
      (i64.store (i32.const 0x1000) (i64.const 1)) (i32.store8 (i32.const 0x1008) (i32.const 2))
      (i32.store (i32.const 0x1010) (i32.const 0))
      (i64.store (i32.const 0x1030) (i64.const 2)) (i32.store8 (i32.const 0x1038) (i32.const 1))
      (i32.store (i32.const 0x1040) (i32.const 1))
      (i64.store (i32.const 0x1060) (i64.const 3)) (i32.store8 (i32.const 0x1068) (i32.const 0))
      (i32.store (i32.const 0x1070) (i32.const 1)) (i64.store (i32.const 0x1078) (i64.const 50000000))
      (drop (call $poll (i32.const 0x1000) (i32.const 0x2000) (i32.const 3) (i32.const 0x3000)))
      (call $exit (i32.add (i32.mul (i32.load (i32.const 0x3000)) (i32.const 10))
                           (i32.load8_u (i32.const 0x200a))))";
    let path = guest("pollwrong", &module(1, body));
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--stdout",
        "pipe:4096",
        path.to_str().unwrap(),
    ]);
    // One event, a clock (type 0).
    assert_eq!(out.code, Some(10), "{out:?}");
}

/// A clock subscription with undefined flag bits is `inval` (28), as in stock.
#[test]
fn poll_clock_with_undefined_flags_is_inval() {
    let body = "
      (i32.store8 (i32.const 0x1008) (i32.const 0)) (i32.store (i32.const 0x1010) (i32.const 1))
      (i64.store (i32.const 0x1018) (i64.const 1000)) (i32.store16 (i32.const 0x1028) (i32.const 0xffff))
      (call $exit (call $poll (i32.const 0x1000) (i32.const 0x2000) (i32.const 1) (i32.const 0x3000)))";
    let path = guest("pollflags", &module(1, body));
    let out = wouldblock(&["run", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(28), "{out:?}");
}

/// Paths that are not regular files are refused at once with one line (a FIFO used to hang,
/// /dev/zero to grow without bound).
#[test]
fn non_regular_files_are_refused() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let fifo = fifo.to_str().unwrap();
    let trivial = guest("fifo-trivial", &module(1, ""));
    let trivial = trivial.to_str().unwrap();
    let stdin_fifo = format!("file:{fifo}");
    for args in [
        vec!["run", fifo],
        vec!["run", "/dev/zero"],
        vec!["run", "--stdin", stdin_fifo.as_str(), trivial],
        vec!["compare", "/dev/zero"],
        vec!["compare", fifo],
    ] {
        let out = wouldblock(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("not a regular file"),
            "{args:?}: {out:?}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:?}");
    }
}

/// `--report` and `--output` that cannot be written are usage errors found before anything
/// runs (the guest here would print `hello`).
#[test]
fn unwritable_outputs_are_refused_first() {
    let dir = temp_dir("unwritable");
    let hello = guest("unwritable-hello", &module(1, "(call $hello)"));
    let d = dir.to_str().unwrap();
    let missing = format!("{d}/no/such/dir/r.json");
    for args in [
        vec!["run", "--report", d, hello.to_str().unwrap()],
        vec!["run", "--report", &missing, hello.to_str().unwrap()],
        vec!["suite", "--output", d],
        vec!["compare", "--output", d, "x.json"],
    ] {
        let out = wouldblock(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:?}");
    }
}

/// A case file whose guest paths are absolute: here, for `--jobs`.
fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A `--report` file opened before the run is removed again when the guest never starts
/// (here: its initial memory is over the limit), rather than left empty.
#[test]
fn no_empty_report_when_the_guest_never_starts() {
    let path = guest("nostart", &module(17, ""));
    let dir = temp_dir("nostart-report");
    let report = dir.join("r.json");
    let out = wouldblock(&[
        "run",
        "--max-memory",
        "1MiB",
        "--report",
        report.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(!report.exists(), "an empty report was left behind");
}

/// `--jobs` far beyond the number of cases starts no more workers than cases (10,000,000
/// took 493 s for 2 cases).
#[test]
fn jobs_are_capped_by_the_cases() {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests");
    let expectations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/expectations");
    let out = wouldblock(&[
        "suite",
        "--jobs",
        "10000000",
        "--filter",
        "p1_rust_stdin_nonblock_read/open",
        "--guests",
        path_str(&guests),
        "--expectations",
        path_str(&expectations),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("1 passed, 0 failed"), "{out:?}");
}

/// Two cases of one scenario that would both run for the same guest are an input error
/// naming the file and case (they would share a case id in every report).
#[test]
fn a_case_that_applies_twice_is_refused() {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests");
    let dir = temp_dir("dup-cases");
    std::fs::write(
        dir.join("trivial.toml"),
        "[[case]]\nname = \"x\"\nabi = \"p1\"\nexit = 0\n\n[[case]]\nname = \"x\"\nlangs = [\"rust\"]\nexit = 0\n",
    )
    .unwrap();
    let out = wouldblock(&[
        "suite",
        "--guests",
        path_str(&guests),
        "--expectations",
        path_str(&dir),
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("trivial.toml: case `x` applies twice to p1 rust (faithful)"),
        "{out:?}"
    );
}

/// `suite --runtime node` hands WAT guests to node compiled to binaries in temporary files;
/// none is left behind (they stayed as `wouldblock-<pid>-<case>.wasm`). Node is on every
/// machine of this project's kind; where it is missing the suite says so and this fails.
#[test]
fn peers_leave_no_converted_guests_behind() {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests");
    let expectations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/expectations");
    let tmp = temp_dir("peer-tmp");
    let mut cmd = Command::new(bin());
    cmd.env("TMPDIR", &tmp).args([
        "suite",
        "--runtime",
        "node",
        "--filter",
        "p1_wat_stdin_nonblock_read",
        "--guests",
        path_str(&guests),
        "--expectations",
        path_str(&expectations),
    ]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains(" passed, 0 failed"), "{out:?}");
    assert!(
        out.stdout.contains("PASS   p1_wat_stdin_nonblock_read/"),
        "node ran nothing: {out:?}"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".wasm"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A WASI 0.3 guest reading its stdin (an open, empty host pipe) in a loop of `stream.read`
/// answered BLOCKED and cancelled at once. Each BLOCKED used to start a host thread waiting
/// 100 ms for the pipe: the loop piled up thousands of threads (and cost ~29 us a call).
/// Now one helper waits per descriptor at a time: the host's thread count stays small.
#[test]
fn a_guest_cannot_pile_up_host_threads() {
    use wouldblock_tests::guests::P3_RUST_BENCH_STREAM_AGAIN;
    const CALLS: &str = "20000";
    let (r, w) = wouldblock_tests::os_pipe();
    let mut child = Command::new(bin())
        .args([
            "run",
            "--stdin",
            "inherit",
            P3_RUST_BENCH_STREAM_AGAIN,
            CALLS,
        ])
        .stdin(r)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let threads = || -> Option<u32> {
        let status = std::fs::read_to_string(&status_file).ok()?;
        let line = status.lines().find(|l| l.starts_with("Threads:"))?;
        line["Threads:".len()..].trim().parse().ok()
    };
    let (started, mut most) = (Instant::now(), 0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        most = most.max(threads().unwrap_or(0));
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("deadline of {DEADLINE:?} exceeded; most threads seen: {most}");
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    drop(w);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{status:?}: {out}");
    assert!(
        out.contains(&format!("calls={CALLS} cancelled={CALLS} ")),
        "{out}"
    );
    assert!(most <= 16, "the host ran {most} threads at once");
}
