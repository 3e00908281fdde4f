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
//!
//! Each cell has a status: `same`, `differs` (its case is a portability failure and this
//! cell is not what most of its runtime and mode gave), `fails` (not as its expectations
//! say) or `missing`. Rows come differing first, then those with a failing cell, then those
//! missing somewhere, then the rest, each group in the reports' order; every format shows
//! them so.

pub mod grid;

use crate::suite::{CaseResult, SuiteReport, SCHEMA as SUITE_SCHEMA};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// The comparison's schema identifier.
pub const SCHEMA: &str = "wouldblock.compare/1";

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
#[derive(Serialize, schemars::JsonSchema)]
pub struct Column {
    /// e.g. `wouldblock faithful · linux x86_64 · rendered for linux`.
    pub label: String,
    /// The runtime (with its version, for another runtime's).
    pub runtime: String,
    /// `faithful` or `stock`.
    pub mode: String,
    /// Where it ran: `linux x86_64`.
    pub ran_on: String,
    /// The platform its events are rendered for.
    pub rendered_for: String,
    /// The file it came from.
    pub file: String,
}

/// How one cell stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As its runtime and mode gave elsewhere, and as expected.
    Same,
    /// Its case is a portability failure, and this cell is the odd one out.
    Differs,
    /// Not as its expectations say.
    Fails,
    /// The report lacks the case.
    Missing,
}

impl Status {
    /// Lower-case name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Differs => "differs",
            Status::Fails => "fails",
            Status::Missing => "missing",
        }
    }
}

/// One cell.
#[derive(Clone, Serialize, schemars::JsonSchema)]
pub struct Cell {
    /// pass, fail, xfail or xpass; flaky for one as expected only on a retry (the same as a
    /// pass for the comparison).
    pub outcome: String,
    /// The WASI-level result, e.g. `exit 0; fd_read -> again`.
    pub wasi: String,
    /// Python's rendering of the first event on that platform.
    pub python: String,
}

/// One row: a case across the columns.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Row {
    /// The case id.
    pub case: String,
    /// One cell per column (`null` where that report lacks the case).
    pub cells: Vec<Option<Cell>>,
    /// One status per column.
    pub statuses: Vec<Status>,
    /// True when same-mode columns disagree on the WASI-level result.
    pub portability_failure: bool,
}

/// The merged table.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Always `wouldblock.compare/1`.
    pub schema: &'static str,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Row>,
    /// How many rows are portability failures.
    pub portability_failures: usize,
    /// How many cells are not as their expectations say.
    pub failing_cells: usize,
    /// How many cells are missing.
    pub missing_cells: usize,
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
        Some(SUITE_SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "{}: schema `{other}`; compare reads {SUITE_SCHEMA}",
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
        .map_err(|e| format!("{}: not a valid {SUITE_SCHEMA} report: {e}", path.display()))
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
    format!("{}; {:?}", c.ending(), c.outcome)
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
    let mut wasi = format!("{}; {}", c.ending(), guest_view(c));
    for k in kinds {
        wasi += &format!("; {k}");
    }
    Cell {
        outcome: match c.flaky() {
            true => "flaky".into(),
            false => c.outcome.name().into(),
        },
        wasi,
        python: c.first_python_line().into(),
    }
}

