//! Cases as data, in TOML: what to run and what must come of it. Two layouts share one format:
//!
//! - `--cases PATH`: case files for any guest. Each case names its guest file by a path
//!   relative to the case file (`guest = "hello.wasm"`), and its host directories likewise.
//! - `--expectations DIR` (this repository's guests): one file per scenario,
//!   `<scenario>.toml`, whose cases select the built guests `<abi>_<lang>_<scenario>.wasm` by
//!   `abi` and `langs` instead of naming a guest.
//!
//! ```toml
//! [[case]]
//! name = "empty-pipe"           # unique in its file (for one selection)
//! guest = "hello.wasm"          # --cases only: the guest, relative to this file (.wasm/.wat)
//! abi = "p1"                    # --expectations only: p1, p2 or p3 (default: every ABI)
//! langs = ["rust", "c", "wat"]  # --expectations only (default: every language there is)
//! wasi = "faithful"             # only in this mode (default: both)
//! args = ["-c", "pass"]         # guest arguments; {addr} is the case's network address
//! env = { PYTHONPATH = "/app" } # the guest's environment
//! dirs = ["data::/data"]        # as --dir, HOST relative to this file
//! stdin = "open"                # as --stdin (default: eof)
//! stdout_spec = "pipe:8192"     # as --stdout / --stderr (default: inherit, captured)
//! stderr_spec = "pipe:8192"
//! tcplisten = ["127.0.0.1:0@10+nonblock"]   # as --tcplisten
//! allow_net = ["127.0.0.1:8080"]            # as --allow-net
//! net = "tcplisten"             # shorthand: tcplisten (one on 127.0.0.1:0) | allow-net (a
//!                               # free port, as {addr}) | server (the suite listens)
//! client = "send:hello"         # the suite's client: silent[:N], send:TEXT, read, echo:N,
//!                               # accept (with net = "server")
//! client_after = "again"        # start it after the guest's first would-block (or a duration)
//! preopen = true                # an empty directory preopened as /sandbox
//! timeout = "10s"               # the deadline (default 10s; timeout_ms = N also works)
//! max_memory = "32MiB"          # as --max-memory; fuel = N as --fuel
//! chaos = "again=0.2,short=0.3" # as --chaos (faithful mode only); chaos_seed = N (default 0)
//! exit = 0                      # the guest's exit code, or how it is stopped:
//!                               # stop = "trap" | "deadline" (timeout, fuel) | "memory",
//!                               # or, under another runtime, "blocked" | "crash"
//! wb = ["WB op=… "]             # the guest's `WB` lines, exactly
//! stdout = ["hello"]            # every line of stdout, exactly (stderr = […] likewise)
//! stdout_contains = ["ello"]    # each must occur in stdout (stderr_contains likewise)
//! stderr_regex = ['^BlockingIOError: \[Errno 6\]']  # each must match (multi-line mode)
//! events = ["fd_read(fd=0, stdin) -> again x1"]   # the host's events, exactly
//! expected = "fail"             # a known failure (needs `reason`): a pass is unexpected
//! reason = "https://github.com/…"
//!
//! [case.windows]                # per-platform overrides of any expectation above
//! events = ["…"]                # (linux, macos, freebsd, windows)
//! ```
//!
//! In line lists `*` matches any run of characters and a last line `**` any further lines.
//! Every value is parsed when the file is read; unknown keys and bad values are errors that
//! name the file, line and column.

use crate::chaos::ChaosSpec;
use crate::errno::Platform;
pub use crate::guest::Abi;
use crate::net::ListenSpec;
use crate::p2net::AllowNet;
use crate::run::WasiMode;
use crate::spec::{BytesArg, DirSpec, DurationArg, OutputSpec, StdinSpec};
use crate::suite::driver::Client;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Its cases.
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

/// The language a repository guest is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Rust.
    Rust,
    /// C on wasi-libc.
    C,
    /// WebAssembly text.
    Wat,
}

