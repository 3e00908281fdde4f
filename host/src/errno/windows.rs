//! Windows: CPython on the Universal CRT, and Winsock for sockets.
//!
//! Sources:
//! - numbers: the Windows SDK `ucrt/errno.h` (POSIX supplement from 100 up);
//! - messages: UCRT `misc/syserr.cpp` (`_sys_errlist`, 0..=42; `strerror` of anything else is
//!   "Unknown error");
//! - CPython `Modules/errnomodule.c` and `Objects/exceptions.c`: on Windows 23 socket names
//!   (plus `EWOULDBLOCK`) are `#undef`d and take their `WSAE*` value, and `EDQUOT`/`ESTALE`
//!   exist only as `WSAEDQUOT`/`WSAESTALE`;
//! - Winsock: Microsoft's "Windows Sockets Error Codes" list and `winerror.h`; CPython prints
//!   `FormatMessage`'s text without the trailing period (`PyErr_SetExcFromWindowsErr`).
//!
//! A pipe would-block is the CRT's `EAGAIN` (11); a socket would-block is `WSAEWOULDBLOCK`
//! (10035), and so is a non-blocking `connect` in progress.

use super::Posix;

/// `_sys_errlist`, indexed by errno.
const SYS_ERRLIST: [&str; 43] = [
    "No error",
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted function call",
    "Input/output error",
    "No such device or address",
    "Arg list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Not enough space",
    "Permission denied",
    "Bad address",
    "Unknown error",
    "Resource device",
    "File exists",
    "Improper link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate I/O control operation",
    "Unknown error",
    "File too large",
    "No space left on device",
    "Invalid seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Domain error",
    "Result too large",
    "Unknown error",
    "Resource deadlock avoided",
    "Unknown error",
    "Filename too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Illegal byte sequence",
];

/// The CRT's `strerror(number)`.
pub(super) fn strerror(number: i32) -> &'static str {
    usize::try_from(number)
        .ok()
        .and_then(|i| SYS_ERRLIST.get(i).copied())
        .unwrap_or("Unknown error")
}

/// The UCRT `errno.h` value for `posix`.
fn crt(posix: Posix) -> Option<i32> {
    match posix {
        Posix::E2BIG => Some(7),
        Posix::EACCES => Some(13),
        Posix::EADDRINUSE => Some(100),
        Posix::EADDRNOTAVAIL => Some(101),
        Posix::EAFNOSUPPORT => Some(102),
        Posix::EAGAIN => Some(11),
        Posix::EALREADY => Some(103),
        Posix::EBADF => Some(9),
        Posix::EBADMSG => Some(104),
        Posix::EBUSY => Some(16),
        Posix::ECANCELED => Some(105),
        Posix::ECHILD => Some(10),
        Posix::ECONNABORTED => Some(106),
        Posix::ECONNREFUSED => Some(107),
        Posix::ECONNRESET => Some(108),
        Posix::EDEADLK => Some(36),
        Posix::EDESTADDRREQ => Some(109),
        Posix::EDOM => Some(33),
        Posix::EDQUOT => None,
        Posix::EEXIST => Some(17),
        Posix::EFAULT => Some(14),
        Posix::EFBIG => Some(27),
        Posix::EHOSTUNREACH => Some(110),
        Posix::EIDRM => Some(111),
        Posix::EILSEQ => Some(42),
        Posix::EINPROGRESS => Some(112),
        Posix::EINTR => Some(4),
        Posix::EINVAL => Some(22),
        Posix::EIO => Some(5),
        Posix::EISCONN => Some(113),
        Posix::EISDIR => Some(21),
        Posix::ELOOP => Some(114),
        Posix::EMFILE => Some(24),
        Posix::EMLINK => Some(31),
        Posix::EMSGSIZE => Some(115),
        Posix::EMULTIHOP => None,
        Posix::ENAMETOOLONG => Some(38),
        Posix::ENETDOWN => Some(116),
        Posix::ENETRESET => Some(117),
        Posix::ENETUNREACH => Some(118),
        Posix::ENFILE => Some(23),
        Posix::ENOBUFS => Some(119),
        Posix::ENODEV => Some(19),
        Posix::ENOENT => Some(2),
        Posix::ENOEXEC => Some(8),
        Posix::ENOLCK => Some(39),
        Posix::ENOLINK => Some(121),
        Posix::ENOMEM => Some(12),
        Posix::ENOMSG => Some(122),
        Posix::ENOPROTOOPT => Some(123),
        Posix::ENOSPC => Some(28),
        Posix::ENOSYS => Some(40),
        Posix::ENOTCONN => Some(126),
        Posix::ENOTDIR => Some(20),
        Posix::ENOTEMPTY => Some(41),
        Posix::ENOTRECOVERABLE => Some(127),
        Posix::ENOTSOCK => Some(128),
        Posix::ENOTSUP => Some(129),
        Posix::ENOTTY => Some(25),
        Posix::ENXIO => Some(6),
        Posix::EOVERFLOW => Some(132),
        Posix::EOWNERDEAD => Some(133),
        Posix::EPERM => Some(1),
        Posix::EPIPE => Some(32),
        Posix::EPROTO => Some(134),
        Posix::EPROTONOSUPPORT => Some(135),
        Posix::EPROTOTYPE => Some(136),
        Posix::ERANGE => Some(34),
        Posix::EROFS => Some(30),
        Posix::ESPIPE => Some(29),
        Posix::ESRCH => Some(3),
        Posix::ESTALE => None,
        Posix::ETIMEDOUT => Some(138),
        Posix::ETXTBSY => Some(139),
        Posix::EXDEV => Some(18),
        Posix::ENOTCAPABLE => None,
    }
}