/// Merges `reports` (with the files they came from); with `shared_only`, only the cases at
/// least two reports have (for a table of runtimes, which each run a subset).
pub fn compare(reports: &[(String, SuiteReport)], shared_only: bool) -> Comparison {
    let columns: Vec<Column> = reports
        .iter()
        .map(|(file, r)| {
            let runtime = match r.runtime.name.as_str() {
                "wouldblock" => "wouldblock".to_string(),
                _ => crate::suite::format::runtime_label(r),
            };
            let (mode, rendered_for) = (r.wasi.name(), r.render_platform.name());
            let ran_on = format!("{} {}", r.platform.os, r.platform.arch);
            Column {
                label: format!("{runtime} {mode} · {ran_on} · rendered for {rendered_for}"),
                runtime,
                mode: mode.into(),
                ran_on,
                rendered_for: rendered_for.into(),
                file: file.clone(),
            }
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
            // What each runtime and mode gave, in column order, and how often.
            let mut by_mode: std::collections::HashMap<String, Vec<String>> = Default::default();
            for ((_, r), c) in reports.iter().zip(&found) {
                if let Some(c) = c {
                    by_mode.entry(mode_key(r)).or_default().push(constrained(c));
                }
            }
            let portability_failure = by_mode
                .values()
                .any(|seen| seen.iter().collect::<BTreeSet<_>>().len() > 1);
            let statuses = reports
                .iter()
                .zip(&found)
                .map(|((_, r), c)| match c {
                    None => Status::Missing,
                    Some(c) if !c.outcome.ok() => Status::Fails,
                    Some(c) if portability_failure => {
                        let seen = &by_mode[&mode_key(r)];
                        if constrained(c) == most_common(seen) {
                            Status::Same
                        } else {
                            Status::Differs
                        }
                    }
                    Some(_) => Status::Same,
                })
                .collect();
            Row {
                case: id,
                cells,
                statuses,
                portability_failure,
            }
        })
        .collect();
    let mut rows = rows;
    rows.sort_by_key(|r| {
        if r.portability_failure {
            0
        } else if r.statuses.contains(&Status::Fails) {
            1
        } else if !all_same(r) {
            2
        } else {
            3
        }
    });
    let count = |s: Status| {
        rows.iter()
            .flat_map(|r| &r.statuses)
            .filter(|x| **x == s)
            .count()
    };
    let (failing_cells, missing_cells) = (count(Status::Fails), count(Status::Missing));
    let portability_failures = rows.iter().filter(|r| r.portability_failure).count();
    Comparison {
        schema: SCHEMA,
        columns,
        rows,
        portability_failures,
        failing_cells,
        missing_cells,
        grid,
    }
}

/// Columns of one runtime and mode are compared with each other.
fn mode_key(r: &SuiteReport) -> String {
    format!("{} {}", r.runtime.name, r.wasi.name())
}

