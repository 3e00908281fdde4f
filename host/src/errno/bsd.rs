//! The errno numbers and messages macOS and FreeBSD share: both keep 4.4BSD's numbering
//! (the shared rows here run 1-84) and most of its `sys_errlist` texts. Each OS's module
//! lists only where it differs and falls back to this table.
//!
//! Sources: 4.4BSD-Lite `sys/sys/errno.h` and `lib/libc/gen/errlst.c`, as carried on by xnu
//! `bsd/sys/errno.h` + Apple Libc `gen/errlst.c` and FreeBSD `sys/sys/errno.h` +
//! `lib/libc/gen/errlst.c`; every row below is the same in both.

use super::Posix;

/// The shared errno and `strerror` text for `posix`; `None` for the conditions whose number
/// or text differs between the BSDs (each OS's own table answers those).
pub(super) fn errno(posix: Posix) -> Option<(i32, &'static str)> {
    match posix {
        Posix::E2BIG => Some((7, "Argument list too long")),
        Posix::EACCES => Some((13, "Permission denied")),
        Posix::EADDRINUSE => Some((48, "Address already in use")),
        Posix::EADDRNOTAVAIL => Some((49, "Can't assign requested address")),
        Posix::EAFNOSUPPORT => Some((47, "Address family not supported by protocol family")),
        Posix::EAGAIN => Some((35, "Resource temporarily unavailable")), // alias: EWOULDBLOCK
        Posix::EALREADY => Some((37, "Operation already in progress")),
        Posix::EBADF => Some((9, "Bad file descriptor")),
        Posix::ECHILD => Some((10, "No child processes")),
        Posix::ECONNABORTED => Some((53, "Software caused connection abort")),
        Posix::ECONNREFUSED => Some((61, "Connection refused")),
        Posix::ECONNRESET => Some((54, "Connection reset by peer")),
        Posix::EDEADLK => Some((11, "Resource deadlock avoided")),
        Posix::EDESTADDRREQ => Some((39, "Destination address required")),
        Posix::EDOM => Some((33, "Numerical argument out of domain")),
        Posix::EDQUOT => Some((69, "Disc quota exceeded")),
        Posix::EEXIST => Some((17, "File exists")),
        Posix::EFAULT => Some((14, "Bad address")),
        Posix::EFBIG => Some((27, "File too large")),
        Posix::EHOSTUNREACH => Some((65, "No route to host")),
        Posix::EINPROGRESS => Some((36, "Operation now in progress")),
        Posix::EINTR => Some((4, "Interrupted system call")),
        Posix::EINVAL => Some((22, "Invalid argument")),
        Posix::EIO => Some((5, "Input/output error")),
        Posix::EISCONN => Some((56, "Socket is already connected")),
        Posix::EISDIR => Some((21, "Is a directory")),
        Posix::ELOOP => Some((62, "Too many levels of symbolic links")),
        Posix::EMFILE => Some((24, "Too many open files")),
        Posix::EMLINK => Some((31, "Too many links")),
        Posix::EMSGSIZE => Some((40, "Message too long")),
        Posix::ENAMETOOLONG => Some((63, "File name too long")),
        Posix::ENETDOWN => Some((50, "Network is down")),
        Posix::ENETRESET => Some((52, "Network dropped connection on reset")),
        Posix::ENETUNREACH => Some((51, "Network is unreachable")),
        Posix::ENFILE => Some((23, "Too many open files in system")),
        Posix::ENOBUFS => Some((55, "No buffer space available")),
        Posix::ENODEV => Some((19, "Operation not supported by device")),
        Posix::ENOENT => Some((2, "No such file or directory")),
        Posix::ENOEXEC => Some((8, "Exec format error")),
        Posix::ENOLCK => Some((77, "No locks available")),
        Posix::ENOMEM => Some((12, "Cannot allocate memory")),
        Posix::ENOPROTOOPT => Some((42, "Protocol not available")),
        Posix::ENOSPC => Some((28, "No space left on device")),
        Posix::ENOSYS => Some((78, "Function not implemented")),
        Posix::ENOTCONN => Some((57, "Socket is not connected")),
        Posix::ENOTDIR => Some((20, "Not a directory")),
        Posix::ENOTEMPTY => Some((66, "Directory not empty")),
        Posix::ENOTSOCK => Some((38, "Socket operation on non-socket")),
        Posix::ENOTSUP => Some((45, "Operation not supported")), // EOPNOTSUPP: 102 on macOS, 45 on FreeBSD
        Posix::ENOTTY => Some((25, "Inappropriate ioctl for device")),
        Posix::ENXIO => Some((6, "Device not configured")),
        Posix::EOVERFLOW => Some((84, "Value too large to be stored in data type")),
        Posix::EPERM => Some((1, "Operation not permitted")),
        Posix::EPIPE => Some((32, "Broken pipe")),
        Posix::EPROTONOSUPPORT => Some((43, "Protocol not supported")),
        Posix::EPROTOTYPE => Some((41, "Protocol wrong type for socket")),
        Posix::ERANGE => Some((34, "Result too large")),
        Posix::EROFS => Some((30, "Read-only file system")),
        Posix::ESPIPE => Some((29, "Illegal seek")),
        Posix::ESRCH => Some((3, "No such process")),
        Posix::ESTALE => Some((70, "Stale NFS file handle")),
        Posix::ETIMEDOUT => Some((60, "Operation timed out")),
        Posix::ETXTBSY => Some((26, "Text file busy")),
        Posix::EXDEV => Some((18, "Cross-device link")),
        // Numbered or worded differently by each BSD.
        Posix::EBADMSG
        | Posix::EBUSY
        | Posix::ECANCELED
        | Posix::EIDRM
        | Posix::EILSEQ
        | Posix::EMULTIHOP
        | Posix::ENOLINK
        | Posix::ENOMSG
        | Posix::ENOTRECOVERABLE
        | Posix::EOWNERDEAD
        | Posix::EPROTO
        | Posix::ENOTCAPABLE => None,
    }
}
