//! Scenario `write_full_pipe` (WASI 0.3): stderr written through `write-via-stream`, 64 KiB
//! at a time, each `stream.write` looked at once, until 256 KiB went through or the host said
//! BLOCKED; a BLOCKED write is cancelled. Into a bounded pipe nobody drains: a short write
//! (what fitted), then BLOCKED and `Cancelled` with nothing written: EAGAIN, Python's
//! BlockingIOError with `characters_written` the bytes of the short write. Its report goes to
//! stdout.

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

const CHUNK: usize = 64 * 1024;
const LIMIT: usize = 256 * 1024;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut tx, rx) = wasip3::wit_stream::new::<u8>();
        let _done = wasip3::cli::stderr::write_via_stream(rx);
        let mut written = 0;
        while written < LIMIT {
            let mut write = pin!(tx.write(vec![b'x'; CHUNK]));
            match poll_once(write.as_mut()).await {
                Poll::Ready((r, _)) => {
                    println!("{}", write_line("stream.write", 2, r));
                    match r {
                        StreamResult::Complete(n) => written += n,
                        _ => return Ok(()),
                    }
                }
                Poll::Pending => {
                    println!("{} written={written}", blocked_line("stream.write", 2));
                    let (r, _) = write.as_mut().cancel();
                    println!("{}", write_line("stream.cancel-write", 2, r));
                    return Ok(());
                }
            }
        }
        println!("WB op=stream.write fd=2 errno=0 name=success total={written}");
        Ok(())
    }
}
