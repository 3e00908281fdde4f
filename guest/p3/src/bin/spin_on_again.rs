//! Scenario `spin_on_again` (WASI 0.3): a runaway guest reading its stdin without ever
//! waiting: `stream.read` looked at once, BLOCKED cancelled, again, forever. A deadline stops
//! it (epoch interruption), and so does fuel; the first BLOCKED is reported, and every one is
//! recorded by a faithful host.

#![no_main]

use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        let mut reported = false;
        loop {
            let mut read = std::pin::pin!(stdin.read(Vec::with_capacity(16)));
            match poll_once(read.as_mut()).await {
                std::task::Poll::Ready((r, data)) => {
                    println!("{}", read_line("stream.read", 0, r, &data));
                    if !matches!(r, StreamResult::Complete(_)) {
                        return Ok(());
                    }
                }
                std::task::Poll::Pending => {
                    if !std::mem::replace(&mut reported, true) {
                        println!("{}", blocked_line("stream.read", 0));
                    }
                    let _ = read.as_mut().cancel();
                }
            }
        }
    }
}
