//! The benchmark guests do what the benchmarks rely on (their timings are the benchmarks'
//! business, never a test's).

use super::wouldblock;
use wouldblock_tests::guests::*;

fn ns_line(out: &wouldblock_tests::Output, prefix: &str) {
    let lines = out.wb_lines();
    assert_eq!(lines.len(), 1, "{out:?}");
    let rest = lines[0]
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{out:?}"));
    let ns: f64 = rest.strip_prefix("ns_per_call=").unwrap().parse().unwrap();
    assert!(ns > 0.0, "{out:?}");
}

#[test]
pub fn p1_rust_bench_read_again() {
    let out = wouldblock(&["run", "--stdin", "open", P1_RUST_BENCH_READ_AGAIN, "1000"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    ns_line(
        &out,
        "WB op=bench fd=0 errno=6 name=again calls=1000 again=1000 ",
    );
    assert_eq!(
        out.host_lines(),
        ["wouldblock: fd_read(fd=0, stdin) -> again (6) x1000 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"]
    );
}

#[test]
pub fn p2_rust_bench_read_again() {
    let out = wouldblock(&["run", "--stdin", "open", P2_RUST_BENCH_READ_AGAIN, "1000"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        ["WB op=fd_fdstat_set_flags fd=0 errno=8 name=badf flags=4"],
        "{out:?}"
    );
}

#[test]
pub fn p1_rust_bench_sched_yield() {
    let out = wouldblock(&["run", P1_RUST_BENCH_SCHED_YIELD, "1000"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    ns_line(
        &out,
        "WB op=bench fd=none errno=0 name=success calls=1000 ok=1000 ",
    );
}

#[test]
pub fn p2_rust_bench_sched_yield() {
    let out = wouldblock(&["run", P2_RUST_BENCH_SCHED_YIELD, "1000"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    ns_line(
        &out,
        "WB op=bench fd=none errno=0 name=success calls=1000 ok=1000 ",
    );
}

#[test]
pub fn p1_rust_trivial() {
    let out = wouldblock(&["run", P1_RUST_TRIVIAL]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec!["WB op=hello fd=none errno=0 name=success"])
    );
}

#[test]
pub fn p2_rust_trivial() {
    let out = wouldblock(&["run", P2_RUST_TRIVIAL]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (Some(0), vec!["WB op=hello fd=none errno=0 name=success"])
    );
}

/// Three pings through a real pipe, each echoed once the guest's poll wakes for it.
fn check_wake(guest: &str) {
    let mut cmd = std::process::Command::new(super::BIN);
    cmd.args(["run", guest, "3"]);
    let feed = (0..3)
        .map(|i| (std::time::Duration::from_millis(20), vec![b'a' + i]))
        .collect();
    let out = wouldblock_tests::run_with_feed(cmd, feed, wouldblock_tests::DEADLINE);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "abc"), "{out:?}");
}

#[test]
pub fn p1_rust_bench_wake() {
    check_wake(P1_RUST_BENCH_WAKE);
}

#[test]
pub fn p2_rust_bench_wake() {
    check_wake(P2_RUST_BENCH_WAKE);
}

#[test]
pub fn p1_rust_bench_throughput() {
    // In: no data for 30 ms (one `again`, one poll), then five bytes and end-of-file.
    let out = wouldblock(&[
        "run",
        "--stdin",
        "after:30:hello",
        P1_RUST_BENCH_THROUGHPUT,
        "in",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        ["WB op=bench_in fd=0 errno=0 name=success bytes=5 again=1"],
        "{out:?}"
    );
    assert_eq!(
        out.host_lines(),
        ["wouldblock: fd_read(fd=0, stdin) -> again (6) x1 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"]
    );
    // Out: 1 MiB through a 64 KiB stderr pipe drained 16 KiB a millisecond: every byte
    // arrives, and the guest met `again` (and waited in poll) at least once.
    let mut cmd = std::process::Command::new(super::BIN);
    cmd.args([
        "run",
        "--stderr",
        "pipe:65536:16384/1ms",
        P1_RUST_BENCH_THROUGHPUT,
        "out",
        "1048576",
    ]);
    let out = wouldblock_tests::run_with_feed(cmd, vec![], wouldblock_tests::DEADLINE);
    assert_eq!(out.code, Some(0), "{:?}", out.stdout);
    let line = out.wb_lines()[0].to_owned();
    let again: u64 = line
        .strip_prefix("WB op=bench_out fd=2 errno=0 name=success bytes=1048576 again=")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    assert!(again >= 1, "{line}");
    assert!(out.stderr_bytes.len() > 1 << 20);
    assert!(out.stderr_bytes[..1 << 20].iter().all(|&b| b == 0x5a));
    // One host line for all the `again`s; `characters_written` sums the short writes that
    // came just before each (what Python's BufferedWriter would report), at most all bytes.
    let rest = String::from_utf8_lossy(&out.stderr_bytes[1 << 20..]).into_owned();
    let written: u64 = rest
        .strip_prefix(&format!(
            "wouldblock: fd_write(fd=2, stderr) -> again (6) x{again} = BlockingIOError: \
             [Errno 11] Resource temporarily unavailable (characters_written="
        ))
        .and_then(|r| r.strip_suffix(") [linux]\n"))
        .unwrap_or_else(|| panic!("{rest}"))
        .parse()
        .unwrap();
    assert!(written <= 1 << 20, "{rest}");
}

#[test]
pub fn p2_rust_bench_throughput() {
    let out = wouldblock(&["run", "--stdin", "eof", P2_RUST_BENCH_THROUGHPUT, "in"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        ["WB op=fd_fdstat_set_flags fd=0 errno=8 name=badf flags=4"],
        "{out:?}"
    );
}

#[test]
pub fn p1_rust_bench_stream_again() {
    let out = wouldblock(&["run", P1_RUST_BENCH_STREAM_AGAIN, "1000"]);
    assert_eq!(
        (out.code, out.wb_lines()),
        (
            Some(0),
            vec!["WB op=skip fd=none errno=0 name=success reason=preview2-only"]
        ),
        "{out:?}"
    );
}

#[test]
pub fn p2_rust_bench_stream_again() {
    let out = wouldblock(&["run", "--stdin", "open", P2_RUST_BENCH_STREAM_AGAIN, "1000"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    ns_line(
        &out,
        "WB op=bench fd=0 errno=6 name=again calls=1000 empty=1000 ",
    );
    assert_eq!(
        out.host_lines(),
        ["wouldblock: input-stream.read(fd=0, stdin) -> again (6) x1000 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"]
    );
}

#[test]
pub fn p3_rust_bench_stream_again() {
    let out = wouldblock(&["run", "--stdin", "open", P3_RUST_BENCH_STREAM_AGAIN, "1000"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    ns_line(
        &out,
        "WB op=bench fd=0 errno=6 name=again calls=1000 cancelled=1000 ",
    );
    assert_eq!(
        out.host_lines(),
        [
            "wouldblock: stream.read(fd=0, stdin) -> again (6) x1000 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]",
            "wouldblock: stream.cancel-read(fd=0, stdin) -> again (6) x1000 = BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]",
        ]
    );
}
