//! The compiled-guest cache (`host/src/modcache.rs`): a guest file compiled once is loaded
//! from `$XDG_CACHE_HOME/wouldblock/` (`%LOCALAPPDATA%\wouldblock\` on Windows) the next
//! time; a file rewritten in place (even to the same length, with its modification time put
//! back) is compiled again; a bad entry or no usable cache directory falls back to
//! compiling. Each test has a cache directory of its own. These hold on Windows too (`make
//! test-windows`), where entries are keyed by the guest's contents.

use std::path::{Path, PathBuf};
use std::process::Command;
use wouldblock_tests::{run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

/// A preview1 module that writes `text` (4 bytes) to stdout.
fn printer(text: &str) -> String {
    assert_eq!(text.len(), 4);
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{text}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#
    )
}

fn run(cache: &Path, guest: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.env("XDG_CACHE_HOME", cache)
        .env("LOCALAPPDATA", cache)
        .arg("run")
        .arg(guest);
    run_with_deadline(cmd, None, DEADLINE)
}

/// The cache's entries, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let root = cache.join("wouldblock");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut all: Vec<PathBuf> = dirs
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

fn assert_prints(out: &Output, text: &str) {
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), text), "{out:?}");
}

/// A fresh directory named after `tag` with a guest `g.wat` printing `AAAA`, run once with
/// the cache in `cache/` beside it: the directory, the cache, the guest.
fn run_once(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    let (cache, guest) = (dir.join("cache"), dir.join("g.wat"));
    std::fs::write(&guest, printer("AAAA")).unwrap();
    assert_prints(&run(&cache, &guest), "AAAA");
    (dir, cache, guest)
}

#[test]
fn a_compiled_guest_is_loaded_from_the_cache_next_time() {
    let dir = temp_dir("modcache-hit");
    let cache = dir.join("cache");
    let (a, b) = (dir.join("a.wat"), dir.join("b.wat"));
    std::fs::write(&a, printer("AAAA")).unwrap();
    std::fs::write(&b, printer("BBBB")).unwrap();
    assert_prints(&run(&cache, &a), "AAAA");
    let first = entries(&cache);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].to_string_lossy().ends_with(".module"), "{first:?}");
    assert_prints(&run(&cache, &a), "AAAA");
    assert_eq!(entries(&cache), first, "a hit adds nothing");
    // The entry is what runs: B's artifact under A's name makes A print B's text.
    assert_prints(&run(&cache, &b), "BBBB");
    let b_entry = entries(&cache)
        .into_iter()
        .find(|e| *e != first[0])
        .unwrap();
    std::fs::copy(&b_entry, &first[0]).unwrap();
    assert_prints(&run(&cache, &a), "BBBB");
}

/// Where files have an identity (Unix), an entry is the file's: a copy compiles again.
/// Where they have none (Windows), it is the contents': a copy loads the same entry.
#[test]
fn a_copy_of_a_guest_has_its_own_entry_only_where_files_have_an_identity() {
    let (dir, cache, guest) = run_once("modcache-copy");
    let copy = dir.join("copy.wat");
    std::fs::copy(&guest, &copy).unwrap();
    assert_prints(&run(&cache, &copy), "AAAA");
    assert_eq!(entries(&cache).len(), if cfg!(windows) { 1 } else { 2 });
}

#[test]
fn a_guest_rewritten_in_place_is_compiled_again() {
    let (_, cache, guest) = run_once("modcache-rewrite");
    let modified = std::fs::metadata(&guest).unwrap().modified().unwrap();
    // Same inode, same length, the modification time put back: only the status-change
    // time tells.
    std::fs::write(&guest, printer("BBBB")).unwrap();
    let f = std::fs::File::options().write(true).open(&guest).unwrap();
    f.set_modified(modified).unwrap();
    drop(f);
    assert_eq!(
        std::fs::metadata(&guest).unwrap().modified().unwrap(),
        modified
    );
    assert_prints(&run(&cache, &guest), "BBBB");
    assert_eq!(entries(&cache).len(), 2);
}

#[test]
fn a_bad_entry_or_no_cache_directory_falls_back_to_compiling() {
    let (dir, cache, guest) = run_once("modcache-bad");
    let entry = entries(&cache).remove(0);
    std::fs::write(&entry, b"not a compiled module").unwrap();
    assert_prints(&run(&cache, &guest), "AAAA");
    assert!(
        std::fs::read(&entry).unwrap().starts_with(b"\x7fELF"),
        "the bad entry was replaced by a good one"
    );
    // The cache home is a file: nothing can be stored, everything still runs.
    let not_a_dir = dir.join("file");
    std::fs::write(&not_a_dir, b"").unwrap();
    assert_prints(&run(&not_a_dir, &guest), "AAAA");
}

/// A preview1 module that makes one blocking `fd_read` of stdin, then exits 0.
#[cfg(target_os = "linux")]
const READS_STDIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// The threads of process `pid`, from `/proc`.
#[cfg(target_os = "linux")]
fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

/// `host/src/run/engine.rs`: the engine a guest runs on has no cache worker thread (wasmtime
/// starts one with its on-disk cache, which compiles a guest only on a miss), so a run of a
/// cached guest is a process of one thread, with or without listeners: Linux then looks
/// descriptors up without reference counting, ~45 ns off every system call the guest
/// causes. Checked while the guest waits in a blocking read of a pipe held open and empty.
#[cfg(target_os = "linux")]
#[test]
fn a_run_of_a_cached_guest_is_one_thread() {
    let dir = temp_dir("modcache-threads");
    let (cache, guest) = (dir.join("cache"), dir.join("reads.wat"));
    std::fs::write(&guest, READS_STDIN).unwrap();
    let runs = |expect_one: bool, args: &[&str]| {
        let (r, w) = wouldblock_tests::os_pipe();
        let mut cmd = Command::new(BIN);
        cmd.env("XDG_CACHE_HOME", &cache)
            .env_remove("RUST_BACKTRACE")
            .arg("run")
            .args(args)
            .arg(&guest)
            .stdin(r)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = wouldblock_tests::spawn(&mut cmd);
        let start = std::time::Instant::now();
        let within_deadline = |child: &mut std::process::Child, what: &str| {
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                panic!("{what} within {DEADLINE:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        // Blocked in the read: in ppoll(2), by the system call it is in.
        let syscall = format!("/proc/{}/syscall", child.id());
        let ppoll = libc::SYS_ppoll.to_string();
        while std::fs::read_to_string(&syscall)
            .unwrap_or_default()
            .split_whitespace()
            .next()
            != Some(ppoll.as_str())
        {
            within_deadline(&mut child, "blocked in ppoll");
        }
        let threads = threads_of(child.id());
        drop(w);
        let status = loop {
            match child.try_wait().unwrap() {
                Some(status) => break status,
                None => within_deadline(&mut child, "exited at end-of-file"),
            }
        };
        assert_eq!(status.code(), Some(0));
        if expect_one {
            assert_eq!(threads, 1, "threads of a run of a cached guest, {args:?}");
        }
    };
    // The first run compiles (wasmtime's compiler may keep threads of its own); the second
    // loads the cached guest.
    runs(false, &[]);
    assert_eq!(entries(&cache).len(), 1);
    runs(true, &[]);
    // Listeners are reserved numbers in wasmtime-wasi's table, opened on a blocking thread
    // that is gone before the guest starts (`p1::stock::reserve`).
    runs(true, &["--tcplisten", "127.0.0.1:0"]);
}
