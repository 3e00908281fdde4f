//! The runtime grid: which runtime gives a guest what POSIX would. Rows are cases, columns
//! are runtimes; wouldblock in its faithful mode is the reference (it gives what POSIX
//! gives). A cell is ✅ when the guest saw exactly what it saw under the reference (its exit
//! code and every `WB` line), ⏳ when it blocked until the deadline, 💥 when the runtime
//! crashed or the guest trapped, ❌ otherwise, with a note on the first difference; `—`
//! where the runtime did not run the case. Notes are numbered once for the whole grid.

use crate::run::WasiMode;
use crate::suite::{CaseResult, SuiteReport};
use serde::Serialize;

/// One cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", tag = "mark", content = "note")]
pub enum Mark {
    /// What the reference saw.
    Same,
    /// Something else: the number of the note that says what (1-based).
    Differs(usize),
    /// Still running at the deadline.
    Blocked,
    /// The runtime crashed, or the guest trapped.
    Crash,
    /// Not run there.
    Missing,
}

impl Mark {
    /// The cell's text: an emoji, with the note's number for a difference.
    pub fn symbol(&self) -> String {
        match self {
            Mark::Same => "✅".into(),
            Mark::Differs(n) => format!("❌{n}"),
            Mark::Blocked => "⏳".into(),
            Mark::Crash => "💥".into(),
            Mark::Missing => "—".into(),
        }
    }
}

/// One row.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct GridRow {
    /// The case id.
    pub case: String,
    /// One mark per column.
    pub marks: Vec<Mark>,
}

/// The grid.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Grid {
    /// Column labels, the reference first.
    pub columns: Vec<String>,
    /// The rows, in the comparison's order.
    pub rows: Vec<GridRow>,
    /// The notes, numbered from 1.
    pub notes: Vec<String>,
}

/// The legend printed under a grid.
pub const LEGEND: &str = "✅ what the guest saw under wouldblock faithful: what POSIX gives, for preview1 (for preview2, whose stdio wouldblock leaves to wasmtime-wasi, wasmtime's answer) · ❌N something else (note N) · ⏳ blocked until the deadline · 💥 crashed or trapped · — not run";

/// The grid of `reports` over the case ids `ids`, when there is one: a wouldblock faithful
/// report to be the reference and at least one other runtime.
pub fn grid(reports: &[(String, SuiteReport)], ids: &[String]) -> Option<Grid> {
    let reference = reports
        .iter()
        .position(|(_, r)| r.runtime.name == "wouldblock" && r.wasi == WasiMode::Faithful)?;
    let others: Vec<usize> = (0..reports.len())
        .filter(|i| *i != reference && reports[*i].1.runtime.name != "wouldblock")
        .collect();
    if others.is_empty() {
        return None;
    }
    let order: Vec<usize> = std::iter::once(reference).chain(others).collect();
    let columns = order
        .iter()
        .map(|i| crate::suite::format::runtime_label(&reports[*i].1))
        .collect();
    let mut notes: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for id in ids {
        let find = |i: usize| reports[i].1.cases.iter().find(|c| &c.id == id);
        let Some(want) = find(reference) else {
            continue;
        };
        let marks = order
            .iter()
            .map(|i| match find(*i) {
                None => Mark::Missing,
                Some(got) => mark(
                    &crate::suite::format::runtime_label(&reports[*i].1),
                    got,
                    want,
                    &mut notes,
                ),
            })
            .collect();
        rows.push(GridRow {
            case: id.clone(),
            marks,
        });
    }
    Some(Grid {
        columns,
        rows,
        notes,
    })
}

/// One cell: `got` under the runtime `label` against `want` under the reference.
fn mark(label: &str, got: &CaseResult, want: &CaseResult, notes: &mut Vec<String>) -> Mark {
    // Another runtime blocked in a call until the deadline: ⏳, even where the reference ran
    // to its deadline too (spinning on `again`, which is not blocking).
    match got.stop.as_deref() {
        Some("blocked") => return Mark::Blocked,
        Some("deadline") if want.stop.is_none() => return Mark::Blocked,
        Some("crash" | "trap") if want.stop.is_none() => return Mark::Crash,
        _ => {}
    }
    let Some(what) = difference(got, want) else {
        return Mark::Same;
    };
    let note = format!("{label}: {what}");
    let n = match notes.iter().position(|n| *n == note) {
        Some(i) => i + 1,
        None => {
            notes.push(note);
            notes.len()
        }
    };
    Mark::Differs(n)
}

/// A `WB` line without its prefix.
fn short(line: &str) -> &str {
    line.strip_prefix("WB ").unwrap_or(line)
}

