//! Scenario `poll_stdin` (WASI 0.3): a zero-length `stream.read` of stdin, the readiness
//! probe wasi-libc's p3 target uses for `poll` and `O_NONBLOCK`, looked at once; BLOCKED is
//! cancelled. When the probe says ready, a 16-byte read is looked at once too: a faithful host
//! never says ready and then BLOCKED (wasmtime-wasi answers every probe "ready").

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        {
            let mut probe = pin!(stdin.read(Vec::with_capacity(0)));
            match poll_once(probe.as_mut()).await {
                Poll::Ready((StreamResult::Complete(0), _)) => {
                    println!("WB op=stream.read fd=0 len=0 result=ready")
                }
                Poll::Ready((r, data)) => {
                    println!("{}", read_line("stream.read", 0, r, &data));
                    return Ok(());
                }
                Poll::Pending => {
                    // BLOCKED: cancelled, and nothing more.
                    println!("{}", blocked_line("stream.read", 0));
                    let (r, data) = probe.as_mut().cancel();
                    println!("{}", read_line("stream.cancel-read", 0, r, &data));
                    return Ok(());
                }
            }
        }
        read_or_cancel(&mut stdin, 0, 16).await;
        Ok(())
    }
}
