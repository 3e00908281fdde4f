//! Scenario `bench_stream_again` (WASI 0.3): N 16-byte `stream.read`s of an empty, open
//! stdin (N = the first argument, default 1,000,000), each looked at once, BLOCKED, and
//! cancelled: the whole would-block round trip of 0.3 (EAGAIN for wasi-libc's `O_NONBLOCK`).
//! Reports the nanoseconds per round trip, timed by the guest itself.

#![no_main]

use std::pin::pin;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        use wasip3::clocks::monotonic_clock::now;
        let n: u64 = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1_000_000);
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        let (mut cancelled, start) = (0u64, now());
        for _ in 0..n {
            let mut read = pin!(stdin.read(Vec::with_capacity(16)));
            if poll_once(read.as_mut()).await.is_pending()
                && read.as_mut().cancel().0 == StreamResult::Cancelled
            {
                cancelled += 1;
            }
        }
        let ns = now() - start;
        println!(
            "WB op=bench fd=0 errno=6 name=again calls={n} cancelled={cancelled} ns_per_call={:.1}",
            ns as f64 / n as f64
        );
        Ok(())
    }
}
