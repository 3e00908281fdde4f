//! `wouldblock suite` and `wouldblock compare` end to end: every scenario accounted for and as
//! expected, the report formats, exit codes, known failures as data, and the comparison of
//! reports from several machines.

use std::path::{Path, PathBuf};
use std::process::Command;
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

fn wouldblock(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(repo());
    run_with_deadline(cmd, None, DEADLINE)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The whole suite, as JSON, with `--jobs N`.
fn suite_json(dir: &Path, mode: &str, jobs: &str) -> serde_json::Value {
    let out_file = dir.join(format!("{mode}-{jobs}.json"));
    let out = wouldblock(&[
        "suite",
        "--wasi",
        mode,
        "--jobs",
        jobs,
        "--format",
        "json",
        "--output",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    read_json(&out_file)
}

#[test]
fn the_whole_suite_is_as_expected_in_both_modes() {
    let dir = temp_dir("suite-modes");
    for mode in ["faithful", "stock"] {
        let r = suite_json(&dir, mode, "8");
        assert_eq!(r["schema"], "wouldblock.suite/1");
        assert_eq!(r["wasi"], mode);
        assert_eq!(r["platform"]["os"], std::env::consts::OS);
        // Windows reports no kernel release; Unix always does.
        let kernel = &r["platform"]["kernel"];
        if cfg!(windows) {
            assert!(kernel.is_null(), "{kernel}");
        } else {
            assert!(kernel.as_str().is_some_and(|k| !k.is_empty()), "{kernel}");
        }
        assert_eq!(r["wasmtime_version"], "48.0.8");
        let s = &r["summary"];
        assert_eq!(
            (s["failed"].as_u64(), s["xpassed"].as_u64()),
            (Some(0), Some(0)),
            "{s}"
        );
        // Every guest in the build is accounted for: each appears in at least one case.
        let guests: Vec<String> = std::fs::read_dir(repo().join("target/guests"))
            .unwrap()
            .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
            .collect();
        let cases = r["cases"].as_array().unwrap();
        for g in &guests {
            assert!(
                cases
                    .iter()
                    .any(|c| c["id"].as_str().unwrap().starts_with(&format!("{g}/"))),
                "{g} ({mode}) has no case"
            );
        }
    }
}

/// `--jobs 8` gives the same verdicts and WASI-level results as `--jobs 1`.
#[test]
fn jobs_do_not_change_results() {
    let dir = temp_dir("suite-jobs");
    let one = suite_json(&dir, "faithful", "1");
    let eight = suite_json(&dir, "faithful", "8");
    let key = |r: &serde_json::Value| -> Vec<(String, String, Option<i64>)> {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().into(),
                    c["outcome"].as_str().unwrap().into(),
                    c["exit_code"].as_i64(),
                )
            })
            .collect()
    };
    assert_eq!(key(&one), key(&eight));
}

