//! `wouldblock suite --cases`: case files for any guest, from a directory outside the
//! repository, as a user's CI has them: a guest built there (a C `hello.wasm` compiled by the
//! test with clang, and a `.wat`), arguments, environment, directories relative to the case
//! file, stream expectations, warnings for guest files no case names, and the input errors.

use std::path::Path;
use std::process::Command;
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

/// `wouldblock ARGS` run from `dir` (not the repository).
fn wouldblock_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    run_with_deadline(cmd, None, DEADLINE)
}

/// A guest as a user builds one: plain C on wasi-libc, printing its argument, an environment
/// variable and a file from a preopened directory, then trying a non-blocking read of stdin.
const HELLO_C: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char name[64] = {0};
    FILE *f = fopen("/data/name.txt", "r");
    if (f) { fgets(name, sizeof name, f); fclose(f); }
    name[strcspn(name, "\n")] = 0;
    const char *greeting = getenv("GREETING");
    printf("%s, %s from %s\n", greeting ? greeting : "(none)", argc > 1 ? argv[1] : "?", name);
    fflush(stdout);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    char buf[16];
    ssize_t n = read(0, buf, sizeof buf);
    fprintf(stderr, "read: %zd errno=%d (%s)\n", n, n < 0 ? errno : 0, n < 0 ? strerror(errno) : "");
    return n < 0 ? 3 : 0;
}
"#;

/// Compiles [`HELLO_C`] into `dir/hello.wasm` as a user would (clang on wasi-libc, as
/// `make setup` installs them).
fn build_hello(dir: &Path) {
    std::fs::write(dir.join("hello.c"), HELLO_C).unwrap();
    let clang = std::env::var("WOULDBLOCK_CLANG").unwrap_or_else(|_| "clang".into());
    let status = Command::new(&clang)
        .args(["--target=wasm32-wasi", "-O2", "-o", "hello.wasm", "hello.c"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("{clang}: {e} (make setup installs it)"));
    assert!(status.success(), "compiling hello.c");
}

const CASES: &str = r#"
[[case]]
name = "greets"
wasi = "faithful"
guest = "bin/hello.wasm"
args = ["wasm"]
env = { GREETING = "hello" }
dirs = ["data::/data"]
stdin = "open"
exit = 3
stdout = ["hello, wasm from the case dir"]
stderr_contains = ["errno=6"]
stderr_regex = ['^read: -1 errno=6 \(Resource temporarily unavailable\)$']
events = ["fd_read(fd=0, stdin) -> again x1"]

[[case]]
name = "greets"
wasi = "stock"
guest = "bin/hello.wasm"
args = ["wasm"]
env = { GREETING = "hello" }
dirs = ["data::/data"]
stdin = "open"
timeout = "2s"
stop = "deadline"
stdout = ["hello, wasm from the case dir"]

[[case]]
name = "text"
guest = "bin/exit7.wat"
exit = 7
stdout = []
"#;

const EXIT7_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 7))))
"#;

/// A directory laid out as a user's repository: cases/ with a case file, the guests in
/// cases/bin/, data in cases/data/, and a stray guest no case names.
fn user_repo(tag: &str) -> std::path::PathBuf {
    let root = temp_dir(tag);
    let cases = root.join("cases");
    std::fs::create_dir_all(cases.join("bin")).unwrap();
    std::fs::create_dir_all(cases.join("data")).unwrap();
    build_hello(&cases.join("bin"));
    std::fs::write(cases.join("bin/exit7.wat"), EXIT7_WAT).unwrap();
    std::fs::write(cases.join("bin/stray.wat"), EXIT7_WAT).unwrap();
    std::fs::write(cases.join("data/name.txt"), "the case dir\n").unwrap();
    std::fs::write(cases.join("hello.toml"), CASES).unwrap();
    root
}

