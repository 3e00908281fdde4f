//! What CPython makes of an errno: the `OSError` subclass it raises and the line it prints.
//!
//! Source: CPython `Objects/exceptions.c`, `_PyExc_InitState`, the `ADD_ERRNO` map that
//! `OSError.__new__` consults; `OSError.__str__` for the `[Errno N] strerror` form. A
//! `BlockingIOError` may carry `characters_written`, which does not change its `str()`.

use crate::errno::{self, Form, HandleKind, Platform, Posix, WasiErrno};
use serde::Serialize;

/// The exception CPython raises for a native errno of condition `posix`.
pub fn exception_for(posix: Posix) -> &'static str {
    use Posix::*;
    match posix {
        EAGAIN | EALREADY | EINPROGRESS => "BlockingIOError",
        ECHILD => "ChildProcessError",
        EPIPE => "BrokenPipeError",
        ECONNABORTED => "ConnectionAbortedError",
        ECONNREFUSED => "ConnectionRefusedError",
        ECONNRESET => "ConnectionResetError",
        EEXIST => "FileExistsError",
        ENOENT => "FileNotFoundError",
        EISDIR => "IsADirectoryError",
        ENOTDIR => "NotADirectoryError",
        EINTR => "InterruptedError",
        EACCES | EPERM | ENOTCAPABLE => "PermissionError",
        ESRCH => "ProcessLookupError",
        ETIMEDOUT => "TimeoutError",
        E2BIG | EADDRINUSE | EADDRNOTAVAIL | EAFNOSUPPORT | EBADF | EBADMSG | EBUSY | ECANCELED
        | EDEADLK | EDESTADDRREQ | EDOM | EDQUOT | EFAULT | EFBIG | EHOSTUNREACH | EIDRM
        | EILSEQ | EINVAL | EIO | EISCONN | ELOOP | EMFILE | EMLINK | EMSGSIZE | EMULTIHOP
        | ENAMETOOLONG | ENETDOWN | ENETRESET | ENETUNREACH | ENFILE | ENOBUFS | ENODEV
        | ENOEXEC | ENOLCK | ENOLINK | ENOMEM | ENOMSG | ENOPROTOOPT | ENOSPC | ENOSYS
        | ENOTCONN | ENOTEMPTY | ENOTRECOVERABLE | ENOTSOCK | ENOTSUP | ENOTTY | ENXIO
        | EOVERFLOW | EOWNERDEAD | EPROTO | EPROTONOSUPPORT | EPROTOTYPE | ERANGE | EROFS
        | ESPIPE | ESTALE | ETXTBSY | EXDEV => "OSError",
    }
}

/// A WASI result as Python would show it on one platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PyError {
    /// The platform this rendering is for.
    pub platform: Platform,
    /// The kind of handle the error came from (decides the form on Windows).
    pub handle_kind: HandleKind,
    /// The exception class, e.g. `BlockingIOError`.
    pub exception: String,
    /// `OSError.errno`.
    pub errno: i32,
    /// The native name, e.g. `EAGAIN` or `WSAEWOULDBLOCK`.
    pub name: String,
    /// `OSError.strerror`.
    pub strerror: String,
    /// `OSError.winerror`, for Windows errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winerror: Option<i32>,
    /// Bytes accepted before the would-block, for partial writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characters_written: Option<u64>,
    /// The last line of the traceback, e.g. `BlockingIOError: [Errno 11] Resource ...`.
    pub line: String,
}

/// Stage three: the class `OSError(number, ...)` becomes on `platform` for a native error of
/// condition `posix`. CPython keys its map by `errno.<NAME>` values, so a code that is not
/// the platform's `errno.<NAME>` (Windows' `WSAEACCES` is not `errno.EACCES`) stays `OSError`,
/// and `errno.EWOULDBLOCK` is a `BlockingIOError` whatever condition reported it.
pub fn exception(platform: Platform, posix: Posix, number: i32) -> &'static str {
    if errno::python_errno(platform, posix) == Some(number) {
        exception_for(posix)
    } else if errno::python_ewouldblock(platform) == Some(number) {
        "BlockingIOError"
    } else {
        "OSError"
    }
}

