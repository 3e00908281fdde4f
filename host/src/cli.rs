//! The command line: `wouldblock run`. Parses arguments, runs, prints events, writes the report,
//! and turns every failure into one line `wouldblock: error: …` and a documented exit code.

use crate::errno::Platform;
use crate::report::{self, Report};
use crate::run::{self, RunOptions, WasiMode, EXIT_HOST, EXIT_USAGE};
use crate::spec::{DirSpec, EnvSpec, StdinSpec};
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

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a guest (.wasm or .wat; a preview1 module or a preview2 component).
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
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
    /// Faithful non-blocking handles, or unmodified wasmtime-wasi for comparison.
    #[arg(long, value_enum, default_value_t = WasiMode::Faithful)]
    wasi: WasiMode,
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
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid usage");
            return fail(EXIT_USAGE, first.trim_start_matches("error: "));
        }
    };
    match cli.command {
        Command::Run(args) => run_command(args),
    }
}

fn run_command(args: RunArgs) -> i32 {
    let opts = RunOptions {
        guest: args.guest,
        args: args.args,
        dirs: args.dirs,
        envs: args.envs,
        stdin: args.stdin,
        wasi: args.wasi,
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
    let platform = Platform::host();
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
