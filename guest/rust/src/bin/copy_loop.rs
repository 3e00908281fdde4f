//! Scenario `copy_loop`: copies stdin to stdout, both non-blocking, in 8 KiB reads and writes,
//! waiting in poll_oneoff whenever a side says `again`: a correct copy under any `--chaos`.
//! With an argument it carries a classic non-blocking bug instead, for `--chaos` to catch:
//! - `again-is-eof`: a read's `again` ends the input, as if it were end-of-file;
//! - `short-is-whole`: a write's count is ignored, as if every write took everything.

use wouldblock_guest::*;

const CHUNK: usize = 8192;

fn main() {
    let bug = std::env::args().nth(1).unwrap_or_default();
    // stdout carries the copy: a `WB` line only when the flag cannot be set.
    for fd in [0, 1] {
        if set_flags(fd, FDFLAGS_NONBLOCK) != SUCCESS {
            report_set_flags(fd, FDFLAGS_NONBLOCK);
            std::process::exit(1);
        }
    }
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match read(0, &mut buf) {
            (SUCCESS, 0) => break,
            (SUCCESS, n) => n,
            (AGAIN, _) if bug == "again-is-eof" => break,
            (AGAIN, _) => {
                wait(Sub::Read(0));
                continue;
            }
            (errno, _) => fail("fd_read", 0, errno),
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            match write(1, rest) {
                (SUCCESS, _) if bug == "short-is-whole" => rest = &[],
                (SUCCESS, n) => rest = &rest[n..],
                (AGAIN, _) => wait(Sub::Write(1)),
                (errno, _) => fail("fd_write", 1, errno),
            }
        }
    }
}

fn wait(sub: Sub) {
    let (errno, _) = poll(&[sub]);
    if errno != SUCCESS {
        fail("poll_oneoff", u32::MAX, errno);
    }
}

fn fail(op: &str, fd: u32, errno: Errno) -> ! {
    report(op, fd, errno, "");
    std::process::exit(1);
}
