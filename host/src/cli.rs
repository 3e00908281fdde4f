//! The command line: `wouldblock run`. Parses arguments, runs, prints events, writes the report,
//! and turns every failure into one line `wouldblock: error: …` and a documented exit code.

use crate::errno::{HandleKind, Platform};
use crate::explain;
use crate::report::{self, Report};
use crate::run::{self, RunOptions, WasiMode, EXIT_HOST, EXIT_USAGE};
use crate::spec::{DirSpec, EnvSpec, OutputSpec, StdinSpec};
use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  N    the guest's own exit code
  2    usage or input error (bad option, missing or invalid guest)
  70   the host itself failed
  124  the guest hit its --timeout or ran out of --fuel
  125  the guest hit its --max-memory
  134  the guest trapped";

/// Runs WASI guests whose non-blocking I/O behaves as POSIX does, and shows every `again` as
/// the BlockingIOError Python would raise.
#[derive(Parser, Debug)]
#[command(name = "wouldblock", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run a guest (.wasm or .wat; a preview1 module or a preview2 component).
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Show a WASI errno as Python would raise it on each platform.
    Explain(ExplainArgs),
    /// Run every scenario in the build against its expectations (exit 1 on any unexpected
    /// result, including an unexpected pass).
    Suite(SuiteArgs),
    /// Merge suite reports from several machines into one table (exit 1 when the WASI-level
    /// result of a case differs between platforms).
    Compare(CompareArgs),
}

#[derive(Args, Debug)]
struct SuiteArgs {
    /// Only cases whose id contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = crate::suite::format::Format::Human)]
    format: crate::suite::format::Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Cases at once (default: 4 per core, at least 8: most cases wait on a scenario delay
    /// and hold no core while they do).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Faithful non-blocking handles, or unmodified wasmtime-wasi.
    #[arg(long, value_enum, ignore_case = true, default_value_t = WasiMode::Faithful)]
    wasi: WasiMode,
    /// Check expectations and render events for this platform (default: the host's).
    #[arg(long, value_name = "P")]
    platform: Option<Platform>,
    /// The built guests (default: `guests/` beside the binary's directory, as cargo builds it).
    #[arg(long, value_name = "DIR")]
    guests: Option<PathBuf>,
    /// The expectations.
    #[arg(long, value_name = "DIR", default_value = "tests/expectations")]
    expectations: PathBuf,
    /// Run the guests under this runtime instead of wouldblock (repeatable): node, wasmtime,
    /// wasmtime-py, pywasm, jco, or `all` (every one found). Its expectations are in
    /// <expectations>/<runtime>/. A runtime that is not installed is reported, not failed.
    #[arg(long = "runtime", value_name = "NAME")]
    runtimes: Vec<String>,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Suite reports (`wouldblock suite --format json`).
    #[arg(value_name = "REPORT.json", required = true)]
    reports: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = crate::compare::Format::Human)]
    format: crate::compare::Format,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only the cases at least two reports have (for the table of runtimes).
    #[arg(long)]
    shared_only: bool,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// A WASI errno, by number (0-76) or name (e.g. `again`).
    #[arg(value_name = "ERRNO|NAME")]
    errno: String,
    /// Render for this platform: linux, macos, freebsd, windows or wasi (default: the host's).
    #[arg(long, value_name = "P", conflicts_with = "all_platforms")]
    platform: Option<Platform>,
    /// Render for every platform.
    #[arg(long)]
    all_platforms: bool,
    /// The kind of handle the error came from; on Windows a socket reports WSAE* codes.
    #[arg(long, value_enum, ignore_case = true, default_value_t = HandleKind::Pipe)]
    handle: HandleKind,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Preopen a host directory, as HOST or HOST::GUEST (repeatable).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<DirSpec>,
    /// Set a guest environment variable (repeatable); the host environment is not inherited.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<EnvSpec>,
    /// The guest's stdin: inherit, eof, open, data:TEXT, after:MS:TEXT or file:PATH.
    #[arg(long, value_name = "SPEC", default_value = "inherit")]
    stdin: StdinSpec,
    /// The guest's stdout: inherit, or pipe:CAPACITY[:BYTES/INTERVAL], a bounded pipe drained
    /// at that rate (or only at exit) into the host's stdout.
    #[arg(long, value_name = "SPEC", default_value = "inherit")]
    stdout: OutputSpec,
    /// The guest's stderr, as --stdout.
    #[arg(long, value_name = "SPEC", default_value = "inherit")]
    stderr: OutputSpec,
    /// Listen on HOST:PORT (numeric host; port 0 picks one and prints it) and hand the socket
    /// to a preview1 guest after its preopened directories, with LISTEN_FDS=N (repeatable).
    #[arg(long = "tcplisten", value_name = "HOST:PORT")]
    tcplisten: Vec<crate::net::ListenSpec>,
    /// Let a preview2 guest bind or connect to HOST:PORT over TCP (numeric host; port 0: any
    /// port on that host). Repeatable, or comma-separated. Nothing is allowed by default.
    #[arg(long = "allow-net", value_name = "HOST:PORT", value_delimiter = ',')]
    allow_net: Vec<crate::p2net::AllowNet>,
    /// Faithful non-blocking handles, or unmodified wasmtime-wasi for comparison.
    #[arg(long, value_enum, ignore_case = true, default_value_t = WasiMode::Faithful)]
    wasi: WasiMode,
    /// Stop the guest after this long (e.g. 500ms, 2s): exit 124. No default.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<crate::spec::DurationArg>,
    /// Cap each linear memory at this size (e.g. 64MiB): growing past it fails; a trap after
    /// that exits 125.
    #[arg(long = "max-memory", value_name = "BYTES")]
    max_memory: Option<crate::spec::BytesArg>,
    /// Give the guest this much wasmtime fuel; running out exits 124.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Render events as Python on this platform would (default: the host's).
    #[arg(long, value_name = "P")]
    platform: Option<Platform>,
    /// Write the run report as JSON (schema wouldblock.report/1) to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The guest file, then its arguments: everything after GUEST goes to the guest, options
    /// and `--` included, as `wasmtime run` does.
    #[arg(
        value_name = "GUEST [ARGS]...",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    guest_and_args: Vec<String>,
}

