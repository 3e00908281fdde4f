//! Scenario `poll_stdin`: poll stdin for reading with a 100 ms clock beside it; report which
//! fired, with nbytes and hangup; then read what was announced.

use wouldblock_guest::*;

fn main() {
    let (_, events) = report_poll(&[Sub::Read(0), Sub::Clock(100_000_000)]);
    if events.iter().any(|e| e.kind == 1 && e.nbytes > 0) {
        report_read(0, 64);
    }
}
