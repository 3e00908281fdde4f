//! Other WASI runtimes as suite adapters: how to find each one and its version, which ABIs
//! it runs, and its command line. Adding a runtime is one entry in [`PEERS`] (plus, when it
//! needs one, a small runner script in `peers/`, embedded in the binary).
//!
//! A runtime runs a guest as a subprocess, fed stdin as the case says (an open pipe that
//! never receives data, data after a delay, end-of-file) with stdout and stderr captured. A
//! guest still running at its deadline is killed and reported as `blocked`; one killed by a
//! signal as `crash`. A runtime that is not installed is reported as not found, with the
//! command that installs it: not a failure.

use crate::spec::StdinSpec;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One runtime.
pub struct Peer {
    /// The name on the command line.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// `p1`, `p2`, `p3`.
    pub abis: &'static [&'static str],
    /// How to install it here.
    pub install: &'static str,
    /// The options that give a guest the network (any loopback address), for cases with
    /// `net = "allow-net"`; empty: this runtime has none, and such cases are not run on it.
    pub network: &'static [&'static str],
    find: fn(&Path) -> Option<Found>,
    /// The command that runs the guest with these runtime options and arguments.
    command: fn(&Found, &[&str], &Path, &[String]) -> Command,
}

/// A runtime found on this machine.
pub struct Found {
    /// The program to run.
    pub program: PathBuf,
    /// Its version, as it reports it.
    pub version: String,
    /// A runner script written out for it, if it needs one.
    pub script: Option<PathBuf>,
}

/// Every runtime the suite knows besides wouldblock itself.
pub const PEERS: &[Peer] = &[
    Peer {
        name: "node",
        description: "Node.js node:wasi (preview1)",
        abis: &["p1"],
        install: "apt-get install nodejs (Node 20 or later)",
        network: &[],
        find: find_node,
        command: |f, _, guest, args| with_runner(f, &["--no-warnings"], guest, args),
    },
    Peer {
        name: "wasmtime",
        description: "the wasmtime CLI (preview1, preview2 and WASI 0.3)",
        abis: &["p1", "p2", "p3"],
        install: "cargo install wasmtime-cli --locked (about 17 minutes here)",
        network: &["-S", "inherit-network"],
        find: |_| {
            let version = version_of(Command::new("wasmtime").arg("--version"))?;
            Some(Found {
                program: "wasmtime".into(),
                version,
                script: None,
            })
        },
        command: |f, options, guest, args| {
            let mut c = Command::new(&f.program);
            c.arg("run").args(options).arg(guest).args(args);
            c
        },
    },
    Peer {
        name: "wasmtime-py",
        description: "wasmtime-py, the wasmtime Python bindings (preview1)",
        abis: &["p1"],
        install: "make peers (pip install wasmtime into target/peers/venv)",
        network: &[],
        find: |peers| find_python_package(peers, "wasmtime", Some(("wasmtime_py.py", WASMTIME_PY))),
        command: |f, _, guest, args| with_runner(f, &[], guest, args),
    },
    Peer {
        name: "pywasm",
        description: "pywasm, a WebAssembly interpreter in Python (preview1)",
        abis: &["p1"],
        install: "make peers (pip install pywasm into target/peers/venv)",
        network: &[],
        find: |peers| find_python_package(peers, "pywasm", None),
        command: |f, _, guest, args| {
            let mut c = Command::new(&f.program);
            c.args(["-m", "pywasm", "--wasi", "preview1"]);
            for a in args {
                c.arg("--wasi-args").arg(a);
            }
            c.arg(guest);
            c
        },
    },
    Peer {
        name: "jco",
        description: "jco run, the Bytecode Alliance's JavaScript component tooling (preview2)",
        abis: &["p2"],
        install: "make peers (npm install @bytecodealliance/jco into target/peers)",
        network: &[],
        find: |peers| find_binary(&peers.join("node_modules/.bin/jco"), "jco"),
        command: |f, _, guest, args| {
            let mut c = Command::new(&f.program);
            c.arg("run").arg(guest).args(args);
            c
        },
    },
    Peer {
        name: "deno",
        description: "Deno's node:wasi (preview1)",
        abis: &["p1"],
        install: "make peers (npm install deno into target/peers)",
        network: &[],
        find: |peers| find_js_runtime(peers, "deno"),
        command: |f, _, guest, args| {
            with_runner(f, &["run", "--allow-all", "--quiet"], guest, args)
        },
    },
    Peer {
        name: "bun",
        description: "Bun's node:wasi (preview1)",
        abis: &["p1"],
        install: "make peers (npm install bun into target/peers)",
        network: &[],
        find: |peers| find_js_runtime(peers, "bun"),
        command: |f, _, guest, args| with_runner(f, &[], guest, args),
    },
    Peer {
        name: "browser_wasi_shim",
        description: "@bjorn3/browser_wasi_shim, a WASI shim in JavaScript, under Node (preview1)",
        abis: &["p1"],
        install: "make peers (npm install @bjorn3/browser_wasi_shim into target/peers)",
        network: &[],
        find: find_browser_wasi_shim,
        command: |f, _, guest, args| with_runner(f, &["--no-warnings"], guest, args),
    },
    Peer {
        name: "wasmi",
        description: "wasmi_cli, the wasmi interpreter's command line (preview1)",
        abis: &["p1"],
        install: "make peers (cargo install wasmi_cli --locked --root target/peers/wasmi)",
        network: &[],
        find: |peers| find_binary(&peers.join("wasmi/bin/wasmi"), "wasmi"),
        command: |f, _, guest, args| {
            let mut c = Command::new(&f.program);
            c.arg(guest).args(args);
            c
        },
    },
];

