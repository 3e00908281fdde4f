//! `wouldblock suite`: cases run in-process in parallel (each in its own store, under a
//! deadline), checked against their expectations, reported as human text, JSON
//! (`wouldblock.suite/1`), JUnit XML or Markdown. The cases come from case files that name
//! their guests (`--cases`), or from this repository's layout: every scenario × ABI × language
//! found in the build, against `tests/expectations/` (see [`expect`] for the format).
//!
//! Nothing is skipped silently. In the repository layout a guest with no expectations, or none
//! that applies to its ABI and language, fails: the suite accounts for every scenario. A guest
//! file no case runs (a name outside the convention, a file in a case directory no case names)
//! is a warning in the report. A filter that matches no case is an input error. A case that
//! overruns its deadline fails (its thread is abandoned; the process ends with the suite).

pub mod driver;
pub mod expect;
pub mod format;
pub mod peers;
mod plan;

use crate::events::Event;
use crate::guest::{self, Guest};
use crate::report::{event_reports, EventReport};
use crate::run::{self, RunError, RunOptions, WasiMode};
use expect::{Abi, Case, ClientAfter, Expect, Net};
use plan::{plan, Planned};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The report schema.
pub const SCHEMA: &str = "wouldblock.suite/1";

/// How many cases run at once by default: four per core, at least eight (most cases spend
/// their time waiting on a clock or a pipe, not computing).
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).max(8)
}

/// What to run.
pub struct SuiteOptions {
    /// Case files naming their guests: one file, or a directory searched for `*.toml`
    /// (`guests` and `expectations` are not used then).
    pub cases: Option<PathBuf>,
    /// Where the built guests are (`<abi>_<lang>_<scenario>.wasm|.wat`).
    pub guests: PathBuf,
    /// Where the expectations are.
    pub expectations: PathBuf,
    /// Only case ids containing this.
    pub filter: Option<String>,
    /// Cases at once.
    pub jobs: usize,
    /// Faithful or stock.
    pub wasi: WasiMode,
    /// The platform whose expectations and renderings apply.
    pub platform: crate::errno::Platform,
    /// Called after each case (for a progress display).
    pub progress: Option<Box<dyn Fn(usize, usize) + Send + Sync>>,
    /// Another runtime to run the guests under (wouldblock itself when `None`); its
    /// expectations are in `<expectations>/<name>/`.
    pub peer: Option<(&'static peers::Peer, peers::Found)>,
    /// Record every faithful preview1 case (`run --record`) and keep, in this directory, the
    /// recordings of the cases not as expected.
    pub recordings: Option<PathBuf>,
    /// Runs a case not as expected up to this many more times; the last run is the case's
    /// result, the earlier ones are in its [`CaseResult::earlier`].
    pub retries: u32,
}

/// The runtime a report is about.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Runtime {
    /// `wouldblock`, `node`, `wasmtime`, …
    pub name: String,
    /// Its version.
    pub version: String,
}

/// A case's verdict.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As expected.
    Pass,
    /// Not as expected (also what a case is until it is judged).
    #[default]
    Fail,
    /// A known failure, failing as known.
    Xfail,
    /// A known failure that passed: unexpected.
    Xpass,
}

impl Outcome {
    /// Whether the suite as a whole is still as expected.
    pub fn ok(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::Xfail)
    }

    /// Upper-case label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Xfail => "XFAIL",
            Outcome::Xpass => "XPASS",
        }
    }

    /// Lower-case name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Xfail => "xfail",
            Outcome::Xpass => "xpass",
        }
    }
}

/// One case's result.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseResult {
    /// `<abi>_<lang>_<scenario>/<case>`.
    pub id: String,
    /// The scenario.
    pub scenario: String,
    /// `p1`, `p2` or `p3`.
    pub abi: String,
    /// `rust`, `c` or `wat`.
    pub lang: String,
    /// The case within the scenario.
    pub case: String,
    /// The verdict.
    pub outcome: Outcome,
    /// Wall time.
    pub duration_ms: u64,
    /// The guest's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// How it was stopped when it did not exit: trap, deadline, memory, blocked, crash.
    pub stop: Option<String>,
    /// Why there is no exit code (trap, deadline, input error), or a driver's complaint.
    pub error: Option<String>,
    /// The guest's `WB` lines (the WASI-level result).
    pub wb: Vec<String>,
    /// The guest's whole stdout (up to 64 KiB).
    pub stdout: String,
    /// The guest's whole stderr (up to 64 KiB).
    pub stderr: String,
    /// The host's events, with every platform's rendering.
    pub events: Vec<EventReport>,
    /// The events in the expectation's form.
    pub event_lines: Vec<String>,
    /// How the result differs from the expectation (empty when it matches).
    pub mismatches: Vec<String>,
    /// Why a known failure fails.
    pub reason: Option<String>,
    /// With `suite --recordings DIR`, for a case not as expected: its recording
    /// (`wouldblock run --replay FILE GUEST` repeats the run without the outside world).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// With `suite --retries N`: the earlier runs of this case, each not as expected, before
    /// the run reported here. A case as expected with earlier runs is flaky.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Attempt>,
}

