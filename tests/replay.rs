//! `--record` / `--replay` and `wouldblock replay`: a run written down at the boundary, then
//! run again without the outside world, byte for byte.
//!
//! - A bug caught by `--chaos` (copy_loop `again-is-eof`) is recorded and replayed with no
//!   stdin and no `--chaos`: the same wrong output, exit code and events; the timeline shows
//!   the injected `again` the bug took for end-of-file.
//! - A flaky failure of timing alone (stdin that arrives 300 ms late, read by the same bug
//!   without any injection) is replayed at once, the same failure.
//! - A socket server's failing suite case keeps its recording (`suite --recordings`), and the
//!   replay echoes the same bytes with no client connected.
//! - Any seed of every fault records and replays to the same output and events (property).
//! - Where the guest stops doing what the recording holds, exit 65 says which call.

use proptest::prelude::*;
use std::path::Path;
use std::process::Command;
use wouldblock_tests::guests::{P1_RUST_COPY_LOOP, P1_RUST_ECHO_SERVER};
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

fn wouldblock(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    run_with_deadline(cmd, stdin, DEADLINE)
}

/// 20,000 printable bytes in a pattern of 95 (a lost or repeated chunk shows).
fn input() -> Vec<u8> {
    (0..20_000u32).map(|i| b' ' + (i * 7 % 95) as u8).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Records `run ARGS GUEST GUEST_ARGS` into `rec` with `report`, then replays it (no stdin)
/// into `replayed`: both outputs.
fn record_and_replay(
    dir: &Path,
    args: &[&str],
    guest_and_args: &[&str],
    stdin: Option<&[u8]>,
) -> (Output, Output) {
    let (rec, report) = (dir.join("run.jsonl"), dir.join("recorded.json"));
    let mut argv = vec!["run", "--record", path(&rec), "--report", path(&report)];
    argv.extend(args);
    argv.extend(guest_and_args);
    let recorded = wouldblock(&argv, stdin);
    let replayed_report = dir.join("replayed.json");
    let replayed = wouldblock(
        &[
            "run",
            "--replay",
            path(&rec),
            "--report",
            path(&replayed_report),
            guest_and_args[0],
        ],
        None,
    );
    // The same events and exit code, however they came about.
    let (a, b) = (read_json(&report), read_json(&replayed_report));
    assert_eq!(a["events"], b["events"], "{recorded:?}\n{replayed:?}");
    assert_eq!(a["exit_code"], b["exit_code"]);
    (recorded, replayed)
}

/// The replay's last stderr line: it ended as recorded.
fn assert_as_recorded(replayed: &Output) {
    assert!(
        replayed
            .stderr
            .lines()
            .any(|l| l.starts_with("wouldblock: replayed ")
                && l.ends_with(": every call as recorded, and the run ended as recorded")),
        "{replayed:?}"
    );
}

#[test]
fn a_bug_caught_by_chaos_replays_byte_for_byte() {
    let dir = temp_dir("replay-chaos");
    let stdin = dir.join("in.txt");
    std::fs::write(&stdin, input()).unwrap();
    let stdin_spec = format!("file:{}", path(&stdin));
    let (recorded, replayed) = record_and_replay(
        &dir,
        &[
            "--stdin",
            &stdin_spec,
            // An in-memory stdout: the same room on every host, so the same injections.
            "--stdout",
            "pipe:64K",
            "--chaos",
            "again=0.3,short=0.5",
            "--chaos-seed",
            "0",
        ],
        &[P1_RUST_COPY_LOOP, "again-is-eof"],
        None,
    );
    // Seed 0 cuts the copy short (tests/chaos.rs found it): 5,344 of the 20,000 bytes.
    assert_eq!(recorded.code, Some(0), "{recorded:?}");
    assert_eq!(recorded.stdout.len(), 5_344);
    assert_eq!(recorded.stdout.as_bytes(), &input()[..5_344]);
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    assert_eq!(replayed.stdout, recorded.stdout);
    assert_as_recorded(&replayed);
    // The replay injects nothing: it prints no seed, yet the events are marked injected.
    assert!(!replayed.stderr.contains("chaos seed"), "{replayed:?}");
    assert!(
        replayed.stderr.contains("again (6) x1 injected"),
        "{replayed:?}"
    );

    let timeline = wouldblock(&["replay", path(&dir.join("run.jsonl"))], None);
    assert_eq!(timeline.code, Some(0), "{timeline:?}");
    let lines: Vec<&str> = timeline.stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("recording of {P1_RUST_COPY_LOOP} (")));
    assert_eq!(lines[1], format!("argv: {P1_RUST_COPY_LOOP} again-is-eof"));
    assert_eq!(lines[2], "chaos: again=0.3,short=0.5 (seed 0)");
    let calls = &lines[3..lines.len() - 1];
    // The read that ended the copy: an injected again, taken for end-of-file.
    let last = calls.last().unwrap();
    assert!(
        last.ends_with("fd_read(fd 0 stdin) -> again  [EAGAIN injected]"),
        "{last}"
    );
    assert_eq!(
        *lines.last().unwrap(),
        format!("end: exit 0 after {} calls", calls.len())
    );
    // The first read was cut short by chaos: its bytes are the input's first.
    assert!(
        calls[0].contains("fd_read(fd 0 stdin) -> 5344 bytes \""),
        "{}",
        calls[0]
    );
    assert!(calls[0].ends_with("[short injected]"), "{}", calls[0]);
}

