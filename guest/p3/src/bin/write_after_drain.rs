//! Scenario `write_after_drain` (WASI 0.3): stderr written through `write-via-stream`, 1000
//! bytes at a time, each `stream.write` looked at once, into a pipe of the argument's capacity
//! (default 4096) drained slowly; `full=1` when the pipe had no room for it then. The write
//! the host answers BLOCKED is not cancelled but awaited: 0.3's way to wait for room, where
//! preview1 waits in `poll_oneoff` for `fd_write` and writes again. It completes, whole, once
//! the reader has drained enough (a write of at most `PIPE_BUF` bytes goes into a pipe whole
//! or not at all). The report goes to stdout.

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

const CHUNK: usize = 1000;
/// Writes before giving up on ever being answered BLOCKED.
const MAX_WRITES: usize = 64;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut tx, rx) = wasip3::wit_stream::new::<u8>();
        let _done = wasip3::cli::stderr::write_via_stream(rx);
        let capacity: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(4096);
        let mut written = 0;
        for _ in 0..MAX_WRITES {
            let mut write = pin!(tx.write(vec![b'x'; CHUNK]));
            match poll_once(write.as_mut()).await {
                Poll::Ready((StreamResult::Complete(n), _)) => written += n,
                Poll::Ready((r, _)) => {
                    println!("{}", write_line("stream.write", 2, r));
                    return Ok(());
                }
                Poll::Pending => {
                    // How many writes went through first depends on when the reader drained:
                    // what is fixed is that the pipe had no room for this one.
                    let full = written + CHUNK > capacity;
                    println!(
                        "{} full={}",
                        blocked_line("stream.write", 2),
                        u8::from(full)
                    );
                    let (r, _) = write.await;
                    println!("{} waited=1", write_line("stream.write", 2, r));
                    return Ok(());
                }
            }
        }
        println!("WB op=stream.write fd=2 errno=0 name=success never-blocked=1");
        Ok(())
    }
}