/// How `got` differs from `want`: the first differing `WB` line, or the exit.
fn difference(got: &CaseResult, want: &CaseResult) -> Option<String> {
    for i in 0..got.wb.len().max(want.wb.len()) {
        match (got.wb.get(i), want.wb.get(i)) {
            (Some(g), Some(w)) if g == w => {}
            (Some(g), Some(w)) => {
                return Some(format!("`{}` where POSIX gives `{}`", short(g), short(w)))
            }
            (Some(g), None) => return Some(format!("`{}` after what POSIX gives", short(g))),
            (None, Some(w)) => {
                return Some(format!("{} before `{}`", ending(got), short(w)));
            }
            (None, None) => {}
        }
    }
    (got.exit_code != want.exit_code || got.stop != want.stop)
        .then(|| format!("{} where POSIX gives {}", ending(got), ending(want)))
}

/// How a case ended: `exit N` or `stopped (how)`.
fn ending(c: &CaseResult) -> String {
    match (c.exit_code, c.stop.as_deref()) {
        (Some(n), _) => format!("exit {n}"),
        (None, Some(how)) => format!("stopped ({how})"),
        (None, None) => "no exit".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::report;

    fn case(id: &str, exit: Option<i32>, stop: Option<&str>, wb: &[&str]) -> CaseResult {
        CaseResult {
            id: id.into(),
            exit_code: exit,
            stop: stop.map(String::from),
            wb: wb.iter().map(|s| s.to_string()).collect(),
            ..CaseResult::default()
        }
    }

    const SET: &str = "WB op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4";
    const AGAIN: &str = "WB op=fd_read fd=0 errno=6 name=again";
    const BADF: &str = "WB op=fd_fdstat_set_flags fd=0 errno=8 name=badf flags=4";

    #[test]
    fn a_runtime_that_blocks_is_blocked_whatever_the_reference_did() {
        let reports = [
            report(
                "wouldblock",
                vec![case("s", None, Some("deadline"), &[SET])],
            ),
            report("deno", vec![case("s", None, Some("blocked"), &[SET])]),
        ];
        let g = grid(&reports, &["s".into()]).expect("a grid");
        assert_eq!(g.rows[0].marks, [Mark::Same, Mark::Blocked]);
    }

    #[test]
    fn marks_and_notes() {
        let reports = [
            report(
                "wouldblock",
                vec![
                    case("a", Some(0), None, &[SET, AGAIN]),
                    case("b", Some(0), None, &[SET]),
                ],
            ),
            report("same", vec![case("a", Some(0), None, &[SET, AGAIN])]),
            report(
                "refuses",
                vec![
                    case("a", Some(1), None, &[BADF]),
                    case("b", Some(1), None, &[BADF]),
                ],
            ),
            report(
                "blocks",
                vec![
                    case("a", None, Some("blocked"), &[SET]),
                    case("b", Some(0), None, &[SET, AGAIN]),
                ],
            ),
            report(
                "crashes",
                vec![
                    case("a", None, Some("crash"), &[]),
                    case("b", Some(3), None, &[SET]),
                ],
            ),
        ];
        let g = grid(&reports, &["a".into(), "b".into()]).expect("a grid");
        assert_eq!(
            g.columns,
            [
                "wouldblock faithful",
                "same 1",
                "refuses 1",
                "blocks 1",
                "crashes 1"
            ]
        );
        assert_eq!(
            g.rows[0].marks,
            [
                Mark::Same,
                Mark::Same,
                Mark::Differs(1),
                Mark::Blocked,
                Mark::Crash
            ]
        );
        // The same difference twice is one note; the others number on.
        assert_eq!(
            g.rows[1].marks,
            [
                Mark::Same,
                Mark::Missing,
                Mark::Differs(1),
                Mark::Differs(2),
                Mark::Differs(3)
            ]
        );
        assert_eq!(
            g.notes,
            [
                "refuses 1: `op=fd_fdstat_set_flags fd=0 errno=8 name=badf flags=4` where POSIX gives `op=fd_fdstat_set_flags fd=0 errno=0 name=success flags=4`",
                "blocks 1: `op=fd_read fd=0 errno=6 name=again` after what POSIX gives",
                "crashes 1: exit 3 where POSIX gives exit 0",
            ]
        );
        let cmp = crate::compare::compare(&reports, false);
        let md = crate::compare::markdown(&cmp);
        assert!(md.contains("| `a` | ✅ | ✅ | ❌1 | ⏳ | 💥 |"), "{md}");
        assert!(md.contains("| `b` | ✅ | — | ❌1 | ❌2 | ❌3 |"), "{md}");
        assert!(
            md.contains("3. crashes 1: exit 3 where POSIX gives exit 0"),
            "{md}"
        );
        let html = crate::compare::html(&cmp);
        assert!(
            html.contains("<td title=\"crashes 1: exit 3 where POSIX gives exit 0\">❌3</td>"),
            "{html}"
        );
        // No faithful wouldblock report, or no other runtime: no grid.
        assert!(grid(&reports[1..], &["a".into()]).is_none());
        assert!(grid(&reports[..1], &["a".into()]).is_none());
    }
}
