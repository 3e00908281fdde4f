//! `--chaos`: what it injects is never wrong for POSIX, and it catches what it is for.
//!
//! - A property test: the correct `copy_loop` guest copies 20,000 bytes byte for byte under
//!   1,000 random seeds of every fault (again, short reads and writes, spurious wake-ups),
//!   through a bounded stdout drained as it goes; across the seeds every kind of injection
//!   happened (a test of nothing would pass too).
//! - Each buggy variant (`again-is-eof`, `short-is-whole`) is caught by some seed, which is
//!   printed; the same seed through the command line (`--chaos-seed`) gives the same wrong
//!   output again.
//!
//! - The suite's other correct non-blocking guests hold under 1,000 seeds too: the poll-driven
//!   `event_loop` (stdin to a bounded, slowly drained stderr, every mix of polling, retrying
//!   and blocking reads) and the `echo_server` (four concurrent loopback clients, each echoed
//!   byte for byte, with `again` and short counts on `sock_accept`, `sock_recv`, `sock_send`).
//! - The same for preview2 streams used directly (`stream_copy_loop`: `read`, `check-write`,
//!   pollables), where `--chaos` injects empty reads, short reads and zero or small
//!   `check-write` permits; its bugs (`again-is-eof`, `permit-is-whole`) are caught.
//!
//! The preview1 runs go in-process through the library (one engine, one compiled module), as
//! `embedder.rs` runs a guest: each run on a thread of its own, a hang being a failure at the
//! deadline. The preview2 runs go through the command line (the library is preview1's).

#[path = "embedder.rs"]
mod embedder;