/// Prints the one-line error and returns `code`.
fn fail(code: i32, msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("wouldblock: error: {}", run::one_line(msg));
    code
}

/// Runs the command line `argv`; returns the process exit code.
pub fn main_with_args(argv: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            // Keep what clap says (including the accepted values), not its usage hints.
            let text = e.to_string();
            let kept: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("Usage:")
                        && !l.starts_with("For more information")
                })
                .collect();
            return fail(EXIT_USAGE, kept.join(" ").trim_start_matches("error: "));
        }
    };
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Explain(args) => explain_command(args),
        Command::Suite(args) => suite_command(args),
        Command::Compare(args) => compare_command(args),
    }
}

/// A file named on the command line for writing (`--report`, `--output`), opened before any
/// work so that a directory or an unwritable path is a usage error (exit 2) up front, not a
/// lost result afterwards. Its old contents are replaced only when [`OutputFile::write`] is
/// called.
struct OutputFile {
    path: PathBuf,
    file: std::fs::File,
}

impl OutputFile {
    fn open(option: &str, path: &std::path::Path) -> Result<OutputFile, i32> {
        let bad = |why: String| fail(EXIT_USAGE, &format!("{option} {}: {why}", path.display()));
        if path.is_dir() {
            return Err(bad("is a directory".into()));
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| bad(e.to_string()))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Replaces the file's contents with `text`; a host failure (exit 70) when it cannot.
    fn write(mut self, text: &str) -> Result<(), i32> {
        use std::io::{Seek, SeekFrom};
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| fail(EXIT_HOST, &format!("{}: {e}", self.path.display())))
    }
}

/// Writes `text` to `output` or stdout.
fn emit(text: &str, output: Option<OutputFile>) -> Result<(), i32> {
    match output {
        Some(file) => file.write(text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Where cargo put the guests: `target/guests`, beside the binary's `target/<profile>/`.
fn default_guests() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("guests")))
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("target/guests"))
}