/// A run of a case that was not as expected and was run again (`suite --retries`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    /// `fail` or `xpass`.
    pub outcome: Outcome,
    /// Wall time.
    pub duration_ms: u64,
    /// How the guest ended: `exit N`, `stop HOW`, or `no exit`.
    pub ending: String,
    /// How the result differed from the expectation.
    pub mismatches: Vec<String>,
    /// With `suite --recordings DIR`: this run's recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

/// The machine a report comes from (the run report's type).
pub use crate::report::HostPlatform as Platform;

/// Counts by outcome.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// As expected.
    pub passed: usize,
    /// Not as expected.
    pub failed: usize,
    /// Known failures.
    pub xfailed: usize,
    /// Known failures that passed.
    pub xpassed: usize,
    /// As expected only when run again (`suite --retries`); counted as passed or xfailed
    /// too.
    #[serde(default)]
    pub flaky: usize,
    /// All cases.
    pub total: usize,
}

/// The whole suite report (`wouldblock.suite/1`).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuiteReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// This program's version.
    pub wouldblock_version: String,
    /// The wasmtime it runs on.
    pub wasmtime_version: String,
    /// Where it ran.
    pub platform: Platform,
    /// The runtime the guests ran under.
    pub runtime: Runtime,
    /// `faithful` or `stock` (wouldblock's own mode; `faithful` for other runtimes).
    pub wasi: WasiMode,
    /// The platform whose expectations and renderings apply.
    pub render_platform: crate::errno::Platform,
    /// When the run started (RFC 3339, UTC, seconds).
    #[serde(default)]
    pub started: Option<String>,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// Guest files no case ran, and why.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Every case, in order.
    pub cases: Vec<CaseResult>,
}

impl CaseResult {
    /// How the guest ended: `exit N`, `stop HOW`, or `no exit`.
    pub fn ending(&self) -> String {
        match (self.exit_code, &self.stop) {
            (Some(n), _) => format!("exit {n}"),
            (None, Some(how)) => format!("stop {how}"),
            (None, None) => "no exit".into(),
        }
    }

    /// As expected, but only when run again (`suite --retries`).
    pub fn flaky(&self) -> bool {
        self.outcome.ok() && !self.earlier.is_empty()
    }

    /// Python's rendering of the first event on the report's platform (empty when none).
    pub fn first_python_line(&self) -> &str {
        self.events
            .first()
            .and_then(|e| e.python.as_ref())
            .map_or("", |p| p.line.as_str())
    }
}

impl SuiteReport {
    /// 0 when everything is as expected, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.cases.iter().all(|c| c.outcome.ok()) {
            0
        } else {
            1
        }
    }
}

/// The event in the expectation's form: `fd_write(fd=2, stderr) -> again x1 written=3192`
/// (with ` injected` when `--chaos` made it).
pub fn event_line(e: &Event) -> String {
    let mut s = format!(
        "{}(fd={}, {}) -> {} x{}",
        e.call,
        e.fd,
        e.handle.name(),
        e.errno.name(),
        e.count
    );
    if let Some(n) = e.characters_written {
        s += &format!(" written={n}");
    }
    if e.injected {
        s += " injected";
    }
    s
}

fn truncated(bytes: &[u8]) -> String {
    const MAX: usize = 64 * 1024;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX {
        format!("{text}\n… ({} more bytes)", bytes.len() - MAX)
    } else {
        text
    }
}

/// An engine and the guests compiled for it.
struct Engines {
    engine: run::GuestEngine,
    compiled: Compiled,
}

