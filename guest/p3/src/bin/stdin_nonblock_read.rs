//! Scenario `stdin_nonblock_read` (WASI 0.3): the Python docs' example in 0.3 terms. One 16-byte
//! `stream.read` of stdin, looked at once: data or end-of-file completes it at once; an open,
//! empty stdin gives BLOCKED, and the guest cancels, which completes as `Cancelled` with
//! nothing read: EAGAIN for wasi-libc's `O_NONBLOCK` (Python: BlockingIOError).

#![no_main]

use wouldblock_guest_p3::*;

wasip3::cli::command::export!(Run);

struct Run;

impl wasip3::exports::cli::run::Guest for Run {
    async fn run() -> Result<(), ()> {
        let (mut stdin, _done) = wasip3::cli::stdin::read_via_stream();
        read_or_cancel(&mut stdin, 0, 16).await;
        Ok(())
    }
}