impl Lang {
    /// Every language, in file-name form.
    pub const ALL: [Lang; 3] = [Lang::Rust, Lang::C, Lang::Wat];

    /// `rust`, `c` or `wat`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::C => "c",
            Lang::Wat => "wat",
        }
    }
}

/// The network shorthand.
#[allow(clippy::enum_variant_names)] // the variants are the case format's words
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Net {
    /// One listener on `127.0.0.1:0` handed to a preview1 guest.
    Tcplisten,
    /// A free loopback port a preview2 guest may use, passed as `{addr}`.
    AllowNet,
    /// The suite listens (with `client = "accept"`); the guest connects to `{addr}`.
    Server,
}

/// How a guest is stopped instead of exiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stop {
    /// It trapped.
    Trap,
    /// Its deadline (or fuel) ran out.
    Deadline,
    /// It hit its memory limit.
    Memory,
    /// Under another runtime: killed at the deadline.
    Blocked,
    /// Under another runtime: killed by a signal.
    Crash,
}

impl Stop {
    /// Lower-case name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Trap => "trap",
            Stop::Deadline => "deadline",
            Stop::Memory => "memory",
            Stop::Blocked => "blocked",
            Stop::Crash => "crash",
        }
    }
}

/// A known failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// The case fails, for the `reason` given.
    Fail,
}

/// When the suite's client starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAfter {
    /// Once the guest has met its first would-block (any event).
    Again,
    /// This long after the guest's listener is bound (or the run starts).
    Delay(Duration),
}

impl std::str::FromStr for ClientAfter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "again" {
            return Ok(ClientAfter::Again);
        }
        s.parse::<DurationArg>()
            .map(|d| ClientAfter::Delay(d.0))
            .map_err(|_| format!("`{s}`: expected again or a duration such as 500ms"))
    }
}

crate::spec::deserialize_from_str!(ClientAfter);

/// A regular expression over a whole stream, in multi-line mode (`^` and `$` match at every
/// line).
#[derive(Clone, Debug)]
pub struct Pattern(pub regex::Regex);

impl std::str::FromStr for Pattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        regex::RegexBuilder::new(s)
            .multi_line(true)
            .size_limit(1 << 20)
            .build()
            .map(Pattern)
            .map_err(|e| {
                let first = e.to_string();
                let last = first.lines().last().unwrap_or("invalid").trim();
                let last = last.strip_prefix("error: ").unwrap_or(last);
                format!("`{s}` is not a regular expression: {last}")
            })
    }
}

crate::spec::deserialize_from_str!(Pattern);

/// What must come of a run (on one platform, or on all).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The guest's exit code.
    pub exit: Option<i32>,
    /// The guest is stopped instead of exiting.
    pub stop: Option<Stop>,
    /// The guest's `WB` lines.
    pub wb: Option<Vec<String>>,
    /// Every line of the guest's stdout.
    pub stdout: Option<Vec<String>>,
    /// Every line of the guest's stderr.
    pub stderr: Option<Vec<String>>,
    /// Texts stdout contains.
    pub stdout_contains: Option<Vec<String>>,
    /// Texts stderr contains.
    pub stderr_contains: Option<Vec<String>>,
    /// Patterns stdout matches.
    pub stdout_regex: Option<Vec<Pattern>>,
    /// Patterns stderr matches.
    pub stderr_regex: Option<Vec<Pattern>>,
    /// The host's events.
    pub events: Option<Vec<String>>,
    /// A known failure.
    pub expected: Option<Expected>,
    /// Why, for a known failure.
    pub reason: Option<String>,
}