/// Renders `wasi` from a handle of `kind` as Python on `platform` would raise it; `None` for
/// `success` and for conditions the platform has no error for.
pub fn render(
    platform: Platform,
    kind: HandleKind,
    wasi: WasiErrno,
    characters_written: Option<u64>,
) -> Option<PyError> {
    let posix = wasi.posix()?;
    let native = errno::native(platform, posix, kind)?;
    let exception = exception(platform, posix, native.number);
    let (tag, winerror) = match native.form {
        Form::Errno => ("Errno", None),
        Form::Winerror => ("WinError", Some(native.number)),
    };
    Some(PyError {
        platform,
        handle_kind: kind,
        exception: exception.into(),
        errno: native.number,
        name: native.name.into(),
        strerror: native.strerror.into(),
        winerror,
        characters_written,
        line: format!("{exception}: [{tag} {}] {}", native.number, native.strerror),
    })
}

#[cfg(test)]
mod tests {
    //! Rows checked against fixed values from the cited sources (Linux rows are also checked
    //! against the machine's own python3 by `tests/errno_python.rs`).
    use super::*;
    use HandleKind::{Pipe, Socket};
    use Platform::*;

    fn line(p: Platform, k: HandleKind, e: WasiErrno) -> String {
        render(p, k, e, None).map(|r| r.line).unwrap_or_default()
    }

    #[test]
    fn again_everywhere() {
        let lines: Vec<String> = Platform::ALL
            .iter()
            .map(|p| line(*p, Pipe, WasiErrno::Again))
            .collect();
        assert_eq!(
            lines,
            [
                "BlockingIOError: [Errno 11] Resource temporarily unavailable",
                "BlockingIOError: [Errno 35] Resource temporarily unavailable",
                "BlockingIOError: [Errno 35] Resource temporarily unavailable",
                "BlockingIOError: [Errno 11] Resource temporarily unavailable",
                "BlockingIOError: [Errno 6] Resource temporarily unavailable",
            ]
        );
        let r = render(Windows, Socket, WasiErrno::Again, Some(5)).unwrap();
        assert_eq!(
            r.line,
            "BlockingIOError: [WinError 10035] A non-blocking socket operation could not be completed immediately"
        );
        assert_eq!(
            (r.errno, r.winerror, r.name.as_str()),
            (10035, Some(10035), "WSAEWOULDBLOCK")
        );
        assert_eq!(r.characters_written, Some(5));
        // Sockets only differ on Windows.
        assert_eq!(
            line(Linux, Socket, WasiErrno::Again),
            line(Linux, Pipe, WasiErrno::Again)
        );
    }

    #[test]
    fn connect_in_progress() {
        let expect = [
            (Linux, "BlockingIOError: [Errno 115] Operation now in progress"),
            (Macos, "BlockingIOError: [Errno 36] Operation now in progress"),
            (Freebsd, "BlockingIOError: [Errno 36] Operation now in progress"),
            (
                Windows,
                "BlockingIOError: [WinError 10035] A non-blocking socket operation could not be completed immediately",
            ),
            (Wasi, "BlockingIOError: [Errno 26] Operation in progress"),
        ];
        for (p, want) in expect {
            assert_eq!(line(p, Socket, WasiErrno::Inprogress), want, "{p}");
        }
        assert_eq!(
            line(Windows, Socket, WasiErrno::Already),
            "BlockingIOError: [WinError 10037] An operation was attempted on a non-blocking socket that already had an operation in progress"
        );
    }

