//! What CPython makes of an errno: the `OSError` subclass it raises and the line it prints.
//!
//! Source: CPython `Objects/exceptions.c`, `_PyExc_InitState`, the `ADD_ERRNO` map that
//! `OSError.__new__` consults; `OSError.__str__` for the `[Errno N] strerror` form. A
//! `BlockingIOError` may carry `characters_written`, which does not change its `str()`.

use crate::errno::{self, Platform, Posix, WasiErrno};
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PyError {
    /// The platform this rendering is for.
    pub platform: Platform,
    /// The exception class, e.g. `BlockingIOError`.
    pub exception: &'static str,
    /// The native errno value.
    pub errno: i32,
    /// The native errno name, e.g. `EAGAIN`.
    pub name: &'static str,
    /// `os.strerror(errno)` on that platform.
    pub strerror: &'static str,
    /// Bytes accepted before the would-block, for partial writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub characters_written: Option<u64>,
    /// The last line of the traceback, e.g. `BlockingIOError: [Errno 11] Resource ...`.
    pub line: String,
}

/// Renders `wasi` as Python on `platform` would raise it; `None` for `success` and for
/// conditions the platform has no errno for.
pub fn render(
    platform: Platform,
    wasi: WasiErrno,
    characters_written: Option<u64>,
) -> Option<PyError> {
    let posix = wasi.posix()?;
    let native = errno::native(platform, posix)?;
    let exception = exception_for(posix);
    Some(PyError {
        platform,
        exception,
        errno: native.number,
        name: native.name,
        strerror: native.strerror,
        characters_written,
        line: format!("{exception}: [Errno {}] {}", native.number, native.strerror),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn again_on_linux_is_blocking_io_error_11() {
        let r = render(Platform::Linux, WasiErrno::Again, None).unwrap();
        assert_eq!(r.exception, "BlockingIOError");
        assert_eq!(r.errno, 11);
        assert_eq!(r.name, "EAGAIN");
        assert_eq!(
            r.line,
            "BlockingIOError: [Errno 11] Resource temporarily unavailable"
        );
        assert_eq!(render(Platform::Linux, WasiErrno::Success, None), None);
        assert_eq!(render(Platform::Linux, WasiErrno::Notcapable, None), None);
    }
}