/// One case. (The expectation's keys are listed here rather than flattened in from
/// [`Expect`]: serde's `flatten` buffers the table and loses the position of a type error.)
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's name (with where it stands in the file).
    pub name: toml::Spanned<String>,
    /// `--cases`: the guest file, relative to the case file.
    pub guest: Option<toml::Spanned<PathBuf>>,
    /// `--expectations`: only this ABI.
    pub abi: Option<Abi>,
    /// `--expectations`: only these languages.
    pub langs: Option<Vec<Lang>>,
    /// Only this mode.
    pub wasi: Option<WasiMode>,
    /// Guest arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// The guest's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Preopened directories (host side relative to the case file).
    #[serde(default)]
    pub dirs: Vec<DirSpec>,
    /// `--stdin` (default: eof).
    pub stdin: Option<StdinSpec>,
    /// `--stdout`.
    pub stdout_spec: Option<OutputSpec>,
    /// `--stderr`.
    pub stderr_spec: Option<OutputSpec>,
    /// `--tcplisten`.
    #[serde(default)]
    pub tcplisten: Vec<ListenSpec>,
    /// `--allow-net`.
    #[serde(default)]
    pub allow_net: Vec<AllowNet>,
    /// The network shorthand.
    pub net: Option<Net>,
    /// Preopen an empty directory as `/sandbox`.
    #[serde(default)]
    pub preopen: bool,
    /// The client the suite runs.
    pub client: Option<Client>,
    /// When the client starts (default: at once).
    pub client_after: Option<ClientAfter>,
    /// The deadline.
    pub timeout: Option<DurationArg>,
    /// The deadline in milliseconds (above 0).
    pub timeout_ms: Option<u64>,
    /// `--max-memory`.
    pub max_memory: Option<BytesArg>,
    /// `--fuel`.
    pub fuel: Option<u64>,
    /// `--chaos` (faithful preview1 only).
    pub chaos: Option<ChaosSpec>,
    /// `--chaos-seed` (default 0).
    pub chaos_seed: Option<u64>,
    /// The guest's exit code.
    pub exit: Option<i32>,
    /// The guest is stopped instead of exiting.
    pub stop: Option<Stop>,
    /// The guest's `WB` lines.
    pub wb: Option<Vec<String>>,
    /// Every line of stdout.
    pub stdout: Option<Vec<String>>,
    /// Every line of stderr.
    pub stderr: Option<Vec<String>>,
    /// Texts stdout contains.
    pub stdout_contains: Option<Vec<String>>,
    /// Texts stderr contains.
    pub stderr_contains: Option<Vec<String>>,
    /// Patterns stdout matches.
    pub stdout_regex: Option<Vec<Pattern>>,
    /// Patterns stderr matches.
    pub stderr_regex: Option<Vec<Pattern>>,
    /// The host's events.
    pub events: Option<Vec<String>>,
    /// A known failure.
    pub expected: Option<Expected>,
    /// Why, for a known failure.
    pub reason: Option<String>,
    // The per-platform override tables as the file spells them (`[case.linux]` ...): read
    // only through [`Case::overrides`], the map by platform. They stay named fields so that
    // an unknown key or a bad value inside one is still an error at its line and column
    // (serde's `flatten` into a map would lose both).
    linux: Option<Expect>,
    macos: Option<Expect>,
    freebsd: Option<Expect>,
    windows: Option<Expect>,
}

