//! Scenario `poll_ready_and_timeout`: poll stdin beside a clock that has already expired (0
//! ns). With data waiting, both are ready at the same moment and both are reported, as POSIX
//! `poll` reports every ready descriptor (wasmtime#2729, #6577); without data only the clock.

use wouldblock_guest::*;

fn main() {
    report_poll(&[Sub::Read(0), Sub::Clock(0)]);
}