/// One guest's compiled code, filled by the first case that needs it.
type Slot = Arc<Mutex<Option<Arc<Guest>>>>;

/// Loads each guest once, shared by every case that runs it.
#[derive(Default)]
struct Compiled {
    guests: Mutex<HashMap<PathBuf, Slot>>,
}

impl Compiled {
    fn get(&self, engine: &run::GuestEngine, path: &Path) -> Result<Arc<Guest>, RunError> {
        let slot = self
            .guests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(path.to_path_buf())
            .or_default()
            .clone();
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = &*slot {
            return Ok(g.clone());
        }
        let g = Arc::new(guest::load(engine, path)?);
        *slot = Some(g.clone());
        Ok(g)
    }
}

/// Runs case `p`, and again while it is not as expected, up to [`SuiteOptions::retries`]
/// more times: the last run, with the earlier ones.
fn run_retrying(
    engine: &run::GuestEngine,
    compiled: &Compiled,
    p: &Planned,
    opts: &SuiteOptions,
) -> CaseResult {
    let mut earlier = Vec::new();
    loop {
        let mut r = run_case(engine, compiled, p, opts, earlier.len());
        // A guest no case accounts for is not a run: running it again would change nothing.
        if r.outcome.ok() || earlier.len() >= opts.retries as usize || p.case.is_none() {
            r.earlier = earlier;
            return r;
        }
        earlier.push(Attempt {
            outcome: r.outcome,
            duration_ms: r.duration_ms,
            ending: r.ending(),
            mismatches: r.mismatches,
            recording: r.recording,
        });
    }
}

/// One run of case `p`; `attempt` counts the runs before it (`--retries`).
fn run_case(
    engine: &run::GuestEngine,
    compiled: &Compiled,
    p: &Planned,
    opts: &SuiteOptions,
    attempt: usize,
) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        id: p.id.clone(),
        scenario: p.scenario.clone(),
        abi: p.abi.map_or("", Abi::name).into(),
        lang: p.lang.map_or("", |l| l.name()).into(),
        case: p
            .case
            .as_ref()
            .map(|c| c.name.get_ref().clone())
            .unwrap_or_default(),
        ..CaseResult::default()
    };
    let Some(case) = &p.case else {
        result.error = p.unaccounted.clone();
        result.mismatches = p.unaccounted.clone().into_iter().collect();
        return result;
    };
    let expect: Expect = case.expect_on(opts.platform);
    result.reason = expect.reason.clone();
    let deadline = started + case.timeout();
    let tape = opts
        .recordings
        .as_ref()
        .filter(|_| opts.peer.is_none() && opts.wasi == WasiMode::Faithful)
        .map(|dir| {
            let name = p.id.replace('/', "--");
            dir.join(match attempt {
                0 => format!("{name}.jsonl"),
                n => format!("{name}.retry-{n}.jsonl"),
            })
        });
    let (ran, driver_error) = match &opts.peer {
        Some((peer, found)) => (execute_peer(peer, found, p, case, deadline), None),
        None => execute(engine, compiled, p, case, opts, deadline, tape.clone()),
    };
    result.duration_ms = started.elapsed().as_millis() as u64;
    let mut stopped: Option<&'static str> = None;
    let mut streams = (String::new(), String::new());
    match ran {
        Ok(f) => {
            if result.abi.is_empty() {
                result.abi = f.abi.into();
            }
            match f.result {
                Ok(code) => result.exit_code = Some(code),
                Err(e) => {
                    stopped = match e {
                        RunError::Trap(_) => Some("trap"),
                        RunError::Timeout(_) if opts.peer.is_some() => Some("blocked"),
                        RunError::Timeout(_) => Some("deadline"),
                        RunError::MemoryLimit(_) => Some("memory"),
                        RunError::Host(_) if opts.peer.is_some() => Some("crash"),
                        RunError::Input(_) | RunError::Host(_) | RunError::Diverged(_) => None,
                    };
                    result.error = Some(e.message());
                }
            }
            // Whatever happened, what the guest printed and met is kept.
            result.wb = String::from_utf8_lossy(&f.stdout)
                .lines()
                .filter(|l| l.starts_with("WB "))
                .map(String::from)
                .collect();
            result.stdout = truncated(&f.stdout);
            result.stderr = truncated(&f.stderr);
            streams = (
                String::from_utf8_lossy(&f.stdout).into_owned(),
                String::from_utf8_lossy(&f.stderr).into_owned(),
            );
            result.event_lines = f.events.events().iter().map(event_line).collect();
            result.events = event_reports(opts.platform, &f.events);
        }
        Err(NotRun::Abandoned(e)) => {
            stopped = Some("deadline");
            result.error = Some(e);
        }
        Err(NotRun::Error(e)) => result.error = Some(e),
    }
    let mut mismatches = Vec::new();
    if let Some(e) = &driver_error {
        mismatches.push(format!("client: {e}"));
        result.error.get_or_insert(e.clone());
    }
    let got = match (result.exit_code, stopped) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(how)) => format!("stop {how}"),
        (None, None) => result.error.clone().unwrap_or_default(),
    };
    let want = match (&expect.stop, expect.exit) {
        (Some(how), _) => format!("stop {}", how.name()),
        (None, Some(code)) => format!("exit {code}"),
        (None, None) => String::new(),
    };
    if got != want {
        mismatches.push(format!("expected {want}, got {got}"));
    }
    result.stop = stopped.map(String::from);
    mismatches.extend(expect.output_mismatches(
        &streams.0,
        &streams.1,
        &result.wb,
        &result.event_lines,
    ));
    let matched = mismatches.is_empty();
    result.mismatches = mismatches;
    result.outcome = match (matched, expect.expected.is_some()) {
        (true, false) => Outcome::Pass,
        (false, false) => Outcome::Fail,
        (false, true) => Outcome::Xfail,
        (true, true) => Outcome::Xpass,
    };
    // Only the recordings of cases not as expected are kept.
    if let Some(path) = tape.filter(|t| t.exists()) {
        if matches!(result.outcome, Outcome::Pass | Outcome::Xfail) {
            let _ = std::fs::remove_file(&path);
        } else {
            result.recording = Some(path.display().to_string());
        }
    }
    result
}