/// The deadline of a case that names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Case {
    /// Whether both cases select exactly the same ABIs, languages and modes (then a second
    /// one of the same name is always a duplicate; a partial overlap is found when the suite
    /// pairs cases with the guests there are).
    fn same_selection(&self, other: &Case) -> bool {
        (&self.abi, &self.wasi, &self.langs) == (&other.abi, &other.wasi, &other.langs)
    }

    /// Whether the case applies to a repository guest of this ABI and language.
    pub fn selects(&self, abi: Abi, lang: Lang) -> bool {
        self.abi.is_none_or(|a| a == abi) && self.langs.as_ref().is_none_or(|l| l.contains(&lang))
    }

    /// Whether the case runs in this mode (a `chaos` case only in the faithful one, the
    /// only one that injects).
    pub fn runs_in(&self, mode: WasiMode) -> bool {
        let only = self
            .wasi
            .or(self.chaos.as_ref().map(|_| WasiMode::Faithful));
        only.is_none_or(|w| w == mode)
    }

    /// `--chaos` and its seed (`chaos_seed`, default 0: a case's injections are the same on
    /// every run that makes the same calls).
    pub fn chaos(&self) -> Option<(ChaosSpec, u64)> {
        self.chaos
            .clone()
            .map(|spec| (spec, self.chaos_seed.unwrap_or(0)))
    }

    /// The guest's stdin.
    pub fn stdin(&self) -> StdinSpec {
        self.stdin.clone().unwrap_or(StdinSpec::Eof)
    }

    /// The deadline.
    pub fn timeout(&self) -> Duration {
        match (self.timeout, self.timeout_ms) {
            (Some(t), _) => t.0,
            (None, Some(ms)) => Duration::from_millis(ms),
            (None, None) => DEFAULT_TIMEOUT,
        }
    }

    /// Whether the guest gets a listener (and a client connects to it).
    pub fn listens(&self) -> bool {
        self.net == Some(Net::Tcplisten) || !self.tcplisten.is_empty()
    }

    /// The per-platform overrides, by platform.
    pub fn overrides(&self) -> BTreeMap<Platform, &Expect> {
        [
            (Platform::Linux, &self.linux),
            (Platform::Macos, &self.macos),
            (Platform::Freebsd, &self.freebsd),
            (Platform::Windows, &self.windows),
        ]
        .into_iter()
        .filter_map(|(p, e)| e.as_ref().map(|e| (p, e)))
        .collect()
    }

    /// The expectation on every platform.
    pub fn common(&self) -> Expect {
        Expect {
            exit: self.exit,
            stop: self.stop,
            wb: self.wb.clone(),
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            stdout_contains: self.stdout_contains.clone(),
            stderr_contains: self.stderr_contains.clone(),
            stdout_regex: self.stdout_regex.clone(),
            stderr_regex: self.stderr_regex.clone(),
            events: self.events.clone(),
            expected: self.expected,
            reason: self.reason.clone(),
        }
    }

    /// The expectation on `platform`: its overrides over the common one, key by key.
    pub fn expect_on(&self, platform: Platform) -> Expect {
        let e = self.common();
        let Some(o) = self.overrides().get(&platform).copied().cloned() else {
            return e;
        };
        // A platform that says how the guest ends says it wholly.
        let (exit, stop) = match (o.exit, o.stop) {
            (None, None) => (e.exit, e.stop),
            ended => ended,
        };
        Expect {
            exit,
            stop,
            wb: o.wb.or(e.wb),
            stdout: o.stdout.or(e.stdout),
            stderr: o.stderr.or(e.stderr),
            stdout_contains: o.stdout_contains.or(e.stdout_contains),
            stderr_contains: o.stderr_contains.or(e.stderr_contains),
            stdout_regex: o.stdout_regex.or(e.stdout_regex),
            stderr_regex: o.stderr_regex.or(e.stderr_regex),
            events: o.events.or(e.events),
            expected: o.expected.or(e.expected),
            reason: o.reason.or(e.reason),
        }
    }
}

impl Expect {
    /// How a run's output differs from this expectation (empty when it matches): `wb` the
    /// guest's `WB` lines, `events` the host's events in [`crate::suite::event_line`] form.
    pub fn output_mismatches(
        &self,
        stdout: &str,
        stderr: &str,
        wb: &[String],
        events: &[String],
    ) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(want) = &self.wb {
            out.extend(diff_lines("stdout WB line", want, wb));
        }
        for (what, want, text, contains, patterns) in [
            (
                "stdout",
                &self.stdout,
                stdout,
                &self.stdout_contains,
                &self.stdout_regex,
            ),
            (
                "stderr",
                &self.stderr,
                stderr,
                &self.stderr_contains,
                &self.stderr_regex,
            ),
        ] {
            if let Some(want) = want {
                let got: Vec<String> = text.lines().map(String::from).collect();
                out.extend(diff_lines(&format!("{what} line"), want, &got));
            }
            for c in contains.iter().flatten() {
                if !text.contains(c.as_str()) {
                    out.push(format!("{what} does not contain `{c}`"));
                }
            }
            for p in patterns.iter().flatten() {
                if !p.0.is_match(text) {
                    out.push(format!("{what} does not match /{}/", p.0.as_str()));
                }
            }
        }
        if let Some(want) = &self.events {
            out.extend(diff_lines("event", want, events));
        }
        out
    }
}

