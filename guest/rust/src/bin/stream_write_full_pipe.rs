//! Scenario `stream_write_full_pipe` (preview2, wasi:io/streams directly): writes stderr as
//! fast as `check-write` permits, 4 KiB at a time, until a `check-write` permits nothing
//! (preview2's would-block: Python on WASI, BlockingIOError) or 64 KiB
//! went through. After a would-block it polls the stream with a 500 ms timeout, says which came
//! first, and looks again. Its report goes to stdout.

#[cfg(target_env = "p2")]
fn main() {
    const LIMIT: usize = 64 * 1024;
    let stderr = wasi::cli::stderr::get_stderr();
    let chunk = [b'x'; 4096];
    let mut written = 0usize;
    loop {
        match stderr.check_write() {
            Ok(0) => {
                println!(
                    "WB op=output-stream.check-write fd=2 errno=6 name=again written={written}"
                );
                // Wait for room (or 500 ms), then look again.
                let writable = stderr.subscribe();
                let timeout = wasi::clocks::monotonic_clock::subscribe_duration(500_000_000);
                let ready = wasi::io::poll::poll(&[&writable, &timeout]);
                let which = if ready.contains(&0) {
                    "stderr"
                } else {
                    "timeout"
                };
                println!("WB op=poll fd=2 errno=0 name=success ready={which}");
                match stderr.check_write() {
                    Ok(0) => println!("WB op=output-stream.check-write fd=2 errno=6 name=again"),
                    Ok(_) => println!(
                        "WB op=output-stream.check-write fd=2 errno=0 name=success permit=some"
                    ),
                    Err(_) => println!("WB op=output-stream.check-write fd=2 errno=29 name=io"),
                }
                return;
            }
            Ok(permit) if written < LIMIT => {
                let n = (permit as usize).min(chunk.len()).min(LIMIT - written);
                if stderr.write(&chunk[..n]).is_err() {
                    println!("WB op=output-stream.write fd=2 errno=29 name=io");
                    return;
                }
                written += n;
            }
            Ok(_) => {
                println!(
                    "WB op=output-stream.check-write fd=2 errno=0 name=success written={written}"
                );
                return;
            }
            Err(_) => {
                println!("WB op=output-stream.check-write fd=2 errno=29 name=io");
                return;
            }
        }
    }
}

#[cfg(not(target_env = "p2"))]
fn main() {
    wouldblock_guest::preview2_only();
}
