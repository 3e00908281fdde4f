//! Expectations as data: `tests/expectations/<scenario>.toml`, one file per scenario.
//!
//! ```toml
//! [[case]]
//! name = "open"                 # the case, within the scenario
//! abi = "p1"                    # p1 or p2 (default: both)
//! langs = ["rust", "c", "wat"]  # default: every language the scenario exists in
//!                               # (two cases of one name must not both apply to a guest)
//! wasi = "faithful"             # only in this mode (default: both)
//! stdin = "open"                # as --stdin (default: eof)
//! stdout_spec = "pipe:8192"     # as --stdout / --stderr (default: inherit, captured)
//! stderr_spec = "pipe:8192"
//! args = ["{addr}"]             # guest arguments; {addr} is the case's network address
//! net = "tcplisten"             # tcplisten | allow-net | server (default: none)
//! preopen = true                # an empty directory preopened as /sandbox (fd 3)
//! client = "silent"             # what the suite's client does: silent[:N], send:TEXT,
//!                               # read, echo:N, accept (with net = "server")
//! timeout_ms = 10000            # above 0
//! max_memory = "32MiB"          # as --max-memory; fuel = N as --fuel
//! exit = 0                      # the guest's exit code, or how it is stopped:
//!                               # stop = "trap" | "deadline" (timeout_ms, fuel) | "memory",
//!                               # or, under another runtime, "blocked" (killed at the
//!                               # deadline) | "crash" (killed by a signal)
//! stdout = ["WB op=… "]         # the guest's `WB` lines, exactly; `*` matches any text,
//!                               # and a last line "**" any number of further lines
//! events = ["fd_read(fd=0, stdin) -> again x1"]   # the host's events, exactly
//! expected = "fail"             # a known failure (needs `reason`): a pass is unexpected
//! reason = "https://github.com/…"
//!
//! [case.windows]                # per-platform overrides: exit, stdout, events, expected,
//! events = ["…"]                # reason (linux, macos, freebsd, windows)
//! ```
//!
//! Unknown keys are errors, and every error names the file, line and column.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One expectations file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The cases of this scenario.
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

/// What may differ per platform.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The guest's exit code.
    pub exit: Option<i32>,
    /// The guest is stopped instead of exiting: `trap`, `deadline` or `memory`.
    pub stop: Option<String>,
    /// The guest's `WB` lines.
    pub stdout: Option<Vec<String>>,
    /// The host's events.
    pub events: Option<Vec<String>>,
    /// `fail` for a known failure.
    pub expected: Option<String>,
    /// Why, for a known failure.
    pub reason: Option<String>,
}

/// One case of a scenario. (The expectation's keys are listed here rather than flattened
/// in from [`Expect`]: serde's `flatten` buffers the table and loses the position of a
/// type error.)
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's name within its scenario (with where it stands in the file).
    pub name: toml::Spanned<String>,
    /// Only this ABI.
    pub abi: Option<String>,
    /// Only these languages.
    pub langs: Option<Vec<String>>,
    /// Only this mode.
    pub wasi: Option<String>,
    /// `--stdin`.
    #[serde(default = "default_stdin")]
    pub stdin: String,
    /// `--stdout`.
    pub stdout_spec: Option<String>,
    /// `--stderr`.
    pub stderr_spec: Option<String>,
    /// Guest arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// The network set-up.
    pub net: Option<String>,
    /// Preopen an empty directory as `/sandbox` (fd 3).
    #[serde(default)]
    pub preopen: bool,
    /// The client the suite runs.
    pub client: Option<String>,
    /// The case's deadline (above 0).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// `--max-memory`.
    pub max_memory: Option<String>,
    /// `--fuel`.
    pub fuel: Option<u64>,
    /// The guest's exit code.
    pub exit: Option<i32>,
    /// The guest is stopped instead of exiting.
    pub stop: Option<String>,
    /// The guest's `WB` lines.
    pub stdout: Option<Vec<String>>,
    /// The host's events.
    pub events: Option<Vec<String>>,
    /// `fail` for a known failure.
    pub expected: Option<String>,
    /// Why, for a known failure.
    pub reason: Option<String>,
    /// Per-platform overrides.
    pub linux: Option<Expect>,
    /// Per-platform overrides.
    pub macos: Option<Expect>,
    /// Per-platform overrides.
    pub freebsd: Option<Expect>,
    /// Per-platform overrides.
    pub windows: Option<Expect>,
}

/// The languages guests are written in.
pub const LANGS: [&str; 3] = ["rust", "c", "wat"];

fn default_stdin() -> String {
    "eof".into()
}

fn default_timeout() -> u64 {
    10_000
}

impl Case {
    /// Whether both cases select exactly the same ABIs, languages and modes (then a second
    /// one of the same name is always a duplicate; a partial overlap is found when the suite
    /// pairs cases with the guests there are).
    fn same_selection(&self, other: &Case) -> bool {
        (&self.abi, &self.wasi, &self.langs) == (&other.abi, &other.wasi, &other.langs)
    }

