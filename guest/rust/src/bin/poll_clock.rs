//! Scenario `poll_clock`: poll with only clocks. A relative 20 ms clock, an absolute one 20 ms
//! past the monotonic now, and an unknown clock id (`inval`). Reports whether each waited at
//! least its time (the absolute one by the monotonic clock itself: it may not fire early).

use std::time::Instant;
use wouldblock_guest::*;

fn main() {
    let t = Instant::now();
    report_poll(&[Sub::Clock(20_000_000)]);
    println!("WB op=elapsed fd=none errno=0 name=success waited={}", t.elapsed().as_millis() >= 20);

    // An absolute deadline has passed when the poll returns, by the clock it names.
    let deadline = monotonic_now() + 20_000_000;
    report_poll(&[Sub::ClockAbs(1, deadline)]);
    println!("WB op=elapsed fd=none errno=0 name=success waited={}", monotonic_now() >= deadline);

    report_poll(&[Sub::ClockAbs(7, 0)]);
}

fn monotonic_now() -> u64 {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    }
    let mut now = 0u64;
    // SAFETY: one u64 out-parameter.
    unsafe { clock_time_get(1, 1, &mut now) };
    now
}
