//! The sandbox holds: no path outside the preopen (absolute, `..`, a symlink out), no host
//! environment, no descriptor the guest was never given, a socket is not a file and a
//! directory is not a socket. Each attempt must fail with the exact errno.

use super::BIN;
use std::process::Command;
use wouldblock_tests::guests::*;
use wouldblock_tests::{run_with_deadline, temp_dir, Output, DEADLINE};

/// A preopen holding `inside.txt` and `escape`, a symlink to the host's /etc/passwd.
fn sandbox(tag: &str) -> String {
    let dir = temp_dir(tag);
    std::fs::write(dir.join("inside.txt"), "hi").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("escape")).unwrap();
    format!("{}::/sandbox", dir.display())
}

fn probe(guest: &str, extra: &[&str], tag: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--dir", &sandbox(tag), "--env", "GIVEN=yes"])
        .args(extra)
        .arg(guest);
    // The host has a HOME, a PATH and a USER; none may reach the guest.
    cmd.env("HOME", "/root").env("USER", "root");
    run_with_deadline(cmd, None, DEADLINE)
}

const DENIED: [&str; 7] = [
    "WB op=attempt fd=none errno=44 name=noent what=absolute",
    "WB op=attempt fd=none errno=63 name=perm what=dotdot",
    "WB op=attempt fd=none errno=63 name=perm what=dotdot-dir",
    "WB op=attempt fd=none errno=63 name=perm what=symlink-out",
    "WB op=attempt fd=none errno=0 name=success what=inside",
    "WB op=env fd=none errno=0 name=success host_vars=0 given=yes",
    "WB op=fd_read fd=77 errno=8 name=badf never-given",
];

#[test]
pub fn p1_rust_sandbox_probe() {
    let out = probe(
        P1_RUST_SANDBOX_PROBE,
        &["--tcplisten", "127.0.0.1:0"],
        "sandbox-p1",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut want = DENIED.to_vec();
    want.extend([
        "WB op=fd_seek fd=4 errno=70 name=spipe socket-as-file",
        "WB op=fd_readdir fd=4 errno=54 name=notdir socket-as-dir",
        "WB op=sock_accept fd=3 errno=57 name=notsock dir-as-socket",
    ]);
    assert_eq!(out.wb_lines(), want, "{out:?}");
}

/// Preview2: the same denials; no fd 4 at all; and the preview1 adapter traps on sock_accept.
#[test]
pub fn p2_rust_sandbox_probe() {
    let out = probe(P2_RUST_SANDBOX_PROBE, &[], "sandbox-p2");
    assert_eq!(out.code, Some(134), "{out:?}");
    let mut want = DENIED.to_vec();
    want.extend([
        "WB op=fd_seek fd=4 errno=8 name=badf socket-as-file",
        "WB op=fd_readdir fd=4 errno=8 name=badf socket-as-dir",
    ]);
    assert_eq!(out.wb_lines(), want, "{out:?}");
    assert!(
        out.stderr.contains(
            "wouldblock: error: guest trapped: wasm trap: wasm `unreachable` instruction executed"
        ),
        "{out:?}"
    );
}
