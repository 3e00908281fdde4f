//! Scenario `stream_copy_loop` (preview2, wasi:io/streams directly): copies stdin to stdout
//! with non-blocking calls only, in 8 KiB reads: an empty `read` (preview2's would-block)
//! waits on stdin's pollable, a zero `check-write` permit on stdout's, and each write takes at
//! most the permit. A correct copy under any `--chaos`. With an argument it carries a classic
//! bug instead, for `--chaos` to catch:
//! - `again-is-eof`: an empty read ends the input, as if it were end-of-file;
//! - `permit-is-whole`: a chunk is written up to the permit and the rest dropped, as if the
//!   permit had covered it.

#[cfg(target_env = "p2")]
fn main() {
    use wasi::io::streams::StreamError;
    let bug = std::env::args().nth(1).unwrap_or_default();
    let stdin = wasi::cli::stdin::get_stdin();
    let stdout = wasi::cli::stdout::get_stdout();
    let fail = |op: &str, e: StreamError| -> ! {
        eprintln!("WB op={op} fd=none errno=29 name=io error={e:?}");
        std::process::exit(1)
    };
    loop {
        let chunk = match stdin.read(8192) {
            Ok(b) if b.is_empty() && bug == "again-is-eof" => break,
            Ok(b) if b.is_empty() => {
                stdin.subscribe().block();
                continue;
            }
            Ok(b) => b,
            Err(StreamError::Closed) => break,
            Err(e) => fail("input-stream.read", e),
        };
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let permit = match stdout.check_write() {
                Ok(n) => n as usize,
                Err(e) => fail("output-stream.check-write", e),
            };
            if permit == 0 {
                stdout.subscribe().block();
                continue;
            }
            let n = permit.min(rest.len());
            if let Err(e) = stdout.write(&rest[..n]) {
                fail("output-stream.write", e);
            }
            rest = if bug == "permit-is-whole" {
                &[]
            } else {
                &rest[n..]
            };
        }
    }
    if let Err(e) = stdout.blocking_flush() {
        fail("output-stream.blocking-flush", e);
    }
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
