//! The recording format of `run --record` / `--replay` (`wouldblock.recording/1`), and
//! `wouldblock replay`'s timeline of one.
//!
//! Contract: a recording is JSON Lines. The first line is a [`Header`] (what ran: the guest's
//! size and FNV-1a hash, its argv and environment, its listeners, the run's `--chaos`); then
//! one [`Call`] per preview1 call the host answered from the outside world (reads, writes,
//! `poll_oneoff`, the socket calls and `fd_fdstat_get`/`fd_filestat_get` on a managed
//! descriptor, and `clock_time_get`/`random_get`), in order; then, when the run ended
//! normally, one [`End`]. Each call carries the guest's arguments exactly, what the host
//! wrote into guest memory (address and bytes), the bytes it took from a write, the errno and
//! the events it recorded: everything a replay needs to give the guest the same answers
//! without the outside world, and to notice where the guest stops asking the same questions.
//! The version is bumped on any change a version-1 reader would misread.

use crate::events::Handle;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The identifier and version every recording's header carries.
pub const FORMAT: &str = "wouldblock.recording/1";

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "line", rename_all = "lowercase")]
pub enum Line {
    /// The first line.
    Header(Header),
    /// One call answered by the host.
    Call(Call),
    /// The last line, when the run ended by itself or was stopped by the host.
    End(End),
}

/// What ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The `wouldblock` that recorded (`wouldblock --version`'s first word and number).
    pub wouldblock: String,
    /// The guest file: its name as given, size and hash; a replay refuses another file.
    pub guest: GuestId,
    /// The guest's argv, argv\[0\] included.
    pub argv: Vec<String>,
    /// The guest's environment, as set.
    pub env: Vec<(String, String)>,
    /// The `--tcplisten` sockets: descriptor and whether handed out non-blocking (a replay
    /// binds stand-ins on loopback, which nobody connects to).
    pub listeners: Vec<ListenerId>,
    /// The run's `--chaos` spec and seed, when it had one: the injections are in the calls.
    pub chaos: Option<ChaosId>,
    /// The run's `--timeout` in milliseconds; a replay keeps it unless given its own.
    pub timeout_ms: Option<u64>,
    /// The run's `--max-memory` in bytes; a replay keeps it unless given its own.
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// The run's `--fuel`; a replay keeps it unless given its own.
    #[serde(default)]
    pub fuel: Option<u64>,
    /// The guest names of the run's `--dir` preopens: files are not recorded, so a replay
    /// must be given the same directories again.
    #[serde(default)]
    pub dirs: Vec<String>,
}

/// A guest file, by content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GuestId {
    /// The path as given to `run`.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// FNV-1a 64 of its bytes, 16 hex digits.
    pub fnv1a64: String,
}

impl GuestId {
    /// The identity of the file `path` whose bytes are `bytes`.
    pub fn of(path: &str, bytes: &[u8]) -> Self {
        GuestId {
            path: path.to_string(),
            size: bytes.len() as u64,
            fnv1a64: format!("{:016x}", fnv1a64(bytes)),
        }
    }

    /// Whether `other` has the same content.
    pub fn same_content(&self, other: &GuestId) -> bool {
        self.size == other.size && self.fnv1a64 == other.fnv1a64
    }
}

/// A `--tcplisten` socket as the guest saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListenerId {
    /// Its descriptor number.
    pub fd: u32,
    /// Handed out with `fdflags.nonblock`.
    pub nonblock: bool,
}

/// A run's `--chaos`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChaosId {
    /// The spec, as `--chaos` takes it.
    pub spec: String,
    /// The seed.
    pub seed: u64,
}

/// One call the host answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Call {
    /// When the guest made the call: microseconds since the recording started.
    pub at_us: u64,
    /// The preview1 function, e.g. `fd_read`.
    pub call: String,
    /// Its arguments exactly as the guest passed them (pointers included).
    pub args: Vec<i64>,
    /// The descriptor's kind, for calls on a managed descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<Handle>,
    /// What the guest was told, e.g. `success`, `again`.
    pub errno: String,
    /// The count the call returned when it succeeded: bytes read or written, events, the new
    /// descriptor, the clock's reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<u64>,
    /// What the host wrote into guest memory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mem: Vec<Region>,
    /// For a write: the bytes the host took from the guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
    /// The events the call recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Occurrence>,
}

