//! Scenario `bench_wake`: N rounds (default 10,000) of: block in poll_oneoff on stdin, read
//! the one byte that woke it, write one byte to stdout. The host side (the benchmark) writes
//! a byte and times how long until the echo comes back. One buffer of events serves every
//! round, as in an event loop: the native side allocates nothing per round either.

use wouldblock_guest::*;

fn main() {
    let n = count_arg(10_000);
    let mut buf = [0u8; 1];
    let mut events = Vec::with_capacity(1);
    for _ in 0..n {
        let e = poll_into(&[Sub::Read(0)], &mut events);
        if e != SUCCESS {
            std::process::exit(1);
        }
        match read(0, &mut buf) {
            (SUCCESS, 1) => {}
            _ => std::process::exit(0),
        }
        write(1, &buf);
    }
}