    /// The expectation on every platform.
    pub fn common(&self) -> Expect {
        Expect {
            exit: self.exit,
            stop: self.stop.clone(),
            stdout: self.stdout.clone(),
            events: self.events.clone(),
            expected: self.expected.clone(),
            reason: self.reason.clone(),
        }
    }

    /// The expectation on `platform` (`linux`, …): the overrides over the common one.
    pub fn expect_on(&self, platform: &str) -> Expect {
        let over = match platform {
            "linux" => &self.linux,
            "macos" => &self.macos,
            "freebsd" => &self.freebsd,
            "windows" => &self.windows,
            _ => &None,
        };
        let mut e = self.common();
        if let Some(o) = over {
            e.exit = o.exit.or(e.exit);
            e.stop = o.stop.clone().or(e.stop);
            e.stdout = o.stdout.clone().or(e.stdout);
            e.events = o.events.clone().or(e.events);
            e.expected = o.expected.clone().or(e.expected);
            e.reason = o.reason.clone().or(e.reason);
        }
        e
    }
}

/// Line and column (1-based) of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Reads and checks every `*.toml` in `dir`: scenario name (the file stem) to its file.
pub fn load_dir(dir: &Path) -> Result<BTreeMap<String, File>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = BTreeMap::new();
    for path in paths {
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.insert(stem, load_file(&path)?);
    }
    Ok(out)
}

/// The largest expectations file read.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads and checks one file.
pub fn load_file(path: &Path) -> Result<File, String> {
    let bytes = crate::guest::read_regular(path, MAX_FILE_BYTES)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    parse(&text).map_err(|(at, msg)| match at {
        Some(at) => {
            let (line, col) = line_col(&text, at);
            format!("{}:{line}:{col}: {msg}", path.display())
        }
        None => format!("{}: {msg}", path.display()),
    })
}

/// Parses and checks expectations text; an error carries its byte offset when known.
pub fn parse(text: &str) -> Result<File, (Option<usize>, String)> {
    let file: File = toml::from_str(text).map_err(|e| {
        let msg = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        // For an unknown key the parser points at its table: point at the key instead.
        let key_at = msg
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .and_then(|key| {
                text.match_indices(key).map(|(i, _)| i).find(|i| {
                    text[..*i]
                        .chars()
                        .next_back()
                        .is_none_or(|c| c == '\n' || c == ' ')
                })
            });
        (key_at.or(e.span().map(|s| s.start)), msg)
    })?;
    let mut by_name: std::collections::HashMap<&str, Vec<&Case>> = Default::default();
    for c in &file.cases {
        let at = Some(c.name.span().start);
        let bad = |m: String| Err((at, format!("case `{}`: {m}", c.name)));
        let same_name = by_name.entry(c.name.get_ref()).or_default();
        if same_name.iter().any(|other| other.same_selection(c)) {
            return bad(
                "a second case of that name for the same ABI, languages and mode in this file"
                    .into(),
            );
        }
        same_name.push(c);
        if c.timeout_ms == 0 {
            return bad("timeout_ms must be above 0".into());
        }
        for lang in c.langs.iter().flatten() {
            if !LANGS.contains(&lang.as_str()) {
                return bad(format!(
                    "langs: `{lang}` is not one of {}",
                    LANGS.join(", ")
                ));
            }
        }
        if let Some(abi) = &c.abi {
            if abi != "p1" && abi != "p2" {
                return bad(format!("abi must be p1 or p2, not `{abi}`"));
            }
        }
        if let Some(w) = &c.wasi {
            if w != "faithful" && w != "stock" {
                return bad(format!("wasi must be faithful or stock, not `{w}`"));
            }
        }
        let common = c.common();
        let all = || {
            std::iter::once(&common).chain(
                [&c.linux, &c.macos, &c.freebsd, &c.windows]
                    .into_iter()
                    .flatten(),
            )
        };
        for e in all() {
            match e.expected.as_deref() {
                None => {}
                Some("fail") if e.reason.is_some() => {}
                Some("fail") => return bad("expected = \"fail\" needs a reason".into()),
                Some(other) => return bad(format!("expected must be \"fail\", not `{other}`")),
            }
        }
        if let Err(e) = c.stdin.parse::<crate::spec::StdinSpec>() {
            return bad(format!("stdin: {e}"));
        }
        for spec in [&c.stdout_spec, &c.stderr_spec].into_iter().flatten() {
            if let Err(e) = spec.parse::<crate::spec::OutputSpec>() {
                return bad(e);
            }
        }
        if let Some(n) = c.net.as_deref() {
            if !["tcplisten", "allow-net", "server"].contains(&n) {
                return bad(format!(
                    "net must be tcplisten, allow-net or server, not `{n}`"
                ));
            }
        }
        if let Some(client) = c.client.as_deref() {
            crate::suite::driver::Client::parse(client)
                .map_err(|m| (at, format!("case `{}`: {m}", c.name)))?;
        }
        if c.exit.is_none() && c.stop.is_none() {
            return bad("needs an exit code (exit = N) or how it stops (stop = \"trap\", \"deadline\" or \"memory\")".into());
        }
        for e in all() {
            if let Some(stop) = e.stop.as_deref() {
                if !["trap", "deadline", "memory", "blocked", "crash"].contains(&stop) {
                    return bad(format!(
                        "stop must be trap, deadline, memory, blocked or crash, not `{stop}`"
                    ));
                }
            }
        }
        if let Some(m) = &c.max_memory {
            m.parse::<crate::spec::BytesArg>()
                .map_err(|e| (at, format!("case `{}`: max_memory: {e}", c.name)))?;
        }
    }
    Ok(file)
}