#[test]
fn human_junit_and_markdown() {
    let dir = temp_dir("suite-formats");
    let out = wouldblock(&["suite", "--filter", "stdin_nonblock_read"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let last = out.stdout.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    assert!(
        out.stdout.contains("PASS   p1_c_stdin_nonblock_read/open"),
        "{out:?}"
    );

    let xml = dir.join("r.xml");
    let out = wouldblock(&[
        "suite",
        "--filter",
        "write_full_pipe",
        "--format",
        "junit",
        "--output",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    // Well-formed JUnit: testsuites > testsuite > testcase, one per case, counts agree.
    let check = r#"
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
cases = root.findall("testsuite/testcase")
assert len(suites) == 1 and int(root.get("tests")) == len(cases) == int(suites[0].get("tests")), (root.attrib, len(cases))
assert all(c.get("name") and c.get("classname") and c.get("time") for c in cases)
print(len(cases))
"#;
    let mut py = Command::new("python3");
    py.args(["-c", check, xml.to_str().unwrap()]);
    let checked = run_with_deadline(py, None, DEADLINE);
    assert_eq!(
        (checked.code, checked.stdout.trim()),
        (Some(0), "10"),
        "{checked:?}"
    );

    let summary = dir.join("summary.md");
    let mut cmd = Command::new(BIN);
    cmd.args(["suite", "--filter", "poll_clock", "--format", "markdown"])
        .current_dir(repo())
        .env("GITHUB_STEP_SUMMARY", &summary);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .contains("| PASS | `p1_rust_poll_clock/clocks` |"),
        "{out:?}"
    );
    // The step summary is one table: a row for this runtime and mode.
    let os = std::env::consts::OS;
    let arch = std::env::consts::ARCH;
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("### wouldblock suite\n\n| runtime | ran on | rendered for | passed | failed | xfailed | xpassed | not as expected |\n|---|---|---|---|---|---|---|---|\n| wouldblock faithful | {os} {arch} | {os} | 3 | 0 | 0 | 0 |  |\n")
    );
}

/// Writes one expectations file into a fresh directory and runs the suite on it.
fn with_expectations(tag: &str, toml: &str, filter: &str) -> Output {
    let dir = temp_dir(tag);
    std::fs::write(dir.join("stdin_nonblock_read.toml"), toml).unwrap();
    wouldblock(&[
        "suite",
        "--expectations",
        dir.to_str().unwrap(),
        "--filter",
        filter,
        "--format",
        "human",
    ])
}

const OPEN_CASE: &str = r#"
[[case]]
name = "open"
abi = "p1"
stdin = "open"
exit = 0
wb = [
  "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4",
  "WB op=fd_fdstat_get fd=0 errno=0 name=success flags=4",
  "WB op=fd_read fd=0 errno=6 name=again",
]
"#;

#[test]
fn known_failures_are_data() {
    // A known failure that fails as known: xfail, the suite passes.
    let wrong = OPEN_CASE.replace(
        "exit = 0",
        "exit = 3\nexpected = \"fail\"\nreason = \"https://example.org/issue/1\"",
    );
    let out = with_expectations("xfail", &wrong, "p1_rust_stdin_nonblock_read");
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .contains("XFAIL  p1_rust_stdin_nonblock_read/open"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("known: https://example.org/issue/1"),
        "{out:?}"
    );
    // A known failure that passes: xpass, unexpected, exit 1.
    let right = OPEN_CASE.replace("exit = 0", "exit = 0\nexpected = \"fail\"\nreason = \"r\"");
    let out = with_expectations("xpass", &right, "p1_rust_stdin_nonblock_read");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("XPASS  p1_rust_stdin_nonblock_read/open"),
        "{out:?}"
    );
    // A wrong expectation: fail, exit 1, with the difference.
    let out = with_expectations(
        "fail",
        &OPEN_CASE.replace("errno=6 name=again", "errno=0 name=success"),
        "p1_rust_stdin_nonblock_read",
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("stdout WB line 3: expected `WB op=fd_read fd=0 errno=0 name=success`, got `WB op=fd_read fd=0 errno=6 name=again`"), "{out:?}");
    // Platform overrides win on their platform.
    let over = format!("{OPEN_CASE}[case.{}]\nexit = 9\n", std::env::consts::OS);
    let out = with_expectations("override", &over, "p1_rust_stdin_nonblock_read");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains("expected exit 9, got exit 0"),
        "{out:?}"
    );
    // A guest with no applicable case is a failure: the suite accounts for every guest.
    let out = with_expectations(
        "unaccounted",
        &OPEN_CASE.replace("abi = \"p1\"", "abi = \"p1\"\nlangs = [\"c\"]"),
        "p1_rust_stdin_nonblock_read",
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("no case in stdin_nonblock_read.toml applies to p1 rust"),
        "{out:?}"
    );
}

