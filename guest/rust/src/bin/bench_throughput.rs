//! Scenario `bench_throughput`: moves bytes through stdio in 64 KiB non-blocking calls, each
//! `again` answered by a poll_oneoff on that fd. `bench_throughput in` reads stdin to
//! end-of-file; `bench_throughput out N` writes N bytes (default 1 MiB) to stderr, so that
//! stdout keeps only the report: the byte count and how many `again`s it met.

use wouldblock_guest::*;

const CHUNK: usize = 64 * 1024;

fn nonblock(fd: u32) {
    if set_flags(fd, FDFLAGS_NONBLOCK) != SUCCESS {
        report_set_flags(fd, FDFLAGS_NONBLOCK);
        std::process::exit(1);
    }
}

fn wait(sub: Sub) {
    let (errno, _) = poll(&[sub]);
    if errno != SUCCESS {
        report("poll_oneoff", u32::MAX, errno, "");
        std::process::exit(1);
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut buf = vec![0x5au8; CHUNK];
    let (mut bytes, mut again) = (0u64, 0u64);
    match mode.as_str() {
        "in" => {
            nonblock(0);
            loop {
                match read(0, &mut buf) {
                    (SUCCESS, 0) => break,
                    (SUCCESS, n) => bytes += n as u64,
                    (AGAIN, _) => {
                        again += 1;
                        wait(Sub::Read(0));
                    }
                    (errno, _) => {
                        report("fd_read", 0, errno, "");
                        std::process::exit(1);
                    }
                }
            }
            println!("WB op=bench_in fd=0 errno=0 name=success bytes={bytes} again={again}");
        }
        "out" => {
            let total: u64 = std::env::args()
                .nth(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1 << 20);
            nonblock(2);
            while bytes < total {
                let n = CHUNK.min((total - bytes) as usize);
                match write(2, &buf[..n]) {
                    (SUCCESS, n) => bytes += n as u64,
                    (AGAIN, _) => {
                        again += 1;
                        wait(Sub::Write(2));
                    }
                    (errno, _) => {
                        report("fd_write", 2, errno, "");
                        std::process::exit(1);
                    }
                }
            }
            println!("WB op=bench_out fd=2 errno=0 name=success bytes={bytes} again={again}");
        }
        _ => {
            println!("usage: bench_throughput in | out [BYTES]");
            std::process::exit(2);
        }
    }
}
