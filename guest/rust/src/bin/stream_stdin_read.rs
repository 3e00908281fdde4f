//! Scenario `stream_stdin_read` (preview2, wasi:io/streams directly, not through the
//! preview1 adapter): one non-blocking `input-stream.read` of stdin. An open stdin with no
//! data gives an empty list, preview2's would-block (Python on WASI: BlockingIOError); data
//! gives the bytes; end-of-file gives `closed`. After a would-block it polls stdin together
//! with a 500 ms timeout, reports which came first, and reads again.

#[cfg(target_env = "p2")]
fn main() {
    use wasi::io::streams::StreamError;
    let stdin = wasi::cli::stdin::get_stdin();
    let report = |r: &Result<Vec<u8>, StreamError>| match r {
        Ok(b) if b.is_empty() => println!("WB op=input-stream.read fd=0 errno=6 name=again"),
        Ok(b) => println!(
            "WB op=input-stream.read fd=0 errno=0 name=success n={} data={}",
            b.len(),
            String::from_utf8_lossy(b)
        ),
        Err(StreamError::Closed) => {
            println!("WB op=input-stream.read fd=0 errno=0 name=success n=0 closed=1")
        }
        Err(StreamError::LastOperationFailed(e)) => println!(
            "WB op=input-stream.read fd=0 errno=29 name=io error={}",
            e.to_debug_string()
        ),
    };
    let first = stdin.read(16);
    report(&first);
    if !matches!(&first, Ok(b) if b.is_empty()) {
        return;
    }
    let readable = stdin.subscribe();
    let timeout = wasi::clocks::monotonic_clock::subscribe_duration(500_000_000);
    let ready = wasi::io::poll::poll(&[&readable, &timeout]);
    let which = if ready.contains(&0) {
        "stdin"
    } else {
        "timeout"
    };
    println!("WB op=poll fd=0 errno=0 name=success ready={which}");
    report(&stdin.read(16));
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