use proptest::prelude::*;
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::OnceLock;
use wasmtime::{Engine, Module};
use wouldblock::{ChaosSpec, FaithfulCtx, OutputSpec, StdinSpec};
use wouldblock_tests::guests::{
    P1_RUST_COPY_LOOP, P1_RUST_ECHO_SERVER, P1_RUST_EVENT_LOOP, P2_RUST_STREAM_COPY_LOOP,
    P3_RUST_COPY_LOOP,
};
use wouldblock_tests::{run_with_deadline, temp_dir, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");
/// Every fault, on every handle.
const EVERYTHING: &str = "again=0.3,short=0.5,wake=0.3";

/// One engine, and each guest compiled with it so far (by path).
type Compiled = (Engine, Vec<(&'static str, Module)>);

/// A guest, compiled once per test binary (one engine for all).
fn compiled_guest(path: &'static str) -> (Engine, Module) {
    static GUESTS: OnceLock<std::sync::Mutex<Compiled>> = OnceLock::new();
    let mut guard = GUESTS
        .get_or_init(|| std::sync::Mutex::new((Engine::default(), Vec::new())))
        .lock()
        .unwrap();
    let (engine, all) = &mut *guard;
    if let Some((_, m)) = all.iter().find(|(p, _)| *p == path) {
        return (engine.clone(), m.clone());
    }
    let module = Module::from_file(engine, path).unwrap();
    all.push((path, module.clone()));
    (engine.clone(), module)
}

/// The injected events of a run, as `call/errno` names.
fn injected_kinds(faithful: &FaithfulCtx) -> BTreeSet<String> {
    faithful
        .events()
        .events()
        .iter()
        .filter(|e| e.injected)
        .map(|e| format!("{}/{}", e.call, e.errno.name()))
        .collect()
}

/// 20,000 printable bytes in a pattern of 95 (a lost or repeated chunk shows).
fn input() -> Vec<u8> {
    (0..20_000u32).map(|i| b' ' + (i * 7 % 95) as u8).collect()
}

/// What one run of `copy_loop [bug]` did: exit code, stdout, and the injected events as
/// `call/errno` names.
struct Ran {
    code: i32,
    stdout: Vec<u8>,
    injected: BTreeSet<String>,
}

fn run(bug: Option<&str>, stdout: &str, spec: &str, seed: u64) -> Ran {
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    wasi.arg("copy_loop");
    if let Some(bug) = bug {
        wasi.arg(bug);
    }
    let faithful = FaithfulCtx::builder()
        .stdin(StdinSpec::Data(input()))
        .stdout(stdout.parse::<OutputSpec>().unwrap())
        .capture_output(true)
        .chaos(spec.parse::<ChaosSpec>().unwrap(), seed)
        .build(wasi)
        .unwrap();
    let (engine, module) = compiled_guest(P1_RUST_COPY_LOOP);
    let (code, faithful) = embedder::run_module(engine, module, faithful);
    Ran {
        code,
        stdout: faithful.stdout(),
        injected: injected_kinds(&faithful),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A correct copy loop's output is the same under any seed (proptest prints the seed of a
    /// failure).
    #[test]
    fn a_correct_copy_is_exact_under_any_seed(seed in any::<u64>()) {
        let ran = run(None, "pipe:16384:4096/1ms", EVERYTHING, seed);
        prop_assert_eq!(ran.code, 0);
        prop_assert!(ran.stdout == input(), "seed {}: the copy differs", seed);
    }

    /// The poll-driven event loop (stdin to a 128-byte stderr pipe drained 128 bytes a
    /// millisecond, reads and writes of 100 and 300 bytes, and a mix seed for its own choices
    /// between polling, retrying and blocking) moves every byte in order under any seed.
    #[test]
    fn the_event_loop_is_exact_under_any_seed(seed in any::<u64>()) {
        let data: Vec<u8> = input()[..700].to_vec();
        let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
        wasi.args(&["event_loop", "100", "300", &(seed % 7 + 1).to_string()]);
        let faithful = FaithfulCtx::builder()
            .stdin(StdinSpec::Data(data.clone()))
            .stderr("pipe:128:128/1ms".parse::<OutputSpec>().unwrap())
            .capture_output(true)
            .chaos(EVERYTHING.parse::<ChaosSpec>().unwrap(), seed)
            .build(wasi)
            .unwrap();
        let (engine, module) = compiled_guest(P1_RUST_EVENT_LOOP);
        let (code, faithful) = embedder::run_module(engine, module, faithful);
        prop_assert_eq!(code, 0, "seed {}", seed);
        prop_assert!(faithful.stderr() == data, "seed {}: the copy differs", seed);
    }

    /// The echo server serves four concurrent clients, each echoed byte for byte, under any
    /// seed of every fault on its sockets.
    #[test]
    fn the_echo_server_is_exact_under_any_seed(seed in any::<u64>()) {
        let (code, exact, _) = echo(seed);
        prop_assert_eq!(code, 0, "seed {}", seed);
        prop_assert!(exact, "seed {}: an echo differs", seed);
    }
}

/// The echo server property is not vacuous: over 30 seeds, `again` is injected into its
/// accepts, receives and sends, and short counts into its receives and sends.
#[test]
fn the_echo_server_meets_every_kind_of_injection() {
    let mut seen = BTreeSet::new();
    for seed in 0..30 {
        seen.extend(echo(seed).2);
    }
    let all: BTreeSet<String> = [
        "sock_accept/again",
        "sock_recv/again",
        "sock_recv/success",
        "sock_send/again",
        "sock_send/success",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, all);
}

/// One run of the echo server for four clients under `seed`: its exit code, whether every
/// client got back exactly what it sent, and the injected events as `call/errno`.
fn echo(seed: u64) -> (i32, bool, BTreeSet<String>) {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    wasi.args(&["echo_server", "4"]);
    let faithful = FaithfulCtx::builder()
        .listener(socket, 3, false)
        .capture_output(true)
        .chaos(
            "again@sockets=0.3,short@sockets=0.5"
                .parse::<ChaosSpec>()
                .unwrap(),
            seed,
        )
        .build(wasi)
        .unwrap();
    let clients: Vec<_> = (0..4u8)
        .map(|i| {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let sent: Vec<u8> = (0..2000u32)
                    .map(|j| b'a' + ((j + u32::from(i)) % 26) as u8)
                    .collect();
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.set_read_timeout(Some(DEADLINE)).unwrap();
                c.write_all(&sent).unwrap();
                c.shutdown(std::net::Shutdown::Write).unwrap();
                let mut got = Vec::new();
                c.read_to_end(&mut got).unwrap();
                (sent, got)
            })
        })
        .collect();
    let (engine, module) = compiled_guest(P1_RUST_ECHO_SERVER);
    let (code, faithful) = embedder::run_module(engine, module, faithful);
    let exact = clients.into_iter().all(|c| {
        let (sent, got) = c.join().unwrap();
        got == sent
    });
    (code, exact, injected_kinds(&faithful))
}

/// The property above is not vacuous: over 200 seeds of the same spec, every kind of
/// injection happens.
#[test]
fn every_kind_of_injection_happens() {
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        seen.extend(run(None, "pipe:16384:4096/1ms", EVERYTHING, seed).injected);
    }
    let all: BTreeSet<String> = [
        "fd_read/again",
        "fd_read/success",
        "fd_write/again",
        "fd_write/success",
        "poll_oneoff/success",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, all);
}

/// The first of seeds 0..1000 under which `bug` changes the output; then the command line
/// with that seed gives the same wrong output.
fn caught(bug: &str, spec: &str) {
    let input = input();
    let (seed, wrong) = (0..1000u64)
        .map(|seed| (seed, run(Some(bug), "inherit", spec, seed)))
        .find(|(_, ran)| ran.stdout != input)
        .unwrap_or_else(|| panic!("{bug}: no seed of 1000 caught it"));
    eprintln!(
        "{bug}: caught by --chaos '{spec}' --chaos-seed {seed} ({} of {} bytes out)",
        wrong.stdout.len(),
        input.len()
    );
    assert!(wrong.stdout.len() < input.len());
    let dir = temp_dir("chaos-replay");
    let file = dir.join("input");
    std::fs::write(&file, &input).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--stdin"])
        .arg(format!("file:{}", file.display()))
        .args(["--chaos", spec, "--chaos-seed", &seed.to_string()])
        .args([P1_RUST_COPY_LOOP, bug]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.as_bytes() == wrong.stdout,
        "{bug}: the command line with seed {seed} gave {} bytes, the library {}",
        out.stdout.len(),
        wrong.stdout.len()
    );
}

#[test]
fn again_taken_for_end_of_file_is_caught() {
    caught("again-is-eof", "again=0.3,short=0.5");
}

#[test]
fn a_short_write_taken_for_whole_is_caught() {
    caught("short-is-whole", "again=0.3,short=0.5");
}

/// One command-line run of the preview2 `stream_copy_loop [bug]` over `input()` from a file,
/// into an in-memory 64 KiB stdout (the same room on every host): exit code, stdout, and the
/// injected events as `call/errno` names, read from the summary lines.
/// One run of a component `guest [bug]` through the command line: the input as stdin (a
/// file), stdout a 64 KiB pipe.
fn cli_run(guest: &str, bug: Option<&str>, spec: &str, seed: u64) -> Ran {
    // Written once for every test of this binary (each temp_dir call empties its directory).
    static INPUT: OnceLock<std::path::PathBuf> = OnceLock::new();
    let file = INPUT.get_or_init(|| {
        let file = temp_dir("chaos-cli").join("input");
        std::fs::write(&file, input()).unwrap();
        file
    });
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--stdout", "pipe:64K", "--stdin"])
        .arg(format!("file:{}", file.display()))
        .args(["--chaos", spec, "--chaos-seed", &seed.to_string()])
        .arg(guest)
        .args(bug);
    let out = run_with_deadline(cmd, None, DEADLINE);
    let injected = out
        .stderr
        .lines()
        .filter(|l| l.contains(" injected = "))
        .map(|l| {
            let call = &l["wouldblock: ".len()..l.find('(').unwrap()];
            let errno = l.split("-> ").nth(1).unwrap().split(' ').next().unwrap();
            format!("{call}/{errno}")
        })
        .collect();
    Ran {
        code: out.code.unwrap_or(-1),
        stdout: out.stdout.into_bytes(),
        injected,
    }
}

/// Runs the correct copy `guest` under seeds 0..200 of `spec`: each run exits 0 with the
/// input copied byte for byte; the kinds of injection that happened across them.
fn exact_under_seeds(guest: &str, spec: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        let ran = cli_run(guest, None, spec, seed);
        assert_eq!(ran.code, 0, "seed {seed}");
        assert!(ran.stdout == input(), "seed {seed}: the copy differs");
        seen.extend(ran.injected);
    }
    seen
}

