//! Scenario `bench_wake`: N rounds (default 10,000) of: block in poll_oneoff on stdin, read
//! the one byte that woke it, write one byte to stdout. The host side (the benchmark) writes
//! a byte and times how long until the echo comes back.

use wouldblock_guest::*;

fn main() {
    let n = count_arg(10_000);
    let mut buf = [0u8; 1];
    for _ in 0..n {
        let (e, _) = poll(&[Sub::Read(0)]);
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
