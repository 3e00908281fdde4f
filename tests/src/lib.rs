//! Guest artifacts and helpers for the host's integration tests.
//!
//! [`guests`] holds one path constant per guest built by `build.rs`, and `foreach_guest!`.
//! [`run`] runs a command under a deadline: a hang is a failure, not a wait.

pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one command may take before the test fails. Generous: CI machines are slow,
/// and a guest that should finish in milliseconds but hangs is caught all the same.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What a finished command produced.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
    /// Standard error, as bytes.
    pub stderr_bytes: Vec<u8>,
}

impl Output {
    /// The `WB ` report lines the guest printed.
    pub fn wb_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("WB "))
            .collect()
    }

    /// The host's `wouldblock: ` lines on stderr.
    pub fn host_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("wouldblock: "))
            .collect()
    }
}

/// Runs `cmd` with `stdin` written to a pipe then closed (or `/dev/null` for `None`), and
/// waits at most `deadline`. Panics when the deadline passes (the process is killed first).
pub fn run_with_deadline(cmd: Command, stdin: Option<&[u8]>, deadline: Duration) -> Output {
    match stdin {
        Some(bytes) => run_with_feed(cmd, vec![(Duration::ZERO, bytes.to_vec())], deadline),
        None => run_inner(cmd, Stdio::null(), None, deadline),
    }
}

/// Runs `cmd` with `stdin` as its stdin (an OS pipe the test filled, a file), and waits at
/// most `deadline`, as [`run_with_deadline`].
pub fn run_with_stdin(cmd: Command, stdin: impl Into<Stdio>, deadline: Duration) -> Output {
    run_inner(cmd, stdin.into(), None, deadline)
}

/// Runs `cmd` with a stdin pipe fed `chunks`, each after its delay, then closed; waits at
/// most `deadline`.
pub fn run_with_feed(cmd: Command, chunks: Vec<(Duration, Vec<u8>)>, deadline: Duration) -> Output {
    run_inner(cmd, Stdio::piped(), Some(chunks), deadline)
}

/// `cmd.spawn()`, panicking with the command on failure. Under Wine, `CreateProcess`
/// occasionally fails with `ERROR_INTERNAL_ERROR` (1359) when several test threads start
/// processes at once (seen once in a CI run of the Windows suite tests, never on Linux or
/// on the next try): that error alone is retried, a few times, 100 ms apart. Any other
/// error, and the same one a fifth time, is the test's failure.
pub fn spawn(cmd: &mut Command) -> Child {
    const WINE_TRANSIENT: i32 = 1359;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Ok(child) => return child,
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(WINE_TRANSIENT) && tries < 4 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("spawning {cmd:?}: {e}"),
        }
    }
}

/// Waits for `child` to exit until `until` passes, asking every 2 ms: its status, or `None`
/// when it still runs then (the caller kills it and fails).
pub fn exit_by(child: &mut Child, until: Instant) -> Option<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the command") {
            return Some(status);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_inner(
    mut cmd: Command,
    stdin: Stdio,
    feed: Option<Vec<(Duration, Vec<u8>)>>,
    deadline: Duration,
) -> Output {
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut cmd);
    let child_stdin = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let (Some(mut pipe), Some(chunks)) = (child_stdin, feed) {
            for (delay, bytes) in chunks {
                std::thread::sleep(delay);
                if pipe.write_all(&bytes).is_err() {
                    break;
                }
            }
        }
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let Some(status) = exit_by(&mut child, Instant::now() + deadline) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("deadline of {deadline:?} exceeded: {cmd:?}");
    };
    feeder.join().unwrap();
    let stderr_bytes = err_t.join().unwrap();
    Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
        stderr_bytes,
    }
}

/// Reads and parses a JSON file.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A loopback port nobody listens on now (the kernel does not hand it out again at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh empty directory under the system temp dir, unique to this process and `tag`.
/// On Unix it is removed when the test process exits (kept when `WOULDBLOCK_KEEP_TEST_DIRS`
/// is set, to look into after a failure).
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wouldblock-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg(unix)]
    removed_at_exit(&dir);
    dir
}

