//! `wouldblock explain`: one WASI errno as Python would raise it on each platform.

use crate::errno::{HandleKind, Platform, WasiErrno};
use crate::python::{self, PyError};
use serde::Serialize;

/// One errno explained.
#[derive(Serialize)]
pub struct Explanation {
    /// The WASI value.
    pub wasi_errno: u16,
    /// The witx name.
    pub wasi_name: &'static str,
    /// The witx description.
    pub meaning: &'static str,
    /// The POSIX condition, e.g. `EAGAIN` (`null` for `success`).
    pub posix: Option<&'static str>,
    /// The handle kind the renderings are for.
    pub handle_kind: HandleKind,
    /// One per platform asked for.
    pub renderings: Vec<Rendering>,
    /// For `again`: what "would block" is in each WASI ABI, and how it becomes EAGAIN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub abis: Vec<AbiWouldBlock>,
}

/// What "would block" is in one WASI ABI.
#[derive(Clone, Copy, Serialize)]
pub struct AbiWouldBlock {
    /// `p1`, `p2` or `p3`.
    pub abi: &'static str,
    /// What the guest is told, and how a libc turns it into EAGAIN.
    pub would_block: &'static str,
    /// The calls `wouldblock` records it on.
    pub recorded_as: &'static str,
}

/// The three models, oldest first. Sources: the witx of wasi_snapshot_preview1 (`errno`
/// `again`), the WIT of wasi:io@0.2 (`input-stream.read`, `check-write`), the component
/// model's Concurrency.md (BLOCKED, `stream.cancel-read`) and wasi-libc's p3 target
/// (WebAssembly/wasi-libc#782).
pub const ABI_MODELS: [AbiWouldBlock; 3] = [
    AbiWouldBlock {
        abi: "p1",
        would_block: "errno `again` (6) from a call on a descriptor with FDFLAGS_NONBLOCK: \
                      wasi-libc hands it on as EAGAIN",
        recorded_as: "fd_read, fd_write, sock_recv, sock_send, sock_accept -> again",
    },
    AbiWouldBlock {
        abi: "p2",
        would_block: "no errno: a non-blocking input-stream.read returns an empty list, \
                      output-stream.check-write a zero permit; the guest polls the stream's \
                      pollable (wasi-libc's p2 target turns an empty read of a non-blocking \
                      socket into EAGAIN)",
        recorded_as: "input-stream.read, input-stream.skip, output-stream.check-write -> again",
    },
    AbiWouldBlock {
        abi: "p3",
        would_block: "no errno: an async stream.read/stream.write the host cannot complete \
                      returns BLOCKED; the guest waits, or cancels and gets Cancelled with \
                      nothing moved, which wasi-libc's p3 target turns into EAGAIN for \
                      O_NONBLOCK; a zero-length read or write is a readiness probe",
        recorded_as: "stream.read, stream.write, stream.probe-read, stream.probe-write \
                      (BLOCKED), stream.cancel-read, stream.cancel-write (Cancelled) -> again",
    },
];

/// One platform's rendering.
#[derive(Serialize)]
pub struct Rendering {
    /// The platform.
    pub platform: Platform,
    /// What Python raises there; `null` where the platform has no such error.
    pub python: Option<PyError>,
}

/// POSIX names that are another name for a condition the tables list under one name
/// (glibc's `<errno.h>`: `EWOULDBLOCK` is `EAGAIN`, `EDEADLOCK` is `EDEADLK`, `EOPNOTSUPP`
/// is `ENOTSUP`).
const POSIX_ALIASES: [(&str, &str); 3] = [
    ("EWOULDBLOCK", "EAGAIN"),
    ("EDEADLOCK", "EDEADLK"),
    ("EOPNOTSUPP", "ENOTSUP"),
];

/// Parses `ERRNO|NAME`: a WASI number or name, or a POSIX name (`EAGAIN`, `EWOULDBLOCK`);
/// the error lists what is accepted.
pub fn parse_errno(text: &str) -> Result<WasiErrno, String> {
    if let Some(e) = WasiErrno::parse(text) {
        return Ok(e);
    }
    let upper = text.trim().to_ascii_uppercase();
    let posix = POSIX_ALIASES
        .iter()
        .find(|(alias, _)| *alias == upper)
        .map_or(upper.as_str(), |(_, name)| name);
    WasiErrno::ALL
        .iter()
        .copied()
        .find(|e| e.posix().is_some_and(|p| p.name() == posix))
        .ok_or_else(|| {
            let names: Vec<&str> = WasiErrno::ALL.iter().map(|e| e.name()).collect();
            format!(
                "`{text}` is not a WASI errno; expected a number from 0 to 76, a POSIX name such as EAGAIN, or a name: {}",
                names.join(", ")
            )
        })
}

/// Parses a platform's own errno number (with `kind` socket on Windows, a Winsock `WSAE*`
/// code): the WASI errno whose condition has that number there.
pub fn parse_native(text: &str, platform: Platform, kind: HandleKind) -> Result<WasiErrno, String> {
    let n: i32 = text.trim().parse().map_err(|_| {
        format!("`{text}` is not a number; --native takes the platform's errno number")
    })?;
    WasiErrno::ALL
        .iter()
        .copied()
        .find(|e| {
            e.posix()
                .and_then(|p| crate::errno::native(platform, p, kind))
                .is_some_and(|native| native.number == n)
        })
        .ok_or_else(|| {
            let handles = match kind {
                HandleKind::Pipe => "pipe",
                HandleKind::Socket => "socket",
            };
            format!(
                "{n} is no {} errno that WASI has a name for ({handles} handles)",
                platform.name()
            )
        })
}

