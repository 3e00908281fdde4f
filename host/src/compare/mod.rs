//! `wouldblock compare REPORT.json…`: suite reports from several machines (and modes) merged
//! into one table: rows are cases, columns are reports. A cell shows the WASI-level result
//! and Python's rendering on that column's platform. Where two columns of the same runtime
//! and mode (that is: the same runtime on different platforms) disagree on what the case
//! constrains — how it ended (exit code or stop) and its verdict against its expectations,
//! which covers every `WB` line and event the case pins — the case is a portability failure:
//! highlighted, exit 1. Anything a case does not pin (a would-block met in one run and not
//! in another, counts, descriptor numbers) is shown but never a failure: it depends on
//! timing, not on the platform. Different runtimes side by side are the runtime table
//! ([`grid`]): their differences are the point, not failures.

pub mod grid;

use crate::suite::{CaseResult, SuiteReport, SCHEMA};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A text table.
    Human,
    /// A Markdown table.
    Markdown,
    /// JSON (`wouldblock.compare/1`).
    Json,
    /// A self-contained HTML page.
    Html,
}

/// One column: a report.
#[derive(Serialize)]
pub struct Column {
    /// e.g. `linux x86_64 (faithful)`.
    pub label: String,
    /// The file it came from.
    pub file: String,
}

/// One cell.
#[derive(Clone, Serialize)]
pub struct Cell {
    /// pass, fail, xfail or xpass.
    pub outcome: String,
    /// The WASI-level result, e.g. `exit 0; fd_read -> again`.
    pub wasi: String,
    /// Python's rendering of the first event on that platform.
    pub python: String,
}

/// One row: a case across the columns.
#[derive(Serialize)]
pub struct Row {
    /// The case id.
    pub case: String,
    /// One cell per column (`null` where that report lacks the case).
    pub cells: Vec<Option<Cell>>,
    /// True when same-mode columns disagree on the WASI-level result.
    pub portability_failure: bool,
}

/// The merged table.
#[derive(Serialize)]
pub struct Comparison {
    /// Always `wouldblock.compare/1`.
    pub schema: &'static str,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Row>,
    /// How many rows are portability failures.
    pub portability_failures: usize,
    /// With wouldblock faithful and other runtimes among the reports: the runtime grid.
    pub grid: Option<grid::Grid>,
}

impl Comparison {
    /// 1 when any row is a portability failure.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.portability_failures > 0)
    }
}

/// Reads one report; a one-line error when it is not a suite report of this schema.
pub fn load(path: &Path) -> Result<SuiteReport, String> {
    // A suite report of 10,000 cases is ~50 MiB.
    const MAX_REPORT_BYTES: u64 = 256 << 20;
    let bytes = crate::guest::read_regular(path, MAX_REPORT_BYTES)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "{}: schema `{other}`; compare reads {SCHEMA}",
                path.display()
            ));
        }
        None => {
            return Err(format!(
                "{}: not a wouldblock suite report (no schema)",
                path.display()
            ))
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("{}: not a valid {SCHEMA} report: {e}", path.display()))
}

/// The guest's own view, from its `WB` lines: each call and the errno name it got, e.g.
/// `fd_fdstat_set_flags:success fd_read:again` (repeats folded).
fn guest_view(c: &CaseResult) -> String {
    let mut seen: Vec<String> = Vec::new();
    for line in &c.wb {
        let field = |k: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(k))
                .unwrap_or("")
        };
        let item = format!("{}:{}", field("op="), field("name="));
        if seen.last() != Some(&item) {
            seen.push(item);
        }
    }
    seen.join(" ")
}

/// What a case constrains, as one comparable text: how it ended and its verdict.
fn constrained(c: &CaseResult) -> String {
    let end = match (c.exit_code, &c.stop) {
        (Some(n), _) => format!("exit {n}"),
        (None, Some(how)) => format!("stop {how}"),
        (None, None) => "no exit".into(),
    };
    format!("{end}; {:?}", c.outcome)
}

