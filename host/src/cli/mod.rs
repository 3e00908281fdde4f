//! The command line. Parses arguments (the `wasmtime run` spellings through [`compat`]),
//! runs, prints events, writes the report, and turns every failure into one line
//! `wouldblock: error: …` and a documented exit code. `wouldblock GUEST` is `wouldblock run
//! GUEST`, as `wasmtime GUEST` is `wasmtime run GUEST`.

mod compat;

use crate::errno::{HandleKind, Platform};
use crate::explain;
use crate::report::{self, Report};
use crate::run::{self, RunOptions, WasiMode, EXIT_HOST, EXIT_USAGE};
use crate::spec::{DirSpec, EnvSpec, OutputSpec, StdinSpec};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  N    the guest's own exit code
  2    usage or input error (bad option, missing or invalid guest)
  65   a --replay diverged from its recording
  70   the host itself failed
  124  the guest hit its --timeout or ran out of --fuel
  125  the guest hit its --max-memory
  134  the guest trapped
A guest may exit with any of these itself: the report's exit_by says who chose the code.";

/// This program's version and the wasmtime it embeds (pinned exactly; checked against
/// [`run::WASMTIME_VERSION`] by a test).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (wasmtime 48.0.8)");

/// Runs WASI guests whose non-blocking I/O behaves as POSIX does, and shows every `again` as
/// the BlockingIOError Python would raise.
#[derive(Parser, Debug)]
#[command(name = "wouldblock", version = VERSION, after_help = EXIT_CODES)]
struct Cli {
    /// Colour in human output: auto (a terminal, unless NO_COLOR is set and not empty;
    /// CLICOLOR_FORCE forces it), always or never.
    #[arg(long, global = true, value_enum, ignore_case = true, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether human output on stdout is coloured: anstream applies `NO_COLOR` and
    /// `CLICOLOR_FORCE` as their conventions say (only a non-empty value counts).
    fn stdout(self) -> bool {
        let choice = match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        anstream::AutoStream::new(std::io::stdout(), choice).current_choice()
            != anstream::ColorChoice::Never
    }
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run a guest (.wasm or .wat; a preview1 module, a preview2 or a WASI 0.3 component). The default:
    /// `wouldblock GUEST [ARGS]` is `wouldblock run GUEST [ARGS]`.
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
    /// Print a recording (run --record FILE) as a readable timeline: one line per call the
    /// host answered, with what it returned and the events it recorded.
    Replay {
        /// The recording.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `wouldblock man > wouldblock.1`.
    Man,
    /// Print the JSON Schema of a report: `report` (run --report), `suite` (suite --format
    /// json), `compare` (compare --format json) or `recording` (a line of run --record).
    Schema {
        /// Which document.
        #[arg(value_enum)]
        document: crate::schema::Document,
    },
}

#[derive(Args, Debug)]
struct SuiteArgs {
    /// Case files that name their guests (any guest file): a file, or a directory searched
    /// for *.toml. Instead of --guests/--expectations.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["guests", "expectations"])]
    cases: Option<PathBuf>,
    /// Only cases whose id contains PATTERN (one that matches none is an error).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = crate::suite::format::Format::Human)]
    format: crate::suite::format::Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Record every faithful preview1 case (run --record) and keep in DIR, as
    /// <case-id>.jsonl, the recordings of the cases not as expected: `wouldblock replay FILE`
    /// prints one, `wouldblock run --replay FILE GUEST` repeats its run.
    #[arg(long, value_name = "DIR")]
    recordings: Option<PathBuf>,
    /// Also write JUnit XML to FILE: one testsuite per runtime and mode.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Do not append the summary table to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    no_step_summary: bool,
    /// Cases at once (default: 4 per core, at least 8: most cases wait on a scenario delay
    /// and hold no core while they do).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run a case not as expected up to N more times. The last run decides; a case as
    /// expected only on a retry is reported flaky (FLAKY in the table, on stderr, in the
    /// summary's `flaky` and as the case's `earlier` runs; flakyFailure in JUnit).
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Faithful non-blocking handles, or unmodified wasmtime-wasi.
    #[arg(long, value_enum, ignore_case = true, default_value_t = WasiMode::Faithful)]
    wasi: WasiMode,
    /// Check expectations and render events for this platform (default: the host's).
    #[arg(long, value_name = "P", value_parser = platform_parser(), ignore_case = true)]
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
    /// A WASI errno by number (0-76) or name (`again`), a POSIX name (`EAGAIN`,
    /// `EWOULDBLOCK`, `EINPROGRESS`), or with --native a platform's own number.
    #[arg(value_name = "ERRNO|NAME")]
    errno: String,
    /// Read ERRNO as the native number of --platform (default: the host's), e.g.
    /// `explain 35 --platform macos --native`; with --handle socket on Windows, a WSAE* code.
    #[arg(long)]
    native: bool,
    /// Render for this platform (default: the host's).
    #[arg(
        long,
        value_name = "P",
        conflicts_with = "all_platforms",
        value_parser = platform_parser(),
        ignore_case = true
    )]
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
    /// Set a guest environment variable (repeatable): NAME=VALUE, or NAME for the host's value
    /// (left unset when the host has none); the host environment is not inherited otherwise.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
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
    /// to a preview1 guest after its preopened directories, or as descriptor FD with @FD,
    /// with LISTEN_FDS=N and WOULDBLOCK_LISTEN_FDS=FD,… (repeatable).
    #[arg(long = "tcplisten", value_name = "HOST:PORT[@FD]")]
    tcplisten: Vec<crate::net::ListenSpec>,
    /// Let a preview2 guest bind or connect to HOST:PORT over TCP (numeric host; port 0: any
    /// port on that host). Repeatable, or comma-separated. Nothing is allowed by default.
    #[arg(long = "allow-net", value_name = "HOST:PORT", value_delimiter = ',')]
    allow_net: Vec<crate::p2net::AllowNet>,
    /// `faithful` non-blocking handles (the default) or `stock`, unmodified wasmtime-wasi for
    /// comparison; also wasmtime's WASI options, comma-separated (`-S tcplisten=ADDR` is
    /// --tcplisten; the rest say what wouldblock does instead).
    #[arg(short = 'S', long = "wasi", value_name = "faithful|stock|KEY[=VAL]")]
    wasi: Vec<String>,
    /// wasmtime's engine options: `-W timeout=D`, `-W max-memory-size=N` and `-W fuel=N` are
    /// --timeout, --max-memory and --fuel; wouldblock keeps wasmtime's defaults for the rest.
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL]")]
    wasm: Vec<String>,
    /// Stop the guest after this long (5 = seconds, 500ms, 1.5s, 2m, 1h): exit 124. No default.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<crate::spec::DurationArg>,
    /// Cap each linear memory at this size (bytes, 0x hex, 64K, 64M, 64MiB, 1G): growing past
    /// it fails; a trap after that exits 125.
    #[arg(long = "max-memory", value_name = "BYTES")]
    max_memory: Option<crate::spec::BytesArg>,
    /// Give the guest this much wasmtime fuel; running out exits 124.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Call this exported function of a preview1 module instead of `_start`, with the
    /// arguments after GUEST as its parameters (decimal or 0x hex integers, floats); prints
    /// each result on its own line, as `wasmtime run --invoke` does.
    #[arg(long, value_name = "FUNCTION")]
    invoke: Option<String>,
    /// The guest's argv[0] (default: GUEST as given).
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// Inject at the boundary what POSIX allows, into a faithful run: rules
    /// FAULT[@HANDLES]=FREQ, comma-separated. FAULT: again, short, wake; HANDLES: stdin,
    /// stdout, stderr, listener, socket, pipes, sockets, joined by +; FREQ: 0.1, 10% or /N
    /// (every Nth). Each injection is an event marked injected.
    #[arg(long, value_name = "SPEC")]
    chaos: Option<crate::chaos::ChaosSpec>,
    /// The seed of --chaos's random choices (default: a new one, printed on stderr).
    #[arg(long = "chaos-seed", value_name = "N", requires = "chaos")]
    chaos_seed: Option<u64>,
    /// Write what the guest saw at the boundary to FILE (wouldblock.recording/1, JSON
    /// Lines): every read, write, poll, socket call, clock reading and random byte of a
    /// faithful preview1 run, for --replay and `wouldblock replay`.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Run the guest against a recording instead of the outside world (its argv,
    /// environment, listeners and --timeout come from the recording; stdin is not read):
    /// the same answers, byte for byte, and exit 65 where the guest stops asking the same
    /// questions.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Render events as Python on this platform would (default: the host's).
    #[arg(long, value_name = "P", value_parser = platform_parser(), ignore_case = true)]
    platform: Option<Platform>,
    /// Write the run report as JSON (schema wouldblock.report/1) to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// wasmtime options wouldblock does not take; each is refused with one line saying why.
    #[arg(short = 'O', long = "optimize", hide = true)]
    optimize: Vec<String>,
    #[arg(short = 'C', long = "codegen", hide = true)]
    codegen: Vec<String>,
    #[arg(short = 'D', long = "debug", hide = true)]
    debug: Vec<String>,
    #[arg(short = 'R', hide = true)]
    wasmtime_record: Vec<String>,
    #[arg(long = "profile", hide = true)]
    profile: Vec<String>,
    #[arg(long = "allow-precompiled", hide = true)]
    allow_precompiled: bool,
    #[arg(short = 'g', long = "gdbstub", hide = true)]
    gdbstub: Vec<String>,
    #[arg(long = "preload", hide = true)]
    preload: Vec<String>,
    #[arg(long = "target", hide = true)]
    target: Vec<String>,
    #[arg(long = "config", hide = true)]
    config: Vec<String>,
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