#[test]
fn a_flaky_failure_of_timing_replays_at_once() {
    let dir = temp_dir("replay-timing");
    // Data 300 ms late: the bug's first read meets a real again and stops there.
    let (recorded, replayed) = record_and_replay(
        &dir,
        &["--stdin", "after:300:late data"],
        &[P1_RUST_COPY_LOOP, "again-is-eof"],
        None,
    );
    assert_eq!((recorded.code, recorded.stdout.as_str()), (Some(0), ""));
    assert!(
        recorded
            .stderr
            .contains("fd_read(fd=0, stdin) -> again (6) x1 = BlockingIOError"),
        "{recorded:?}"
    );
    assert_eq!((replayed.code, replayed.stdout.as_str()), (Some(0), ""));
    assert_as_recorded(&replayed);
    // With the data there at once the same guest copies it: the failure was timing alone,
    // and the replay had none (its stdin is never read).
    let control = wouldblock(
        &[
            "run",
            "--stdin",
            "data:late data",
            P1_RUST_COPY_LOOP,
            "again-is-eof",
        ],
        None,
    );
    assert_eq!(
        (control.code, control.stdout.as_str()),
        (Some(0), "late data")
    );
}

#[test]
fn a_failing_socket_case_keeps_its_recording_and_replays_without_clients() {
    let dir = temp_dir("replay-suite");
    let cases = dir.join("cases.toml");
    // The echo server's real case, with an exit code it never gives: a failure. The guest
    // beside the case file, as a user's repository has it.
    let guest = dir.join("echo_server.wasm");
    std::fs::copy(P1_RUST_ECHO_SERVER, &guest).unwrap();
    std::fs::write(
        &cases,
        "[[case]]\nname = \"four-clients\"\nguest = \"echo_server.wasm\"\nnet = \"tcplisten\"\n\
         client = \"echo:4\"\nargs = [\"4\"]\nexit = 9\n",
    )
    .unwrap();
    let (recordings, report) = (dir.join("recordings"), dir.join("suite.json"));
    let out = wouldblock(
        &[
            "suite",
            "--no-step-summary",
            "--cases",
            path(&cases),
            "--recordings",
            path(&recordings),
            "--format",
            "json",
            "--output",
            path(&report),
        ],
        None,
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let report = read_json(&report);
    let case = &report["cases"][0];
    assert_eq!(case["outcome"], "fail");
    assert_eq!(case["mismatches"][0], "expected exit 9, got exit 0");
    let rec = case["recording"].as_str().unwrap();
    assert_eq!(
        Path::new(rec),
        recordings.join(format!(
            "{}.jsonl",
            case["id"].as_str().unwrap().replace('/', "--")
        ))
    );
    let echoed = case["stdout"].as_str().unwrap();
    assert_eq!(echoed.matches("op=echoed").count(), 4, "{echoed}");
    // No client connects to the replay: the four sessions come from the recording.
    let replayed = wouldblock(&["run", "--replay", rec, path(&guest)], None);
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    assert_eq!(replayed.stdout, echoed);
    assert_as_recorded(&replayed);
    assert!(!replayed.stderr.contains("listening on"), "{replayed:?}");
    let timeline = wouldblock(&["replay", rec], None);
    assert_eq!(
        timeline
            .stdout
            .matches("sock_accept(fd 3 listener) -> fd ")
            .count(),
        4,
        "{}",
        timeline.stdout
    );
}

#[test]
fn where_the_guest_diverges_exit_65_names_the_call() {
    let dir = temp_dir("replay-diverge");
    let rec = dir.join("run.jsonl");
    let out = wouldblock(
        &[
            "run",
            "--record",
            path(&rec),
            "--stdin",
            "data:abc",
            P1_RUST_COPY_LOOP,
        ],
        None,
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "abc"), "{out:?}");
    let text = std::fs::read_to_string(&rec).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let replay = |name: &str, lines: &[&str]| {
        let file = dir.join(name);
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        wouldblock(&["run", "--replay", path(&file), P1_RUST_COPY_LOOP], None)
    };
    let first_read = lines
        .iter()
        .position(|l| l.contains("\"call\":\"fd_read\""))
        .unwrap();
    // The data read changed: the guest writes what it read, not what was recorded.
    let changed: Vec<String> = lines
        .iter()
        .map(|l| l.replace("{\"utf8\":\"abc\"}", "{\"utf8\":\"xyz\"}"))
        .collect();
    assert_ne!(changed, lines);
    let out = replay(
        "changed.jsonl",
        &changed.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(out.code, Some(65), "{out:?}");
    let err = out.stderr.lines().last().unwrap();
    assert!(
        err.starts_with(&format!(
            "wouldblock: error: replay diverged at call {}: the guest wrote other bytes than the 3 recorded",
            first_read + 1
        )),
        "{err}"
    );
    // A call taken out: the guest asks for it, the recording has the next one.
    let mut cut = lines.clone();
    let removed = cut.remove(first_read);
    let out = replay("cut.jsonl", &cut);
    assert_eq!(out.code, Some(65), "{out:?}");
    let err = out.stderr.lines().last().unwrap();
    let args = serde_json::from_str::<serde_json::Value>(removed).unwrap()["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        err.starts_with(&format!(
            "wouldblock: error: replay diverged at call {first_read}: the guest called fd_read({args}); the recording has "
        )),
        "{err}"
    );
    // The end changed: every call as recorded, then another exit code.
    let mut other_end = lines.clone();
    let end = other_end.pop().unwrap().replace("\"exit\":0", "\"exit\":3");
    other_end.push(&end);
    let out = replay("end.jsonl", &other_end);
    assert_eq!(out.code, Some(65), "{out:?}");
    assert!(out.stderr.trim_end().ends_with(&format!(
        "replay diverged at the end: the guest ended (exit 0) after all {} calls; when recorded it ended (exit 3)",
        lines.len() - 2
    )), "{out:?}");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any run of the correct copy under every fault records and replays to the same output
    /// and events, and the replay says it ended as recorded.
    #[test]
    fn any_chaos_seed_replays_to_the_same_run(seed in any::<u64>()) {
        let dir = temp_dir("replay-prop");
        let seed = seed.to_string();
        let (recorded, replayed) = record_and_replay(
            &dir,
            &["--stdin", "data:every byte, in order", "--stdout", "pipe:64:16/1ms",
              "--chaos", "again=0.3,short=0.5,wake=0.3", "--chaos-seed", &seed],
            &[P1_RUST_COPY_LOOP],
            None,
        );
        prop_assert_eq!(recorded.code, Some(0), "{:?}", recorded);
        prop_assert_eq!(recorded.stdout.as_str(), "every byte, in order");
        prop_assert_eq!(replayed.code, Some(0), "{:?}", replayed);
        prop_assert_eq!(&replayed.stdout, &recorded.stdout);
        assert_as_recorded(&replayed);
    }
}