fn cell(c: &CaseResult) -> Cell {
    let kinds: BTreeSet<String> = c
        .event_lines
        .iter()
        .map(|l| {
            // `call(fd=N, handle) -> errno xK …` -> `call -> errno`
            let call = l.split('(').next().unwrap_or(l);
            let errno = l
                .split("-> ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("");
            format!("{call} -> {errno}")
        })
        .collect();
    let end = match (c.exit_code, &c.stop) {
        (Some(n), _) => format!("exit {n}"),
        (None, Some(how)) => format!("stop {how}"),
        (None, None) => "no exit".into(),
    };
    let mut wasi = format!("{end}; {}", guest_view(c));
    for k in kinds {
        wasi += &format!("; {k}");
    }
    let python = c
        .events
        .first()
        .and_then(|e| e["python"]["line"].as_str())
        .unwrap_or("")
        .to_string();
    let outcome = serde_json::to_value(c.outcome)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    Cell {
        outcome,
        wasi,
        python,
    }
}

/// Merges `reports` (with the files they came from); with `shared_only`, only the cases at
/// least two reports have (for a table of runtimes, which each run a subset).
pub fn compare(reports: &[(String, SuiteReport)], shared_only: bool) -> Comparison {
    let columns: Vec<Column> = reports
        .iter()
        .map(|(file, r)| Column {
            label: format!(
                "{} on {} {}",
                crate::suite::format::runtime_label(r),
                r.platform.os,
                r.platform.arch
            ),
            file: file.clone(),
        })
        .collect();
    let mut ids: Vec<String> = Vec::new();
    for (_, r) in reports {
        for c in &r.cases {
            if !ids.contains(&c.id) {
                ids.push(c.id.clone());
            }
        }
    }
    if shared_only {
        ids.retain(|id| {
            reports
                .iter()
                .filter(|(_, r)| r.cases.iter().any(|c| &c.id == id))
                .count()
                >= 2
        });
    }
    let grid = grid::grid(reports, &ids);
    let rows: Vec<Row> = ids
        .into_iter()
        .map(|id| {
            let found: Vec<Option<&CaseResult>> = reports
                .iter()
                .map(|(_, r)| r.cases.iter().find(|c| c.id == id))
                .collect();
            let cells: Vec<Option<Cell>> = found.iter().map(|c| c.map(cell)).collect();
            let mut by_mode: std::collections::HashMap<String, BTreeSet<String>> =
                Default::default();
            for ((_, r), c) in reports.iter().zip(&found) {
                if let Some(c) = c {
                    let mode = format!("{} {:?}", r.runtime.name, r.wasi);
                    by_mode.entry(mode).or_default().insert(constrained(c));
                }
            }
            let portability_failure = by_mode.values().any(|set| set.len() > 1);
            Row {
                case: id,
                cells,
                portability_failure,
            }
        })
        .collect();
    let portability_failures = rows.iter().filter(|r| r.portability_failure).count();
    Comparison {
        schema: "wouldblock.compare/1",
        columns,
        rows,
        portability_failures,
        grid,
    }
}

fn cell_text(c: &Option<Cell>) -> String {
    match c {
        None => "—".into(),
        Some(c) if c.python.is_empty() => format!("{}: {}", c.outcome, c.wasi),
        Some(c) => format!("{}: {} = {}", c.outcome, c.wasi, c.python),
    }
}

/// The text table.
pub fn human(cmp: &Comparison) -> String {
    let mut out = String::new();
    for (i, c) in cmp.columns.iter().enumerate() {
        out += &format!("[{}] {} — {}\n", i + 1, c.label, c.file);
    }
    for r in &cmp.rows {
        let mark = if r.portability_failure {
            "DIFFERS"
        } else {
            "same"
        };
        out += &format!("{mark:<8} {}\n", r.case);
        for (i, c) in r.cells.iter().enumerate() {
            out += &format!("           [{}] {}\n", i + 1, cell_text(c));
        }
    }
    out += &format!(
        "{} cases, {} portability failures\n",
        cmp.rows.len(),
        cmp.portability_failures
    );
    out
}

use crate::suite::format::{md_code, md_escape as md};

/// The runtime grid in Markdown: the table, the legend, the notes.
fn markdown_grid(g: &grid::Grid) -> String {
    let mut out = String::from("| case |");
    for c in &g.columns {
        out += &format!(" {} |", md(c));
    }
    out += "\n|---|";
    out += &"---|".repeat(g.columns.len());
    out.push('\n');
    for r in &g.rows {
        out += &format!("| {} |", md_code(&r.case));
        for m in &r.marks {
            out += &format!(" {} |", m.symbol());
        }
        out.push('\n');
    }
    out += &format!("\n{}\n\n", grid::LEGEND);
    for (i, n) in g.notes.iter().enumerate() {
        out += &format!("{}. {}\n", i + 1, md_note(n));
    }
    out
}

/// A note for Markdown: the code spans it has stay code spans, the rest is escaped.
fn md_note(n: &str) -> String {
    n.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("`{part}`")
            } else {
                md(part)
            }
        })
        .collect()
}

