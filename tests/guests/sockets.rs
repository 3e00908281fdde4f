//! Preview1 sockets on loopback: `--tcplisten 127.0.0.1:0`, clients driven from the test.
//! Every `again` is one the OS would give, and every byte sent arrives, in order.

use super::BIN;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::Duration;
use wouldblock_tests::guests::*;
use wouldblock_tests::{Listening, Output};

/// Starts `guest` with one loopback listener (port 0), extra host options and guest args.
fn listening(guest: &str, host_args: &[&str], guest_args: &[&str]) -> Listening {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--tcplisten", "127.0.0.1:0"])
        .args(host_args)
        .arg(guest)
        .args(guest_args);
    Listening::spawn(cmd)
}

fn connect(l: &Listening) -> TcpStream {
    let s = TcpStream::connect(l.addr()).expect("connecting to the guest");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

fn host_lines(out: &Output) -> Vec<&str> {
    out.host_lines()
        .into_iter()
        .filter(|l| !l.starts_with("wouldblock: listening on"))
        .collect()
}

const ACCEPT_AGAIN_LINE: &str = "wouldblock: sock_accept(fd=3, listener) -> again (6) x1 = \
    BlockingIOError: [Errno 11] Resource temporarily unavailable [linux]";

#[test]
pub fn p1_rust_sock_accept_no_client() {
    let out = listening(P1_RUST_SOCK_ACCEPT_NO_CLIENT, &[], &[]).wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=fd_fdstat_set_flags fd=3 errno=0 name=success flags=4",
            "WB op=sock_accept fd=3 errno=6 name=again flags=0",
        ],
        "{out:?}"
    );
    assert_eq!(host_lines(&out), [ACCEPT_AGAIN_LINE], "{out:?}");
    // On Windows a socket would-block is WSAEWOULDBLOCK.
    let out = listening(
        P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        &["--platform", "windows"],
        &[],
    )
    .wait();
    assert_eq!(
        host_lines(&out),
        ["wouldblock: sock_accept(fd=3, listener) -> again (6) x1 = BlockingIOError: \
          [WinError 10035] A non-blocking socket operation could not be completed immediately [windows]"],
        "{out:?}"
    );
}

#[test]
pub fn p1_c_sock_accept_no_client() {
    let out = listening(P1_C_SOCK_ACCEPT_NO_CLIENT, &[], &[]).wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=fd_fdstat_set_flags fd=3 errno=0 name=success flags=4",
            "WB op=sock_accept fd=3 errno=6 name=again flags=0",
        ],
        "{out:?}"
    );
    assert_eq!(host_lines(&out), [ACCEPT_AGAIN_LINE], "{out:?}");
}

/// Preview2 components get no `--tcplisten` sockets: an input error (exit 2) that says so.
fn p2_refuses_tcplisten(guest: &str) {
    let out = super::wouldblock(&["run", "--tcplisten", "127.0.0.1:0", guest]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("--tcplisten hands sockets to preview1 modules"),
        "{out:?}"
    );
}

#[test]
pub fn p2_rust_sock_accept_no_client() {
    p2_refuses_tcplisten(P2_RUST_SOCK_ACCEPT_NO_CLIENT);
}

/// Accepted sockets are numbered far above stock's, carry exactly the flags passed, and say
/// they are stream sockets (filetype 6).
#[test]
pub fn p1_rust_sock_accept_after_connect() {
    let l = listening(P1_RUST_SOCK_ACCEPT_AFTER_CONNECT, &[], &[]);
    let (_a, _b) = (connect(&l), connect(&l));
    let out = l.wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            "WB op=sock_accept fd=3 errno=0 name=success flags=0 new_fd=1073741824 new_flags=0",
            "WB op=fd_fdstat_get fd=1073741824 errno=0 name=success filetype=6",
            "WB op=sock_accept fd=3 errno=0 name=success flags=4 new_fd=1073741825 new_flags=4",
            "WB op=fd_fdstat_get fd=1073741825 errno=0 name=success filetype=6",
        ],
        "{out:?}"
    );
    assert!(host_lines(&out).is_empty(), "{out:?}");
}

#[test]
pub fn p2_rust_sock_accept_after_connect() {
    p2_refuses_tcplisten(P2_RUST_SOCK_ACCEPT_AFTER_CONNECT);
}