/// Explains `errno` from a handle of `kind` on `platforms`: what Python raises on each.
///
/// ```
/// use wouldblock::{explain, HandleKind, Platform, WasiErrno};
///
/// let x = explain(WasiErrno::Again, &[Platform::Linux, Platform::Windows], HandleKind::Socket);
/// assert_eq!(x.posix, Some("EAGAIN"));
/// let linux = x.renderings[0].python.as_ref().unwrap();
/// assert_eq!(linux.line, "BlockingIOError: [Errno 11] Resource temporarily unavailable");
/// // A Windows socket reports WSAEWOULDBLOCK.
/// let windows = x.renderings[1].python.as_ref().unwrap();
/// assert_eq!((windows.name.as_str(), windows.winerror), ("WSAEWOULDBLOCK", Some(10035)));
/// ```
pub fn explain(errno: WasiErrno, platforms: &[Platform], kind: HandleKind) -> Explanation {
    Explanation {
        wasi_errno: errno.raw(),
        wasi_name: errno.name(),
        meaning: errno.meaning(),
        posix: errno.posix_name(),
        handle_kind: kind,
        renderings: platforms
            .iter()
            .map(|p| Rendering {
                platform: *p,
                python: python::render(*p, kind, errno, None),
            })
            .collect(),
        abis: match errno {
            WasiErrno::Again => ABI_MODELS.to_vec(),
            _ => Vec::new(),
        },
    }
}

/// The human-readable form: a heading, then one line per platform.
pub fn human(x: &Explanation) -> String {
    let mut out = format!("{} ({}): {}", x.wasi_name, x.wasi_errno, x.meaning);
    if let Some(posix) = x.posix {
        out += &format!(" [{posix}]");
    }
    out.push('\n');
    for r in &x.renderings {
        let text = match (&r.python, x.posix) {
            (Some(py), _) => format!("{}  ({})", py.line, py.name),
            (None, Some(posix)) => format!("no {posix} on this platform"),
            (None, None) => "no error: the call succeeded".to_string(),
        };
        out += &format!("  {:<8} {text}\n", r.platform.name());
    }
    if !x.abis.is_empty() {
        out += "would block, in each WASI ABI:\n";
        for a in &x.abis {
            out += &format!("  {:<8} {}\n", a.abi, a.would_block);
            out += &format!("  {:<8} recorded: {}\n", "", a.recorded_as);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn again_on_all_platforms() {
        let x = explain(WasiErrno::Again, Platform::ALL, HandleKind::Pipe);
        assert_eq!(
            human(&x),
            "again (6): Resource unavailable, or operation would block. [EAGAIN]\n\
             \x20 linux    BlockingIOError: [Errno 11] Resource temporarily unavailable  (EAGAIN)\n\
             \x20 macos    BlockingIOError: [Errno 35] Resource temporarily unavailable  (EAGAIN)\n\
             \x20 freebsd  BlockingIOError: [Errno 35] Resource temporarily unavailable  (EAGAIN)\n\
             \x20 windows  BlockingIOError: [Errno 11] Resource temporarily unavailable  (EAGAIN)\n\
             \x20 wasi     BlockingIOError: [Errno 6] Resource temporarily unavailable  (EAGAIN)\n\
             would block, in each WASI ABI:\n\
             \x20 p1       errno `again` (6) from a call on a descriptor with FDFLAGS_NONBLOCK: \
             wasi-libc hands it on as EAGAIN\n\
             \x20          recorded: fd_read, fd_write, sock_recv, sock_send, sock_accept -> again\n\
             \x20 p2       no errno: a non-blocking input-stream.read returns an empty list, \
             output-stream.check-write a zero permit; the guest polls the stream's pollable \
             (wasi-libc's p2 target turns an empty read of a non-blocking socket into EAGAIN)\n\
             \x20          recorded: input-stream.read, input-stream.skip, \
             output-stream.check-write -> again\n\
             \x20 p3       no errno: an async stream.read/stream.write the host cannot complete \
             returns BLOCKED; the guest waits, or cancels and gets Cancelled with nothing moved, \
             which wasi-libc's p3 target turns into EAGAIN for O_NONBLOCK; a zero-length read or \
             write is a readiness probe\n\
             \x20          recorded: stream.read, stream.write, stream.probe-read, \
             stream.probe-write (BLOCKED), stream.cancel-read, stream.cancel-write (Cancelled) \
             -> again\n"
        );
    }

    #[test]
    fn absent_and_success() {
        let x = explain(WasiErrno::Notcapable, &[Platform::Linux], HandleKind::Pipe);
        assert!(human(&x).ends_with("  linux    no ENOTCAPABLE on this platform\n"));
        let x = explain(WasiErrno::Success, &[Platform::Linux], HandleKind::Pipe);
        assert!(human(&x).ends_with("  linux    no error: the call succeeded\n"));
        assert!(parse_errno("9999").unwrap_err().contains("0 to 76"));
        assert!(parse_errno("nosuchname")
            .unwrap_err()
            .contains("again, already, badf"));
    }
}