/// `--output FILE` for one of several runtimes: `FILE` with `-<runtime>` before the extension.
fn output_for(output: &Option<PathBuf>, runtime: &str, several: bool) -> Option<PathBuf> {
    let path = output.as_ref()?;
    if !several {
        return Some(path.clone());
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{runtime}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{runtime}"),
    };
    Some(path.with_file_name(name))
}

fn suite_command(args: SuiteArgs) -> i32 {
    use crate::suite::peers;
    let names: Vec<String> = match args.runtimes.as_slice() {
        [] => vec!["wouldblock".into()],
        many if many.iter().any(|r| r == "all") => std::iter::once("wouldblock".to_string())
            .chain(peers::PEERS.iter().map(|p| p.name.to_string()))
            .collect(),
        many => many.to_vec(),
    };
    // Each name resolved once, before anything runs: a bad one is a usage error.
    let mut runtimes = Vec::with_capacity(names.len());
    for name in &names {
        match name.as_str() {
            "wouldblock" => runtimes.push((name, None)),
            other => match peers::by_name(other) {
                Ok(peer) => runtimes.push((name, Some(peer))),
                Err(e) => return fail(EXIT_USAGE, &e),
            },
        }
    }
    let guests = args.guests.clone().unwrap_or_else(default_guests);
    let peers_dir = guests
        .parent()
        .map(|p| p.join("peers"))
        .unwrap_or_else(|| PathBuf::from("target/peers"));
    let several = names.len() > 1;
    let mut worst = 0;
    for (name, peer) in runtimes {
        let peer = match peer {
            None => None,
            Some(peer) => match peer.find(&peers_dir) {
                Some(found) => Some((peer, found)),
                None => {
                    eprintln!(
                        "wouldblock: runtime {} not found ({}); install: {}",
                        peer.name, peer.description, peer.install
                    );
                    continue;
                }
            },
        };
        let output = match output_for(&args.output, name, several) {
            Some(path) => match OutputFile::open("--output", &path) {
                Ok(f) => Some(f),
                Err(code) => return code,
            },
            None => None,
        };
        let code = suite_one(&args, guests.clone(), peer, output);
        if code == EXIT_USAGE || code == EXIT_HOST {
            return code;
        }
        worst = worst.max(code);
    }
    worst
}

fn suite_one(
    args: &SuiteArgs,
    guests: PathBuf,
    peer: Option<(
        &'static crate::suite::peers::Peer,
        crate::suite::peers::Found,
    )>,
    output: Option<OutputFile>,
) -> i32 {
    use crate::suite::format::{self, Format};
    use std::io::IsTerminal;
    let tty =
        std::io::stderr().is_terminal() && args.output.is_none() && args.format == Format::Human;
    let progress: Option<Box<dyn Fn(usize, usize) + Send + Sync>> = tty.then(|| {
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
        }) as Box<dyn Fn(usize, usize) + Send + Sync>
    });
    let opts = crate::suite::SuiteOptions {
        guests,
        expectations: args.expectations.clone(),
        filter: args.filter.clone(),
        jobs: args.jobs.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores * 4).max(8)
        }),
        wasi: args.wasi,
        platform: args.platform.unwrap_or_else(default_platform),
        progress,
        peer,
    };
    let report = match crate::suite::run_suite(&opts) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, &e),
    };
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none()
        && args.output.is_none();
    let text = match args.format {
        Format::Human => format::human(&report, color),
        Format::Json => format::json(&report),
        Format::Junit => format::junit(&report),
        Format::Markdown => format::markdown(&report),
    };
    if let Err(code) = emit(&text, output) {
        return code;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(format::markdown(&report).as_bytes()));
        if let Err(e) = appended {
            return fail(EXIT_HOST, &format!("GITHUB_STEP_SUMMARY: {e}"));
        }
    }
    report.exit_code()
}