/// The value seen most often (the first of those on a tie).
fn most_common(seen: &[String]) -> &str {
    let mut best: (&str, usize) = ("", 0);
    for v in seen {
        let n = seen.iter().filter(|x| *x == v).count();
        if n > best.1 {
            best = (v, n);
        }
    }
    best.0
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
        "{} cases, {} portability failures ({} failing cells, {} missing)\n",
        cmp.rows.len(),
        cmp.portability_failures,
        cmp.failing_cells,
        cmp.missing_cells
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

/// The counts line shared by the formats.
fn counts(cmp: &Comparison) -> String {
    format!(
        "{} cases, {} differing, {} failing cells, {} missing",
        cmp.rows.len(),
        cmp.portability_failures,
        cmp.failing_cells,
        cmp.missing_cells
    )
}

/// Whether every cell of a row is `same`.
fn all_same(r: &Row) -> bool {
    r.statuses.iter().all(|s| *s == Status::Same)
}

/// A Markdown table of `rows`: a differing case in bold, a cell that is not `same` led by its
/// status.
fn markdown_table(cmp: &Comparison, rows: &[&Row]) -> String {
    let mut out = String::from("| case |");
    for c in &cmp.columns {
        out += &format!(" {} |", md(&c.label));
    }
    out += "\n|---|";
    out += &"---|".repeat(cmp.columns.len());
    out.push('\n');
    for r in rows {
        let case = if r.portability_failure {
            format!("**{} (differs)**", md(&r.case))
        } else {
            md_code(&r.case)
        };
        out += &format!("| {case} |");
        for (c, status) in r.cells.iter().zip(&r.statuses) {
            let text = md(&cell_text(c));
            match status {
                Status::Same | Status::Missing => out += &format!(" {text} |"),
                s => out += &format!(" **{}** {text} |", s.name()),
            }
        }
        out.push('\n');
    }
    out
}

/// Markdown: the counts, the rows that are not the same everywhere, then the rest folded in
/// `<details>`. With a runtime grid, the grid alone (the full table says the same at length).
pub fn markdown(cmp: &Comparison) -> String {
    if let Some(g) = &cmp.grid {
        return format!(
            "### Which runtime gives what POSIX gives\n\n{}",
            markdown_grid(g)
        );
    }
    let (odd, same): (Vec<&Row>, Vec<&Row>) = cmp.rows.iter().partition(|r| !all_same(r));
    let mut out = format!("### wouldblock compare: {}\n\n", counts(cmp));
    if odd.is_empty() {
        out += "Every case is the same in every column.\n\n";
    } else {
        out += &markdown_table(cmp, &odd);
        out.push('\n');
    }
    if !same.is_empty() {
        out += &format!(
            "<details><summary>{} cases the same everywhere</summary>\n\n{}\n</details>\n",
            same.len(),
            markdown_table(cmp, &same)
        );
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's style and its one script (the "differences only" switch, also turned on by
/// `#differences-only` in the address): inline, nothing fetched.
const HTML_HEAD: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>wouldblock compare</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .5em;font-size:13px;vertical-align:top;text-align:left}
td.case{font-family:monospace}.py{color:#444;font-family:monospace;display:block;margin-top:.2em}
td.same{background:#e7f5e9}td.differs{background:#ffe9c7}td.fails{background:#fbd5d5}
td.missing{background:#eee;color:#777}tr.differs td.case{font-weight:bold}
.status{font-weight:bold;margin-right:.4em}.legend span{padding:0 .5em;margin-right:.4em}
</style></head><body>
"##;

const HTML_SCRIPT: &str = r##"<script>
(function () {
  var box = document.getElementById("only-differences");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#compare tbody tr"));
  function apply() {
    var shown = 0;
    rows.forEach(function (r) {
      r.hidden = box.checked && r.dataset.allSame === "true";
      if (!r.hidden) shown++;
    });
    document.getElementById("showing").textContent = "showing " + shown + " of " + rows.length;
  }
  box.checked = location.hash === "#differences-only";
  box.addEventListener("change", apply);
  apply();
})();
</script>
"##;

/// A self-contained HTML page (inline style and script, no network assets): the counts and
/// links to the differing cases at the top, a "differences only" switch, then one row per
/// case, differing rows first, one coloured cell per column (same, differs, fails, missing)
/// with the WASI-level result and the Python line of that column's platform.
pub fn html(cmp: &Comparison) -> String {
    let mut out = String::from(HTML_HEAD);
    out += &format!(
        "<h1>wouldblock compare</h1>\n<p id=\"summary\"><span id=\"n-cases\">{}</span> cases · <span id=\"n-differing\">{}</span> differing · <span id=\"n-failing\">{}</span> failing cells · <span id=\"n-missing\">{}</span> missing</p>\n",
        cmp.rows.len(),
        cmp.portability_failures,
        cmp.failing_cells,
        cmp.missing_cells
    );
    let differing: Vec<(usize, &Row)> = cmp
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.portability_failure)
        .collect();
    if !differing.is_empty() {
        out += "<ul id=\"differing\">\n";
        for (i, r) in &differing {
            out += &format!(
                "<li><a href=\"#row-{i}\">{}</a></li>\n",
                html_escape(&r.case)
            );
        }
        out += "</ul>\n";
    }
    out += "<p><label><input type=\"checkbox\" id=\"only-differences\"> differences only</label> · <span id=\"showing\"></span></p>\n<p class=\"legend\"><span class=\"same\" style=\"background:#e7f5e9\">same</span><span style=\"background:#ffe9c7\">differs</span><span style=\"background:#fbd5d5\">fails</span><span style=\"background:#eee\">missing</span></p>\n<table id=\"compare\"><thead><tr><th>case</th>";
    for c in &cmp.columns {
        out += &format!(
            "<th>{} {}<br>{}<br>rendered for {}<br><small>{}</small></th>",
            html_escape(&c.runtime),
            html_escape(&c.mode),
            html_escape(&c.ran_on),
            html_escape(&c.rendered_for),
            html_escape(&c.file)
        );
    }
    out += "</tr></thead>\n<tbody>\n";
    for (i, r) in cmp.rows.iter().enumerate() {
        let class = if r.portability_failure {
            " class=\"differs\""
        } else {
            ""
        };
        out += &format!(
            "<tr id=\"row-{i}\"{class} data-all-same=\"{}\"><td class=\"case\">{}</td>",
            all_same(r),
            html_escape(&r.case)
        );
        for (c, status) in r.cells.iter().zip(&r.statuses) {
            let body = match c {
                None => "—".to_string(),
                Some(c) => {
                    let mut b = format!("{}: {}", html_escape(&c.outcome), html_escape(&c.wasi));
                    if !c.python.is_empty() {
                        b += &format!("<span class=\"py\">{}</span>", html_escape(&c.python));
                    }
                    b
                }
            };
            out += &format!(
                "<td class=\"{0}\" data-status=\"{0}\"><span class=\"status\">{0}</span>{body}</td>",
                status.name()
            );
        }
        out += "</tr>\n";
    }
    out += "</tbody></table>\n";
    if let Some(g) = &cmp.grid {
        out += &html_grid(g);
    }
    out += HTML_SCRIPT;
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
        schema: SUITE_SCHEMA.into(),
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

    /// A case as expected only on a retry says so in its cell, and is still a pass: not a
    /// portability failure beside a case that passed at once.
    #[test]
    fn a_flaky_cell_says_so_and_compares_as_a_pass() {
        let flaky = CaseResult {
            earlier: vec![crate::suite::Attempt {
                outcome: Outcome::Fail,
                ending: "exit 1".into(),
                ..Default::default()
            }],
            ..case(0, Outcome::Pass, &[])
        };
        let cmp = compare(
            &[
                report("wouldblock", vec![case(0, Outcome::Pass, &[])]),
                report("wouldblock", vec![flaky]),
            ],
            false,
        );
        let outcomes: Vec<&str> = cmp.rows[0]
            .cells
            .iter()
            .map(|c| c.as_ref().unwrap().outcome.as_str())
            .collect();
        assert_eq!(outcomes, ["pass", "flaky"]);
        assert_eq!((cmp.portability_failures, cmp.exit_code()), (0, 0));
    }

    #[test]
    fn each_cell_says_how_it_stands_and_odd_rows_come_first() {
        let named = |id: &str, c: CaseResult| CaseResult { id: id.into(), ..c };
        let ok = |id: &str| named(id, case(0, Outcome::Pass, &[]));
        let cmp = compare(
            &[
                report("wouldblock", vec![ok("a"), ok("b"), ok("c"), ok("d")]),
                report(
                    "wouldblock",
                    vec![ok("a"), ok("b"), named("d", case(1, Outcome::Pass, &[]))],
                ),
                report(
                    "wouldblock",
                    vec![
                        ok("a"),
                        named("b", case(0, Outcome::Fail, &[])),
                        ok("c"),
                        ok("d"),
                    ],
                ),
            ],
            false,
        );
        use Status::*;
        let got: Vec<(&str, bool, &[Status])> = cmp
            .rows
            .iter()
            .map(|r| {
                (
                    r.case.as_str(),
                    r.portability_failure,
                    r.statuses.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // The verdict differs (a failing cell fails, whatever the majority).
                ("b", true, &[Same, Same, Fails][..]),
                // Two columns exit 0, one exits 1: that one differs.
                ("d", true, &[Same, Differs, Same][..]),
                ("c", false, &[Same, Missing, Same][..]),
                ("a", false, &[Same, Same, Same][..]),
            ]
        );
        assert_eq!(
            (
                cmp.portability_failures,
                cmp.failing_cells,
                cmp.missing_cells
            ),
            (2, 1, 1)
        );
        assert!(cmp.columns[0]
            .label
            .starts_with("wouldblock faithful · linux x86_64 · rendered for linux"));
    }
}