/// The directories [`temp_dir`] made in this process.
#[cfg(unix)]
static TEMP_DIRS: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Adds `dir` to those removed at exit; the first call registers the removal with
/// `atexit(3)`, which the test harness's `exit` runs whatever the tests' verdict.
#[cfg(unix)]
fn removed_at_exit(dir: &std::path::Path) {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    extern "C" fn remove_temp_dirs() {
        if std::env::var_os("WOULDBLOCK_KEEP_TEST_DIRS").is_some() {
            return;
        }
        let dirs = TEMP_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        for d in dirs.iter() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    // SAFETY: a function with the C ABI that takes nothing and returns nothing.
    REGISTER.call_once(|| unsafe {
        libc::atexit(remove_temp_dirs);
    });
    TEMP_DIRS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// A blocking OS pipe, close-on-exec: (read end, write end).
#[cfg(unix)]
pub fn os_pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: a valid two-int array.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) },
        0,
        "pipe2"
    );
    // SAFETY: both descriptors were just created and are owned by nothing else.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(fds[0])),
            std::fs::File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

/// A `wouldblock run --tcplisten …:0` under way: the address it announced, and the means to
/// wait for it under a deadline. Dropped before [`Listening::wait`] returned (a test that
/// panics while the command serves), it kills the command and reaps it: no server outlives
/// its test.
pub struct Listening {
    child: std::process::Child,
    cmd: String,
    addr: std::net::SocketAddr,
    /// Taken by [`Listening::wait`].
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stdout_lines: std::sync::mpsc::Receiver<String>,
    /// Taken by [`Listening::wait`].
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    started: Instant,
}

impl Drop for Listening {
    fn drop(&mut self) {
        // `try_wait` answers from the saved status once the command has been reaped.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `r` line by line to its end, sending each line to `tx`; everything read.
fn collect_lines(r: impl Read, tx: std::sync::mpsc::Sender<String>) -> Vec<u8> {
    use std::io::BufRead;
    let mut all = Vec::new();
    let mut r = std::io::BufReader::new(r);
    let mut line = Vec::new();
    while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
        all.append(&mut line);
    }
    all
}

impl Listening {
    /// Spawns `cmd` (stdin from /dev/null) and waits for its `listening on ADDR` line.
    pub fn spawn(mut cmd: Command) -> Listening {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let text = format!("{cmd:?}");
        let mut child = spawn(&mut cmd);
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (out_tx, stdout_lines) = std::sync::mpsc::channel();
        let stdout = std::thread::spawn(move || collect_lines(out, out_tx));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = std::thread::spawn(move || collect_lines(err, tx));
        let started = Instant::now();
        let addr = loop {
            let left = DEADLINE.saturating_sub(started.elapsed());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("wouldblock: listening on ") {
                        let addr = rest.split(' ').next().unwrap();
                        break addr.parse().expect("an address");
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("no `listening on` line from {text}");
                }
            }
        };
        Listening {
            child,
            cmd: text,
            addr,
            stdout: Some(stdout),
            stdout_lines,
            stderr: Some(stderr),
            started,
        }
    }

    /// Waits, at most until [`DEADLINE`] from the start, for a line of the command's stdout
    /// containing `needle`; panics (the drop kills the command) if none comes.
    pub fn await_stdout(&mut self, needle: &str) {
        loop {
            let left = DEADLINE.saturating_sub(self.started.elapsed());
            match self.stdout_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("no stdout line with `{needle}` from {}", self.cmd),
            }
        }
    }

    /// The command's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The announced address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Waits for the exit, at most [`DEADLINE`] from the start; panics past it.
    pub fn wait(mut self) -> Output {
        let Some(status) = exit_by(&mut self.child, self.started + DEADLINE) else {
            panic!("deadline of {DEADLINE:?} exceeded: {}", self.cmd);
        };
        let joined = |h: &mut Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.take().expect("joined once").join().unwrap()
        };
        let stderr_bytes = joined(&mut self.stderr);
        Output {
            code: status.code(),
            stdout: String::from_utf8_lossy(&joined(&mut self.stdout)).into_owned(),
            stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
            stderr_bytes,
        }
    }
}