    #[test]
    fn notcapable_is_permission_error_where_it_exists() {
        assert_eq!(
            line(Wasi, Pipe, WasiErrno::Notcapable),
            "PermissionError: [Errno 76] Capabilities insufficient"
        );
        assert_eq!(
            line(Freebsd, Pipe, WasiErrno::Notcapable),
            "PermissionError: [Errno 93] Capabilities insufficient"
        );
        for p in [Linux, Macos, Windows] {
            assert_eq!(render(p, Pipe, WasiErrno::Notcapable, None), None, "{p}");
        }
    }

    #[test]
    fn spot_checks_from_sources() {
        let expect = [
            // Apple Libc errlst.c; xnu errno.h.
            (Macos, Pipe, WasiErrno::Notsup, "OSError: [Errno 45] Operation not supported"),
            (Macos, Pipe, WasiErrno::Multihop, "OSError: [Errno 95] EMULTIHOP (Reserved)"),
            (Macos, Pipe, WasiErrno::Busy, "OSError: [Errno 16] Resource busy"),
            (Macos, Pipe, WasiErrno::Connrefused, "ConnectionRefusedError: [Errno 61] Connection refused"),
            (Macos, Pipe, WasiErrno::Timedout, "TimeoutError: [Errno 60] Operation timed out"),
            // FreeBSD errlst.c; sys/errno.h.
            (Freebsd, Pipe, WasiErrno::Busy, "OSError: [Errno 16] Device busy"),
            (Freebsd, Pipe, WasiErrno::Ownerdead, "OSError: [Errno 96] Previous owner died"),
            (Freebsd, Pipe, WasiErrno::Canceled, "OSError: [Errno 85] Operation canceled"),
            // UCRT syserr.cpp and errno.h; errnomodule.c's WSA names.
            (Windows, Pipe, WasiErrno::Pipe, "BrokenPipeError: [Errno 32] Broken pipe"),
            (Windows, Pipe, WasiErrno::Xdev, "OSError: [Errno 18] Improper link"),
            (Windows, Pipe, WasiErrno::Canceled, "OSError: [Errno 105] Unknown error"),
            (Windows, Pipe, WasiErrno::Connrefused, "ConnectionRefusedError: [Errno 10061] Unknown error"),
            (Windows, Pipe, WasiErrno::Dquot, "OSError: [Errno 10069] Unknown error"),
            (
                Windows,
                Socket,
                WasiErrno::Connrefused,
                "ConnectionRefusedError: [WinError 10061] No connection could be made because the target machine actively refused it",
            ),
            (
                Windows,
                Socket,
                WasiErrno::Timedout,
                "TimeoutError: [WinError 10060] A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond",
            ),
            // WSAEACCES is not errno.EACCES: CPython leaves it a plain OSError.
            (
                Windows,
                Socket,
                WasiErrno::Acces,
                "OSError: [WinError 10013] An attempt was made to access a socket in a way forbidden by its access permissions",
            ),
            // A socket condition Winsock has no code for goes through the CRT.
            (Windows, Socket, WasiErrno::Pipe, "BrokenPipeError: [Errno 32] Broken pipe"),
            // wasi-libc __strerror.h.
            (Wasi, Pipe, WasiErrno::Loop, "OSError: [Errno 32] Symbolic link loop"),
            (Wasi, Pipe, WasiErrno::Noent, "FileNotFoundError: [Errno 44] No such file or directory"),
        ];
        for (p, k, e, want) in expect {
            assert_eq!(line(p, k, e), want, "{p} {k:?} {}", e.name());
        }
        assert_eq!(render(Windows, Pipe, WasiErrno::Multihop, None), None);
        assert_eq!(render(Linux, Pipe, WasiErrno::Success, None), None);
    }

    #[test]
    fn numbers_are_distinct_per_platform() {
        for p in Platform::ALL {
            let mut seen = std::collections::HashMap::new();
            for e in WasiErrno::ALL {
                let Some(r) = render(*p, Pipe, *e, None) else {
                    continue;
                };
                if let Some(prev) = seen.insert(r.errno, e.name()) {
                    panic!("{p}: {prev} and {} share errno {}", e.name(), r.errno);
                }
            }
        }
    }
}
