//! Scenario `sock_send_until_full`: accept a client that does not read, as a non-blocking
//! socket; send 64 KiB chunks until `again`. Reports each send (the last success may be
//! short), the total, then shuts down writing so the client sees the end.

use wouldblock_guest::*;

fn main() {
    let (errno, fd) = report_accept(LISTEN_FD, FDFLAGS_NONBLOCK);
    if errno != SUCCESS {
        std::process::exit(1);
    }
    let chunk = vec![b's'; 65536];
    let mut total = 0;
    for _ in 0..4096 {
        let (errno, n) = send(fd, &chunk);
        report(
            "sock_send",
            fd,
            errno,
            &format!("len={} n={n}", chunk.len()),
        );
        if errno != SUCCESS {
            break;
        }
        total += n;
    }
    println!("WB op=total fd={fd} errno=0 name=success sent={total}");
    report("sock_shutdown", fd, shutdown(fd, 2), "how=2");
}