/// `*`-glob match of one line: `*` matches any run of characters.
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_problem() {
        let err = parse("[[case]]\nname = \"x\"\nexit = 0\nstdoot = []\n").unwrap_err();
        assert_eq!(
            err.0
                .map(|at| line_col("[[case]]\nname = \"x\"\nexit = 0\nstdoot = []\n", at).0),
            Some(4)
        );
        assert!(err.1.contains("unknown field `stdoot`"), "{}", err.1);
        let err = parse("[[case]]\nname = \"x\"\n").unwrap_err();
        assert!(err.1.contains("needs an exit code"), "{}", err.1);
        assert!(parse("[[case]]\nname = \"x\"\nstop = \"trap\"\n").is_ok());
        assert!(parse("[[case]]\nname = \"x\"\nstop = \"boom\"\n")
            .unwrap_err()
            .1
            .contains("stop must be"));
        let err = parse("[[case]]\nname = \"x\"\nexit = 0\nexpected = \"fail\"\n").unwrap_err();
        assert!(err.1.contains("needs a reason"), "{}", err.1);
        let err = parse("[[case]]\nname = \"x\"\nexit = 0\nstdin = \"nope\"\n").unwrap_err();
        assert!(err.1.contains("stdin"), "{}", err.1);
        assert!(parse("[[case]]\nname = \"x\"\nexit = 0\n[case.windows]\nexit = 1\n").is_ok());
    }

    /// Where an error points, as `line:column`.
    fn error_at(text: &str) -> (String, String) {
        let (at, msg) = parse(text).unwrap_err();
        let (l, c) = line_col(text, at.expect("a position"));
        (format!("{l}:{c}"), msg)
    }

    #[test]
    fn bad_values_point_at_their_case() {
        let (at, msg) =
            error_at("[[case]]\nname = \"a\"\nexit = 0\n\n[[case]]\nname = \"a\"\nexit = 1\n");
        assert_eq!(at, "6:8", "{msg}");
        assert!(msg.contains("a second case of that name"), "{msg}");
        // The same name for disjoint selections is fine (the repository's own files do it).
        assert!(parse("[[case]]\nname = \"a\"\nabi = \"p1\"\nexit = 0\n\n[[case]]\nname = \"a\"\nabi = \"p2\"\nexit = 1\n").is_ok());
        assert!(parse("[[case]]\nname = \"a\"\nwasi = \"stock\"\nexit = 0\n\n[[case]]\nname = \"a\"\nwasi = \"stock\"\nlangs = [\"c\"]\nexit = 1\n").is_ok());
        let (at, msg) = error_at("[[case]]\nname = \"t\"\nexit = 0\ntimeout_ms = 0\n");
        assert_eq!(at, "2:8", "{msg}");
        assert!(msg.contains("timeout_ms must be above 0"), "{msg}");
        let (_, msg) = error_at("[[case]]\nname = \"l\"\nexit = 0\nlangs = [\"go\"]\n");
        assert!(
            msg.contains("langs: `go` is not one of rust, c, wat"),
            "{msg}"
        );
        // Found by hand: a client count this large made the suite panic (capacity overflow).
        let (at, msg) =
            error_at("[[case]]\nname = \"e\"\nexit = 0\nclient = \"echo:18446744073709551615\"\n");
        assert_eq!(at, "2:8", "{msg}");
        assert!(msg.contains("echo:N needs a number from 1 to 256"), "{msg}");
        // A type error points at the value, not at 1:1.
        let (at, msg) = error_at("[[case]]\nname = \"x\"\nexit = \"zero\"\n");
        assert_eq!(at, "3:8", "{msg}");
        let (at, msg) = error_at("[[case]]\nname = \"x\"\nexit = 0\n[case.linux]\nexit = []\n");
        assert_eq!(at, "5:8", "{msg}");
    }

    /// A case is found by its parsed position, not by searching the text for its name (which
    /// was quadratic in the number of cases, and wrong when the name also stood earlier).
    #[test]
    fn errors_point_at_the_case_itself() {
        let text = "[[case]]\nname = \"x\"\nexit = 0\nstdout = [\"y\"]\n\n[[case]]\nname = \"y\"\nexit = 0\nstdin = \"bad\"\n";
        let (at, msg) = error_at(text);
        assert_eq!(at, "7:8", "{msg}");
    }

    #[test]
    fn globs() {
        assert!(line_matches("a*c", "abbbc"));
        assert!(line_matches("polls=*", "polls=12"));
        assert!(line_matches("x", "x"));
        assert!(!line_matches("x", "xy"));
        assert!(!line_matches("a*b*c", "acb"));
        assert!(line_matches("a*b*c", "axxbyyc"));
    }
}
