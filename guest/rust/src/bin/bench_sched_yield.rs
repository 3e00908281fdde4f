//! Scenario `bench_sched_yield`: N `sched_yield` calls (N = the first argument, default
//! 1,000,000): the floor of an empty host call; reports nanoseconds per call.

use wouldblock_guest::*;

fn main() {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn sched_yield() -> u16;
    }
    let n = count_arg(1_000_000);
    let (mut ok, start) = (0u64, monotonic_ns());
    for _ in 0..n {
        // SAFETY: no arguments.
        if unsafe { sched_yield() } == SUCCESS {
            ok += 1;
        }
    }
    let ns = monotonic_ns() - start;
    println!(
        "WB op=bench fd=none errno=0 name=success calls={n} ok={ok} ns_per_call={:.1}",
        ns as f64 / n as f64
    );
}