/// The value of `errno.<NAME>` in CPython on Windows.
pub(super) fn python_errno(posix: Posix) -> Option<i32> {
    use Posix::*;
    match posix {
        // #undef'd in errnomodule.c: the WSA constant of the same name.
        EADDRINUSE => Some(10048),
        EADDRNOTAVAIL => Some(10049),
        EAFNOSUPPORT => Some(10047),
        EALREADY => Some(10037),
        ECONNABORTED => Some(10053),
        ECONNREFUSED => Some(10061),
        ECONNRESET => Some(10054),
        EDESTADDRREQ => Some(10039),
        EHOSTUNREACH => Some(10065),
        EINPROGRESS => Some(10036),
        EISCONN => Some(10056),
        ELOOP => Some(10062),
        EMSGSIZE => Some(10040),
        ENETDOWN => Some(10050),
        ENETRESET => Some(10052),
        ENETUNREACH => Some(10051),
        ENOBUFS => Some(10055),
        ENOPROTOOPT => Some(10042),
        ENOTCONN => Some(10057),
        ENOTSOCK => Some(10038),
        EPROTONOSUPPORT => Some(10043),
        EPROTOTYPE => Some(10041),
        ETIMEDOUT => Some(10060),
        // Not in errno.h: errnomodule.c falls back to the WSA constant.
        EDQUOT => Some(10069),
        ESTALE => Some(10070),
        E2BIG | EACCES | EAGAIN | EBADF | EBADMSG | EBUSY | ECANCELED | ECHILD | EDEADLK | EDOM
        | EEXIST | EFAULT | EFBIG | EIDRM | EILSEQ | EINTR | EINVAL | EIO | EISDIR | EMFILE
        | EMLINK | EMULTIHOP | ENAMETOOLONG | ENFILE | ENODEV | ENOENT | ENOEXEC | ENOLCK
        | ENOLINK | ENOMEM | ENOMSG | ENOSPC | ENOSYS | ENOTDIR | ENOTEMPTY | ENOTRECOVERABLE
        | ENOTSUP | ENOTTY | ENXIO | EOVERFLOW | EOWNERDEAD | EPERM | EPIPE | EPROTO | ERANGE
        | EROFS | ESPIPE | ESRCH | ETXTBSY | EXDEV | ENOTCAPABLE => crt(posix),
    }
}

/// `errno.EWOULDBLOCK` in CPython on Windows (`WSAEWOULDBLOCK`), which is not `EAGAIN`.
pub(super) const EWOULDBLOCK: i32 = 10035;

