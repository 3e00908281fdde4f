//! Scenario `poll_stdin`: poll stdin for reading with a 100 ms clock beside it; report which
//! fired, with nbytes and hangup; then read what was announced. `poll_stdin alone` polls
//! stdin with no clock beside it (an event loop's one descriptor).

use wouldblock_guest::*;

fn main() {
    let alone = std::env::args().nth(1).as_deref() == Some("alone");
    let subs: &[Sub] = if alone {
        &[Sub::Read(0)]
    } else {
        &[Sub::Read(0), Sub::Clock(100_000_000)]
    };
    let (_, events) = report_poll(subs);
    if events.iter().any(|e| e.kind == 1 && e.nbytes > 0) {
        report_read(0, 64);
    }
}
