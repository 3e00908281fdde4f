//! Scenario `poll_clock`: poll with only clocks. A relative 20 ms clock, an absolute one 20 ms
//! past the monotonic now, and an unknown clock id (`inval`). Reports whether each waited at
//! least its time (the absolute one by the monotonic clock itself: it may not fire early).

use std::time::Instant;
use wouldblock_guest::*;

fn main() {
    let t = Instant::now();
    report_poll(&[Sub::Clock(20_000_000)]);
    println!(
        "WB op=elapsed fd=none errno=0 name=success waited={}",
        t.elapsed().as_millis() >= 20
    );

    // An absolute deadline has passed when the poll returns, by the clock it names.
    let deadline = monotonic_ns() + 20_000_000;
    report_poll(&[Sub::ClockAbs(1, deadline)]);
    println!(
        "WB op=elapsed fd=none errno=0 name=success waited={}",
        monotonic_ns() >= deadline
    );

    report_poll(&[Sub::ClockAbs(7, 0)]);
}