#[test]
fn a_report_in_a_file_still_names_its_failures_on_stderr() {
    // CI writes JSON to a file; the step's log must still say which case failed and why.
    let dir = temp_dir("fail-to-file");
    std::fs::write(
        dir.join("stdin_nonblock_read.toml"),
        OPEN_CASE.replace("errno=6 name=again", "errno=0 name=success"),
    )
    .unwrap();
    let report = dir.join("report.json");
    let out = wouldblock(&[
        "suite",
        "--expectations",
        dir.to_str().unwrap(),
        "--filter",
        "p1_rust_stdin_nonblock_read",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(
        out.stderr,
        "wouldblock: wouldblock faithful: FAIL p1_rust_stdin_nonblock_read/open\n       stdout WB line 3: expected `WB op=fd_read fd=0 errno=0 name=success`, got `WB op=fd_read fd=0 errno=6 name=again`\n",
        "{out:?}"
    );
    let json = read_json(&report);
    assert_eq!(json["summary"]["failed"], 1, "{json}");
    // On the terminal's table the failure is already shown: nothing more on stderr.
    let out = with_expectations(
        "fail-human",
        &OPEN_CASE.replace("errno=6 name=again", "errno=0 name=success"),
        "p1_rust_stdin_nonblock_read",
    );
    assert_eq!((out.code, out.stderr.as_str()), (Some(1), ""), "{out:?}");
}

#[test]
fn malformed_expectations_name_file_line_and_problem() {
    let out = with_expectations(
        "malformed",
        "[[case]]\nname = \"x\"\nexit = 0\nstdoot = []\n",
        "x",
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    let line = out.stderr.trim();
    assert!(
        line.starts_with("wouldblock: error: ")
            && line.contains("stdin_nonblock_read.toml:4:1: unknown field `stdoot`"),
        "{line}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    let out = with_expectations(
        "malformed2",
        "[[case]]\nname = \"x\"\nexit = 0\nclient = \"shout\"\n",
        "x",
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("client `shout`: expected silent[:N]"),
        "{out:?}"
    );
    let out = wouldblock(&["suite", "--expectations", "/nonexistent/dir"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = wouldblock(&["suite", "--guests", "/nonexistent/dir"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("build the guests first"), "{out:?}");
}

#[test]
fn compare_flags_a_difference_between_platforms() {
    let dir = temp_dir("compare");
    let a = dir.join("linux.json");
    let out = wouldblock(&[
        "suite",
        "--filter",
        "stdin_nonblock",
        "--format",
        "json",
        "--output",
        a.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    // The same report twice: nothing differs.
    let out = wouldblock(&["compare", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .ends_with(" cases, 0 portability failures (0 failing cells, 0 missing)\n"),
        "{out:?}"
    );
    // Another "machine" whose stdin read blocked instead: a portability failure.
    let mut r = read_json(&a);
    r["platform"]["os"] = "macos".into();
    for c in r["cases"].as_array_mut().unwrap() {
        if c["id"] == "p1_rust_stdin_nonblock_read/open" {
            c["exit_code"] = 1.into();
            c["event_lines"] = serde_json::json!([]);
        }
    }
    let b = dir.join("macos.json");
    std::fs::write(&b, serde_json::to_string(&r).unwrap()).unwrap();
    let out = wouldblock(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("DIFFERS  p1_rust_stdin_nonblock_read/open"),
        "{out:?}"
    );
    assert!(out.stdout.contains("[1] pass: exit 0; fd_fdstat_set_flags:success fd_fdstat_get:success fd_read:again; fd_read -> again = BlockingIOError: [Errno 11] Resource temporarily unavailable"), "{out:?}");
    assert!(
        out.stdout
            .ends_with(" cases, 1 portability failures (0 failing cells, 0 missing)\n"),
        "{out:?}"
    );
    for (format, needle) in [
        (
            "markdown",
            "| **p1_rust_stdin_nonblock_read/open (differs)** |",
        ),
        ("json", "\"portability_failure\": true"),
        (
            "html",
            "<tr id=\"row-0\" class=\"differs\" data-all-same=\"false\"><td class=\"case\">p1_rust_stdin_nonblock_read/open</td>",
        ),
    ] {
        let out = wouldblock(&[
            "compare",
            "--format",
            format,
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ]);
        assert_eq!(out.code, Some(1), "{format}: {out:?}");
        assert!(out.stdout.contains(needle), "{format}: {}", out.stdout);
        if format == "html" {
            // Self-contained: no external assets (links only within the page).
            assert!(
                !out.stdout.contains("src=") && !out.stdout.contains("href=\"http"),
                "{}",
                out.stdout
            );
        }
    }
    // Not a suite report, or another schema: exit 2, one line.
    let other = dir.join("other.json");
    std::fs::write(&other, "{\"schema\": \"wouldblock.report/1\"}").unwrap();
    let out = wouldblock(&["compare", other.to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("schema `wouldblock.report/1`; compare reads wouldblock.suite/1"),
        "{out:?}"
    );
    let out = wouldblock(&["compare", "Cargo.toml"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("Cargo.toml: not JSON"), "{out:?}");
}

#[test]
fn unknown_runtime_is_an_input_error() {
    let out = wouldblock(&["suite", "--runtime", "beos"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.contains("`beos` is not a runtime; expected wouldblock, all, or one of node, wasmtime, wasmtime-py, pywasm, jco, deno, bun, browser_wasi_shim, wasmi"), "{out:?}");
}

/// node:wasi is always here (Node is part of the machine): its recorded behaviour holds.
#[test]
fn node_behaves_as_recorded() {
    let out = wouldblock(&[
        "suite",
        "--runtime",
        "node",
        "--filter",
        "stdin_nonblock_read",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .contains("PASS   p1_rust_stdin_nonblock_read/open"),
        "{out:?}"
    );
    assert!(out.stdout.contains("(node v"), "{out:?}");
    // Two runtimes in one run: one JUnit file, a testsuite for each runtime and mode.
    let xml = temp_dir("junit-runtimes").join("j.xml");
    let out = wouldblock(&[
        "suite",
        "--runtime",
        "wouldblock",
        "--runtime",
        "node",
        "--filter",
        "p1_rust_stdin_nonblock_read",
        "--format",
        "json",
        "--output",
        xml.with_extension("json").to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let junit = std::fs::read_to_string(&xml).unwrap();
    let suites: Vec<&str> = junit
        .split("<testsuite name=\"")
        .skip(1)
        .map(|s| &s[..s.find(" (").unwrap()])
        .collect();
    assert_eq!(suites.len(), 2, "{junit}");
    assert_eq!(suites[0], "wouldblock faithful", "{junit}");
    assert!(suites[1].starts_with("node v"), "{junit}");
    assert_eq!(junit.matches("<testcase ").count(), 6, "{junit}");
}

/// Ten runs of the whole suite on one machine compare clean: what differs between them (a
/// would-block met in one run and not in another) is nothing a case constrains. (Six runs
/// used to give three portability failures: echo servers that met `accept -> again` in some
/// runs only.)
#[test]
fn repeated_runs_compare_clean() {
    let dir = temp_dir("repeated-runs");
    let mut reports = Vec::new();
    for i in 0..10 {
        let file = dir.join(format!("run{i}.json"));
        let out = wouldblock(&[
            "suite",
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(out.code, Some(0), "{out:?}");
        reports.push(file.to_str().unwrap().to_string());
    }
    let mut args = vec!["compare"];
    args.extend(reports.iter().map(String::as_str));
    let out = wouldblock(&args);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .ends_with(" cases, 0 portability failures (0 failing cells, 0 missing)\n"),
        "{out:?}"
    );
}

/// Two reports of the same cases from two "machines", the second with a case that ended
/// otherwise (`open` exits 1: a portability failure), one that failed its expectations
/// (`open` in preview2) and one missing (`data` in WAT).
fn two_machines(dir: &Path) -> (PathBuf, PathBuf) {
    let a = dir.join("linux.json");
    let out = wouldblock(&[
        "suite",
        "--filter",
        "stdin_nonblock_read",
        "--no-step-summary",
        "--format",
        "json",
        "--output",
        a.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut r = read_json(&a);
    r["platform"]["os"] = "macos".into();
    let cases = r["cases"].as_array_mut().unwrap();
    for c in cases.iter_mut() {
        match c["id"].as_str().unwrap() {
            "p1_rust_stdin_nonblock_read/open" => c["exit_code"] = 1.into(),
            "p2_rust_stdin_nonblock_read/open" => c["outcome"] = "fail".into(),
            _ => {}
        }
    }
    cases.retain(|c| c["id"] != "p1_wat_stdin_nonblock_read/data");
    let b = dir.join("macos.json");
    std::fs::write(&b, serde_json::to_string(&r).unwrap()).unwrap();
    (a, b)
}

/// Markdown puts what is not the same everywhere first and folds the rest.
#[test]
fn compare_markdown_differences_first() {
    let dir = temp_dir("compare-md");
    let (a, b) = two_machines(&dir);
    let out = wouldblock(&[
        "compare",
        "--format",
        "markdown",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    let md = &out.stdout;
    let at = |needle: &str| md.find(needle).unwrap_or_else(|| panic!("{needle}: {md}"));
    assert!(md.starts_with(
        "### wouldblock compare: 13 cases, 2 differing, 1 failing cells, 1 missing\n\n| case | wouldblock faithful · "
    ), "{md}");
    // Differing rows, then the one missing somewhere, then the rest folded.
    let (open, eof, data) = (
        at("| **p1_rust_stdin_nonblock_read/open (differs)** |"),
        at("| **p2_rust_stdin_nonblock_read/open (differs)** |"),
        at("| `p1_wat_stdin_nonblock_read/data` |"),
    );
    let details = at("<details><summary>10 cases the same everywhere</summary>");
    assert!(open < eof && eof < data && data < details, "{md}");
    assert!(md.contains("**differs** pass: exit 1;"), "{md}");
    assert!(md.contains("**fails** fail: exit 1;"), "{md}");
    assert!(
        md[details..].contains("| `p1_c_stdin_nonblock_read/open` |"),
        "{md}"
    );
}

/// The HTML comparison in a real browser (Debian's chromium, headless, which `make test`
/// installs): the page's script runs, the differing rows come first, the counts are right,
/// and "differences only" (here from the address, `#differences-only`) hides exactly the rows
/// that are the same everywhere.
#[test]
fn compare_html_in_a_real_browser() {
    let dir = temp_dir("compare-html");
    let (a, b) = two_machines(&dir);
    let page = dir.join("compare.html");
    let out = wouldblock(&[
        "compare",
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    let browser = std::env::var("WOULDBLOCK_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let dom = |fragment: &str| {
        let mut cmd = Command::new(&browser);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &format!("file://{}{fragment}", page.display()),
        ]);
        let out = run_with_deadline(cmd, None, DEADLINE);
        assert_eq!(
            out.code,
            Some(0),
            "{browser} (`make test` installs Debian's chromium): {out:?}"
        );
        out.stdout
    };
    // Each row's id, whether it is marked differing, and whether it is hidden.
    let rows = |html: &str| -> Vec<(String, bool, bool)> {
        html.split("<tr id=\"row-")
            .skip(1)
            .map(|r| {
                let tag = &r[..r.find('>').unwrap()];
                let case = r.split("<td class=\"case\">").nth(1).unwrap();
                (
                    case[..case.find('<').unwrap()].to_string(),
                    tag.contains("class=\"differs\""),
                    tag.contains("hidden"),
                )
            })
            .collect()
    };
    let text = |html: &str, id: &str| -> String {
        let from = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        html[from..from + html[from..].find('<').unwrap()].to_string()
    };
    let all = dom("");
    let got = rows(&all);
    assert_eq!(got.len(), 13, "{all}");
    assert_eq!(
        got[..3]
            .iter()
            .map(|(c, d, _)| (c.as_str(), *d))
            .collect::<Vec<_>>(),
        [
            ("p1_rust_stdin_nonblock_read/open", true),
            ("p2_rust_stdin_nonblock_read/open", true),
            ("p1_wat_stdin_nonblock_read/data", false),
        ]
    );
    assert!(got[2..].iter().all(|(_, d, _)| !d), "{got:?}");
    assert!(got.iter().all(|(_, _, hidden)| !hidden), "{got:?}");
    assert_eq!(
        [
            "n-cases",
            "n-differing",
            "n-failing",
            "n-missing",
            "showing"
        ]
        .map(|id| text(&all, id)),
        ["13", "2", "1", "1", "showing 13 of 13"]
    );
    assert!(
        all.contains("<a href=\"#row-0\">p1_rust_stdin_nonblock_read/open</a>"),
        "{all}"
    );
    let only = dom("#differences-only");
    let hidden: Vec<bool> = rows(&only).into_iter().map(|(_, _, h)| h).collect();
    assert_eq!(
        hidden,
        [false, false, false, true, true, true, true, true, true, true, true, true, true]
    );
    assert_eq!(text(&only, "showing"), "showing 3 of 13");
}

/// A peer runtime that can give a guest the network runs the cases whose guest opens sockets
/// of its own (`net = "allow-net"`), with its network options and `{addr}` a free loopback
/// port; cases the suite serves or connects to, or with `--chaos`, and runtimes without
/// network options, are not run there. The "wasmtime" here is a script on `PATH` that prints
/// its arguments as `WB` lines.
#[cfg(unix)]
#[test]
fn peers_with_the_network_run_guests_that_open_their_own_sockets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("peer-network");
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let fake = bin_dir.join("wasmtime");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'wasmtime 48.0.8 (a script)'; exit 0; }\n\
         for a in \"$@\"; do case \"$a\" in *.wasm) a=GUEST;; esac; echo \"WB arg=$a\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exp = dir.join("exp");
    for runtime in ["wasmtime", "node"] {
        std::fs::create_dir_all(exp.join(runtime)).unwrap();
    }
    let case = |name: &str, abi: &str, extra: &str| {
        format!(
            "[[case]]\nname = \"{name}\"\nabi = \"{abi}\"\nargs = [\"{{addr}}\", \"x\"]\n{extra}\
             exit = 0\nwb = [\"*\", \"*\", \"*\", \"*\", \"*\", \"*\"]\n\n"
        )
    };
    let allow = "net = \"allow-net\"\n";
    std::fs::write(
        exp.join("wasmtime/net_accept_nonblocking.toml"),
        case("own", "p3", allow)
            + &case("chaos", "p3", &format!("{allow}chaos = \"again=1\"\n"))
            + &case("served", "p3", "net = \"server\"\nclient = \"accept\"\n"),
    )
    .unwrap();
    std::fs::write(
        exp.join("node/net_accept_nonblocking.toml"),
        case("own", "p1", allow),
    )
    .unwrap();
    let report = dir.join("r.json");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(BIN);
    cmd.current_dir(repo()).env("PATH", path).args([
        "suite",
        "--runtime",
        "wasmtime",
        "--runtime",
        "node",
        "--expectations",
        exp.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(1), "{out:?}");
    let mut seen = std::collections::BTreeMap::new();
    for r in std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
        let name = r.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        for c in read_json(&r.path())["cases"].as_array().unwrap() {
            let wb: Vec<String> = c["wb"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_string())
                .collect();
            let error = c["error"].as_str().unwrap_or_default().to_string();
            // The guests of the other ABIs, which these files have no cases for.
            if error.starts_with("no case in net_accept_nonblocking.toml applies to p") {
                continue;
            }
            seen.insert(format!("{name} {}", c["id"].as_str().unwrap()), (wb, error));
        }
    }
    let own = &seen["r-wasmtime.json p3_rust_net_accept_nonblocking/own"];
    assert_eq!(own.1, "", "{seen:?}");
    assert_eq!(
        own.0[..4],
        [
            "WB arg=run",
            "WB arg=-S",
            "WB arg=inherit-network",
            "WB arg=GUEST"
        ],
        "{seen:?}"
    );
    let port: u16 = own.0[4]
        .strip_prefix("WB arg=127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{seen:?}"));
    assert_ne!(port, 0);
    assert_eq!(own.0[5], "WB arg=x", "{seen:?}");
    for id in [
        "r-wasmtime.json p3_rust_net_accept_nonblocking/chaos",
        "r-wasmtime.json p3_rust_net_accept_nonblocking/served",
        "r-node.json p1_rust_net_accept_nonblocking/own",
    ] {
        let (wb, error) = &seen[id];
        assert!(wb.is_empty(), "{id}: {seen:?}");
        assert!(
            error.ends_with("needs what only wouldblock provides; wasmtime cannot run it")
                || error.ends_with("needs what only wouldblock provides; node cannot run it"),
            "{id}: {seen:?}"
        );
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}