impl RunArgs {
    /// The first wasmtime option given that wouldblock does not take.
    fn refused(&self) -> Option<&'static str> {
        [
            (!self.optimize.is_empty(), "-O"),
            (!self.codegen.is_empty(), "-C"),
            (!self.debug.is_empty(), "-D"),
            (!self.wasmtime_record.is_empty(), "-R"),
            (!self.profile.is_empty(), "--profile"),
            (self.allow_precompiled, "--allow-precompiled"),
            (!self.gdbstub.is_empty(), "--gdbstub"),
            (!self.preload.is_empty(), "--preload"),
            (!self.target.is_empty(), "--target"),
            (!self.config.is_empty(), "--config"),
        ]
        .into_iter()
        .find_map(|(given, option)| given.then_some(option))
    }
}

/// `--platform`'s values, listed in `--help` and matched without regard to case.
fn platform_parser() -> impl clap::builder::TypedValueParser<Value = Platform> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Platform::ALL.iter().map(|p| p.name()))
        .map(|s| s.parse::<Platform>().expect("one of Platform::ALL"))
}

/// Prints the one-line error and returns `code`.
fn fail(code: i32, msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("wouldblock: error: {}", run::one_line(msg));
    code
}

/// `wouldblock GUEST …` is `wouldblock run GUEST …`, as with `wasmtime`: inserts `run` where
/// the subcommand stands when what stands there is neither a subcommand nor a top-level flag.
fn with_default_run(
    cli: &clap::Command,
    mut argv: Vec<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut at = 1;
    // Skip the global `--color WHEN` / `--color=WHEN`.
    while let Some(a) = argv.get(at).and_then(|a| a.to_str()) {
        match a {
            "--color" => at += 2,
            _ if a.starts_with("--color=") => at += 1,
            _ => break,
        }
    }
    let keep = match argv.get(at).map(|a| a.to_str()) {
        None => true,
        Some(Some(a)) => {
            matches!(a, "-h" | "--help" | "-V" | "--version" | "help")
                || cli.get_subcommands().any(|c| c.get_name() == a)
        }
        // A name that is not UTF-8 is no subcommand: a guest's path.
        Some(None) => false,
    };
    if !keep {
        argv.insert(at, "run".into());
    }
    argv
}