/// The correct preview2 copy is exact under 200 seeds of every fault that applies to streams,
/// and across them each kind of injection happens.
#[test]
fn a_correct_preview2_copy_is_exact_under_any_seed() {
    let seen = exact_under_seeds(P2_RUST_STREAM_COPY_LOOP, "again=0.3,short=0.5");
    let all: BTreeSet<String> = [
        "input-stream.read/again",
        "input-stream.read/success",
        "output-stream.check-write/again",
        "output-stream.check-write/success",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, all);
}

/// The first of seeds 0..200 under which the preview2 `bug` changes the output; the same seed
/// again gives the same wrong output.
fn p2_caught(bug: &str, spec: &str) {
    cli_caught(P2_RUST_STREAM_COPY_LOOP, bug, spec);
}

/// The first of seeds 0..200 under which the copy `guest`'s `bug` changes the output; the
/// same seed again gives the same wrong output. Its injections.
fn cli_caught(guest: &str, bug: &str, spec: &str) -> BTreeSet<String> {
    let (seed, wrong) = (0..200u64)
        .map(|seed| (seed, cli_run(guest, Some(bug), spec, seed)))
        .find(|(_, ran)| ran.stdout != input())
        .unwrap_or_else(|| panic!("{bug}: no seed of 200 caught it"));
    eprintln!(
        "{bug}: caught by --chaos '{spec}' --chaos-seed {seed} ({} of {} bytes out)",
        wrong.stdout.len(),
        input().len()
    );
    assert!(wrong.stdout.len() < input().len());
    assert_eq!(cli_run(guest, Some(bug), spec, seed).stdout, wrong.stdout);
    wrong.injected
}