/// Bytes the host wrote into guest memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Region {
    /// The guest address.
    pub addr: u32,
    /// The bytes.
    pub data: Bytes,
}

/// The bytes a write took: enough to check that a replay writes the same, and to show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sent {
    /// How many.
    pub len: u64,
    /// Their FNV-1a 64, 16 hex digits.
    pub fnv1a64: String,
    /// The first [`Sent::HEAD`] of them.
    pub head: Bytes,
}

impl Sent {
    /// How many bytes `head` keeps.
    pub const HEAD: usize = 64;

    /// What a write of `data` took.
    pub fn of(data: &[u8]) -> Self {
        Sent {
            len: data.len() as u64,
            fnv1a64: format!("{:016x}", fnv1a64(data)),
            head: Bytes::new(&data[..data.len().min(Sent::HEAD)]),
        }
    }
}

/// Bytes: as text when they are UTF-8, else as hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bytes {
    /// UTF-8 text.
    Utf8(String),
    /// Two lowercase hex digits a byte.
    Hex(String),
}

impl Bytes {
    /// `data`, as text when it is UTF-8.
    pub fn new(data: &[u8]) -> Self {
        match std::str::from_utf8(data) {
            Ok(text) => Bytes::Utf8(text.to_string()),
            Err(_) => Bytes::Hex(data.iter().fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })),
        }
    }

    /// The bytes (`None` for malformed hex).
    pub fn decode(&self) -> Option<Vec<u8>> {
        match self {
            Bytes::Utf8(text) => Some(text.as_bytes().to_vec()),
            Bytes::Hex(hex) => {
                let hex = hex.as_bytes();
                if hex.len() % 2 != 0 {
                    return None;
                }
                hex.chunks(2)
                    .map(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 16).ok())
                    .collect()
            }
        }
    }
}

/// One occurrence of an event, as the event log recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Occurrence {
    /// The call.
    pub call: String,
    /// The descriptor.
    pub fd: u32,
    /// Its kind.
    pub handle: Handle,
    /// The errno.
    pub errno: String,
    /// Bytes of short writes before this would-block (Python's `characters_written`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub written: u64,
    /// Made by `--chaos`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub injected: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How the recorded run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct End {
    /// The guest's exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// Else why it stopped: `trap`, `deadline`, `memory` or `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.exit, &self.stop) {
            (Some(code), _) => write!(f, "exit {code}"),
            (None, Some(why)) => write!(f, "stopped ({why})"),
            (None, None) => f.write_str("unknown end"),
        }
    }
}

/// A recording read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// Its header.
    pub header: Header,
    /// Its calls, in order.
    pub calls: Vec<Call>,
    /// How the run ended; `None` when the file stops before (the host was killed).
    pub end: Option<End>,
}

impl Recording {
    /// Parses a recording: a clear error naming the line for anything that is not one.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = match lines.next() {
            Some((_, first)) => match serde_json::from_str::<Line>(first) {
                Ok(Line::Header(h)) if h.format == FORMAT => h,
                Ok(Line::Header(h)) => anyhow::bail!(
                    "a recording of format `{}`; this wouldblock reads `{FORMAT}`",
                    h.format
                ),
                _ => anyhow::bail!("not a wouldblock recording (line 1 is no `{FORMAT}` header)"),
            },
            None => anyhow::bail!("empty: not a wouldblock recording"),
        };
        let (mut calls, mut end) = (Vec::new(), None);
        for (i, line) in lines {
            if end.is_some() {
                anyhow::bail!("line {}: after the run's end", i + 1);
            }
            match serde_json::from_str::<Line>(line) {
                Ok(Line::Call(c)) => calls.push(c),
                Ok(Line::End(e)) => end = Some(e),
                Ok(Line::Header(_)) => anyhow::bail!("line {}: a second header", i + 1),
                Err(e) => anyhow::bail!("line {}: {e}", i + 1),
            }
        }
        Ok(Recording { header, calls, end })
    }

    /// Reads the recording at `path`.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Recording::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// One line of JSON for `line`, with its newline.