/// Runs the command line `argv`; returns the process exit code.
pub fn main_with_args(argv: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    // The command tree is built once: it decides where `run` goes and then parses.
    let mut command = Cli::command();
    let argv = with_default_run(&command, argv.into_iter().collect());
    let parsed = command
        .try_get_matches_from_mut(argv)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            // Keep what clap says (including the accepted values), not its usage hints or
            // tips (its "use '-- -S'" tip would be wrong here).
            let text = e.to_string();
            let kept: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("Usage:")
                        && !l.starts_with("tip:")
                        && !l.starts_with("For more information")
                })
                .collect();
            return fail(EXIT_USAGE, kept.join(" ").trim_start_matches("error: "));
        }
    };
    let color = cli.color.stdout();
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Explain(args) => explain_command(args),
        Command::Suite(args) => suite_command(args, color),
        Command::Compare(args) => compare_command(args),
        Command::Replay { file } => match crate::recording::Recording::load(&file) {
            Ok(rec) => match emit(&crate::recording::timeline(&rec), None) {
                Ok(()) => 0,
                Err(code) => code,
            },
            Err(e) => fail(EXIT_USAGE, &format!("{e:#}")),
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "wouldblock",
                &mut std::io::stdout(),
            );
            0
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(e) => fail(EXIT_HOST, &format!("writing the manual page: {e}")),
            }
        }
        Command::Schema { document } => match emit(&document.schema(), None) {
            Ok(()) => 0,
            Err(code) => code,
        },
    }
}

