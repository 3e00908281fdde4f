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
    #[arg(long, value_enum, default_value_t = HandleKind::Pipe)]
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
    #[arg(long, value_enum, default_value_t = WasiMode::Faithful)]
    wasi: WasiMode,
    /// Render events as Python on this platform would (default: the host's).
    #[arg(long, value_name = "P")]
    platform: Option<Platform>,
    /// Write the run report as JSON (schema wouldblock.report/1) to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The guest file.
    #[arg(value_name = "GUEST")]
    guest: PathBuf,
    /// Arguments for the guest; everything after GUEST goes to the guest.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
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
    }
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
    let opts = RunOptions {
        guest: args.guest,
        args: args.args,
        dirs: args.dirs,
        envs: args.envs,
        stdin: args.stdin,
        stdout: args.stdout,
        stderr: args.stderr,
        wasi: args.wasi,
        tcplisten: args.tcplisten,
        allow_net: args.allow_net,
    };
    let engine = match run::engine() {
        Ok(e) => e,
        Err(e) => return fail(EXIT_HOST, &format!("{e:#}")),
    };
    let outcome = match run::run(&engine, &opts) {
        Ok(o) => o,
        Err(e) => return fail(e.exit_code(), &e.message()),
    };
    let _ = std::io::stdout().flush();
    let platform = args.platform.unwrap_or_else(default_platform);
    for e in outcome.events.events() {
        eprintln!("{}", report::summary_line(platform, e));
    }
    if let Some(path) = &args.report {
        let report = Report::new(
            opts.guest.display().to_string(),
            opts.wasi,
            platform,
            &outcome,
        );
        let json = serde_json::to_string_pretty(&report).expect("a report always serializes");
        if let Err(e) = std::fs::write(path, json + "\n") {
            return fail(EXIT_HOST, &format!("--report {}: {e}", path.display()));
        }
    }
    outcome.exit_code
}
