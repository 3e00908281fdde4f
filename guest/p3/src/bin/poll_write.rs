//! Scenario `poll_write` (WASI 0.3): a zero-length `stream.write` to stderr, the readiness
//! probe wasi-libc's p3 target uses for `poll(POLLOUT)`, is ready while the pipe has room;
//! then stderr is filled (4096-byte writes looked at once until BLOCKED, cancelled), and a
//! probe raced against a 50 ms clock: with the pipe full and nobody draining it, only the clock
//! finishes, and the probe is cancelled. The report goes to stdout.

#![no_main]

use std::pin::pin;
use std::task::Poll;
use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

const CHUNK: usize = 4096;
/// Bytes written before giving up on ever being answered BLOCKED.
const LIMIT: usize = 1 << 20;
const WAIT_NS: u64 = 50_000_000;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut tx, rx) = wasip3::wit_stream::new::<u8>();
        let _done = wasip3::cli::stderr::write_via_stream(rx);
        {
            let mut probe = pin!(tx.write(Vec::new()));
            match poll_once(probe.as_mut()).await {
                Poll::Ready((r, _)) => println!("{} len=0", write_line("stream.write", 2, r)),
                Poll::Pending => {
                    println!("{} len=0", blocked_line("stream.write", 2));
                    let (r, _) = probe.as_mut().cancel();
                    println!("{}", write_line("stream.cancel-write", 2, r));
                    return Ok(());
                }
            }
        }
        let mut written = 0;
        loop {
            if written >= LIMIT {
                println!("WB op=stream.write fd=2 errno=0 name=success never-blocked=1");
                return Ok(());
            }
            let mut write = pin!(tx.write(vec![b'x'; CHUNK]));
            match poll_once(write.as_mut()).await {
                Poll::Ready((StreamResult::Complete(n), _)) => written += n,
                Poll::Ready((r, _)) => {
                    println!("{}", write_line("stream.write", 2, r));
                    return Ok(());
                }
                Poll::Pending => {
                    println!("{} written={written}", blocked_line("stream.write", 2));
                    let (r, _) = write.as_mut().cancel();
                    println!("{}", write_line("stream.cancel-write", 2, r));
                    break;
                }
            }
        }
        let mut probe = pin!(tx.write(Vec::new()));
        let mut clock = pin!(wasip3::clocks::monotonic_clock::wait_for(WAIT_NS));
        match first(probe.as_mut(), clock.as_mut()).await {
            First::A((r, _)) => println!("{} len=0", write_line("stream.write", 2, r)),
            First::B(()) => {
                println!("WB op=clock fd=none errno=0 name=success");
                let (r, _) = probe.as_mut().cancel();
                println!("{}", write_line("stream.cancel-write", 2, r));
            }
        }
        Ok(())
    }
}