const ACCEPTED_NONBLOCK: &str =
    "WB op=sock_accept fd=3 errno=0 name=success flags=4 new_fd=1073741824 new_flags=4";

/// A connected client that sends nothing: `again` from sock_recv and from fd_read.
fn recv_no_data(guest: &str) {
    let l = listening(guest, &[], &[]);
    let client = connect(&l);
    let out = l.wait();
    drop(client);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.wb_lines(),
        [
            ACCEPTED_NONBLOCK,
            "WB op=sock_recv fd=1073741824 errno=6 name=again",
            "WB op=fd_read fd=1073741824 errno=6 name=again",
        ],
        "{out:?}"
    );
    assert_eq!(
        host_lines(&out),
        [
            "wouldblock: sock_recv(fd=1073741824, socket) -> again (6) x1 = BlockingIOError: \
             [Errno 11] Resource temporarily unavailable [linux]",
            "wouldblock: fd_read(fd=1073741824, socket) -> again (6) x1 = BlockingIOError: \
             [Errno 11] Resource temporarily unavailable [linux]",
        ],
        "{out:?}"
    );
}

#[test]
pub fn p1_rust_sock_recv_no_data() {
    recv_no_data(P1_RUST_SOCK_RECV_NO_DATA);
}

/// The same in C: wasi-libc's accept4(SOCK_NONBLOCK), recv() and read().
#[test]
pub fn p1_c_sock_recv_no_data() {
    recv_no_data(P1_C_SOCK_RECV_NO_DATA);
}

#[test]
pub fn p2_rust_sock_recv_no_data() {
    p2_refuses_tcplisten(P2_RUST_SOCK_RECV_NO_DATA);
}

/// A blocking receive waits for the client's bytes; after its shutdown, 0.
#[test]
pub fn p1_rust_sock_recv_after_data() {
    assert_eq!(
        recv_after_data(&[]),
        [
            "WB op=sock_accept fd=3 errno=0 name=success flags=0 new_fd=1073741824 new_flags=0",
            "WB op=sock_recv fd=1073741824 errno=0 name=success n=5 data=hello",
            "WB op=sock_recv fd=1073741824 errno=0 name=success n=0 data=",
        ]
    );
}

/// poll_oneoff on a connected socket, as poll(2) says: readable with its bytes while the
/// client is there, readable with nothing and `hangup` once it has shut down (Linux:
/// `POLLIN|POLLRDHUP`, which Python's `select.poll` shows as 0x2001 on a half-closed socket).
#[test]
pub fn p1_rust_poll_on_a_socket_reports_nbytes_then_hangup() {
    assert_eq!(
        recv_after_data(&["poll"]),
        [
            "WB op=sock_accept fd=3 errno=0 name=success flags=0 new_fd=1073741824 new_flags=0",
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=1073741824 errno=0 name=success type=fd_read nbytes=5 hangup=0",
            "WB op=sock_recv fd=1073741824 errno=0 name=success n=5 data=hello",
            "WB op=poll_oneoff fd=none errno=0 name=success nevents=1",
            "WB op=event fd=1073741824 errno=0 name=success type=fd_read nbytes=0 hangup=1",
            "WB op=sock_recv fd=1073741824 errno=0 name=success n=0 data=",
        ]
    );
}

/// `sock_recv_after_data` with `args`: the client sends `hello` after 50 ms (the guest's
/// first receive, or poll, waits for it) and shuts down once the guest has received it (its
/// next one waits for the shutdown); the guest's `WB` lines, after a clean exit.
fn recv_after_data(args: &[&str]) -> Vec<String> {
    let mut l = listening(P1_RUST_SOCK_RECV_AFTER_DATA, &[], args);
    let mut client = connect(&l);
    std::thread::sleep(Duration::from_millis(50));
    client.write_all(b"hello").unwrap();
    l.await_stdout("data=hello");
    std::thread::sleep(Duration::from_millis(50));
    client.shutdown(Shutdown::Write).unwrap();
    let out = l.wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    out.wb_lines().into_iter().map(String::from).collect()
}

#[test]
pub fn p2_rust_sock_recv_after_data() {
    p2_refuses_tcplisten(P2_RUST_SOCK_RECV_AFTER_DATA);
}

#[test]
pub fn p1_rust_sock_send_until_full() {
    send_until_full(P1_RUST_SOCK_SEND_UNTIL_FULL);
}

