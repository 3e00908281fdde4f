//! FreeBSD errno numbers and messages.
//!
//! Sources: FreeBSD `sys/sys/errno.h` for the numbers; `lib/libc/gen/errlst.c` (`sys_errlist`)
//! for the messages, which `strerror` and so CPython's `os.strerror` return.
//! Aliases: `EWOULDBLOCK == EAGAIN` (35), `ENOTSUP == EOPNOTSUPP` (45). FreeBSD has
//! `ENOTCAPABLE` (93, Capsicum), which CPython maps to `PermissionError` as on WASI.

use super::Posix;

/// The native errno and its `strerror` text for `posix`.
pub(super) fn errno(posix: Posix) -> Option<(i32, &'static str)> {
    match posix {
        Posix::EBADMSG => Some((89, "Bad message")),
        Posix::EBUSY => Some((16, "Device busy")),
        Posix::ECANCELED => Some((85, "Operation canceled")),
        Posix::EIDRM => Some((82, "Identifier removed")),
        Posix::EILSEQ => Some((86, "Illegal byte sequence")),
        Posix::EMULTIHOP => Some((90, "Multihop attempted")),
        Posix::ENOLINK => Some((91, "Link has been severed")),
        Posix::ENOMSG => Some((83, "No message of desired type")),
        Posix::ENOTRECOVERABLE => Some((95, "State not recoverable")),
        Posix::EOWNERDEAD => Some((96, "Previous owner died")),
        Posix::EPROTO => Some((92, "Protocol error")),
        Posix::ENOTCAPABLE => Some((93, "Capabilities insufficient")),
        _ => super::bsd::errno(posix),
    }
}