const NODE_WASI: &str = include_str!("peers/node_wasi.mjs");
const NODE_WASI_COMPAT: &str = include_str!("peers/node_wasi_compat.mjs");
const BROWSER_WASI_SHIM: &str = include_str!("peers/browser_wasi_shim.mjs");
const WASMTIME_PY: &str = include_str!("peers/wasmtime_py.py");

/// The runtime named `name`, or what is accepted.
/// The runtimes `suite --runtime` names, in order, each resolved once: `wouldblock` (the
/// default, `None`) and peers by name; `all` is wouldblock and every peer. `Err` (a usage
/// error) for a name no runtime has.
pub fn choose(names: &[String]) -> Result<Vec<(String, Option<&'static Peer>)>, String> {
    let names: Vec<String> = match names {
        [] => vec!["wouldblock".into()],
        many if many.iter().any(|r| r == "all") => std::iter::once("wouldblock".to_string())
            .chain(PEERS.iter().map(|p| p.name.to_string()))
            .collect(),
        many => many.to_vec(),
    };
    names
        .into_iter()
        .map(|name| match name.as_str() {
            "wouldblock" => Ok((name, None)),
            other => by_name(other).map(|peer| (name, Some(peer))),
        })
        .collect()
}

/// The peer called `name`, or a usage error that lists them.
pub fn by_name(name: &str) -> Result<&'static Peer, String> {
    PEERS.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = PEERS.iter().map(|p| p.name).collect();
        format!(
            "`{name}` is not a runtime; expected wouldblock, all, or one of {}",
            names.join(", ")
        )
    })
}

impl Peer {
    /// Finds the runtime; `peers` is where `make peers` installs things.
    pub fn find(&self, peers: &Path) -> Option<Found> {
        (self.find)(peers)
    }
}

/// `PROGRAM BEFORE… RUNNER GUEST ARGS…`: a runtime that runs the guest through a runner script
/// written out by its `find`.
fn with_runner(f: &Found, before: &[&str], guest: &Path, args: &[String]) -> Command {
    let mut c = Command::new(&f.program);
    c.args(before)
        .arg(f.script.as_ref().expect("a runner"))
        .arg(guest)
        .args(args);
    c
}

/// The first line a `--version` command prints, if it runs.
fn version_of(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

/// Writes a runner script into `dir` (once per process run; contents are fixed).
fn script(dir: &Path, name: &str, text: &str) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(name);
    std::fs::write(&path, text).ok()?;
    Some(path)
}

fn find_node(peers: &Path) -> Option<Found> {
    let version = version_of(Command::new("node").arg("--version"))?;
    let script = script(&peers.join("runners"), "node_wasi.mjs", NODE_WASI)?;
    Some(Found {
        program: "node".into(),
        version: format!("node {version}"),
        script: Some(script),
    })
}