/// Compares lines with `*` globs (a last expected line `**` takes any further lines);
/// describes each difference.
pub fn diff_lines(what: &str, expected: &[String], got: &[String]) -> Vec<String> {
    if expected.last().is_some_and(|l| l == "**") {
        let head = &expected[..expected.len() - 1];
        return diff_lines(what, head, &got[..got.len().min(head.len())]);
    }
    let mut out = Vec::new();
    for i in 0..expected.len().max(got.len()) {
        match (expected.get(i), got.get(i)) {
            (Some(e), Some(g)) if line_matches(e, g) => {}
            (Some(e), Some(g)) => out.push(format!("{what} {}: expected `{e}`, got `{g}`", i + 1)),
            (Some(e), None) => out.push(format!("{what} {}: expected `{e}`, got nothing", i + 1)),
            (None, Some(g)) => out.push(format!("{what} {}: unexpected `{g}`", i + 1)),
            (None, None) => {}
        }
    }
    out
}

/// Which layout a file belongs to: what a case must and must not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `--cases`: every case names its guest.
    Cases,
    /// `--expectations`: cases select the repository's guests by ABI and language.
    Scenario,
}

/// Why a case file cannot be used. Each is one line naming the file (and, when known, the
/// line and column).
#[derive(Debug)]
pub enum CaseError {
    /// The file cannot be read (or is not UTF-8 text).
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file says something wrong.
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line and column of the problem, when known.
        at: Option<(usize, usize)>,
        /// What is wrong.
        message: String,
    },
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseError::Read { path, message } => write!(f, "{}: {message}", path.display()),
            CaseError::Invalid {
                path,
                at: Some((line, col)),
                message,
            } => write!(f, "{}:{line}:{col}: {message}", path.display()),
            CaseError::Invalid {
                path,
                at: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for CaseError {}

/// Line and column (1-based) of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Reads and checks every `*.toml` in `dir` (the `--expectations` layout): scenario name
/// (the file stem) to its file.
pub fn load_dir(dir: &Path) -> Result<BTreeMap<String, File>, CaseError> {
    let read = |message: String| CaseError::Read {
        path: dir.to_path_buf(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| read(e.to_string()))?;
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
        out.insert(stem, load_file(&path, Layout::Scenario)?);
    }
    Ok(out)
}

/// The largest case file read.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads and checks one file; in the `--cases` layout also that every guest file is there.
pub fn load_file(path: &Path, layout: Layout) -> Result<File, CaseError> {
    let bytes =
        crate::guest::read_regular(path, MAX_FILE_BYTES).map_err(|message| CaseError::Read {
            path: path.to_path_buf(),
            message,
        })?;
    let text = String::from_utf8(bytes).map_err(|_| CaseError::Read {
        path: path.to_path_buf(),
        message: "not UTF-8 text".into(),
    })?;
    let invalid = |(at, message): (Option<usize>, String)| CaseError::Invalid {
        path: path.to_path_buf(),
        at: at.map(|at| line_col(&text, at)),
        message,
    };
    let file = parse(&text, layout).map_err(invalid)?;
    if layout == Layout::Cases {
        let base = path.parent().unwrap_or(Path::new("."));
        for c in &file.cases {
            let guest = c.guest.as_ref().expect("checked by parse");
            let full = base.join(guest.get_ref());
            if !full.is_file() {
                return Err(invalid((
                    Some(guest.span().start),
                    format!("case `{}`: guest {} is not a file", c.name, full.display()),
                )));
            }
            for d in &c.dirs {
                if !base.join(&d.host).is_dir() {
                    return Err(invalid((
                        Some(c.name.span().start),
                        format!(
                            "case `{}`: dirs: {} is not a directory",
                            c.name,
                            base.join(&d.host).display()
                        ),
                    )));
                }
            }
        }
    }
    Ok(file)
}

/// Parses and checks case text; an error carries its byte offset when known.
pub fn parse(text: &str, layout: Layout) -> Result<File, (Option<usize>, String)> {
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
        let bad = |m: &str| Err((at, format!("case `{}`: {m}", c.name)));
        let same_name = by_name.entry(c.name.get_ref()).or_default();
        if same_name.iter().any(|other| other.same_selection(c)) {
            return bad(match layout {
                Layout::Cases => "a second case of that name in this file",
                Layout::Scenario => {
                    "a second case of that name for the same ABI, languages and mode in this file"
                }
            });
        }
        same_name.push(c);
        match layout {
            Layout::Cases if c.guest.is_none() => {
                return bad("needs the guest it runs: guest = \"PATH\" (relative to this file)")
            }
            Layout::Cases if c.abi.is_some() || c.langs.is_some() => {
                return bad("abi and langs select this repository's guests by file name; a case in a --cases file names its guest")
            }
            Layout::Scenario if c.guest.is_some() => {
                return bad("guest = PATH is for --cases files; in --expectations the guests are <abi>_<lang>_<scenario>.wasm")
            }
            _ => {}
        }
        match (c.timeout, c.timeout_ms) {
            (Some(_), Some(_)) => return bad("timeout and timeout_ms: give one"),
            (None, Some(0)) => return bad("timeout_ms must be above 0"),
            _ => {}
        }
        if c.net.is_some() && !(c.tcplisten.is_empty() && c.allow_net.is_empty()) {
            return bad("net is a shorthand for tcplisten or allow_net: give one or the other");
        }
        if c.client_after.is_some() && c.client.is_none() {
            return bad("client_after needs a client");
        }
        if let Some(client) = &c.client {
            let accept = *client == Client::Accept;
            if accept != (c.net == Some(Net::Server)) {
                return bad("client = \"accept\" goes with net = \"server\", and only with it");
            }
            if !accept && !c.listens() && c.net != Some(Net::AllowNet) {
                return bad("a client needs a listener (tcplisten, or net = \"tcplisten\") or net = \"allow-net\"");
            }
        }
        if c.exit.is_none() && c.stop.is_none() {
            return bad("needs an exit code (exit = N) or how it stops (stop = \"trap\", \"deadline\" or \"memory\")");
        }
        let common = c.common();
        for e in std::iter::once(&common).chain(c.overrides().into_values()) {
            if e.expected.is_some() && e.reason.is_none() {
                return bad("expected = \"fail\" needs a reason");
            }
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

    fn scenario(text: &str) -> Result<File, (Option<usize>, String)> {
        parse(text, Layout::Scenario)
    }

    #[test]
    fn errors_name_line_and_problem() {
        let err = scenario("[[case]]\nname = \"x\"\nexit = 0\nstdoot = []\n").unwrap_err();
        assert_eq!(
            err.0
                .map(|at| line_col("[[case]]\nname = \"x\"\nexit = 0\nstdoot = []\n", at).0),
            Some(4)
        );
        assert!(err.1.contains("unknown field `stdoot`"), "{}", err.1);
        let err = scenario("[[case]]\nname = \"x\"\n").unwrap_err();
        assert!(err.1.contains("needs an exit code"), "{}", err.1);
        assert!(scenario("[[case]]\nname = \"x\"\nstop = \"trap\"\n").is_ok());
        let err = scenario("[[case]]\nname = \"x\"\nstop = \"boom\"\n").unwrap_err();
        assert!(err.1.contains("unknown variant `boom`"), "{}", err.1);
        let err = scenario("[[case]]\nname = \"x\"\nexit = 0\nexpected = \"fail\"\n").unwrap_err();
        assert!(err.1.contains("needs a reason"), "{}", err.1);
        let err = scenario("[[case]]\nname = \"x\"\nexit = 0\nstdin = \"nope\"\n").unwrap_err();
        assert!(err.1.contains("is not a stdin spec"), "{}", err.1);
        assert!(scenario("[[case]]\nname = \"x\"\nexit = 0\n[case.windows]\nexit = 1\n").is_ok());
    }

    /// Where an error points, as `line:column`.
    fn error_at(text: &str, layout: Layout) -> (String, String) {
        let (at, msg) = parse(text, layout).unwrap_err();
        let (l, c) = line_col(text, at.expect("a position"));
        (format!("{l}:{c}"), msg)
    }

    #[test]
    fn bad_values_point_at_their_case() {
        let s = Layout::Scenario;
        let (at, msg) = error_at(
            "[[case]]\nname = \"a\"\nexit = 0\n\n[[case]]\nname = \"a\"\nexit = 1\n",
            s,
        );
        assert_eq!(at, "6:8", "{msg}");
        assert!(msg.contains("a second case of that name"), "{msg}");
        // The same name for disjoint selections is fine (the repository's own files do it).
        assert!(scenario("[[case]]\nname = \"a\"\nabi = \"p1\"\nexit = 0\n\n[[case]]\nname = \"a\"\nabi = \"p2\"\nexit = 1\n").is_ok());
        assert!(scenario("[[case]]\nname = \"a\"\nwasi = \"stock\"\nexit = 0\n\n[[case]]\nname = \"a\"\nwasi = \"stock\"\nlangs = [\"c\"]\nexit = 1\n").is_ok());
        let (at, msg) = error_at("[[case]]\nname = \"t\"\nexit = 0\ntimeout_ms = 0\n", s);
        assert_eq!(at, "2:8", "{msg}");
        assert!(msg.contains("timeout_ms must be above 0"), "{msg}");
        let (at, msg) = error_at("[[case]]\nname = \"l\"\nexit = 0\nlangs = [\"go\"]\n", s);
        assert_eq!(at, "4:10", "{msg}");
        assert!(msg.contains("unknown variant `go`"), "{msg}");
        // Found by hand: a client count this large made the suite panic (capacity overflow).
        let (at, msg) = error_at(
            "[[case]]\nname = \"e\"\nexit = 0\nnet = \"tcplisten\"\nclient = \"echo:18446744073709551615\"\n",
            s,
        );
        assert_eq!(at, "5:10", "{msg}");
        assert!(msg.contains("echo:N needs a number from 1 to 256"), "{msg}");
        // A type error points at the value, not at 1:1.
        let (at, msg) = error_at("[[case]]\nname = \"x\"\nexit = \"zero\"\n", s);
        assert_eq!(at, "3:8", "{msg}");
        let (at, msg) = error_at(
            "[[case]]\nname = \"x\"\nexit = 0\n[case.linux]\nexit = []\n",
            s,
        );
        assert_eq!(at, "5:8", "{msg}");
        // Specs, sizes, durations and patterns are parsed with the file, pointing at the value.
        for (text, at, want) in [
            ("max_memory = \"lots\"", "4:14", "is not a size"),
            ("stdout_spec = \"pipe:0\"", "4:15", "pipe"),
            ("timeout = \"soon\"", "4:11", "is not a duration"),
            ("tcplisten = [\"127.0.0.1:0@1\"]", "4:13", "@FD must be"),
            (
                "stderr_regex = [\"(\"]",
                "4:16",
                "is not a regular expression",
            ),
            ("dirs = [\"::x\"]", "4:8", "HOST[::GUEST]"),
        ] {
            let (got_at, msg) = error_at(&format!("[[case]]\nname = \"v\"\nexit = 0\n{text}\n"), s);
            assert_eq!(
                (got_at.as_str(), msg.contains(want)),
                (at, true),
                "{text}: {msg}"
            );
        }
    }

    /// A case is found by its parsed position, not by searching the text for its name (which
    /// was quadratic in the number of cases, and wrong when the name also stood earlier).
    #[test]
    fn errors_point_at_the_case_itself() {
        let text = "[[case]]\nname = \"x\"\nexit = 0\nwb = [\"y\"]\n\n[[case]]\nname = \"y\"\nexit = 0\nclient_after = \"again\"\n";
        let (at, msg) = error_at(text, Layout::Scenario);
        assert_eq!(at, "7:8", "{msg}");
        assert!(msg.contains("client_after needs a client"), "{msg}");
    }

    #[test]
    fn each_layout_says_what_a_case_must_name() {
        let (_, msg) = error_at("[[case]]\nname = \"h\"\nexit = 0\n", Layout::Cases);
        assert!(msg.contains("needs the guest it runs"), "{msg}");
        let (_, msg) = error_at(
            "[[case]]\nname = \"h\"\nguest = \"h.wasm\"\nabi = \"p1\"\nexit = 0\n",
            Layout::Cases,
        );
        assert!(msg.contains("abi and langs select"), "{msg}");
        let (_, msg) = error_at(
            "[[case]]\nname = \"h\"\nguest = \"h.wasm\"\nexit = 0\n",
            Layout::Scenario,
        );
        assert!(msg.contains("guest = PATH is for --cases files"), "{msg}");
        let f = parse(
            "[[case]]\nname = \"h\"\nguest = \"h.wasm\"\nenv = { A = \"1\" }\ntimeout = \"2s\"\nexit = 0\n",
            Layout::Cases,
        )
        .unwrap();
        assert_eq!(f.cases[0].timeout(), Duration::from_secs(2));
        assert_eq!(f.cases[0].env["A"], "1");
    }

    #[test]
    fn overrides_replace_key_by_key_and_the_ending_whole() {
        let f = scenario(
            "[[case]]\nname = \"o\"\nexit = 0\nwb = [\"a\"]\nevents = []\n[case.windows]\nstop = \"trap\"\nevents = [\"e\"]\n",
        )
        .unwrap();
        let c = &f.cases[0];
        let w = c.expect_on(Platform::Windows);
        assert_eq!((w.exit, w.stop), (None, Some(Stop::Trap)));
        assert_eq!(w.wb.as_deref(), Some(&["a".to_string()][..]));
        assert_eq!(w.events.as_deref(), Some(&["e".to_string()][..]));
        let l = c.expect_on(Platform::Linux);
        assert_eq!((l.exit, l.stop), (Some(0), None));
        assert_eq!(l.events.as_deref(), Some(&[][..]));
    }

    #[test]
    fn stream_expectations() {
        let f = parse(
            "[[case]]\nname = \"s\"\nguest = \"g.wasm\"\nexit = 0\nstdout = [\"hello*\", \"**\"]\nstderr_contains = [\"Errno 6\"]\nstderr_regex = ['^BlockingIOError: \\[Errno \\d+\\]']\n",
            Layout::Cases,
        )
        .unwrap();
        let e = f.cases[0].expect_on(Platform::Linux);
        let err = "Traceback\nBlockingIOError: [Errno 6] Resource temporarily unavailable\n";
        assert_eq!(
            e.output_mismatches("hello world\nmore\n", err, &[], &[]),
            Vec::<String>::new()
        );
        assert_eq!(
            e.output_mismatches("bye\n", "x BlockingIOError: [Errno 6]\n", &[], &[]),
            [
                "stdout line 1: expected `hello*`, got `bye`",
                "stderr does not match /^BlockingIOError: \\[Errno \\d+\\]/",
            ]
        );
        assert_eq!(
            e.output_mismatches("hello\n", "", &[], &[]),
            [
                "stderr does not contain `Errno 6`",
                "stderr does not match /^BlockingIOError: \\[Errno \\d+\\]/"
            ]
        );
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
