//! Scenario `copy_loop` (WASI 0.3): stdin copied to stdout by a non-blocking loop, as
//! wasi-libc's p3 target runs `O_NONBLOCK` code: each `stream.read` of up to 16 KiB is looked
//! at once and BLOCKED is cancelled (EAGAIN, unless the cancel brought data); the loop then
//! waits on a zero-length read (its `poll`) before it looks again. Writes are awaited whole.
//! With the argument `again-is-eof` it takes a cancelled read for end-of-file, the classic
//! bug that `--chaos` catches.

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let again_is_eof = std::env::args().nth(1).as_deref() == Some("again-is-eof");
        let (mut stdin, _read_done) = wasip3::cli::stdin::read_via_stream();
        let (mut tx, rx) = wasip3::wit_stream::new::<u8>();
        let written = wasip3::cli::stdout::write_via_stream(rx);
        loop {
            let (r, data) = {
                let mut read = pin!(stdin.read(Vec::with_capacity(16 * 1024)));
                match poll_once(read.as_mut()).await {
                    Poll::Ready(done) => done,
                    Poll::Pending => read.as_mut().cancel(),
                }
            };
            match r {
                StreamResult::Complete(_) => {
                    if !tx.write_all(data).await.is_empty() {
                        return Err(());
                    }
                }
                StreamResult::Dropped => break,
                StreamResult::Cancelled if again_is_eof => break,
                StreamResult::Cancelled => {
                    // poll(): until a read would not block (or end-of-file).
                    let _ = stdin.read(Vec::with_capacity(0)).await;
                }
            }
        }
        drop(tx);
        written.await.map_err(|_| ())
    }
}
