//! Suite reports as text: human (a table, colours on a terminal unless `NO_COLOR`), JSON,
//! JUnit XML and Markdown.

use super::{CaseResult, Outcome, SuiteReport};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Human,
    /// `wouldblock.suite/1`.
    Json,
    /// JUnit XML, one testcase per case.
    Junit,
    /// A Markdown table (also appended to `$GITHUB_STEP_SUMMARY` when set).
    Markdown,
}

fn paint(text: &str, outcome: Outcome, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match outcome {
        Outcome::Pass => "32",
        Outcome::Xfail => "33",
        Outcome::Fail | Outcome::Xpass => "31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The human table; the last line is `N passed, N failed`.
pub fn human(r: &SuiteReport, color: bool) -> String {
    let width = r.cases.iter().map(|c| c.id.len()).max().unwrap_or(10);
    let mut out = String::new();
    for c in &r.cases {
        let label = paint(&format!("{:<5}", label(c)), paint_as(c), color);
        out += &format!("{label}  {:<width$}  {:>6} ms\n", c.id, c.duration_ms);
        if c.outcome != Outcome::Pass || c.flaky() {
            out += &details(c);
        }
    }
    out += &format!(
        "wouldblock suite ({}, {} {}, rendered for {}): {} cases in {:.1} s; {} xfailed, {} xpassed{}\n",
        runtime_label(r),
        r.platform.os,
        r.platform.arch,
        r.render_platform.name(),
        r.summary.total,
        r.duration_ms as f64 / 1000.0,
        r.summary.xfailed,
        r.summary.xpassed,
        flaky_count(r),
    );
    out += &format!(
        "{} passed, {} failed\n",
        r.summary.passed + r.summary.xfailed,
        r.summary.failed + r.summary.xpassed
    );
    out
}

/// A case's label: its outcome's, or `FLAKY` for one as expected only when run again.
fn label(c: &CaseResult) -> &'static str {
    match c.flaky() {
        true => "FLAKY",
        false => c.outcome.label(),
    }
}

/// The colour of [`label`]: a flaky case is a warning, like a known failure.
fn paint_as(c: &CaseResult) -> Outcome {
    match c.flaky() {
        true => Outcome::Xfail,
        false => c.outcome,
    }
}

/// Whether `c` is one to look at: not as expected, or flaky.
fn to_look_at(c: &CaseResult) -> bool {
    !c.outcome.ok() || c.flaky()
}

/// `, N flaky` when any case was (nothing otherwise).
fn flaky_count(r: &SuiteReport) -> String {
    match r.summary.flaky {
        0 => String::new(),
        n => format!(", {n} flaky"),
    }
}

/// What went wrong in each earlier run of `c` (`--retries`), one line each.
fn earlier_runs(c: &CaseResult) -> Vec<String> {
    let runs = c.earlier.len() + 1;
    c.earlier
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut line = format!(
                "run {} of {runs}: {} ({}, {} ms)",
                i + 1,
                a.outcome.label(),
                a.ending,
                a.duration_ms
            );
            for m in &a.mismatches {
                line += &format!("; {m}");
            }
            if let Some(r) = &a.recording {
                line += &format!("; recorded: {r}");
            }
            line
        })
        .collect()
}

/// Under a case's line: why it is a known failure, each difference, where it was recorded,
/// the earlier runs.
fn details(c: &CaseResult) -> String {
    let mut out = String::new();
    if let Some(reason) = &c.reason {
        out += &format!("       known: {reason}\n");
    }
    for m in &c.mismatches {
        out += &format!("       {m}\n");
    }
    if let Some(r) = &c.recording {
        out += &format!("       recorded: {r} (wouldblock replay {r})\n");
    }
    for line in earlier_runs(c) {
        out += &format!("       {line}\n");
    }
    out
}

/// The cases that did not go as expected (failed, or passed against a known failure) and
/// the flaky ones, each with its details as in [`human`], each line naming the runtime: for
/// stderr when the report itself goes to a file or in a machine format, so that a CI log
/// still says which case failed and why. Empty when every case went as expected at once.
pub fn unexpected_or_flaky(r: &SuiteReport) -> String {
    let runtime = runtime_label(r);
    let mut out = String::new();
    for c in r.cases.iter().filter(|c| to_look_at(c)) {
        out += &format!("wouldblock: {runtime}: {} {}\n", label(c), c.id);
        out += &details(c);
    }
    out
}

/// `faithful`/`stock` for wouldblock itself, else the runtime and its version.
pub fn runtime_label(r: &SuiteReport) -> String {
    if r.runtime.name == "wouldblock" {
        format!("wouldblock {}", mode(r))
    } else if r.runtime.version.starts_with(&r.runtime.name) {
        r.runtime.version.clone()
    } else {
        format!("{} {}", r.runtime.name, r.runtime.version)
    }
}

fn mode(r: &SuiteReport) -> &'static str {
    r.wasi.name()
}

/// Pretty JSON.
pub fn json(r: &SuiteReport) -> String {
    serde_json::to_string_pretty(r).expect("a report serializes") + "\n"
}

/// Text made safe for one Markdown table cell: a `|` would end the cell and a line break
/// the row; `\`, `` ` ``, `<` and `[` would start markup.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            '|' | '\\' | '`' | '<' | '[' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text as a code span in one Markdown table cell (GitHub reads `\|` as `|` even inside
/// one); a backtick or line break, which would end the span or the row, becomes `'` or a
/// space.
pub fn md_code(s: &str) -> String {
    let text: String = s
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    format!("`{}`", text.replace('|', "\\|"))
}