/// The Markdown table; portability failures in bold. With a runtime grid, the grid alone
/// (the full table says the same at length).
pub fn markdown(cmp: &Comparison) -> String {
    if let Some(g) = &cmp.grid {
        return format!(
            "### Which runtime gives what POSIX gives\n\n{}",
            markdown_grid(g)
        );
    }
    let mut out = format!(
        "### wouldblock compare: {} portability failures\n\n| case |",
        cmp.portability_failures
    );
    for c in &cmp.columns {
        out += &format!(" {} |", md(&c.label));
    }
    out += "\n|---|";
    out += &"---|".repeat(cmp.columns.len());
    out.push('\n');
    for r in &cmp.rows {
        let case = if r.portability_failure {
            format!("**{} (differs)**", md(&r.case))
        } else {
            md_code(&r.case)
        };
        out += &format!("| {case} |");
        for c in &r.cells {
            out += &format!(" {} |", md(&cell_text(c)));
        }
        out.push('\n');
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained HTML page (inline style, no network assets).
pub fn html(cmp: &Comparison) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wouldblock compare</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}\ntd,th{border:1px solid #ccc;padding:.3em .5em;font-size:13px;vertical-align:top}\ntr.differs td{background:#fde2e2}td.case{font-family:monospace}.fail{color:#b00}.pass{color:#070}\n</style></head><body>\n",
    );
    out += &format!("<h1>wouldblock compare</h1>\n<p>{} cases, <strong>{} portability failures</strong></p>\n<table><tr><th>case</th>", cmp.rows.len(), cmp.portability_failures);
    for c in &cmp.columns {
        out += &format!(
            "<th>{}<br><small>{}</small></th>",
            html_escape(&c.label),
            html_escape(&c.file)
        );
    }
    out += "</tr>\n";
    for r in &cmp.rows {
        let class = if r.portability_failure {
            " class=\"differs\""
        } else {
            ""
        };
        out += &format!(
            "<tr{class}><td class=\"case\">{}</td>",
            html_escape(&r.case)
        );
        for c in &r.cells {
            let cls = match c.as_ref().map(|c| c.outcome.as_str()) {
                Some("pass") | Some("xfail") => "pass",
                Some(_) => "fail",
                None => "",
            };
            out += &format!("<td class=\"{cls}\">{}</td>", html_escape(&cell_text(c)));
        }
        out += "</tr>\n";
    }
    out += "</table>\n";
    if let Some(g) = &cmp.grid {
        out += &html_grid(g);
    }
    out += "</body></html>\n";
    out
}

/// The runtime grid as HTML: the table, the legend, the notes.
fn html_grid(g: &grid::Grid) -> String {
    let mut out = String::from(
        "<h2>Which runtime gives what POSIX gives</h2>\n<table class=\"grid\"><tr><th>case</th>",
    );
    for c in &g.columns {
        out += &format!("<th>{}</th>", html_escape(c));
    }
    out += "</tr>\n";
    for r in &g.rows {
        out += &format!("<tr><td class=\"case\">{}</td>", html_escape(&r.case));
        for m in &r.marks {
            let title = match m {
                grid::Mark::Differs(n) => format!(" title=\"{}\"", html_escape(&g.notes[n - 1])),
                _ => String::new(),
            };
            out += &format!("<td{title}>{}</td>", html_escape(&m.symbol()));
        }
        out += "</tr>\n";
    }
    out += &format!("</table>\n<p>{}</p>\n<ol>\n", html_escape(grid::LEGEND));
    for n in &g.notes {
        out += &format!("<li>{}</li>\n", html_escape(n));
    }
    out += "</ol>\n";
    out
}

/// A report of `runtime` (wouldblock: faithful) on linux x86_64 with `cases`, for the unit
/// tests of the comparison and the grid.
#[cfg(test)]
fn report(runtime: &str, cases: Vec<CaseResult>) -> (String, SuiteReport) {
    use crate::suite::{Platform, Runtime, Summary};
    let r = SuiteReport {
        schema: SCHEMA.into(),
        wouldblock_version: "0".into(),
        wasmtime_version: "48".into(),
        platform: Platform {
            os: "linux".into(),
            arch: "x86_64".into(),
            kernel: None,
            hostname: None,
        },
        runtime: Runtime {
            name: runtime.into(),
            version: format!("{runtime} 1"),
        },
        wasi: crate::run::WasiMode::Faithful,
        render_platform: crate::errno::Platform::Linux,
        started: None,
        duration_ms: 0,
        summary: Summary::default(),
        warnings: Vec::new(),
        cases,
    };
    (format!("{runtime}.json"), r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Outcome;

    fn case(exit: i32, outcome: Outcome, events: &[&str]) -> CaseResult {
        CaseResult {
            id: "p1_rust_echo_server/four-clients".into(),
            exit_code: Some(exit),
            outcome,
            event_lines: events.iter().map(|s| s.to_string()).collect(),
            ..CaseResult::default()
        }
    }

    #[test]
    fn only_what_a_case_constrains_is_a_portability_failure() {
        let again = "sock_accept(fd=3, listener) -> again x1";
        // A would-block met in one run and not in another, both passing: the same.
        let cmp = compare(
            &[
                report("wouldblock", vec![case(0, Outcome::Pass, &[again])]),
                report("wouldblock", vec![case(0, Outcome::Pass, &[])]),
            ],
            false,
        );
        assert_eq!(cmp.portability_failures, 0);
        // A verdict or an exit that differs: a failure.
        for (a, b) in [
            (case(0, Outcome::Pass, &[]), case(0, Outcome::Fail, &[])),
            (case(0, Outcome::Pass, &[]), case(1, Outcome::Pass, &[])),
        ] {
            let cmp = compare(
                &[report("wouldblock", vec![a]), report("wouldblock", vec![b])],
                false,
            );
            assert_eq!(cmp.portability_failures, 1);
            assert_eq!(cmp.exit_code(), 1);
        }
    }
}
