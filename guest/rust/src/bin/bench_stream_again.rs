//! Scenario `bench_stream_again` (preview2, wasi:io/streams directly): N non-blocking
//! 16-byte `input-stream.read`s of an empty, open stdin (N = the first argument, default
//! 1,000,000), each an empty list, preview2's would-block; reports the nanoseconds per call,
//! timed by the guest itself so that start-up does not count.

#[cfg(target_env = "p2")]
fn main() {
    use wasi::clocks::monotonic_clock::now;
    let n = wouldblock_guest::count_arg(1_000_000);
    let stdin = wasi::cli::stdin::get_stdin();
    let (mut empty, start) = (0u64, now());
    for _ in 0..n {
        if matches!(stdin.read(16), Ok(b) if b.is_empty()) {
            empty += 1;
        }
    }
    let ns = now() - start;
    println!(
        "WB op=bench fd=0 errno=6 name=again calls={n} empty={empty} ns_per_call={:.1}",
        ns as f64 / n as f64
    );
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