pub fn to_line(line: &Line) -> String {
    serde_json::to_string(line).expect("a recording line always serializes") + "\n"
}

/// FNV-1a, 64 bits (the published offset basis and prime).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// At most `max` bytes of `data` as one escaped, quoted line, `…` when cut.
fn preview(data: &[u8], max: usize) -> String {
    let shown = String::from_utf8_lossy(&data[..data.len().min(max)]);
    let mut s = format!("{:?}", shown.as_ref());
    if data.len() > max {
        s.insert(s.len() - 1, '…');
    }
    s
}

/// `wouldblock replay`: the recording as a readable timeline, one call a line.
pub fn timeline(r: &Recording) -> String {
    let h = &r.header;
    let mut out = format!(
        "recording of {} ({} bytes, fnv1a64 {}) by {}\nargv: {}\n",
        h.guest.path,
        h.guest.size,
        h.guest.fnv1a64,
        h.wouldblock,
        h.argv.join(" ")
    );
    if let Some(c) = &h.chaos {
        let _ = writeln!(out, "chaos: {} (seed {})", c.spec, c.seed);
    }
    for (i, c) in r.calls.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>6} {:>10.3} ms  {}",
            format!("#{}", i + 1),
            c.at_us as f64 / 1000.0,
            describe(c)
        );
    }
    let _ = match &r.end {
        Some(end) => writeln!(
            out,
            "end: {end} after {}",
            plural(r.calls.len() as u64, "call")
        ),
        None => writeln!(
            out,
            "end: not recorded (the run was cut off) after {}",
            plural(r.calls.len() as u64, "call")
        ),
    };
    out
}

/// One call as a line: `fd_read(fd 0 stdin, 16) -> again [injected]`.
fn describe(c: &Call) -> String {
    let arg = |i: usize| c.args.get(i).copied().unwrap_or(0);
    let on = |fd: i64| match c.handle {
        Some(h) => format!("fd {fd} {}", h.name()),
        None => format!("fd {fd}"),
    };
    let what = match c.call.as_str() {
        "poll_oneoff" => format!("poll_oneoff({})", plural(arg(2) as u64, "subscription")),
        "clock_time_get" => format!("clock_time_get(clock {})", arg(0)),
        "random_get" => format!("random_get({} bytes)", arg(1)),
        "sock_shutdown" => format!("sock_shutdown({}, how {})", on(arg(0)), arg(1)),
        name => format!("{name}({})", on(arg(0))),
    };
    let result = if c.errno != "success" {
        c.errno.clone()
    } else {
        let data = || {
            c.mem
                .iter()
                .skip(if c.call == "sock_recv" { 2 } else { 1 })
                .filter_map(|r| r.data.decode())
                .flatten()
                .collect::<Vec<u8>>()
        };
        match (c.call.as_str(), c.ret) {
            ("fd_read" | "sock_recv", Some(0)) => "0 bytes (end of file)".into(),
            ("fd_read" | "sock_recv", Some(n)) => format!("{n} bytes {}", preview(&data(), 40)),
            ("fd_write" | "sock_send", Some(n)) => {
                let head = c.sent.as_ref().and_then(|s| s.head.decode());
                let mut head = head.unwrap_or_default();
                if (head.len() as u64) < n {
                    // The preview shows it was cut.
                    head.push(b' ');
                }
                format!("{n} bytes written {}", preview(&head, 40))
            }
            ("poll_oneoff", Some(n)) => format!("{}{}", plural(n, "event"), poll_events(c)),
            ("sock_accept", Some(fd)) => format!("fd {fd}"),
            ("clock_time_get", Some(t)) => format!("{t} ns"),
            _ => "success".into(),
        }
    };
    let mut line = format!("{what} -> {result}");
    for e in &c.events {
        let mut tags = Vec::new();
        if e.written > 0 {
            tags.push(format!("characters_written={}", e.written));
        }
        if e.injected {
            tags.push("injected".to_string());
        }
        let note = match (e.errno.as_str(), e.injected) {
            ("again", _) => "EAGAIN",
            ("success", true) if c.call == "poll_oneoff" => "spurious wake-up",
            ("success", true) => "short",
            _ => e.errno.as_str(),
        };
        let _ = write!(
            line,
            "  [{note}{}{}]",
            if tags.is_empty() { "" } else { " " },
            tags.join(" ")
        );
    }
    line
}