/// Runs the guest of case `c` under another runtime. Cases that need what only wouldblock
/// provides (bounded pipes, sockets, preopens, limits) are not supported there.
fn execute_peer(
    peer: &peers::Peer,
    found: &peers::Found,
    p: &Planned,
    c: &Case,
    deadline: Instant,
) -> Result<run::Finished, NotRun> {
    // A guest that opens sockets of its own runs where the runtime can give it the network;
    // one the suite connects to or serves, or one given listeners, only under wouldblock.
    let own_sockets =
        c.net == Some(Net::AllowNet) && c.client.is_none() && !peer.network.is_empty();
    if (c.net.is_some() && !own_sockets)
        || c.chaos.is_some()
        || c.preopen
        || c.stdout_spec.is_some()
        || c.stderr_spec.is_some()
        || c.max_memory.is_some()
        || c.fuel.is_some()
        || !(c.tcplisten.is_empty()
            && c.allow_net.is_empty()
            && c.dirs.is_empty()
            && c.env.is_empty())
    {
        return Err(NotRun::Error(format!(
            "case `{}` needs what only wouldblock provides; {} cannot run it",
            c.name, peer.name
        )));
    }
    let stdin = c.stdin();
    let (options, args): (&[&str], Vec<String>) = if own_sockets {
        let addr = driver::free_addr().map_err(NotRun::Error)?.to_string();
        let args = c.args.iter().map(|a| a.replace("{addr}", &addr)).collect();
        (peer.network, args)
    } else {
        (&[], c.args.clone())
    };
    // Other runtimes read binaries only: a WAT guest goes to them compiled to one, in a
    // temporary file removed when this case is done.
    let error = |e: String| NotRun::Error(e);
    let converted = if p.guest.extension().is_some_and(|e| e == "wat") {
        let binary = wat::parse_file(&p.guest).map_err(|e| error(e.to_string()))?;
        let mut file = tempfile::Builder::new()
            .prefix("wouldblock-")
            .suffix(".wasm")
            .tempfile()
            .map_err(|e| error(e.to_string()))?;
        std::io::Write::write_all(&mut file, &binary).map_err(|e| error(e.to_string()))?;
        Some(file.into_temp_path())
    } else {
        None
    };
    let guest = converted.as_deref().unwrap_or(&p.guest);
    let sub = peers::run(peer, found, options, guest, &args, &stdin, deadline);
    let result = sub.exit.map_err(|(how, why)| match how {
        "blocked" => RunError::Timeout(anyhow::anyhow!("blocked: {why}")),
        _ => RunError::Host(anyhow::anyhow!("crash: {why}")),
    });
    Ok(run::Finished {
        abi: p.abi.unwrap_or(Abi::P1).name(),
        result,
        events: Default::default(),
        captured: Default::default(),
        stdout: sub.stdout,
        stderr: sub.stderr,
        chaos: None,
    })
}