/// The same in C: wasi-libc's accept4(SOCK_NONBLOCK), send() and shutdown(SHUT_WR).
#[test]
pub fn p1_c_sock_send_until_full() {
    send_until_full(P1_C_SOCK_SEND_UNTIL_FULL);
}

/// A client that does not read: sends succeed until the buffers fill, the last maybe short,
/// then `again` (with characters_written = that short count). The client then reads exactly
/// the total the guest reports.
fn send_until_full(guest: &str) {
    let mut l = listening(guest, &[], &[]);
    let mut client = connect(&l);
    // Read nothing until the guest is done sending: it reports its total after the `again`.
    l.await_stdout("WB op=total ");
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    let out = l.wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    let sends: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("WB op=sock_send"))
        .collect();
    let (last, ok) = sends.split_last().expect("sends");
    assert_eq!(
        *last, "WB op=sock_send fd=1073741824 errno=6 name=again len=65536 n=0",
        "{out:?}"
    );
    let counts: Vec<usize> = ok
        .iter()
        .map(|l| {
            l.strip_prefix("WB op=sock_send fd=1073741824 errno=0 name=success len=65536 n=")
                .unwrap_or_else(|| panic!("unexpected {l:?}"))
                .parse()
                .unwrap()
        })
        .collect();
    assert!(!counts.is_empty(), "{out:?}");
    // Only the last success may be short.
    assert!(
        counts[..counts.len() - 1].iter().all(|n| *n == 65536),
        "{counts:?}"
    );
    let total: usize = counts.iter().sum();
    assert!(
        lines.contains(
            &format!("WB op=total fd=1073741824 errno=0 name=success sent={total}").as_str()
        ),
        "{out:?}"
    );
    assert_eq!(got.len(), total);
    assert!(got.iter().all(|b| *b == b's'));
    let short = counts.last().copied().filter(|n| *n < 65536);
    let written = short
        .map(|n| format!(" (characters_written={n})"))
        .unwrap_or_default();
    assert_eq!(
        host_lines(&out),
        [format!(
            "wouldblock: sock_send(fd=1073741824, socket) -> again (6) x1 = BlockingIOError: \
             [Errno 11] Resource temporarily unavailable{written} [linux]"
        )],
        "{out:?}"
    );
}

#[test]
pub fn p2_rust_sock_send_until_full() {
    p2_refuses_tcplisten(P2_RUST_SOCK_SEND_UNTIL_FULL);
}

/// A test that panics while a server guest serves leaves no server behind: the panic drops
/// its [`Listening`] before `wait`, which kills the command and reaps it.
#[cfg(unix)]
#[test]
fn a_test_that_panics_while_the_server_serves_leaves_no_server() {
    let (tx, rx) = std::sync::mpsc::channel();
    let test = std::thread::spawn(move || {
        let l = listening(P1_RUST_ECHO_SERVER, &[], &["4"]);
        tx.send(l.id() as libc::pid_t).unwrap();
        panic!("deliberate: a test failing while its server waits for clients");
    });
    assert!(test.join().is_err());
    let pid = rx.recv().unwrap();
    // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    // Not even a zombie: reaped, so the pid names no process.
    assert_eq!((alive, errno), (-1, Some(libc::ESRCH)), "pid {pid}");
}

/// Clients that each send `messages` lines and check the echo, concurrently.
fn echo_clients(l: &Listening, clients: usize, messages: usize) {
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let s = connect(l);
            std::thread::spawn(move || super::echo_conversation(s, i, messages))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A poll-driven non-blocking echo server serves four concurrent clients; every byte comes
/// back in order; whatever would-blocks it met (timing decides how many: none when all the
/// bytes are already there) are reported as Python would raise them.
#[test]
pub fn p1_rust_echo_server() {
    let l = listening(P1_RUST_ECHO_SERVER, &[], &["4"]);
    echo_clients(&l, 4, 50);
    let out = l.wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("WB op=echoed "))
            .count(),
        4,
        "{out:?}"
    );
    assert_eq!(
        *lines.last().unwrap(),
        "WB op=echo_server fd=none errno=0 name=success clients=4",
        "{out:?}"
    );
    for line in host_lines(&out) {
        assert!(
            line.contains("-> again (6)")
                && line.contains("BlockingIOError: [Errno 11] Resource temporarily unavailable"),
            "{line}"
        );
    }
}

