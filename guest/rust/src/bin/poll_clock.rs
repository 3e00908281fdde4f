//! Scenario `poll_clock`: poll with only clocks. A relative 20 ms clock, an absolute one 20 ms
//! past the monotonic now, and an unknown clock id (`inval`). Reports whether each waited at
//! least its time.

use std::time::Instant;
use wouldblock_guest::*;

fn main() {
    let t = Instant::now();
    report_poll(&[Sub::Clock(20_000_000)]);
    println!("WB op=elapsed fd=none errno=0 name=success waited={}", t.elapsed().as_millis() >= 20);

    let now = monotonic_now();
    let t = Instant::now();
    report_poll(&[Sub::ClockAbs(1, now + 20_000_000)]);
    println!("WB op=elapsed fd=none errno=0 name=success waited={}", t.elapsed().as_millis() >= 20);

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