/// Why a case has no run to judge.
enum NotRun {
    /// The run was abandoned at its deadline, blocked where the host cannot stop it.
    Abandoned(String),
    /// It could not run (input, set-up).
    Error(String),
}

/// Runs the guest of case `c` with its network set-up; the run's result (or why there is
/// none) and any complaint from the suite's client.
fn execute(
    engine: &run::GuestEngine,
    compiled: &Compiled,
    p: &Planned,
    c: &Case,
    opts: &SuiteOptions,
    deadline: Instant,
    tape: Option<PathBuf>,
) -> (Result<run::Finished, NotRun>, Option<String>) {
    let bad = |e: String| (Err(NotRun::Error(e)), None);
    let (announce_tx, announce_rx) = std::sync::mpsc::channel();
    let events = crate::events::SharedLog::default();
    let mut run_opts = RunOptions {
        guest: p.guest.clone(),
        stdin: c.stdin(),
        stdout: c.stdout_spec.clone().unwrap_or_default(),
        stderr: c.stderr_spec.clone().unwrap_or_default(),
        wasi: opts.wasi,
        capture: true,
        announce: Some(announce_tx),
        events: Some(events.clone()),
        tcplisten: c.tcplisten.clone(),
        allow_net: c.allow_net.clone(),
        envs: c
            .env
            .iter()
            .map(|(k, v)| crate::spec::EnvSpec {
                key: k.clone(),
                value: Some(v.clone()),
            })
            .collect(),
        dirs: c
            .dirs
            .iter()
            .map(|d| crate::spec::DirSpec {
                host: p.base.join(&d.host),
                guest: d.guest.clone(),
            })
            .collect(),
        limits: crate::limits::Limits {
            timeout: Some(c.timeout()),
            max_memory: c.max_memory.map(|b| b.0),
            fuel: c.fuel,
        },
        chaos: c.chaos(),
        tape: tape.map(run::TapeOption::Record),
        ..RunOptions::default()
    };
    // The case's address: the guest's listener (announced once bound), a free port for a
    // preview2 guest to bind, or the suite's own server.
    let mut server = None;
    let mut addr = None;
    match c.net {
        Some(Net::Tcplisten) => run_opts
            .tcplisten
            .push("127.0.0.1:0".parse().expect("an address")),
        Some(Net::AllowNet) => match driver::free_addr() {
            Ok(a) => {
                run_opts.allow_net.push(crate::p2net::AllowNet(a));
                addr = Some(a);
            }
            Err(e) => return bad(e),
        },
        Some(Net::Server) => match driver::serve(deadline) {
            Ok((a, t)) => {
                run_opts.allow_net.push(crate::p2net::AllowNet(a));
                addr = Some(a);
                server = Some(t);
            }
            Err(e) => return bad(e),
        },
        None => {}
    }
    let scratch = c.preopen.then(|| {
        let dir = std::env::temp_dir().join(format!(
            "wouldblock-suite-{}-{}",
            std::process::id(),
            p.id.replace('/', "-")
        ));
        let _ = std::fs::create_dir_all(&dir);
        dir
    });
    if let Some(dir) = &scratch {
        run_opts.dirs.push(crate::spec::DirSpec {
            host: dir.clone(),
            guest: "/sandbox".into(),
        });
    }
    let addr_text = addr.map(|a| a.to_string()).unwrap_or_default();
    run_opts.args = c
        .args
        .iter()
        .map(|a| a.replace("{addr}", &addr_text))
        .collect();

    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let driver = c
        .client
        .clone()
        .filter(|c| *c != driver::Client::Accept)
        .map(|client| {
            let (listens, after) = (c.listens(), c.client_after);
            let log = events.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let addr = match (listens, addr) {
                    (true, _) => announce_rx
                        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                        .map_err(|_| "the guest's listener was never bound".to_string())?,
                    (false, Some(a)) => a,
                    (false, None) => {
                        return Err("a client needs a listener or net = \"allow-net\"".into())
                    }
                };
                match after {
                    None => {}
                    Some(ClientAfter::Delay(d)) => std::thread::sleep(d),
                    Some(ClientAfter::Again) => {
                        while !log.met_any() {
                            if Instant::now() >= deadline {
                                return Err("the guest never met a would-block".into());
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
                driver::drive(&client, addr, deadline, &done_rx)
            })
        });

    let guest = match compiled.get(engine, &p.guest) {
        Ok(g) => g,
        Err(e) => return bad(e.message()),
    };
    // Only preview1 modules are recorded.
    if guest.is_component() {
        run_opts.tape = None;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let engine = engine.clone();
    std::thread::spawn(move || {
        let _ = tx.send(run::run_partial(&engine, &guest, &run_opts).map_err(|e| e.message()));
    });
    // The store stops itself at the deadline; the grace covers a guest blocked where the host
    // cannot look, whose thread is then abandoned.
    let grace = Duration::from_millis(500);
    let ran = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now()) + grace) {
        Ok(r) => r.map_err(NotRun::Error),
        Err(_) => Err(NotRun::Abandoned(format!(
            "deadline of {} exceeded (the guest was blocked where the host cannot stop it)",
            humantime::format_duration(c.timeout())
        ))),
    };
    drop(done_tx);
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut complaint = driver.and_then(|t| {
        t.join()
            .map_err(|_| "the client panicked".to_string())
            .and_then(|r| r)
            .err()
    });
    if let Some(t) = server {
        if let Err(e) = t
            .join()
            .map_err(|_| "the server panicked".to_string())
            .and_then(|r| r)
        {
            complaint.get_or_insert(e);
        }
    }
    (ran, complaint)
}

/// Runs the suite. `Err` is an input error (exit 2).
pub fn run_suite(opts: &SuiteOptions) -> Result<SuiteReport, String> {
    let started = Instant::now();
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let (planned, warnings) = plan(opts)?;
    // Fuel slows every guest down: only the cases that ask for it get an engine with it.
    let plain = Engines {
        engine: run::engine(true, false).map_err(|e| format!("{e:#}"))?,
        compiled: Compiled::default(),
    };
    let needs_fuel = planned
        .iter()
        .any(|p| p.case.as_ref().is_some_and(|c| c.fuel.is_some()));
    let fueled = match needs_fuel {
        true => Some(Engines {
            engine: run::engine(true, true).map_err(|e| format!("{e:#}"))?,
            compiled: Compiled::default(),
        }),
        false => None,
    };
    let results: Vec<Mutex<Option<CaseResult>>> =
        planned.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // Counted and reported under one lock, so the progress shown never goes backwards.
    let finished = Mutex::new(0usize);
    // More workers than cases would only wait.
    let jobs = opts.jobs.clamp(1, planned.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = planned.get(i) else { break };
                let e = match (&fueled, p.case.as_ref().and_then(|c| c.fuel)) {
                    (Some(f), Some(_)) => f,
                    _ => &plain,
                };
                let r = run_retrying(&e.engine, &e.compiled, p, opts);
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                let mut n = finished.lock().unwrap_or_else(|e| e.into_inner());
                *n += 1;
                if let Some(progress) = &opts.progress {
                    progress(*n, planned.len());
                }
            });
        }
    });
    let cases: Vec<CaseResult> = results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every case ran")
        })
        .collect();
    let mut summary = Summary {
        total: cases.len(),
        ..Summary::default()
    };
    for c in &cases {
        match c.outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail => summary.failed += 1,
            Outcome::Xfail => summary.xfailed += 1,
            Outcome::Xpass => summary.xpassed += 1,
        }
        summary.flaky += usize::from(c.flaky());
    }
    Ok(SuiteReport {
        schema: SCHEMA.into(),
        wouldblock_version: env!("CARGO_PKG_VERSION").into(),
        wasmtime_version: run::WASMTIME_VERSION.into(),
        platform: Platform::current(),
        runtime: match &opts.peer {
            Some((peer, found)) => Runtime {
                name: peer.name.into(),
                version: found.version.clone(),
            },
            None => Runtime {
                name: "wouldblock".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
        },
        wasi: opts.wasi,
        render_platform: opts.platform,
        started: Some(started_at),
        duration_ms: started.elapsed().as_millis() as u64,
        summary,
        warnings,
        cases,
    })
}