#[test]
fn preview2_again_taken_for_end_of_file_is_caught() {
    p2_caught("again-is-eof", "again=0.3,short=0.5");
}

#[test]
fn preview2_a_permit_taken_for_the_whole_write_is_caught() {
    p2_caught("permit-is-whole", "short@stdout=0.5");
}

/// WASI 0.3: the non-blocking copy (each read looked at once, BLOCKED cancelled, a zero-length
/// read to wait) is exact under 200 seeds of every fault, and across them each kind of
/// injection that applies happens: BLOCKED on a read or a write that could complete, short
/// reads and writes. (Its stdin, a file, is always ready: no probe can be woken spuriously;
/// `wake` is tested on an open stdin below.)
#[test]
fn a_correct_wasi_0_3_copy_is_exact_under_any_seed() {
    let seen = exact_under_seeds(P3_RUST_COPY_LOOP, EVERYTHING);
    let all: BTreeSet<String> = [
        "stream.read/again",
        "stream.read/success",
        "stream.write/again",
        "stream.write/success",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, all);
}

/// The 0.3 copy that takes a cancelled read for end-of-file copies everything on a quiet run,
/// and stops short under `again` on stdin; the seed repeats it.
#[test]
fn wasi_0_3_again_taken_for_end_of_file_is_caught() {
    let quiet = cli_run(
        P3_RUST_COPY_LOOP,
        Some("again-is-eof"),
        "short@stderr=/1",
        0,
    );
    assert!(quiet.stdout == input(), "a quiet run copies it all");
    let injected = cli_caught(P3_RUST_COPY_LOOP, "again-is-eof", "again@stdin=0.3");
    assert!(injected.contains("stream.read/again"), "{injected:?}");
}

/// `wake` on a 0.3 probe of an open, empty stdin: answered ready at once (injected), and the
/// read that follows is BLOCKED, as after a spurious `select(2)` wake-up.
#[test]
fn a_wasi_0_3_probe_is_woken_spuriously() {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--stdin",
        "open",
        "--chaos",
        "wake@stdin=/1",
        "--chaos-seed",
        "1",
    ])
    .arg(wouldblock_tests::guests::P3_RUST_POLL_STDIN);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec![
                "WB op=stream.read fd=0 len=0 result=ready",
                "WB op=stream.read fd=0 result=blocked",
                "WB op=stream.cancel-read fd=0 errno=6 name=again result=cancelled n=0",
            ]
        ),
        "{out:?}"
    );
    assert_eq!(
        out.host_lines()[1..],
        [
            "wouldblock: stream.probe-read(fd=0, stdin) -> success (0) x1 injected = ready at once, no exception [linux]",
            "wouldblock: stream.read(fd=0, stdin) -> again (6) x1 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]",
            "wouldblock: stream.cancel-read(fd=0, stdin) -> again (6) x1 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]",
        ],
        "{out:?}"
    );
}

/// WASI 0.3 sockets take `--chaos` too: with `again` on every connection's first look, the
/// send and the read of "hi" (both of which could complete) are each answered BLOCKED once
/// (injected, held a millisecond); the guest waits on them and sees exactly what a quiet run
/// sees. Its looks at nothing (no client, no data yet) stay real would-blocks.
#[test]
fn wasi_0_3_sockets_take_chaos() {
    let addr = format!("127.0.0.1:{}", wouldblock_tests::free_port());
    let run = |chaos: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "--allow-net", &addr])
            .args(chaos)
            .arg(wouldblock_tests::guests::P3_RUST_NET_ACCEPT_NONBLOCKING)
            .arg(&addr);
        run_with_deadline(cmd, None, DEADLINE)
    };
    let quiet = run(&[]);
    let noisy = run(&["--chaos", "again@socket=1", "--chaos-seed", "3"]);
    assert_eq!(quiet.code, Some(0), "{quiet:?}");
    assert_eq!(
        (noisy.code, noisy.wb_lines()),
        (quiet.code, quiet.wb_lines()),
        "{noisy:?}"
    );
    let injected: Vec<&str> = noisy
        .stderr
        .lines()
        .filter(|l| l.contains(" injected = "))
        .map(|l| &l["wouldblock: ".len()..l.find(" = ").unwrap()])
        .collect();
    assert_eq!(
        injected
            .iter()
            .map(|l| l.replace(|c: char| c.is_ascii_digit(), "N"))
            .collect::<Vec<_>>(),
        [
            "stream.write(fd=N, socket) -> again (N) xN injected",
            "stream.read(fd=N, socket) -> again (N) xN injected",
        ],
        "{noisy:?}"
    );
    assert!(!quiet.stderr.contains("injected"), "{quiet:?}");
}
