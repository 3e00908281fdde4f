//! Scenario `bench_read_again`: N non-blocking `fd_read`s of an empty stdin (N = the first
//! argument, default 1,000,000), each `again`; reports the nanoseconds per call, timed by the
//! guest itself so that start-up does not count.

use wouldblock_guest::*;

fn main() {
    let n = count_arg(1_000_000);
    if set_flags(0, FDFLAGS_NONBLOCK) != SUCCESS {
        // Only a failure is reported: the one line on success is the measurement.
        report_set_flags(0, FDFLAGS_NONBLOCK);
        std::process::exit(1);
    }
    let mut buf = [0u8; 64];
    let (mut again, start) = (0u64, monotonic_ns());
    for _ in 0..n {
        if read(0, &mut buf).0 == AGAIN {
            again += 1;
        }
    }
    let ns = monotonic_ns() - start;
    println!(
        "WB op=bench fd=0 errno=6 name=again calls={n} again={again} ns_per_call={:.1}",
        ns as f64 / n as f64
    );
}