/// Deno or Bun: the binary `make peers` installed from npm (the package ships it), else one
/// on `PATH`; both run the same node:wasi runner.
fn find_js_runtime(peers: &Path, name: &str) -> Option<Found> {
    let found = find_binary(&peers.join("node_modules/.bin").join(name), name)?;
    // `deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)`: the name and number suffice.
    let version = found.version.split(" (").next().unwrap_or_default();
    let version = if version.starts_with(name) {
        version.to_string()
    } else {
        format!("{name} {version}")
    };
    let script = script(
        &peers.join("runners"),
        "node_wasi_compat.mjs",
        NODE_WASI_COMPAT,
    )?;
    Some(Found {
        version,
        script: Some(script),
        ..found
    })
}

/// A runtime's binary: `local` (where `make peers` installs it) when it is there, else `name`
/// on `PATH`; its version is the first line of its `--version`.
fn find_binary(local: &Path, name: &str) -> Option<Found> {
    let program = if local.exists() {
        local.to_path_buf()
    } else {
        PathBuf::from(name)
    };
    let version = version_of(Command::new(&program).arg("--version"))?;
    Some(Found {
        program,
        version,
        script: None,
    })
}

/// Node and the shim `make peers` installed: the runner is written next to `node_modules`,
/// where Node resolves the package from.
fn find_browser_wasi_shim(peers: &Path) -> Option<Found> {
    let package = peers.join("node_modules/@bjorn3/browser_wasi_shim/package.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(package).ok()?).ok()?;
    let version = manifest["version"].as_str()?.to_string();
    version_of(Command::new("node").arg("--version"))?;
    let script = script(
        &peers.join("runners"),
        "browser_wasi_shim.mjs",
        BROWSER_WASI_SHIM,
    )?;
    Some(Found {
        program: "node".into(),
        version: format!("browser_wasi_shim {version}"),
        script: Some(script),
    })
}

/// A Python with `package` importable: `make peers`'s venv first, then `python3`.
fn find_python_package(peers: &Path, package: &str, runner: Option<(&str, &str)>) -> Option<Found> {
    let venv = peers.join("venv/bin/python");
    let candidates = [venv, PathBuf::from("python3")];
    for python in candidates {
        let probe = format!("import importlib.metadata as m; print(m.version('{package}'))");
        if let Some(v) = version_of(Command::new(&python).args(["-c", &probe])) {
            let script = match runner {
                Some((name, text)) => Some(script(&peers.join("runners"), name, text)?),
                None => None,
            };
            return Some(Found {
                program: python,
                version: format!("{package} {v}"),
                script,
            });
        }
    }
    None
}

/// What a subprocess run produced.
pub struct Subprocess {
    /// Its exit code; `Err("blocked" | "crash", why)` when it had none.
    pub exit: Result<i32, (&'static str, String)>,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

/// The bytes a write into an empty pipe takes at once on every platform (POSIX's minimum
/// PIPE_BUF).
const PIPE_BUF: usize = 512;

/// Runs `guest` under `peer` with the runtime's `options` (such as [`Peer::network`]) and
/// stdin fed as `stdin` says, until `deadline`.
pub fn run(
    peer: &Peer,
    found: &Found,
    options: &[&str],
    guest: &Path,
    args: &[String],
    stdin: &StdinSpec,
    deadline: Instant,
) -> Subprocess {
    let crash = |what: String| Subprocess {
        exit: Err(("crash", what)),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    let (reader, feed) = match Feed::prepare(stdin) {
        Ok(f) => f,
        Err(e) => return crash(format!("filling a stdin pipe for {}: {e}", peer.name)),
    };
    let mut cmd = (peer.command)(found, options, guest, args);
    cmd.stdin(reader)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawned = spawn(&mut cmd);
    // The parent's copy of the read end goes with the command: a feeder writing to a runtime
    // that has exited then gets EPIPE instead of blocking on a pipe no one drains.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return crash(format!("starting {}: {e}", peer.name)),
    };
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || feed.run(hold_rx));
    let out_t = read_all(child.stdout.take().expect("piped"));
    let err_t = read_all(child.stderr.take().expect("piped"));
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                break match status.code() {
                    Some(code) => Ok(code),
                    None => Err((
                        "crash",
                        format!("{} was killed by a signal ({status})", peer.name),
                    )),
                };
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err((
                    "blocked",
                    format!("still running at the deadline under {}", peer.name),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => break Err(("crash", e.to_string())),
        }
    };
    drop(hold_tx);
    let _ = feeder.join();
    Subprocess {
        exit,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

/// A runtime's stdin: a pipe filled before the runtime starts with what the case says is
/// waiting, so a fast runtime's first poll never races the feeder, and what comes later.
struct Feed {
    /// The write end, when anything remains to be done with it; `None` once the pipe is
    /// complete (end-of-file already behind the data).
    writer: Option<std::io::PipeWriter>,
    /// Bytes beyond what an empty pipe takes at once.
    rest: Vec<u8>,
    /// Bytes written after a delay (`after:MS:TEXT`).
    later: Option<(Duration, Vec<u8>)>,
    /// Held open and never written until the run is over (`open`).
    hold: bool,
}

impl Feed {
    /// The pipe's read end for the runtime, filled with up to [`PIPE_BUF`] bytes of what is
    /// waiting (closed behind them when that is all), and the feed for the rest.
    fn prepare(stdin: &StdinSpec) -> std::io::Result<(std::io::PipeReader, Feed)> {
        // No process starts before a complete pipe's write end is closed.
        let _fork = fork_lock();
        let (reader, mut writer) = std::io::pipe()?;
        let (mut now, later) = match stdin {
            StdinSpec::Data(bytes) => (bytes.clone(), None),
            StdinSpec::File(path) => (std::fs::read(path)?, None),
            StdinSpec::After(delay, bytes) => (Vec::new(), Some((*delay, bytes.clone()))),
            StdinSpec::Eof | StdinSpec::Inherit | StdinSpec::Open => (Vec::new(), None),
        };
        let rest = now.split_off(now.len().min(PIPE_BUF));
        writer.write_all(&now)?;
        let hold = matches!(stdin, StdinSpec::Open);
        let done = rest.is_empty() && later.is_none() && !hold;
        let feed = Feed {
            writer: (!done).then_some(writer),
            rest,
            later,
            hold,
        };
        Ok((reader, feed))
    }

    /// Writes the rest, then what comes later, or holds the pipe open until `hold` is
    /// dropped (the run is over); then closes it.
    fn run(self, hold: std::sync::mpsc::Receiver<()>) {
        let Some(mut pipe) = self.writer else { return };
        let _ = pipe.write_all(&self.rest);
        match self.later {
            Some((delay, bytes)) if hold.recv_timeout(delay).is_err() => {
                let _ = pipe.write_all(&bytes);
            }
            Some(_) => {}
            None if self.hold => {
                let _ = hold.recv();
            }
            None => {}
        }
        // End-of-file at once for the runtime, not after some other process's exec.
        let _fork = fork_lock();
        drop(pipe);
    }
}

/// Held while a process starts and while a stdin pipe's write end exists only to be closed.
/// A process started between `pipe(2)` and that close would hold a copy of the write end
/// until its `exec` (close-on-exec): a runtime polling its stdin in that moment sees data
/// but no hang-up. Cases run in parallel, so without it wasmi's C `poll_stdin/data` saw
/// `hup=0` once in session 26's CI.
static FORK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// [`FORK`], taken (a panic elsewhere does not poison it for the others).
fn fork_lock() -> std::sync::MutexGuard<'static, ()> {
    FORK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts `cmd` under [`FORK`].
fn spawn(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    let _fork = fork_lock();
    cmd.spawn()
}

/// Reads `r` to its end on a thread of its own; what it read.
fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

#[cfg(test)]
mod tests {
    use super::{Feed, PEERS, PIPE_BUF};
    use crate::spec::StdinSpec;
    use crate::suite::expect;
    use std::time::Duration;

    /// Data a case says is waiting is in the pipe, end-of-file behind it, before the
    /// runtime starts: read here with no feeder running at all.
    #[test]
    fn waiting_data_is_in_the_pipe_before_the_runtime_starts() {
        use std::io::Read;
        let (mut reader, feed) = Feed::prepare(&StdinSpec::Data(b"hi".to_vec())).unwrap();
        assert!(
            feed.writer.is_none(),
            "the pipe is complete before the start"
        );
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"hi");

        let (mut reader, feed) = Feed::prepare(&StdinSpec::Eof).unwrap();
        assert!(feed.writer.is_none());
        assert_eq!(reader.read(&mut [0; 8]).unwrap(), 0, "end-of-file at once");
    }

    /// What does not fit an empty pipe at once goes to the feeder, in order; `after` and
    /// `open` keep the write end for later.
    #[test]
    fn the_feeder_writes_what_does_not_fit_and_what_comes_later() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (reader, feed) = Feed::prepare(&StdinSpec::Data(big.clone())).unwrap();
        assert_eq!(feed.rest.len(), big.len() - PIPE_BUF);
        let (_tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || feed.run(rx));
        assert!(
            read_within(reader) == big,
            "the bytes arrive whole and in order"
        );

        let after = StdinSpec::After(Duration::from_millis(1), b"late".to_vec());
        let (reader, feed) = Feed::prepare(&after).unwrap();
        assert!(feed.writer.is_some() && feed.rest.is_empty());
        let (_tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || feed.run(rx));
        assert_eq!(read_within(reader), b"late");

        let (_reader, feed) = Feed::prepare(&StdinSpec::Open).unwrap();
        assert!(feed.writer.is_some() && feed.hold);
    }

    /// A complete stdin pipe hangs up at once, even while other threads start processes: a
    /// fork between the pipe's creation and the close of its write end would hold a copy of
    /// that end until its exec, and a runtime polling then would see no hang-up.
    ///
    /// The processes started here would race every other test's pipes the same way: the
    /// test runs alone, in a copy of this test binary of its own.
    #[cfg(unix)]
    #[test]
    fn a_complete_pipe_hangs_up_while_other_threads_spawn() {
        const ALONE: &str = "WOULDBLOCK_TEST_ALONE";
        let name = "suite::peers::tests::a_complete_pipe_hangs_up_while_other_threads_spawn";
        if std::env::var_os(ALONE).is_none() {
            let mut cmd = super::Command::new(std::env::current_exe().unwrap());
            cmd.args(["--exact", name, "--test-threads", "1"])
                .env(ALONE, "1");
            let out = wouldblock_tests::run_with_deadline(cmd, None, Duration::from_secs(60));
            assert!(
                out.code == Some(0) && out.stdout.contains("1 passed"),
                "{out:?}"
            );
            return;
        }
        use std::os::fd::AsRawFd;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let (stop, spawned) = (AtomicBool::new(false), AtomicUsize::new(0));
        let missed = std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let mut cmd = super::Command::new("true");
                        if let Ok(mut child) = super::spawn(&mut cmd) {
                            let _ = child.wait();
                        }
                        spawned.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            // Pipes made while 1,000 processes start (without the lock, over a hundred of
            // them missed their hang-up here), or for 20 s at most.
            let (mut missed, until) = (0, std::time::Instant::now() + Duration::from_secs(20));
            let mut polled = Vec::new();
            while spawned.load(Ordering::Relaxed) < 1000 && std::time::Instant::now() < until {
                let (reader, _feed) = Feed::prepare(&StdinSpec::Data(b"hi".to_vec())).unwrap();
                let fds = [(reader.as_raw_fd(), false)];
                crate::sys::poll_many_into(&fds, Duration::ZERO, &mut polled).unwrap();
                missed += usize::from(!polled[0].hangup);
            }
            stop.store(true, Ordering::Relaxed);
            missed
        });
        assert_eq!(missed, 0, "pipes seen without their hang-up");
    }

    /// Everything `reader` gives up to its end-of-file; a failure after 10 s (a hang).
    fn read_within(mut reader: std::io::PipeReader) -> Vec<u8> {
        use std::io::Read;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let _ = reader.read_to_end(&mut got);
            let _ = tx.send(got);
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("end-of-file within 10 s")
    }

    /// Every runtime's recorded expectations load, and every case names a guest the build has:
    /// this keeps the recordings of runtimes CI does not install (the wasmtime CLI) well-formed.
    #[test]
    fn recorded_runtimes_load_and_name_built_guests() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let guests: Vec<String> = std::fs::read_dir(repo.join("target/guests"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for peer in PEERS {
            let dir = repo.join("tests/expectations").join(peer.name);
            let files = expect::load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", peer.name));
            assert!(!files.is_empty(), "{}: nothing recorded", peer.name);
            for (scenario, file) in &files {
                for case in &file.cases {
                    let abi = case.abi.map_or("p1", |a| a.name());
                    assert!(
                        peer.abis.contains(&abi),
                        "{}/{scenario}/{}: {abi} is not an ABI it runs",
                        peer.name,
                        case.name
                    );
                    for lang in case
                        .langs
                        .clone()
                        .unwrap_or_else(|| vec![expect::Lang::Rust])
                    {
                        let stem = format!("{abi}_{}_{scenario}.", lang.name());
                        assert!(
                            guests.iter().any(|g| g.starts_with(&stem)),
                            "{}/{scenario}/{}: no guest {stem}wasm",
                            peer.name,
                            case.name
                        );
                    }
                }
            }
        }
    }
}