/// A file named on the command line for writing (`--report`, `--output`), opened before any
/// work so that a directory or an unwritable path is a usage error (exit 2) up front, not a
/// lost result afterwards. Its old contents are replaced only when [`OutputFile::write`] is
/// called; a file this run created and never wrote (the guest could not start) is removed.
struct OutputFile {
    path: PathBuf,
    file: std::fs::File,
    created: bool,
    written: bool,
}

impl OutputFile {
    /// [`OutputFile::open`] for an option that may be absent.
    fn open_opt(option: &str, path: Option<&std::path::Path>) -> Result<Option<OutputFile>, i32> {
        path.map(|p| OutputFile::open(option, p)).transpose()
    }

    fn open(option: &str, path: &std::path::Path) -> Result<OutputFile, i32> {
        let bad = |why: String| fail(EXIT_USAGE, &format!("{option} {}: {why}", path.display()));
        if path.is_dir() {
            return Err(bad("is a directory".into()));
        }
        let created = !path.exists();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| bad(e.to_string()))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            file,
            created,
            written: false,
        })
    }

    /// Replaces the file's contents with `text`; a host failure (exit 70) when it cannot.
    fn write(mut self, text: &str) -> Result<(), i32> {
        use std::io::{Seek, SeekFrom};
        self.written = true;
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| fail(EXIT_HOST, &format!("{}: {e}", self.path.display())))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if self.created && !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `text` to `output` or stdout.
fn emit(text: &str, output: Option<OutputFile>) -> Result<(), i32> {
    match output {
        Some(file) => file.write(text),
        None => {
            // A reader that stopped early (`| head`) is no error.
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(fail(EXIT_HOST, &format!("writing stdout: {e}")))
                }
                _ => Ok(()),
            }
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

fn suite_command(args: SuiteArgs, color: bool) -> i32 {
    use crate::suite::peers;
    let runtimes = match peers::choose(&args.runtimes) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, &e),
    };
    if args.cases.is_some() && runtimes.iter().any(|(_, peer)| peer.is_some()) {
        return fail(
            EXIT_USAGE,
            "--cases runs under wouldblock only (other runtimes run this repository's guests against their recorded expectations)",
        );
    }
    let guests = args.guests.clone().unwrap_or_else(default_guests);
    let peers_dir = guests
        .parent()
        .map(|p| p.join("peers"))
        .unwrap_or_else(|| PathBuf::from("target/peers"));
    let several = runtimes.len() > 1;
    // Opened before anything runs: a path that cannot be written is a usage error.
    let junit = match OutputFile::open_opt("--junit", args.junit.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut reports = Vec::new();
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
        let output = match OutputFile::open_opt(
            "--output",
            output_for(&args.output, &name, several).as_deref(),
        ) {
            Ok(f) => f,
            Err(code) => return code,
        };
        let (code, report) = suite_one(&args, guests.clone(), peer, output, color);
        if code == EXIT_USAGE || code == EXIT_HOST {
            return code;
        }
        reports.extend(report);
        worst = worst.max(code);
    }
    let all: Vec<&crate::suite::SuiteReport> = reports.iter().collect();
    if let Some(f) = junit {
        if let Err(code) = emit(&crate::suite::format::junit(&all), Some(f)) {
            return code;
        }
    }
    if !args.no_step_summary {
        if let Err(e) = crate::suite::format::append_step_summary(&all) {
            return fail(EXIT_HOST, &e);
        }
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
    color: bool,
) -> (i32, Option<crate::suite::SuiteReport>) {
    use crate::suite::format::{self, Format};
    use std::io::IsTerminal;
    let tty =
        std::io::stderr().is_terminal() && args.output.is_none() && args.format == Format::Human;
    let opts = crate::suite::SuiteOptions {
        cases: args.cases.clone(),
        guests,
        expectations: args.expectations.clone(),
        filter: args.filter.clone(),
        jobs: args.jobs.unwrap_or_else(crate::suite::default_jobs),
        wasi: args.wasi,
        platform: args.platform.unwrap_or_else(default_platform),
        progress: tty.then(format::progress_bar),
        peer,
        recordings: args.recordings.clone(),
        retries: args.retries,
    };
    if let Some(dir) = &args.recordings {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return (
                fail(EXIT_USAGE, &format!("--recordings {}: {e}", dir.display())),
                None,
            );
        }
    }
    let report = match crate::suite::run_suite(&opts) {
        Ok(r) => r,
        Err(e) => return (fail(EXIT_USAGE, &e), None),
    };
    for w in &report.warnings {
        eprintln!("wouldblock: warning: {w}");
    }
    // A table on stdout already shows them; a file or a machine format would hide them
    // from the log of the CI step that failed.
    if args.format != Format::Human || output.is_some() {
        eprint!("{}", format::unexpected_or_flaky(&report));
    }
    let color = color && output.is_none();
    let text = match args.format {
        Format::Human => format::human(&report, color),
        Format::Json => format::json(&report),
        Format::Junit => format::junit(&[&report]),
        Format::Markdown => format::markdown(&report),
    };
    if let Err(code) = emit(&text, output) {
        return (code, None);
    }
    (report.exit_code(), Some(report))
}

