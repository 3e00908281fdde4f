//! Scenario `event_loop` (WASI 0.3): stdin copied to stderr with both sides non-blocking, as
//! an event loop over wasi-libc's p3 target runs: each `stream.read` (up to 4096 bytes) and
//! each `stream.write` of what is pending is looked at once, and BLOCKED is cancelled (its
//! EAGAIN); when both sides are stuck the loop waits for whichever becomes ready first, a
//! zero-length read and a zero-length write (its `poll`). Reports the bytes moved, the waits
//! (a busy spin shows) and `characters_written`: the bytes of the short writes just before
//! each cancelled write, summed, as the guest saw them (the host's events must say the same).

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

const CHUNK: usize = 4096;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _in_done) = wasip3::cli::stdin::read_via_stream();
        let (mut tx, rx) = wasip3::wit_stream::new::<u8>();
        let _out_done = wasip3::cli::stderr::write_via_stream(rx);
        let (mut pending, mut eof) = (Vec::new(), false);
        let (mut read, mut written, mut waits) = (0, 0, 0);
        // Short writes since the last cancelled one, and their sum over every cancel.
        let (mut short, mut characters_written) = (0, 0);
        loop {
            let mut read_stuck = eof;
            if !eof {
                let mut op = pin!(stdin.read(Vec::with_capacity(CHUNK)));
                let (r, data) = match poll_once(op.as_mut()).await {
                    Poll::Ready(done) => done,
                    Poll::Pending => {
                        read_stuck = true;
                        op.as_mut().cancel()
                    }
                };
                read += data.len();
                pending.extend_from_slice(&data);
                eof = matches!(r, StreamResult::Dropped);
            }
            let mut write_stuck = pending.is_empty();
            if !pending.is_empty() {
                let len = pending.len();
                let mut op = pin!(tx.write(pending.clone()));
                match poll_once(op.as_mut()).await {
                    Poll::Ready((StreamResult::Complete(n), _)) => {
                        pending.drain(..n);
                        written += n;
                        if n < len {
                            short += n;
                        }
                    }
                    Poll::Ready((r, _)) => {
                        println!("{}", write_line("stream.write", 2, r));
                        return Ok(());
                    }
                    Poll::Pending => {
                        write_stuck = true;
                        let (r, _) = op.as_mut().cancel();
                        if let StreamResult::Complete(n) = r {
                            pending.drain(..n);
                            written += n;
                        }
                        characters_written += std::mem::take(&mut short);
                    }
                }
            }
            if eof && pending.is_empty() {
                break;
            }
            if read_stuck && write_stuck {
                waits += 1;
                if eof {
                    let _ = tx.write(Vec::new()).await;
                } else if pending.is_empty() {
                    let _ = stdin.read(Vec::with_capacity(0)).await;
                } else {
                    let mut readable = pin!(stdin.read(Vec::with_capacity(0)));
                    let mut writable = pin!(tx.write(Vec::new()));
                    match first(readable.as_mut(), writable.as_mut()).await {
                        First::A(_) => drop(writable.as_mut().cancel()),
                        First::B(_) => drop(readable.as_mut().cancel()),
                    }
                }
            }
        }
        println!(
            "WB op=event_loop fd=none errno=0 name=success read={read} written={written} \
             polls={waits} characters_written={characters_written}"
        );
        Ok(())
    }
}
