//! Scenario `bench_recv_again`: accept one client (blocking) as a non-blocking socket, then
//! N `sock_recv`s while the client sends nothing (N = the first argument, default
//! 1,000,000), each `again`; reports the nanoseconds per call, timed by the guest itself so
//! that start-up and the accept do not count.

use wouldblock_guest::*;

fn main() {
    let n = count_arg(1_000_000);
    let (errno, fd) = accept(LISTEN_FD, FDFLAGS_NONBLOCK);
    if errno != SUCCESS {
        // Only a failure is reported: the one line on success is the measurement.
        report(
            "sock_accept",
            LISTEN_FD,
            errno,
            &format!("flags={FDFLAGS_NONBLOCK}"),
        );
        std::process::exit(1);
    }
    let mut buf = [0u8; 64];
    let (mut again, start) = (0u64, monotonic_ns());
    for _ in 0..n {
        if recv(fd, &mut buf, 0).0 == AGAIN {
            again += 1;
        }
    }
    let ns = monotonic_ns() - start;
    println!(
        "WB op=bench fd={fd} errno=6 name=again calls={n} again={again} ns_per_call={:.1}",
        ns as f64 / n as f64
    );
}