fn compare_command(args: CompareArgs) -> i32 {
    use crate::compare::{self, Format};
    let output = match OutputFile::open_opt("--output", args.output.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
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
    let parsed = if args.native {
        let platform = args.platform.unwrap_or_else(default_platform);
        explain::parse_native(&args.errno, platform, args.handle)
    } else {
        explain::parse_errno(&args.errno)
    };
    let errno = match parsed {
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

/// A fresh `--chaos` seed: the clock's nanoseconds and the process id, mixed.
fn new_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

fn run_command(args: RunArgs) -> i32 {
    if let Some(option) = args.refused() {
        return fail(EXIT_USAGE, &compat::refused(option));
    }
    let mut wt = compat::Translated::default();
    if let Err(e) =
        compat::wasi(&args.wasi, &mut wt).and_then(|()| compat::wasm(&args.wasm, &mut wt))
    {
        return fail(EXIT_USAGE, &e);
    }
    let mut guest_and_args = args.guest_and_args.into_iter();
    let guest = PathBuf::from(guest_and_args.next().expect("clap requires GUEST"));
    let mut tcplisten = args.tcplisten;
    tcplisten.extend(wt.tcplisten);
    let stdin = match (wt.stdin, args.stdin) {
        (Some(eof), StdinSpec::Inherit) => eof,
        (_, given) => given,
    };
    let opts = RunOptions {
        guest,
        args: guest_and_args.collect(),
        argv0: args.argv0,
        invoke: args.invoke,
        dirs: args.dirs,
        envs: args.envs,
        stdin,
        stdout: args.stdout,
        stderr: args.stderr,
        wasi: wt.mode.unwrap_or(WasiMode::Faithful),
        tcplisten,
        allow_net: args.allow_net,
        trap_unknown_imports: wt.trap_unknown_imports,
        limits: crate::limits::Limits {
            timeout: args.timeout.map(|d| d.0).or(wt.timeout),
            max_memory: args.max_memory.map(|b| b.0).or(wt.max_memory),
            fuel: args.fuel.or(wt.fuel),
        },
        chaos: args
            .chaos
            .map(|spec| (spec, args.chaos_seed.unwrap_or_else(new_seed))),
        tape: args.record.map(run::TapeOption::Record),
        // Not captured, no watcher: as `wouldblock run` always runs.
        ..RunOptions::default()
    };
    let opts = match &args.replay {
        None => opts,
        Some(file) => match crate::recording::Recording::load(file) {
            Ok(rec) => opts.replaying(std::sync::Arc::new(rec)),
            Err(e) => return fail(EXIT_USAGE, &format!("--replay {e:#}")),
        },
    };
    let report_file = match OutputFile::open_opt("--report", args.report.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
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
    // The events come first, whether the guest exited or was stopped; a chaos run's seed
    // before them, so that the run can be repeated.
    let platform = args.platform.unwrap_or_else(default_platform);
    if let Some((_, seed)) = &f.chaos {
        eprintln!("wouldblock: chaos seed {seed} (--chaos-seed {seed} repeats it)");
    }
    for e in f.events.events() {
        eprintln!("{}", report::summary_line(platform, e));
    }
    let code = f
        .result
        .as_ref()
        .map_or_else(run::RunError::exit_code, |code| *code);
    if let Some(file) = report_file {
        let report = Report::new(opts.guest.display().to_string(), opts.wasi, platform, &f);
        let json = serde_json::to_string_pretty(&report).expect("a report always serializes");
        if let Err(code) = file.write(&(json + "\n")) {
            return code;
        }
    }
    if let (Some(file), false) = (
        &args.replay,
        matches!(f.result, Err(run::RunError::Diverged(_))),
    ) {
        eprintln!(
            "wouldblock: replayed {}: every call as recorded, and the run ended as recorded",
            file.display()
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_embedded_wasmtime() {
        assert!(VERSION.ends_with(&format!("(wasmtime {})", run::WASMTIME_VERSION)));
    }

    #[test]
    fn run_is_the_default_command() {
        let with = |args: &[&str]| -> Vec<String> {
            let argv = std::iter::once("wouldblock")
                .chain(args.iter().copied())
                .map(std::ffi::OsString::from)
                .collect();
            with_default_run(&Cli::command(), argv)
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect()
        };
        assert_eq!(with(&["g.wasm", "x"]), ["wouldblock", "run", "g.wasm", "x"]);
        assert_eq!(
            with(&["--timeout", "1", "g.wasm"]),
            ["wouldblock", "run", "--timeout", "1", "g.wasm"]
        );
        assert_eq!(
            with(&["--color", "never", "g.wasm"]),
            ["wouldblock", "--color", "never", "run", "g.wasm"]
        );
        assert_eq!(
            with(&["--color=never", "suite"]),
            ["wouldblock", "--color=never", "suite"]
        );
        for kept in [
            &["suite"][..],
            &["explain", "6"],
            &["--help"],
            &["-V"],
            &["help", "run"],
            &[],
        ] {
            let mut want = vec!["wouldblock".to_string()];
            want.extend(kept.iter().map(|s| s.to_string()));
            assert_eq!(with(kept), want);
        }
    }
}