/// `1 event`, `2 events`.
fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `: fd 0 read nbytes=5, clock` for the events a `poll_oneoff` wrote (32 bytes each:
/// userdata, error, type, nbytes, flags).
fn poll_events(c: &Call) -> String {
    let Some(evs) = c.mem.get(1).and_then(|r| r.data.decode()) else {
        return String::new();
    };
    let parts: Vec<String> = evs
        .chunks_exact(32)
        .map(|e| {
            let u16_at = |i: usize| u16::from_le_bytes([e[i], e[i + 1]]);
            let nbytes = u64::from_le_bytes(e[16..24].try_into().expect("8 bytes"));
            let (error, kind, flags) = (u16_at(8), e[10], u16_at(24));
            let mut s = match kind {
                0 => "clock".to_string(),
                1 => format!("read nbytes={nbytes}"),
                _ => format!("write nbytes={nbytes}"),
            };
            if flags & 1 != 0 {
                s += " hangup";
            }
            if error != 0 {
                let _ = write!(s, " error {error}");
            }
            s
        })
        .collect();
    format!(": {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_as_text_or_hex() {
        assert_eq!(Bytes::new(b"hi\n"), Bytes::Utf8("hi\n".into()));
        assert_eq!(Bytes::new(&[0xff, 0x00, 0x10]), Bytes::Hex("ff0010".into()));
        for data in [&b""[..], b"abc", &[0xc3, 0x28], &[0, 255, 7]] {
            assert_eq!(Bytes::new(data).decode().unwrap(), data);
        }
        assert_eq!(Bytes::Hex("f".into()).decode(), None);
        assert_eq!(Bytes::Hex("zz".into()).decode(), None);
    }

    #[test]
    fn fnv1a64_matches_the_published_values() {
        // From the FNV reference test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            wouldblock: "wouldblock 0.1.0".into(),
            guest: GuestId::of("g.wasm", b"\0asm"),
            argv: vec!["g.wasm".into()],
            env: vec![],
            listeners: vec![],
            chaos: None,
            timeout_ms: None,
            max_memory: None,
            fuel: None,
            dirs: vec![],
        }
    }

    #[test]
    fn parses_what_it_writes_and_names_the_bad_line() {
        let call = Call {
            at_us: 12,
            call: "fd_read".into(),
            args: vec![0, 16, 1, 32],
            handle: Some(Handle::Stdin),
            errno: "again".into(),
            ret: None,
            mem: vec![Region {
                addr: 32,
                data: Bytes::new(&[0; 4]),
            }],
            sent: None,
            events: vec![Occurrence {
                call: "fd_read".into(),
                fd: 0,
                handle: Handle::Stdin,
                errno: "again".into(),
                written: 0,
                injected: true,
            }],
        };
        let end = End {
            exit: Some(1),
            stop: None,
        };
        let text = to_line(&Line::Header(header()))
            + &to_line(&Line::Call(call.clone()))
            + &to_line(&Line::End(end.clone()));
        let r = Recording::parse(&text).unwrap();
        assert_eq!(
            (r.header, r.calls, r.end),
            (header(), vec![call], Some(end))
        );
        let t = timeline(&Recording::parse(&text).unwrap());
        assert!(
            t.contains("#1      0.012 ms  fd_read(fd 0 stdin) -> again  [EAGAIN injected]"),
            "{t}"
        );
        assert!(t.ends_with("end: exit 1 after 1 call\n"), "{t}");

        let err = |text: &str| Recording::parse(text).unwrap_err().to_string();
        assert_eq!(err(""), "empty: not a wouldblock recording");
        assert!(err("{}").starts_with("not a wouldblock recording"));
        let h = to_line(&Line::Header(header()));
        assert!(err(&(h.clone() + "{\"line\":\"call\"}\n")).starts_with("line 2: missing field"));
        assert_eq!(err(&(h.clone() + &h)), "line 2: a second header",);
        let mut old = header();
        old.format = "wouldblock.recording/9".into();
        assert!(err(&to_line(&Line::Header(old))).contains("format `wouldblock.recording/9`"));
    }
}
