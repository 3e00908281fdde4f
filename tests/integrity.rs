//! No byte lost, duplicated or reordered, whatever the timing: a property test.
//!
//! The test feeds the host's stdin (a real OS pipe, `--stdin inherit`) in random chunks with
//! random delays; the `event_loop` guest copies stdin to a bounded stderr pipe with random
//! read and write sizes and a random mix of non-blocking reads + poll, immediate retries and
//! blocking reads; the host drains the pipe at a random rate. What reaches the host's stderr
//! must be exactly what was fed, and the host's `characters_written` on the `again` events of
//! stderr must be exactly the bytes of the short writes the guest saw just before each one.

use proptest::prelude::*;
use std::process::Command;
use std::time::Duration;
use wouldblock_tests::guests::P1_RUST_EVENT_LOOP;
use wouldblock_tests::run_with_feed;

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

/// Numbers each case's report file.
static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn chunks() -> impl Strategy<Value = Vec<(u64, Vec<u8>)>> {
    prop::collection::vec(
        (0u64..4, prop::collection::vec(any::<u8>(), 1..12_000)),
        0..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_arrives_in_order(
        chunks in chunks(),
        read_size in 1usize..20_000,
        write_size in 1usize..20_000,
        capacity in 1usize..70_000,
        drain_every_ms in 1u64..3,
        drain_share in 1usize..64,
        mix in 0u64..1000,
    ) {
        let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
        // Drain fast enough to finish in well under a second: at least total/300 per tick.
        let drain = (total / 300).max(1).max(capacity / drain_share).max(1);
        let report = std::env::temp_dir().join(format!(
            "wouldblock-integrity-{}-{}.json",
            std::process::id(),
            CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut cmd = Command::new(BIN);
        cmd.args([
            "run",
            "--report",
            report.to_str().unwrap(),
            "--stderr",
            &format!("pipe:{capacity}:{drain}/{drain_every_ms}ms"),
            P1_RUST_EVENT_LOOP,
            &read_size.to_string(),
            &write_size.to_string(),
            &mix.to_string(),
        ]);
        let feed: Vec<(Duration, Vec<u8>)> =
            chunks.iter().map(|(ms, c)| (Duration::from_millis(*ms), c.clone())).collect();
        let expected: Vec<u8> = chunks.into_iter().flat_map(|(_, c)| c).collect();
        let out = run_with_feed(cmd, feed, Duration::from_secs(60));
        prop_assert_eq!(out.code, Some(0), "{:?}", out.stdout);
        let summary = format!(
            "WB op=event_loop fd=none errno=0 name=success read={total} written={total} polls="
        );
        let line = out.stdout.lines().find(|l| l.starts_with(&summary));
        prop_assert!(line.is_some(), "{}", out.stdout);
        let guest_written: u64 = line
            .and_then(|l| l.rsplit_once(" characters_written="))
            .and_then(|(_, n)| n.parse().ok())
            .expect("characters_written in the summary");
        // The host's account: the stderr `again` event (absent when there was none), its
        // characters_written absent when 0.
        let json = wouldblock_tests::read_json(&report);
        let _ = std::fs::remove_file(&report);
        let host_written: u64 = json["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["call"] == "fd_write" && e["fd"] == 2 && e["wasi_name"] == "again")
            .map(|e| e["characters_written"].as_u64().unwrap_or(0))
            .sum();
        prop_assert_eq!(host_written, guest_written, "{}", out.stdout);
        prop_assert!(out.stderr_bytes.len() >= total);
        prop_assert!(out.stderr_bytes[..total] == expected[..], "bytes differ");
        let rest = String::from_utf8_lossy(&out.stderr_bytes[total..]).into_owned();
        prop_assert!(rest.lines().all(|l| l.starts_with("wouldblock: ")), "{}", rest);
    }
}