/// Client `i`'s twenty lines for the test below, of lengths that differ between clients.
fn twelve_lines(i: usize) -> Vec<String> {
    (0..20)
        .map(|m| {
            format!(
                "client {i} line {m} {}\n",
                "y".repeat((i * 53 + m * 7) % 900)
            )
        })
        .collect()
}

/// Twelve clients held open at once: each has its first line echoed (so the server has
/// accepted it and keeps it open) before any sends the rest. The server then polls twelve
/// connections in one `poll_oneoff`, more than the guest library keeps on its stack
/// (`POLL_ON_STACK`, 8), so this covers its heap path; every byte comes back in order.
#[test]
fn the_echo_server_polls_twelve_connections_at_once() {
    use std::sync::mpsc;
    const CLIENTS: usize = 12;
    let l = listening(P1_RUST_ECHO_SERVER, &[], &[&CLIENTS.to_string()]);
    let (held_tx, held) = mpsc::channel();
    let (gos, threads): (Vec<_>, Vec<_>) = (0..CLIENTS)
        .map(|i| {
            let (mut s, held_tx) = (connect(&l), held_tx.clone());
            let (go_tx, go) = mpsc::channel::<()>();
            let thread = std::thread::spawn(move || {
                let lines = twelve_lines(i);
                s.write_all(lines[0].as_bytes()).unwrap();
                let mut first = vec![0; lines[0].len()];
                s.read_exact(&mut first).unwrap();
                assert_eq!(first, lines[0].as_bytes(), "client {i}: first line");
                held_tx.send(()).unwrap();
                // Dropped without a send when the test gives up: then this client stops.
                if go.recv().is_err() {
                    return;
                }
                for line in &lines[1..] {
                    s.write_all(line.as_bytes()).unwrap();
                }
                s.shutdown(Shutdown::Write).unwrap();
                let mut rest = Vec::new();
                s.read_to_end(&mut rest).unwrap();
                assert_eq!(rest, lines[1..].concat().as_bytes(), "client {i}: the rest");
            });
            (go_tx, thread)
        })
        .unzip();
    drop(held_tx);
    for n in 0..CLIENTS {
        held.recv_timeout(wouldblock_tests::DEADLINE)
            .unwrap_or_else(|e| panic!("{n} of {CLIENTS} clients served at once: {e}"));
    }
    for go in gos {
        go.send(()).unwrap();
    }
    for t in threads {
        t.join().unwrap();
    }
    let out = l.wait();
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    // Each connection's byte count, as the server reported it, against what each client sent.
    let mut echoed: Vec<usize> = lines
        .iter()
        .filter(|l| l.starts_with("WB op=echoed "))
        .filter_map(|l| l.rsplit_once(" bytes=")?.1.parse().ok())
        .collect();
    let mut sent: Vec<usize> = (0..CLIENTS)
        .map(|i| twelve_lines(i).concat().len())
        .collect();
    echoed.sort();
    sent.sort();
    assert_eq!(echoed, sent, "{out:?}");
    assert_eq!(
        *lines.last().unwrap(),
        "WB op=echo_server fd=none errno=0 name=success clients=12",
        "{out:?}"
    );
}

#[test]
pub fn p2_rust_echo_server() {
    p2_refuses_tcplisten(P2_RUST_ECHO_SERVER);
}

/// The socket benchmark's guest: every receive from a client that sends nothing is `again`,
/// and each is recorded (one event, counted).
#[test]
pub fn p1_rust_bench_recv_again() {
    let l = listening(P1_RUST_BENCH_RECV_AGAIN, &[], &["1000"]);
    let client = connect(&l);
    let out = l.wait();
    drop(client);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = out.wb_lines();
    let ns = lines
        .first()
        .and_then(|l| {
            l.strip_prefix(
                "WB op=bench fd=1073741824 errno=6 name=again calls=1000 again=1000 ns_per_call=",
            )
        })
        .and_then(|ns| ns.parse::<f64>().ok());
    assert!(lines.len() == 1 && ns.is_some_and(|ns| ns > 0.0), "{out:?}");
    assert_eq!(
        host_lines(&out),
        [
            "wouldblock: sock_recv(fd=1073741824, socket) -> again (6) x1000 = BlockingIOError: \
          [Errno 11] Resource temporarily unavailable [linux]"
        ]
    );
}

#[test]
pub fn p2_rust_bench_recv_again() {
    p2_refuses_tcplisten(P2_RUST_BENCH_RECV_AGAIN);
}