fn compare_command(args: CompareArgs) -> i32 {
    use crate::compare::{self, Format};
    let output = match &args.output {
        Some(path) => match OutputFile::open("--output", path) {
            Ok(f) => Some(f),
            Err(code) => return code,
        },
        None => None,
    };
    let mut reports = Vec::new();
    for path in &args.reports {
        match compare::load(path) {
            Ok(r) => reports.push((path.display().to_string(), r)),
            Err(e) => return fail(EXIT_USAGE, &e),
        }
    }
    let cmp = compare::compare(&reports, args.shared_only);
    let text = match args.format {
        Format::Human => compare::human(&cmp),
        Format::Markdown => compare::markdown(&cmp),
        Format::Json => serde_json::to_string_pretty(&cmp).expect("a comparison serializes") + "\n",
        Format::Html => compare::html(&cmp),
    };
    if let Err(code) = emit(&text, output) {
        return code;
    }
    cmp.exit_code()
}

/// The platform to render for when none is named: the host's, else Linux.
fn default_platform() -> Platform {
    Platform::host().unwrap_or(Platform::Linux)
}

fn explain_command(args: ExplainArgs) -> i32 {
    let errno = match explain::parse_errno(&args.errno) {
        Ok(e) => e,
        Err(msg) => return fail(EXIT_USAGE, &msg),
    };
    let platforms = match (args.all_platforms, args.platform) {
        (true, _) => Platform::ALL.to_vec(),
        (false, Some(p)) => vec![p],
        (false, None) => vec![default_platform()],
    };
    let x = explain::explain(errno, &platforms, args.handle);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&x).expect("an explanation always serializes")
        );
    } else {
        print!("{}", explain::human(&x));
    }
    0
}

fn run_command(args: RunArgs) -> i32 {
    let mut guest_and_args = args.guest_and_args.into_iter();
    let guest = PathBuf::from(guest_and_args.next().expect("clap requires GUEST"));
    let opts = RunOptions {
        guest,
        args: guest_and_args.collect(),
        dirs: args.dirs,
        envs: args.envs,
        stdin: args.stdin,
        stdout: args.stdout,
        stderr: args.stderr,
        wasi: args.wasi,
        tcplisten: args.tcplisten,
        allow_net: args.allow_net,
        capture: false,
        announce: None,
        limits: crate::limits::Limits {
            timeout: args.timeout.map(|d| d.0),
            max_memory: args.max_memory.map(|b| b.0),
            fuel: args.fuel,
        },
    };
    let report_file = match &args.report {
        Some(path) => match OutputFile::open("--report", path) {
            Ok(f) => Some(f),
            Err(code) => return code,
        },
        None => None,
    };
    let engine = match run::engine(opts.limits.timeout.is_some(), opts.limits.fuel.is_some()) {
        Ok(e) => e,
        Err(e) => return fail(EXIT_HOST, &format!("{e:#}")),
    };
    let ran =
        crate::guest::load(&engine, &opts.guest).and_then(|g| run::run_partial(&engine, &g, &opts));
    let f = match ran {
        Ok(f) => f,
        Err(e) => return fail(e.exit_code(), &e.message()),
    };
    let _ = std::io::stdout().flush();
    // The events come first, whether the guest exited or was stopped.
    let platform = args.platform.unwrap_or_else(default_platform);
    for e in f.events.events() {
        eprintln!("{}", report::summary_line(platform, e));
    }
    let (code, stopped) = match &f.result {
        Ok(code) => (*code, None),
        Err(e) => (e.exit_code(), Some(e.message())),
    };
    if let Some(file) = report_file {
        let outcome = run::Outcome {
            abi: f.abi,
            exit_code: code,
            events: f.events,
            captured: f.captured,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let mut report = Report::new(
            opts.guest.display().to_string(),
            opts.wasi,
            platform,
            &outcome,
        );
        report.set_stopped(stopped);
        let json = serde_json::to_string_pretty(&report).expect("a report always serializes");
        if let Err(code) = file.write(&(json + "\n")) {
            return code;
        }
    }
    if let Err(e) = &f.result {
        fail(code, &e.message());
        let frames = e.backtrace();
        if !frames.is_empty() {
            eprintln!("wouldblock: wasm backtrace:");
            for (i, frame) in frames.iter().enumerate() {
                eprintln!("  {i:>2}: {frame}");
            }
        }
    }
    code
}
