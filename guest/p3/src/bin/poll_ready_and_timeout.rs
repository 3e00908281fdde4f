//! Scenario `poll_ready_and_timeout` (WASI 0.3): a 16-byte `stream.read` of stdin and a clock
//! of zero, polled together once: what a 0.3 event loop sees when data is waiting and its
//! timer has already expired. Each that finished is reported (preview1's `poll_oneoff`
//! reports both, as POSIX `poll` does); one still pending is then cancelled or awaited.

#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        let mut read = pin!(stdin.read(Vec::with_capacity(16)));
        let mut clock = pin!(wasip3::clocks::monotonic_clock::wait_for(0));
        let (read_now, clock_now) = std::future::poll_fn(|cx| {
            Poll::Ready((read.as_mut().poll(cx), clock.as_mut().poll(cx)))
        })
        .await;
        let clock_line = "WB op=clock fd=none errno=0 name=success";
        let read_pending = read_now.is_pending();
        match read_now {
            Poll::Ready((r, data)) => println!("{}", read_line("stream.read", 0, r, &data)),
            Poll::Pending => println!("{}", blocked_line("stream.read", 0)),
        }
        match clock_now {
            Poll::Ready(()) => println!("{clock_line}"),
            Poll::Pending => {
                println!("WB op=clock fd=none result=blocked");
                clock.await;
                println!("{clock_line}");
            }
        }
        if read_pending {
            let (r, data) = read.as_mut().cancel();
            println!("{}", read_line("stream.cancel-read", 0, r, &data));
        }
        Ok(())
    }
}