/// What a Winsock call reports for `posix`: the WSA code, its name, and the message CPython
/// prints.
pub(super) fn socket_error(posix: Posix) -> Option<(i32, &'static str, &'static str)> {
    match posix {
        Posix::E2BIG => None,
        Posix::EACCES => Some((10013, "WSAEACCES", "An attempt was made to access a socket in a way forbidden by its access permissions")),
        Posix::EADDRINUSE => Some((10048, "WSAEADDRINUSE", "Only one usage of each socket address (protocol/network address/port) is normally permitted")),
        Posix::EADDRNOTAVAIL => Some((10049, "WSAEADDRNOTAVAIL", "The requested address is not valid in its context")),
        Posix::EAFNOSUPPORT => Some((10047, "WSAEAFNOSUPPORT", "An address incompatible with the requested protocol was used")),
        Posix::EAGAIN => Some((10035, "WSAEWOULDBLOCK", "A non-blocking socket operation could not be completed immediately")),
        Posix::EALREADY => Some((10037, "WSAEALREADY", "An operation was attempted on a non-blocking socket that already had an operation in progress")),
        Posix::EBADF => Some((10009, "WSAEBADF", "The file handle supplied is not valid")),
        Posix::EBADMSG => None,
        Posix::EBUSY => None,
        Posix::ECANCELED => None,
        Posix::ECHILD => None,
        Posix::ECONNABORTED => Some((10053, "WSAECONNABORTED", "An established connection was aborted by the software in your host machine")),
        Posix::ECONNREFUSED => Some((10061, "WSAECONNREFUSED", "No connection could be made because the target machine actively refused it")),
        Posix::ECONNRESET => Some((10054, "WSAECONNRESET", "An existing connection was forcibly closed by the remote host")),
        Posix::EDEADLK => None,
        Posix::EDESTADDRREQ => Some((10039, "WSAEDESTADDRREQ", "A required address was omitted from an operation on a socket")),
        Posix::EDOM => None,
        Posix::EDQUOT => Some((10069, "WSAEDQUOT", "Ran out of disk quota")),
        Posix::EEXIST => None,
        Posix::EFAULT => Some((10014, "WSAEFAULT", "The system detected an invalid pointer address in attempting to use a pointer argument in a call")),
        Posix::EFBIG => None,
        Posix::EHOSTUNREACH => Some((10065, "WSAEHOSTUNREACH", "A socket operation was attempted to an unreachable host")),
        Posix::EIDRM => None,
        Posix::EILSEQ => None,
        Posix::EINPROGRESS => Some((10035, "WSAEWOULDBLOCK", "A non-blocking socket operation could not be completed immediately")),
        Posix::EINTR => Some((10004, "WSAEINTR", "A blocking operation was interrupted by a call to WSACancelBlockingCall")),
        Posix::EINVAL => Some((10022, "WSAEINVAL", "An invalid argument was supplied")),
        Posix::EIO => None,
        Posix::EISCONN => Some((10056, "WSAEISCONN", "A connect request was made on an already connected socket")),
        Posix::EISDIR => None,
        Posix::ELOOP => Some((10062, "WSAELOOP", "Cannot translate name")),
        Posix::EMFILE => Some((10024, "WSAEMFILE", "Too many open sockets")),
        Posix::EMLINK => None,
        Posix::EMSGSIZE => Some((10040, "WSAEMSGSIZE", "A message sent on a datagram socket was larger than the internal message buffer or some other network limit, or the buffer used to receive a datagram into was smaller than the datagram itself")),
        Posix::EMULTIHOP => None,
        Posix::ENAMETOOLONG => Some((10063, "WSAENAMETOOLONG", "Name component or name was too long")),
        Posix::ENETDOWN => Some((10050, "WSAENETDOWN", "A socket operation encountered a dead network")),
        Posix::ENETRESET => Some((10052, "WSAENETRESET", "The connection has been broken due to keep-alive activity detecting a failure while the operation was in progress")),
        Posix::ENETUNREACH => Some((10051, "WSAENETUNREACH", "A socket operation was attempted to an unreachable network")),
        Posix::ENFILE => None,
        Posix::ENOBUFS => Some((10055, "WSAENOBUFS", "An operation on a socket could not be performed because the system lacked sufficient buffer space or because a queue was full")),
        Posix::ENODEV => None,
        Posix::ENOENT => None,
        Posix::ENOEXEC => None,
        Posix::ENOLCK => None,
        Posix::ENOLINK => None,
        Posix::ENOMEM => None,
        Posix::ENOMSG => None,
        Posix::ENOPROTOOPT => Some((10042, "WSAENOPROTOOPT", "An unknown, invalid, or unsupported option or level was specified in a getsockopt or setsockopt call")),
        Posix::ENOSPC => None,
        Posix::ENOSYS => None,
        Posix::ENOTCONN => Some((10057, "WSAENOTCONN", "A request to send or receive data was disallowed because the socket is not connected and (when sending on a datagram socket using a sendto call) no address was supplied")),
        Posix::ENOTDIR => None,
        Posix::ENOTEMPTY => Some((10066, "WSAENOTEMPTY", "Cannot remove a directory that is not empty")),
        Posix::ENOTRECOVERABLE => None,
        Posix::ENOTSOCK => Some((10038, "WSAENOTSOCK", "An operation was attempted on something that is not a socket")),
        Posix::ENOTSUP => Some((10045, "WSAEOPNOTSUPP", "The attempted operation is not supported for the type of object referenced")),
        Posix::ENOTTY => None,
        Posix::ENXIO => None,
        Posix::EOVERFLOW => None,
        Posix::EOWNERDEAD => None,
        Posix::EPERM => None,
        Posix::EPIPE => None,
        Posix::EPROTO => None,
        Posix::EPROTONOSUPPORT => Some((10043, "WSAEPROTONOSUPPORT", "The requested protocol has not been configured into the system, or no implementation for it exists")),
        Posix::EPROTOTYPE => Some((10041, "WSAEPROTOTYPE", "A protocol was specified in the socket function call that does not support the semantics of the socket type requested")),
        Posix::ERANGE => None,
        Posix::EROFS => None,
        Posix::ESPIPE => None,
        Posix::ESRCH => None,
        Posix::ESTALE => Some((10070, "WSAESTALE", "File handle reference is no longer available")),
        Posix::ETIMEDOUT => Some((10060, "WSAETIMEDOUT", "A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond")),
        Posix::ETXTBSY => None,
        Posix::EXDEV => None,
        Posix::ENOTCAPABLE => None,
    }
}