/// A Markdown table of every case.
pub fn markdown(r: &SuiteReport) -> String {
    let mut out = format!(
        "### wouldblock suite — {} on {} {} (wasmtime {})\n\n{} passed, {} failed, {} xfailed, {} xpassed{}\n\n| outcome | case | events | Python ({}) | details |\n|---|---|---|---|---|\n",
        runtime_label(r),
        r.platform.os,
        r.platform.arch,
        r.wasmtime_version,
        r.summary.passed,
        r.summary.failed,
        r.summary.xfailed,
        r.summary.xpassed,
        flaky_count(r),
        r.render_platform.name(),
    );
    for c in &r.cases {
        let mut details = if c.mismatches.is_empty() {
            c.reason.clone().into_iter().collect()
        } else {
            c.mismatches.clone()
        };
        details.extend(earlier_runs(c));
        let details = details.join("; ");
        out += &format!(
            "| {} | {} | {} | {} | {} |\n",
            label(c),
            md_code(&c.id),
            md_escape(&c.event_lines.join("; ")),
            md_escape(c.first_python_line()),
            md_escape(&details)
        );
    }
    out
}

/// The CI step summary: one table, a row per report (runtime and mode, where it ran, what it
/// rendered for, the counts, and the cases that did not go as expected).
pub fn step_summary(reports: &[&SuiteReport]) -> String {
    let mut out = String::from("### wouldblock suite\n\n| runtime | ran on | rendered for | passed | failed | xfailed | xpassed | not as expected |\n|---|---|---|---|---|---|---|---|\n");
    for r in reports {
        let bad: Vec<String> = r
            .cases
            .iter()
            .filter(|c| to_look_at(c))
            .map(|c| format!("{} {}", label(c), md_code(&c.id)))
            .collect();
        out += &format!(
            "| {} | {} {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(&runtime_label(r)),
            md_escape(&r.platform.os),
            md_escape(&r.platform.arch),
            r.render_platform.name(),
            r.summary.passed,
            r.summary.failed,
            r.summary.xfailed,
            r.summary.xpassed,
            bad.join("<br>")
        );
    }
    out
}

/// JUnit XML: one testsuite per report (runtime and mode, with its time, timestamp and
/// hostname), one testcase per case; a failure carries the differences.
pub fn junit(reports: &[&SuiteReport]) -> String {
    let mut report = quick_junit::Report::new("wouldblock");
    let mut total = std::time::Duration::ZERO;
    for r in reports {
        let suite = junit_suite(r);
        total += suite.time.unwrap_or_default();
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- {e} -->"))
}

/// One report's JUnit suite: its runtime and mode, where it ran, when, for how long.
fn junit_suite(r: &SuiteReport) -> quick_junit::TestSuite {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestRerun, TestSuite};
    let mut suite = TestSuite::new(format!(
        "{} ({} {}, rendered for {})",
        runtime_label(r),
        r.platform.os,
        r.platform.arch,
        r.render_platform.name()
    ));
    suite.set_time(std::time::Duration::from_millis(r.duration_ms));
    if let Some(at) = &r.started {
        suite.extra.insert("timestamp".into(), at.as_str().into());
    }
    if let Some(host) = &r.platform.hostname {
        suite.extra.insert("hostname".into(), host.as_str().into());
    }
    for c in &r.cases {
        let mut status = match c.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Xfail => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "expected failure: {}",
                    c.reason.clone().unwrap_or_default()
                ));
                s
            }
            Outcome::Fail | Outcome::Xpass => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let msg = match c.outcome {
                    Outcome::Xpass => format!(
                        "unexpected pass (known failure: {})",
                        c.reason.clone().unwrap_or_default()
                    ),
                    _ => c
                        .mismatches
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "failed".into()),
                };
                s.set_message(msg);
                s.set_description(c.mismatches.join("\n"));
                s
            }
        };
        // Earlier runs: flakyFailure under a success, rerunFailure under a failure.
        status.add_reruns(c.earlier.iter().map(|a| {
            let mut run = TestRerun::new(NonSuccessKind::Failure);
            run.set_time(std::time::Duration::from_millis(a.duration_ms));
            run.set_message(
                a.mismatches
                    .first()
                    .cloned()
                    .unwrap_or_else(|| a.ending.clone()),
            );
            run.set_description(a.mismatches.join("\n"));
            run
        }));
        let mut tc = TestCase::new(c.id.clone(), status);
        tc.set_classname(format!("{}.{}", c.abi, c.scenario));
        tc.set_time(std::time::Duration::from_millis(c.duration_ms));
        tc.set_system_out(c.stdout.clone());
        suite.add_test_case(tc);
    }
    suite
}

/// Appends [`step_summary`] of `reports` to the file GitHub Actions names in
/// `GITHUB_STEP_SUMMARY` (nothing when it is unset or there is nothing to say).
pub fn append_step_summary(reports: &[&SuiteReport]) -> Result<(), String> {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    if reports.is_empty() {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(step_summary(reports).as_bytes()))
        .map_err(|e| format!("GITHUB_STEP_SUMMARY: {e}"))
}

/// A progress bar on stderr for [`super::SuiteOptions::progress`]: `[####....] done/total`,
/// erased when the suite is done.
pub fn progress_bar() -> Box<dyn Fn(usize, usize) + Send + Sync> {
    Box::new(|done: usize, total: usize| {
        let width = 30;
        let filled = width * done / total.max(1);
        eprint!(
            "\r[{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        if done == total {
            eprint!("\r{}\r", " ".repeat(width + 20));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{md_code, md_escape};

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(md_escape("a|b\nc\r\nd"), "a\\|b<br>c<br>d");
        assert_eq!(md_escape("`x` <y> [z] \\"), "\\`x\\` \\<y> \\[z] \\\\");
        assert_eq!(md_code("p1_x/a|b\n`c`"), "`p1_x/a\\|b 'c'`");
    }
}
