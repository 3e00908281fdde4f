//! Scenario `write_full_pipe` (WASI 0.3): stderr written through `write-via-stream`, 64 KiB
//! at a time, each `stream.write` looked at once, until 256 KiB went through or the host said
//! BLOCKED; a BLOCKED write is cancelled. Into a bounded pipe nobody drains: a short write
//! (what fitted), then BLOCKED and `Cancelled` with nothing written: EAGAIN, Python's
//! BlockingIOError with `characters_written` the bytes of the short write. Its report goes to
//! stdout. With the argument `stdout`, the same through stdout's `write-via-stream`, and the
//! report to stderr.

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
        let stdout = std::env::args().nth(1).as_deref() == Some("stdout");
        let (fd, _done) = if stdout {
            (1, wasip3::cli::stdout::write_via_stream(rx))
        } else {
            (2, wasip3::cli::stderr::write_via_stream(rx))
        };
        // The report goes to the other stream (through std's preview2 stdio).
        let say = |line: String| {
            if stdout {
                eprintln!("{line}")
            } else {
                println!("{line}")
            }
        };
        let mut written = 0;
        while written < LIMIT {
            let mut write = pin!(tx.write(vec![b'x'; CHUNK]));
            match poll_once(write.as_mut()).await {
                Poll::Ready((r, _)) => {
                    say(write_line("stream.write", fd, r));
                    match r {
                        StreamResult::Complete(n) => written += n,
                        _ => return Ok(()),
                    }
                }
                Poll::Pending => {
                    say(format!(
                        "{} written={written}",
                        blocked_line("stream.write", fd)
                    ));
                    let (r, _) = write.as_mut().cancel();
                    say(write_line("stream.cancel-write", fd, r));
                    return Ok(());
                }
            }
        }
        say(format!(
            "WB op=stream.write fd={fd} errno=0 name=success total={written}"
        ));
        Ok(())
    }
}
