//! Preview2 sockets through wasmtime-wasi with `--allow-net`: would-blocks on accept,
//! finish-connect and socket streams are recorded where they cross, and rendered as Python
//! would raise them. The scenarios exist only in preview2; their preview1 builds say so.

use super::BIN;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wouldblock_tests::guests::*;
use wouldblock_tests::{free_port, run_with_deadline, Output, DEADLINE};

const SKIP: &str = "WB op=skip fd=none errno=0 name=success reason=preview2-only";

fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    run_with_deadline(cmd, None, DEADLINE)
}

fn host_lines(out: &Output) -> Vec<&str> {
    out.host_lines()
}

#[test]
pub fn p2_rust_net_accept_nonblocking() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let out = run(&[
        "run",
        "--allow-net",
        &addr,
        P2_RUST_NET_ACCEPT_NONBLOCKING,
        &addr,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=listen fd=none errno=0 name=success",
            "WB op=tcp-socket.accept fd=none errno=6 name=again error=would-block",
            "WB op=listen-denied fd=none errno=2 name=acces error=access-denied",
        ],
        "{out:?}"
    );
    assert_eq!(
        host_lines(&out),
        [
            "wouldblock: tcp-socket.accept(fd=1, listener) -> again (6) x1 = BlockingIOError: \
          [Errno 11] Resource temporarily unavailable [linux]"
        ],
        "{out:?}"
    );
    // Without --allow-net nothing is allowed.
    let out = run(&["run", P2_RUST_NET_ACCEPT_NONBLOCKING, &addr]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        ["WB op=listen fd=none errno=2 name=acces error=access-denied"],
        "{out:?}"
    );
}

#[test]
pub fn p1_rust_net_accept_nonblocking() {
    let out = run(&["run", P1_RUST_NET_ACCEPT_NONBLOCKING, "127.0.0.1:1"]);
    assert_eq!((out.code, out.wb_lines()), (Some(0), vec![SKIP]), "{out:?}");
}

/// start-connect then finish-connect at once: `would-block` while the handshake runs
/// (recorded as EINPROGRESS: 115 on Linux, 36 on macOS, WSAEWOULDBLOCK on Windows), then
/// completion; the server receives `hello`. On loopback the handshake can be over before the
/// first finish-connect: legal, and then nothing was in progress.
#[test]
pub fn p2_rust_net_connect_in_progress() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap().to_string();
    // One connection per run below.
    let reader = std::thread::spawn(move || {
        (0..3)
            .map(|_| {
                let (mut c, _) = server.accept().unwrap();
                let mut got = Vec::new();
                c.read_to_end(&mut got).unwrap();
                got
            })
            .collect::<Vec<_>>()
    });
    for platform in ["linux", "windows"] {
        let out = run(&[
            "run",
            "--allow-net",
            &addr,
            "--platform",
            platform,
            P2_RUST_NET_CONNECT_IN_PROGRESS,
            &addr,
        ]);
        assert_eq!(out.code, Some(0), "{out:?}");
        let lines = out.wb_lines();
        assert_eq!(
            lines[0], "WB op=tcp-socket.start-connect fd=none errno=0 name=success",
            "{out:?}"
        );
        let event = match platform {
            "linux" => "BlockingIOError: [Errno 115] Operation now in progress [linux]",
            _ => "BlockingIOError: [WinError 10035] A non-blocking socket operation could not be completed immediately [windows]",
        };
        match lines[1] {
            "WB op=connect-state fd=none errno=0 name=success in_progress=true" => {
                assert_eq!(
                    lines[2..],
                    ["WB op=tcp-socket.finish-connect fd=none errno=0 name=success"],
                    "{out:?}"
                );
                assert_eq!(
                    host_lines(&out),
                    [format!("wouldblock: tcp-socket.finish-connect(fd=1, socket) -> inprogress (26) x1 = {event}")],
                    "{out:?}"
                );
            }
            "WB op=connect-state fd=none errno=0 name=success in_progress=false" => {
                assert_eq!(lines.len(), 2, "{out:?}");
                assert!(host_lines(&out).is_empty(), "{out:?}");
            }
            other => panic!("unexpected {other:?}: {out:?}"),
        }
    }
    // --chaos: the first finish-connect, asked before the guest waited, says in progress
    // whatever the handshake did (an injected event); after the pollable, the real one
    // connects.
    let out = run(&[
        "run",
        "--allow-net",
        &addr,
        "--chaos",
        "again@socket=/1",
        "--chaos-seed",
        "1",
        P2_RUST_NET_CONNECT_IN_PROGRESS,
        &addr,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=tcp-socket.start-connect fd=none errno=0 name=success",
            "WB op=connect-state fd=none errno=0 name=success in_progress=true",
            "WB op=tcp-socket.finish-connect fd=none errno=0 name=success",
        ],
        "{out:?}"
    );
    assert_eq!(
        host_lines(&out),
        [
            "wouldblock: chaos seed 1 (--chaos-seed 1 repeats it)".to_string(),
            "wouldblock: tcp-socket.finish-connect(fd=1, socket) -> inprogress (26) x1 injected = \
             BlockingIOError: [Errno 115] Operation now in progress [linux]"
                .to_string()
        ],
        "{out:?}"
    );
    assert_eq!(reader.join().unwrap(), [b"hello", b"hello", b"hello"]);
}

#[test]
pub fn p1_rust_net_connect_in_progress() {
    let out = run(&["run", P1_RUST_NET_CONNECT_IN_PROGRESS, "127.0.0.1:1"]);
    assert_eq!((out.code, out.wb_lines()), (Some(0), vec![SKIP]), "{out:?}");
}

/// Connects to `addr`, retrying while the guest is not listening yet.
fn connect_retrying(addr: &str) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                return s;
            }
            Err(e) if start.elapsed() < DEADLINE => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("connecting to {addr}: {e}"),
        }
    }
}

/// The poll-driven preview2 echo server serves three concurrent clients; every byte comes
/// back in order; its would-blocks are rendered as BlockingIOError.
#[test]
pub fn p2_rust_net_echo_server() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--allow-net",
            &addr,
            P2_RUST_NET_ECHO_SERVER,
            &addr,
            "3",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || super::echo_conversation(connect_retrying(&addr), i, 40))
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let Some(status) = wouldblock_tests::exit_by(&mut child, Instant::now() + DEADLINE) else {
        let _ = child.kill();
        panic!("the echo server did not exit");
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.ends_with("WB op=echo_server fd=none errno=0 name=success clients=3\n"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("WB op=echoed ").count(), 3, "{stdout}");
    for line in stderr.lines() {
        assert!(
            line.starts_with("wouldblock: ")
                && line.contains(
                    "BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]"
                ),
            "{line}"
        );
    }
}

#[test]
pub fn p1_rust_net_echo_server() {
    let out = run(&["run", P1_RUST_NET_ECHO_SERVER, "127.0.0.1:1"]);
    assert_eq!((out.code, out.wb_lines()), (Some(0), vec![SKIP]), "{out:?}");
}
