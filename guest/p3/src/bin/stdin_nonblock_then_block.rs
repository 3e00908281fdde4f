//! Scenario `stdin_nonblock_then_block` (WASI 0.3): one 16-byte `stream.read` of stdin, looked at once,
//! then, if the host said BLOCKED, awaited: a blocking read. With stdin delivered later the
//! read completes with that data as soon as it comes; with data already there it completes at
//! the first look (a host that reads stdin on a task of its own says BLOCKED even then).

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        let mut read = pin!(stdin.read(Vec::with_capacity(16)));
        let (r, data) = match poll_once(read.as_mut()).await {
            Poll::Ready(done) => done,
            Poll::Pending => {
                println!("{}", blocked_line("stream.read", 0));
                read.await
            }
        };
        println!("{}", read_line("stream.read", 0, r, &data));
        Ok(())
    }
}
