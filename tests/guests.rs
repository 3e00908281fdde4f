//! Every guest, run by `wouldblock run`, with exact expectations: the guest's `WB` lines, its
//! exit code, the host's event lines and the JSON report. One module per feature.
//!
//! `foreach_guest!` requires one test function per guest, named after it: a guest without a
//! test fails to compile.

#[path = "guests/bench.rs"]
mod bench;
#[path = "guests/chaos.rs"]
mod chaos;
#[cfg(target_os = "linux")]
#[path = "guests/host_pipes.rs"]
mod host_pipes;
#[path = "guests/limits.rs"]
mod limits;
#[path = "guests/p2net.rs"]
mod p2net;
#[path = "guests/p2stdio.rs"]
mod p2stdio;
#[path = "guests/p3.rs"]
mod p3;
#[path = "guests/poll.rs"]
mod poll;
#[path = "guests/sandbox.rs"]
mod sandbox;
#[path = "guests/sockets.rs"]
mod sockets;
#[path = "guests/stdin.rs"]
mod stdin;
#[path = "guests/writes.rs"]
mod writes;

pub use bench::*;
pub use chaos::*;
pub use limits::*;
pub use p2net::*;
pub use p2stdio::*;
pub use p3::*;
pub use poll::*;
pub use sandbox::*;
pub use sockets::*;
pub use stdin::*;
pub use writes::*;

use serde_json::json;
use std::process::Command;
use wouldblock_tests::{foreach_guest, run_with_deadline, Output, DEADLINE};

pub const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

macro_rules! assert_test_exists {
    ($name:ident) => {
        #[allow(unused_imports)]
        use self::$name as _;
    };
}
foreach_guest!(assert_test_exists);

/// Runs `wouldblock` with `args` and stdin from /dev/null, under the deadline.
pub fn wouldblock(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    run_with_deadline(cmd, None, DEADLINE)
}

/// One echo client's whole conversation on `s`: `messages` lines of varying length (up to
/// ~3 KB, so that the server meets full buffers), shut down writing, then read the echo to
/// end-of-file, which must be exactly what was sent. Returns the bytes sent.
pub fn echo_conversation(mut s: std::net::TcpStream, client: usize, messages: usize) -> usize {
    use std::io::{Read, Write};
    let mut sent = Vec::new();
    for m in 0..messages {
        let pad = "x".repeat((client * 97 + m * 31) % 3000);
        let line = format!("client {client} message {m} {pad}\n");
        s.write_all(line.as_bytes()).unwrap();
        sent.extend_from_slice(line.as_bytes());
    }
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(
        got == sent,
        "client {client}: echo differs ({} vs {} bytes)",
        got.len(),
        sent.len()
    );
    sent.len()
}

/// A would-block on a pipe as Python raises it on `platform`, `errno` being its EAGAIN.
pub fn again_on(platform: &str, errno: i32) -> serde_json::Value {
    json!({
        "platform": platform,
        "handle_kind": "pipe",
        "exception": "BlockingIOError",
        "errno": errno,
        "name": "EAGAIN",
        "strerror": "Resource temporarily unavailable",
        "line": format!("BlockingIOError: [Errno {errno}] Resource temporarily unavailable"),
    })
}

/// The report event for `count` non-blocking reads of an empty stdin, rendered for Linux, with
/// every platform's rendering.
pub fn again_event(count: u64) -> serde_json::Value {
    json!({
        "call": "fd_read", "fd": 0, "handle": "stdin", "wasi_errno": 6, "wasi_name": "again",
        "count": count, "python": again_on("linux", 11),
        "renderings": [
            again_on("linux", 11), again_on("macos", 35), again_on("freebsd", 35),
            again_on("windows", 11), again_on("wasi", 6),
        ],
    })
}

/// `uname FLAG`, the oracle for the report's kernel release (`-r`) and host name (`-n`).
fn uname(flag: &str) -> String {
    let out = Command::new("uname").arg(flag).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn expected_report(
    guest: &str,
    abi: &str,
    wasi: &str,
    code: i32,
    events: Vec<serde_json::Value>,
) -> serde_json::Value {
    json!({
        "schema": "wouldblock.report/1",
        "guest": guest,
        "abi": abi,
        "wasi": wasi,
        "platform": {
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "kernel": uname("-r"),
            "hostname": uname("-n"),
        },
        "render_platform": "linux",
        "exit_code": code,
        "exit_by": "guest",
        "captured": {"stdout": 0, "stderr": 0},
        "events": events,
    })
}
