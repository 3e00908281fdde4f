//! The command line a `wasmtime run` user already knows: each wasmtime spelling gives the same
//! run, byte for byte in the report, as the `wouldblock` spelling; the rest of wasmtime's
//! options are refused with one line that names what to use; completions, the manual page,
//! `--version` and `--color`.

use std::process::Command;
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

fn wouldblock_env(args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    run_with_deadline(cmd, None, DEADLINE)
}

fn wouldblock(args: &[&str]) -> Output {
    wouldblock_env(args, &[])
}

/// Runs `args` with `--report` inserted where `at` says (after the subcommand, or first for
/// the default run); the report, and what the run printed.
fn report_of(args: &[&str], tag: &str) -> (serde_json::Value, Output) {
    let dir = temp_dir(tag);
    let report = dir.join("r.json");
    let mut all: Vec<&str> = Vec::new();
    let r = report.to_str().unwrap();
    match args.first() {
        Some(&"run") => {
            all.extend(["run", "--report", r]);
            all.extend(&args[1..]);
        }
        _ => {
            all.extend(["--report", r]);
            all.extend(args);
        }
    }
    let out = wouldblock(&all);
    (read_json(&report), out)
}

/// Asserts that two spellings give the same exit code, stdout and report.
fn same_run(wouldblock_spelling: &[&str], wasmtime_spelling: &[&str], tag: &str) {
    let (a, out_a) = report_of(wouldblock_spelling, &format!("{tag}-a"));
    let (b, out_b) = report_of(wasmtime_spelling, &format!("{tag}-b"));
    assert_eq!(out_a.code, out_b.code, "{out_a:?} vs {out_b:?}");
    assert_eq!(out_a.stdout, out_b.stdout);
    assert_eq!(a, b);
}

fn wat(tag: &str, text: &str) -> String {
    let path = temp_dir(tag).join(format!("{tag}.wat"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A guest that exits with the total size of what the preview1 call `sizes` reports
/// (`environ_sizes_get` or `args_sizes_get`).
fn size_guest(sizes: &str) -> String {
    wat(
        sizes,
        &format!(
            r#"(module
  (import "wasi_snapshot_preview1" "{sizes}" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $sizes (i32.const 0) (i32.const 4))) (call $exit (i32.load (i32.const 4)))))"#
        ),
    )
}

#[test]
fn a_guest_without_run() {
    same_run(
        &["run", "--stdin", "open", P1_RUST_STDIN_NONBLOCK_READ],
        &["--stdin", "open", P1_RUST_STDIN_NONBLOCK_READ],
        "default-run",
    );
    let out = wouldblock(&[P1_RUST_TRIVIAL]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.wb_lines(), ["WB op=hello fd=none errno=0 name=success"]);
    // `--color` before the guest is still the global option.
    let out = wouldblock(&["--color", "never", P1_RUST_TRIVIAL]);
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn env_name_takes_the_hosts_value() {
    let guest = size_guest("environ_sizes_get");
    // "WB_X=abc\0": 9 bytes.
    let set = wouldblock_env(&["run", "--env", "WB_X", &guest], &[("WB_X", Some("abc"))]);
    assert_eq!(set.code, Some(9), "{set:?}");
    let given = wouldblock(&["run", "--env", "WB_X=abc", &guest]);
    assert_eq!(given.code, Some(9), "{given:?}");
    // Unset on the host: not set in the guest either.
    let unset = wouldblock_env(&["run", "--env", "WB_X", &guest], &[("WB_X", None)]);
    assert_eq!(unset.code, Some(0), "{unset:?}");
}

#[test]
fn argv0() {
    let guest = size_guest("args_sizes_get");
    // "abc\0" + "x\0".
    let out = wouldblock(&["run", "--argv0", "abc", &guest, "x"]);
    assert_eq!(out.code, Some(6), "{out:?}");
    let out = wouldblock(&["run", &guest, "x"]);
    assert_eq!(out.code, Some(guest.len() as i32 + 1 + 2), "{out:?}");
}

#[test]
fn wasi_tcplisten() {
    same_run(
        &[
            "run",
            "--tcplisten",
            "127.0.0.1:0",
            P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        ],
        &[
            "run",
            "-S",
            "tcplisten=127.0.0.1:0",
            P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        ],
        "tcplisten",
    );
    // wasmtime's long form, comma-separated with another option.
    same_run(
        &[
            "run",
            "--tcplisten",
            "127.0.0.1:0",
            P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        ],
        &[
            "run",
            "--wasi",
            "cli,tcplisten=127.0.0.1:0",
            P1_RUST_SOCK_ACCEPT_NO_CLIENT,
        ],
        "tcplisten-long",
    );
    // `--wasi stock` is still the mode.
    same_run(
        &[
            "run",
            "--wasi",
            "stock",
            "--stdin",
            "open",
            P1_RUST_STDIN_NONBLOCK_READ,
        ],
        &[
            "run",
            "-S",
            "stock",
            "--stdin",
            "open",
            P1_RUST_STDIN_NONBLOCK_READ,
        ],
        "mode",
    );
}

/// A guest that looks at descriptors 3 and 10: exits with 40 when fd 3 is closed (badf), plus
/// 10 × the errno of a `sock_accept` on fd 10, plus 1 when fd 10's fdflags say nonblock.
const LISTENER_PROBE: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $code i32)
    (if (i32.eq (call $fdstat (i32.const 3) (i32.const 0x100)) (i32.const 8))
      (then (local.set $code (i32.const 40))))
    (drop (call $fdstat (i32.const 10) (i32.const 0x100)))
    (local.set $code (i32.add (local.get $code)
      (i32.shr_u (i32.and (i32.load16_u (i32.const 0x102)) (i32.const 4)) (i32.const 2))))
    (local.set $code (i32.add (local.get $code)
      (i32.mul (i32.const 10) (call $accept (i32.const 10) (i32.const 0) (i32.const 0x200)))))
    (call $exit (local.get $code))))"#;