#[test]
fn any_guest_runs_from_a_case_file_outside_the_repository() {
    let root = user_repo("cases-any");
    for (mode, ids) in [
        ("faithful", vec!["hello/greets", "hello/text"]),
        ("stock", vec!["hello/greets", "hello/text"]),
    ] {
        let report = root.join(format!("{mode}.json"));
        let out = wouldblock_in(
            &root,
            &[
                "suite",
                "--cases",
                "cases",
                "--wasi",
                mode,
                "--format",
                "json",
                "--output",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(out.code, Some(0), "{out:?}");
        let r = read_json(&report);
        let got: Vec<(&str, &str, &str)> = r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap(),
                    c["abi"].as_str().unwrap(),
                    c["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        let want: Vec<(&str, &str, &str)> = ids.iter().map(|id| (*id, "p1", "pass")).collect();
        assert_eq!(got, want, "{mode}");
        // Nothing skipped silently: the stray guest is a warning, in the report and on stderr.
        let stray = Path::new("cases/bin/stray.wat");
        assert_eq!(
            r["warnings"],
            serde_json::json!([format!("{}: not run: no case names it", stray.display())])
        );
        assert!(
            out.stderr.contains("wouldblock: warning: ")
                && out.stderr.contains("stray.wat: not run"),
            "{out:?}"
        );
    }
    // The guest's own output and the host's events are in the report as they came.
    let r = read_json(&root.join("faithful.json"));
    let greets = &r["cases"][0];
    assert_eq!(greets["exit_code"], 3);
    assert_eq!(greets["stdout"], "hello, wasm from the case dir\n");
    assert_eq!(
        greets["stderr"],
        "read: -1 errno=6 (Resource temporarily unavailable)\n"
    );
    // Rendered for every platform: what CPython there would raise for the same `again`.
    let by_platform: Vec<(&str, u64)> = greets["events"][0]["renderings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["platform"].as_str().unwrap(),
                r["errno"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_platform,
        [
            ("linux", 11),
            ("macos", 35),
            ("freebsd", 35),
            ("windows", 11),
            ("wasi", 6)
        ]
    );
}

#[test]
fn a_case_that_does_not_hold_fails_with_what_differed() {
    let root = user_repo("cases-fail");
    let wrong = CASES
        .replacen("exit = 3", "exit = 0", 1)
        .replacen("errno=6 \\(Resource", "errno=11 \\(Resource", 1)
        .replacen(
            "stderr_contains = [\"errno=6\"]",
            "stderr_contains = [\"EAGAIN\"]",
            1,
        );
    std::fs::write(root.join("cases/hello.toml"), wrong).unwrap();
    let out = wouldblock_in(&root, &["suite", "--cases", "cases/hello.toml"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    for line in [
        "FAIL   hello/greets",
        "expected exit 0, got exit 3",
        "stderr does not contain `EAGAIN`",
        "stderr does not match /^read: -1 errno=11 \\(Resource temporarily unavailable\\)$/",
        "PASS   hello/text",
    ] {
        assert!(out.stdout.contains(line), "{line}: {out:?}");
    }
    // A single file names no directory to search: no warnings.
    assert!(!out.stderr.contains("warning"), "{out:?}");
}

#[test]
fn bad_case_files_and_filters_are_input_errors() {
    let root = user_repo("cases-bad");
    let file = root.join("cases/hello.toml");
    let shown = "cases/hello.toml";
    for (text, want) in [
        (
            CASES.replacen("bin/hello.wasm", "bin/missing.wasm", 1),
            format!("{shown}:5:9: case `greets`: guest "),
        ),
        (
            CASES.replacen("stdin = \"open\"", "stdin = \"later\"", 1),
            format!("{shown}:9:9: `later` is not a stdin spec"),
        ),
        (
            CASES.replacen("data::/data", "nodir::/data", 1),
            format!("{shown}:3:8: case `greets`: dirs: "),
        ),
        (
            CASES.replacen("wasi = \"stock\"\n", "", 1),
            "case `hello/greets` runs twice in faithful mode".to_string(),
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = wouldblock_in(&root, &["suite", "--cases", "cases"]);
        assert_eq!(out.code, Some(2), "{want}: {out:?}");
        assert!(out.stderr.starts_with("wouldblock: error: "), "{out:?}");
        assert!(out.stderr.contains(&want), "{want}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    }
    std::fs::write(&file, CASES).unwrap();
    let out = wouldblock_in(&root, &["suite", "--cases", "cases", "--filter", "nothing"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("--filter nothing: no case id contains it"),
        "{out:?}"
    );
    let out = wouldblock_in(&root, &["suite", "--cases", "nowhere"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = wouldblock_in(&root, &["suite", "--cases", "empty"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("no case files (*.toml)"), "{out:?}");
    let out = wouldblock_in(&root, &["suite", "--cases", "cases", "--runtime", "node"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("--cases runs under wouldblock only"),
        "{out:?}"
    );
}

/// The action's suite step (`.github/action/suite.sh`) on the same user repository, as a
/// workflow runs it: inputs in the environment, the JSON report and JUnit written, the
/// outputs and one step-summary table set.
#[test]
fn the_actions_script_runs_a_users_cases() {
    let root = user_repo("cases-action");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |extra: &[(&str, &str)]| {
        let (outputs, summary) = (root.join("outputs"), root.join("summary.md"));
        let _ = std::fs::remove_file(&outputs);
        let _ = std::fs::remove_file(&summary);
        let mut cmd = Command::new("bash");
        cmd.arg(repo.join(".github/action/suite.sh"))
            .current_dir(&root)
            .env("PATH", &path)
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary);
        for (k, v) in [
            ("CASES", "cases"),
            ("GUESTS", ""),
            ("EXPECTATIONS", ""),
            ("FILTER", ""),
            ("WASI", "faithful"),
            ("PLATFORM", ""),
            ("REPORT", "report.json"),
            ("JUNIT", "junit.xml"),
            ("STEP_SUMMARY", "true"),
            ("RECORDINGS", ""),
        ] {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = run_with_deadline(cmd, None, DEADLINE);
        let outputs = std::fs::read_to_string(&outputs).unwrap_or_default();
        let summary = std::fs::read_to_string(&summary).unwrap_or_default();
        (out, outputs, summary)
    };
    let (out, outputs, summary) = run(&[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        outputs, "report=report.json\njunit=junit.xml\nrecordings=\nexit-code=0\n",
        "{out:?}"
    );
    assert_eq!(read_json(&root.join("report.json"))["summary"]["passed"], 2);
    let junit = std::fs::read_to_string(root.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"wouldblock faithful (")
            && junit.contains("timestamp=\"")
            && junit.contains("hostname=\"")
            && junit.contains("<testcase name=\"hello/greets\""),
        "{junit}"
    );
    // One table: its header and one row for the one runtime and mode.
    let separators = summary.lines().filter(|l| l.starts_with("|---")).count();
    assert_eq!((separators, summary.lines().count()), (1, 5), "{summary}");
    assert!(summary.contains("| wouldblock faithful | "), "{summary}");
    // Inputs are data, not script: a filter with shell syntax is only a filter (that matches
    // nothing: an input error, exit 2, reported as the output).
    let (out, outputs, _) = run(&[("FILTER", "$(touch pwned); `touch pwned`")]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(outputs.ends_with("exit-code=2\n"), "{outputs}");
    assert!(!root.join("pwned").exists());
    // `retries` reaches the suite: a count that is not one is a usage error.
    let (out, outputs, _) = run(&[("RETRIES", "1")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(outputs.ends_with("exit-code=0\n"), "{outputs}");
    let (out, outputs, _) = run(&[("RETRIES", "some")]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--retries"), "{out:?}");
    assert!(outputs.ends_with("exit-code=2\n"), "{outputs}");
    // A failing case: exit 1 as the output, the step summary names it; turned off, none.
    std::fs::write(
        root.join("cases/hello.toml"),
        CASES.replacen("exit = 7", "exit = 8", 1),
    )
    .unwrap();
    let (out, outputs, summary) = run(&[("RECORDINGS", "recordings")]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        outputs.ends_with("recordings=recordings\nexit-code=1\n"),
        "{outputs}"
    );
    assert!(summary.contains("FAIL `hello/text`"), "{summary}");
    // Only the failing case's recording is kept, where the report says.
    let kept: Vec<_> = std::fs::read_dir(root.join("recordings"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(kept, ["hello--text.jsonl"]);
    let report = read_json(&root.join("report.json"));
    let failed = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["outcome"] == "fail")
        .unwrap();
    assert_eq!(failed["recording"], "recordings/hello--text.jsonl");
    let (_, _, summary) = run(&[("STEP_SUMMARY", "false")]);
    assert_eq!(summary, "");
}

/// `client_after = "again"`: the suite's client connects only once the guest has met its
/// first would-block, so a guest's first `accept` on a non-blocking listener (`@10+nonblock`)
/// is always `again`, and a later one gets the client. The guest exits 0 only then (10 when
/// its first accept found a client already there).
#[test]
fn a_client_after_the_first_would_block() {
    let root = temp_dir("cases-after");
    std::fs::write(
        root.join("accept.wat"),
        r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $first i32) (local $r i32)
    (local.set $first (call $accept (i32.const 10) (i32.const 0) (i32.const 0x200)))
    (local.set $r (local.get $first))
    (block $done (loop $again
      (br_if $done (i32.ne (local.get $r) (i32.const 6)))
      (local.set $r (call $accept (i32.const 10) (i32.const 0) (i32.const 0x200)))
      (br $again)))
    (call $exit (i32.add (local.get $r)
      (i32.mul (i32.const 10) (i32.ne (local.get $first) (i32.const 6)))))))"#,
    )
    .unwrap();
    std::fs::write(
        root.join("after.toml"),
        r#"
[[case]]
name = "accept"
wasi = "faithful"
guest = "accept.wat"
tcplisten = ["127.0.0.1:0@10+nonblock"]
client = "silent"
client_after = "again"
timeout = "20s"
exit = 0
events = ["sock_accept(fd=10, listener) -> again x*"]
"#,
    )
    .unwrap();
    // Several runs: a client that came too early would show in one of them.
    for _ in 0..5 {
        let out = wouldblock_in(&root, &["suite", "--cases", "after.toml"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("PASS   after/accept"), "{out:?}");
    }
}

/// A loopback HTTP server for `files` (path -> bytes; anything else is 404), one thread
/// answering until the test ends; its base URL.
fn serve(files: Vec<(String, Vec<u8>)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // The rest of the request head.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split(' ').nth(1).unwrap_or("");
            let mut out = &stream;
            let _ = match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => out
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| out.write_all(body)),
                None => out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    format!("http://{addr}")
}

/// The action's download step (`.github/action/download.sh`) against a release served on
/// loopback: the archive for the runner is fetched, checked against its `.sha256`, unpacked
/// and put on PATH (`found=true`); a checksum that does not match fails the step; no release
/// (or a ref that is not a tag) leaves `found=false`, for the action to build instead.
#[test]
fn the_actions_download_checks_the_release() {
    let root = temp_dir("action-download");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // A release archive as release.yml makes one: the binary alone, and its SHA-256.
    std::fs::write(root.join("wouldblock"), b"#!/bin/sh\necho released\n").unwrap();
    let asset = "wouldblock-v9.9.9-x86_64-unknown-linux-gnu.tar.gz";
    let status = Command::new("tar")
        .args(["-czf", asset, "wouldblock"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success());
    let archive = std::fs::read(root.join(asset)).unwrap();
    let sum = Command::new("sha256sum")
        .arg(asset)
        .current_dir(&root)
        .output()
        .unwrap();
    let good = String::from_utf8(sum.stdout).unwrap();
    let prefix = "/you/wouldblock/releases/download/v9.9.9";
    let base = serve(vec![
        (format!("{prefix}/{asset}"), archive.clone()),
        (format!("{prefix}/{asset}.sha256"), good.into_bytes()),
        (
            format!("/bad/wouldblock/releases/download/v9.9.9/{asset}"),
            archive,
        ),
        (
            format!("/bad/wouldblock/releases/download/v9.9.9/{asset}.sha256"),
            format!("{}  {asset}\n", "0".repeat(64)).into_bytes(),
        ),
    ]);
    let run = |repo_name: &str, reference: &str, tag: &str| {
        let temp = root.join(format!("runner-{repo_name}-{reference}-{tag}").replace('/', "-"));
        std::fs::create_dir_all(&temp).unwrap();
        let (outputs, path) = (temp.join("outputs"), temp.join("path"));
        let mut cmd = Command::new("bash");
        cmd.arg(repo.join(".github/action/download.sh"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_SERVER_URL", &base)
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_PATH", &path)
            .env("ACTION_REPO", repo_name)
            .env("ACTION_REF", reference)
            .env("VERSION", tag);
        let out = run_with_deadline(cmd, None, DEADLINE);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        (out, read(&outputs), read(&path), temp)
    };
    let (out, outputs, path, temp) = run("you/wouldblock", "v9.9.9", "");
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(outputs, "found=true\n", "{out:?}");
    let dir = temp.join("wouldblock-v9.9.9");
    assert_eq!(path, format!("{}\n", dir.display()));
    assert_eq!(
        std::fs::read(dir.join("wouldblock")).unwrap(),
        b"#!/bin/sh\necho released\n"
    );
    // `version` wins over the action's ref.
    let (out, outputs, _, _) = run("you/wouldblock", "main", "v9.9.9");
    assert_eq!(
        (out.code, outputs.as_str()),
        (Some(0), "found=true\n"),
        "{out:?}"
    );
    // A checksum that does not match: the step fails, nothing on PATH.
    let (out, outputs, path, _) = run("bad/wouldblock", "v9.9.9", "");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains("::error::") && out.stdout.contains("SHA-256"),
        "{out:?}"
    );
    assert_eq!((outputs.as_str(), path.as_str()), ("", ""));
    // No such release, or a branch: build instead.
    for (name, reference) in [("you/wouldblock", "v0.0.1"), ("you/wouldblock", "main")] {
        let (out, outputs, path, _) = run(name, reference, "");
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(
            (outputs.as_str(), path.as_str()),
            ("found=false\n", ""),
            "{reference}"
        );
    }
}

/// A guest with state outside itself: it creates `flag` in its preopened directory with
/// `O_CREAT|O_EXCL` and exits with path_open's errno: 0 the first time, 20 (`exist`) after.
const ONCE_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "flag")
  (func (export "_start")
    (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4)
      (i32.const 5) (i64.const 0x1fffffff) (i64.const 0) (i32.const 0) (i32.const 64)))))
"#;

const ONCE_CASES: &str = r#"
[[case]]
name = "second-run"
guest = "once.wat"
dirs = ["a::/state"]
exit = 20

[[case]]
name = "never"
guest = "once.wat"
dirs = ["b::/state"]
exit = 99
"#;

/// A directory with [`ONCE_WAT`], [`ONCE_CASES`] as `once.toml` and empty state directories.
fn once_repo(tag: &str) -> std::path::PathBuf {
    let root = temp_dir(tag);
    std::fs::write(root.join("once.wat"), ONCE_WAT).unwrap();
    std::fs::write(root.join("once.toml"), ONCE_CASES).unwrap();
    for d in ["a", "b"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    root
}

/// `--retries N` runs a case not as expected again, up to N times: one that then holds is
/// flaky (reported as such everywhere, with the earlier run's differences), one that never
/// does fails with all its runs. Without it, one run decides.
#[test]
fn retries_run_a_case_again_and_report_it_flaky() {
    let root = once_repo("retries");
    let out = wouldblock_in(
        &root,
        &[
            "suite",
            "--cases",
            "once.toml",
            "--retries",
            "2",
            "--format",
            "json",
            "--output",
            "report.json",
            "--junit",
            "junit.xml",
        ],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let report = read_json(&root.join("report.json"));
    let s = &report["summary"];
    assert_eq!(
        (&s["passed"], &s["failed"], &s["flaky"], &s["total"]),
        (&1.into(), &1.into(), &1.into(), &2.into()),
        "{report}"
    );
    let case = |name: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["case"] == name)
            .cloned()
            .unwrap()
    };
    let endings = |c: &serde_json::Value| -> Vec<(String, String, Vec<String>)> {
        c["earlier"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["outcome"].as_str().unwrap().to_string(),
                    a["ending"].as_str().unwrap().to_string(),
                    serde_json::from_value(a["mismatches"].clone()).unwrap(),
                )
            })
            .collect()
    };
    let flaky = case("second-run");
    assert_eq!(
        (&flaky["outcome"], &flaky["exit_code"]),
        (&"pass".into(), &20.into())
    );
    assert_eq!(
        endings(&flaky),
        [(
            "fail".into(),
            "exit 0".into(),
            vec!["expected exit 20, got exit 0".into()]
        )]
    );
    let never = case("never");
    assert_eq!(
        (&never["outcome"], &never["exit_code"]),
        (&"fail".into(), &20.into())
    );
    assert_eq!(
        endings(&never),
        [
            (
                "fail".into(),
                "exit 0".into(),
                vec!["expected exit 99, got exit 0".into()]
            ),
            (
                "fail".into(),
                "exit 20".into(),
                vec!["expected exit 99, got exit 20".into()]
            ),
        ]
    );
    // The log names both, the flaky one with its earlier run.
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{out:?}");
    assert!(
        lines.contains(&"wouldblock: wouldblock faithful: FLAKY once/second-run"),
        "{out:?}"
    );
    assert!(
        lines.contains(&"wouldblock: wouldblock faithful: FAIL once/never"),
        "{out:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("       run 1 of 2: FAIL (exit 0, ")
                && l.ends_with(" ms); expected exit 20, got exit 0")),
        "{out:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("       run 2 of 3: FAIL (exit 20, ")),
        "{out:?}"
    );
    // JUnit: the flaky run under a success, the earlier runs of the failure as reruns.
    let junit = std::fs::read_to_string(root.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<flakyFailure").count(), 1, "{junit}");
    assert_eq!(junit.matches("<rerunFailure").count(), 2, "{junit}");

    // Without --retries one run decides, and the report has no earlier runs.
    let root = once_repo("no-retries");
    let out = wouldblock_in(
        &root,
        &["suite", "--cases", "once.toml", "--format", "json"],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 2, "{report}");
    assert_eq!(report["summary"]["flaky"], 0, "{report}");
    assert!(
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("earlier").is_none() && c["exit_code"] == 0),
        "{report}"
    );
    // The table shows FLAKY and the count.
    let root = once_repo("retries-human");
    let out = wouldblock_in(
        &root,
        &[
            "suite",
            "--cases",
            "once.toml",
            "--filter",
            "second",
            "--retries",
            "1",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("FLAKY  once/second-run"), "{out:?}");
    assert!(
        out.stdout.contains("; 0 xfailed, 0 xpassed, 1 flaky\n"),
        "{out:?}"
    );
    assert!(out.stdout.ends_with("1 passed, 0 failed\n"), "{out:?}");
}