/// `--tcplisten ADDR@FD+nonblock`: the listener at the number asked for (the numbers before it
/// stay closed), handed over non-blocking, so an accept with no client is `again` at once;
/// the environment says where it is. A number that is taken is an input error.
#[test]
fn tcplisten_at_a_chosen_descriptor() {
    let probe = wat("listener-probe", LISTENER_PROBE);
    let (report, out) = report_of(
        &[
            "run",
            "--timeout",
            "10s",
            "--tcplisten",
            "127.0.0.1:0@10+nonblock",
            &probe,
        ],
        "tcplisten-at",
    );
    // 40 (fd 3 closed) + 10 × 6 (again) + 1 (nonblock).
    assert_eq!(out.code, Some(101), "{out:?}");
    assert_eq!(report["events"][0]["call"], "sock_accept");
    assert_eq!(report["events"][0]["fd"], 10);
    assert!(out.stderr.contains("(fd 10)"), "{out:?}");
    // The environment names it: a guest that prints its environment size sees both variables.
    let sizes = size_guest("environ_sizes_get");
    let one = wouldblock(&["run", "--tcplisten", "127.0.0.1:0@10", &sizes]);
    let none = wouldblock(&["run", &sizes]);
    // "LISTEN_FDS=1\0" (13) + "WOULDBLOCK_LISTEN_FDS=10\0" (25).
    assert_eq!(
        (one.code.zip(none.code)).map(|(a, b)| a - b),
        Some(13 + 25),
        "{one:?} {none:?}"
    );
    // Without +nonblock the accept would block: the flags are the guest's to set.
    let out = wouldblock(&[
        "run",
        "--timeout",
        "300ms",
        "--tcplisten",
        "127.0.0.1:0@10",
        &probe,
    ]);
    assert_eq!(out.code, Some(124), "{out:?}");
    for (args, want) in [
        (
            vec!["--dir", ".", "--tcplisten", "127.0.0.1:0@3"],
            "--tcplisten 127.0.0.1:0@3: descriptor 3 is taken: a preopened directory (or stdio) has it",
        ),
        (
            vec!["--tcplisten", "127.0.0.1:0@7", "--tcplisten", "127.0.0.1:0@7"],
            "--tcplisten 127.0.0.1:0@7: descriptor 7 is taken: another --tcplisten asks for it",
        ),
        (
            vec!["--tcplisten", "127.0.0.1:0@1024"],
            "@FD must be a descriptor number from 3 to 1023",
        ),
    ] {
        let mut all = vec!["run"];
        all.extend(args);
        all.push(&probe);
        let out = wouldblock(&all);
        assert_eq!(out.code, Some(2), "{want}: {out:?}");
        assert!(out.stderr.contains(want), "{want}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    }
}

/// `-W unknown-imports-trap`: an import nobody provides instantiates as a trapping function;
/// the guest runs until it calls it. Without it, instantiation fails (exit 2).
#[test]
fn unknown_imports_trap() {
    let guest = |call: bool| {
        wat(
            if call {
                "unknown-called"
            } else {
                "unknown-uncalled"
            },
            &format!(
                r#"(module
  (import "env" "not_provided" (func $np))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") {} (call $exit (i32.const 5))))"#,
                if call { "(call $np)" } else { "" }
            ),
        )
    };
    let (uncalled, called) = (guest(false), guest(true));
    let out = wouldblock(&["run", &uncalled]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("unknown import: `env::not_provided`"),
        "{out:?}"
    );
    let out = wouldblock(&["run", "-W", "unknown-imports-trap", &uncalled]);
    assert_eq!(out.code, Some(5), "{out:?}");
    let out = wouldblock(&["run", "-W", "unknown-imports-trap=y", &called]);
    assert_eq!(out.code, Some(134), "{out:?}");
    assert!(out.stderr.contains("guest trapped"), "{out:?}");
    let out = wouldblock(&["run", "-W", "unknown-imports-trap=n", &uncalled]);
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn wasm_limits() {
    // A guest that reads non-blocking, then blocks on an open stdin: stopped at the deadline.
    same_run(
        &[
            "run",
            "--stdin",
            "open",
            "--timeout",
            "300ms",
            P1_RUST_STDIN_NONBLOCK_THEN_BLOCK,
        ],
        &[
            "run",
            "--stdin",
            "open",
            "-W",
            "timeout=300ms",
            P1_RUST_STDIN_NONBLOCK_THEN_BLOCK,
        ],
        "timeout",
    );
    same_run(
        &["run", "--max-memory", "3MiB", P1_RUST_MEMORY_HOG],
        &["run", "-W", "max-memory-size=0x300000", P1_RUST_MEMORY_HOG],
        "max-memory",
    );
    same_run(
        &["run", "--max-memory", "3M", P1_RUST_MEMORY_HOG],
        &[
            "run",
            "--wasm",
            "max-memory-size=3145728",
            P1_RUST_MEMORY_HOG,
        ],
        "max-memory-long",
    );
    same_run(
        &[
            "run",
            "--stdin",
            "open",
            "--fuel",
            "5000000",
            P1_RUST_SPIN_ON_AGAIN,
        ],
        &[
            "run",
            "--stdin",
            "open",
            "-W",
            "fuel=5_000_000",
            P1_RUST_SPIN_ON_AGAIN,
        ],
        "fuel",
    );
    // wasmtime's duration: a bare number is seconds.
    let out = wouldblock(&[
        "run",
        "--timeout",
        "5",
        "--stdin",
        "open",
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn invoke_prints_results_as_wasmtime_does() {
    let guest = wat(
        "invoke",
        r#"(module (memory (export "memory") 1)
  (func (export "add") (param i32 i64) (result i32 i64)
    local.get 0 local.get 1 i64.const 1 i64.add)
  (func (export "half") (param f64) (result f64) local.get 0 f64.const 2 f64.div))"#,
    );
    let out = wouldblock(&["--invoke", "add", &guest, "0x10", "-5"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "16\n-4\n");
    let out = wouldblock(&["run", "--invoke", "half", &guest, "3"]);
    assert_eq!(out.stdout, "1.5\n", "{out:?}");
    for (args, says) in [
        (
            vec!["--invoke", "nope", guest.as_str()],
            "exports no function of that name",
        ),
        (
            vec!["--invoke", "add", guest.as_str(), "1"],
            "takes 2 arguments, 1 given",
        ),
        (
            vec!["--invoke", "add", guest.as_str(), "x", "1"],
            "`x` is not a i32",
        ),
        (vec!["--invoke", "run", P2_RUST_TRIVIAL], "is a component"),
    ] {
        let out = wouldblock(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {out:?}");
    }
}

#[test]
fn wasmtime_options_wouldblock_does_not_take() {
    for (args, says) in [
        (vec!["-S", "inherit-network"], "--allow-net HOST:PORT"),
        (vec!["-S", "allow-ip-name-lookup"], "numeric addresses"),
        (vec!["-S", "http"], "does not provide that WASI proposal"),
        (
            vec!["-W", "simd=n"],
            "takes only -W timeout, max-memory-size and fuel",
        ),
        (vec!["-O", "opt-level=2"], "-O: not supported by wouldblock"),
        (vec!["-C", "cache=n"], "-C: not supported by wouldblock"),
        (vec!["-D", "debug-info"], "-D: not supported by wouldblock"),
        (
            vec!["--profile", "perfmap"],
            "--profile: not supported by wouldblock",
        ),
        (
            vec!["--allow-precompiled"],
            "--allow-precompiled: not supported by wouldblock",
        ),
        (
            vec!["--target", "x86_64"],
            "--target: not supported by wouldblock",
        ),
        (
            vec!["--config", "w.toml"],
            "--config: not supported by wouldblock",
        ),
        (
            vec!["--preload", "m=x.wasm"],
            "--preload: not supported by wouldblock",
        ),
        (vec!["-g", "1234"], "--gdbstub: not supported by wouldblock"),
        (vec!["--bogus"], "unexpected argument '--bogus'"),
    ] {
        let mut all = args.clone();
        all.push(P1_RUST_TRIVIAL);
        let out = wouldblock(&all);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {out:?}");
        // clap's tip ("use '-- -S'") would be wrong here.
        assert!(!out.stderr.contains("tip"), "{out:?}");
        assert!(out.stdout.is_empty(), "the guest did not run: {out:?}");
    }
}

#[test]
fn explain_posix_names_and_native_numbers() {
    let wasi = wouldblock(&["explain", "again", "--platform", "linux"]);
    for spelling in [
        vec!["explain", "EAGAIN", "--platform", "linux"],
        vec!["explain", "EWOULDBLOCK", "--platform", "LINUX"],
        vec!["explain", "11", "--native", "--platform", "linux"],
    ] {
        let out = wouldblock(&spelling);
        assert_eq!(out.code, Some(0), "{spelling:?}: {out:?}");
        assert_eq!(out.stdout, wasi.stdout, "{spelling:?}");
    }
    let out = wouldblock(&["explain", "35", "--platform", "macos", "--native"]);
    assert!(out.stdout.starts_with("again (6)"), "{out:?}");
    let out = wouldblock(&[
        "explain",
        "EINPROGRESS",
        "--platform",
        "windows",
        "--handle",
        "socket",
    ]);
    // A connect under way reports WSAEWOULDBLOCK on Windows (the errno model's choice).
    assert!(out.stdout.starts_with("inprogress (26)"), "{out:?}");
    assert!(out.stdout.contains("[WinError 10035]"), "{out:?}");
    let out = wouldblock(&[
        "explain",
        "10035",
        "--native",
        "--platform",
        "windows",
        "--handle",
        "socket",
    ]);
    assert!(out.stdout.starts_with("again (6)"), "{out:?}");
    let out = wouldblock(&["explain", "9999", "--native", "--platform", "linux"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    // --platform lists its values.
    let help = wouldblock(&["run", "--help"]);
    assert!(
        help.stdout
            .contains("[possible values: linux, macos, freebsd, windows, wasi]"),
        "{help:?}"
    );
}

#[test]
fn version_completions_and_manual() {
    let out = wouldblock(&["--version"]);
    assert_eq!(out.stdout, "wouldblock 0.1.0 (wasmtime 48.0.8)\n");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = wouldblock(&["completions", shell]);
        assert_eq!(out.code, Some(0), "{shell}: {out:?}");
        assert!(out.stdout.contains("wouldblock"), "{shell}");
        assert!(out.stdout.contains("--timeout"), "{shell}");
    }
    let out = wouldblock(&["man"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains(".TH wouldblock 1"), "{out:?}");
    assert!(out.stdout.contains("completions"), "{out:?}");
}

/// `--color`, `NO_COLOR` and `CLICOLOR_FORCE` as their conventions say (stdout is a pipe here).
#[test]
fn colour() {
    let guests = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/guests");
    let expectations = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/expectations");
    let suite = [
        "suite",
        "--filter",
        "p1_rust_trivial",
        "--guests",
        guests,
        "--expectations",
        expectations,
    ];
    let coloured = |extra: &[&str], env: &[(&str, Option<&str>)]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(suite);
        let out = wouldblock_env(&args, env);
        assert_eq!(out.code, Some(0), "{out:?}");
        out.stdout.contains('\u{1b}')
    };
    let plain = [("NO_COLOR", None), ("CLICOLOR_FORCE", None)];
    assert!(!coloured(&[], &plain), "a pipe gets no colour");
    assert!(coloured(&["--color", "always"], &plain));
    assert!(!coloured(
        &["--color", "never"],
        &[("CLICOLOR_FORCE", Some("1"))]
    ));
    assert!(coloured(
        &[],
        &[("CLICOLOR_FORCE", Some("1")), ("NO_COLOR", None)]
    ));
    // An empty NO_COLOR disables nothing.
    assert!(coloured(
        &[],
        &[("CLICOLOR_FORCE", Some("1")), ("NO_COLOR", Some(""))]
    ));
    assert!(!coloured(
        &[],
        &[("CLICOLOR_FORCE", None), ("NO_COLOR", Some("1"))]
    ));
}

/// A preview2 guest's non-blocking `input-stream.read` of an inherited stdin (faithful mode)
/// returns what the pipe already holds, as a preview1 guest's `fd_read` does. (Through
/// wasmtime-wasi's own stdin, a worker thread that reads ahead, the first read came back empty
/// although the data was there.)
#[cfg(unix)]
#[test]
fn p2_inherited_stdin_reads_what_the_pipe_has() {
    use std::io::Write;
    let (reader, mut writer) = wouldblock_tests::os_pipe();
    writer.write_all(b"hi\n").unwrap();
    drop(writer);
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--timeout", "20s", P2_RUST_STREAM_STDIN_READ]);
    let out = wouldblock_tests::run_with_stdin(cmd, reader, DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "WB op=input-stream.read fd=0 errno=0 name=success n=3 data=hi\n\n"
    );
}
