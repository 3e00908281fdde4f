//! macOS errno numbers and messages.
//!
//! Sources: xnu `bsd/sys/errno.h` for the numbers; Apple Libc `gen/errlst.c` (`sys_errlist`)
//! for the messages, which `strerror` and so CPython's `os.strerror` return.
//! Aliases: `EWOULDBLOCK == EAGAIN` (35). macOS keeps `ENOTSUP` (45) and `EOPNOTSUPP` (102)
//! apart; WASI's `notsup` is `ENOTSUP`. `EMULTIHOP` and `ENOLINK` exist but are "(Reserved)".
//! macOS has no `ENOTCAPABLE`.

use super::Posix;

/// The native errno and its `strerror` text for `posix`.
pub(super) fn errno(posix: Posix) -> Option<(i32, &'static str)> {
    match posix {
        Posix::EBADMSG => Some((94, "Bad message")),
        Posix::EBUSY => Some((16, "Resource busy")),
        Posix::ECANCELED => Some((89, "Operation canceled")),
        Posix::EIDRM => Some((90, "Identifier removed")),
        Posix::EILSEQ => Some((92, "Illegal byte sequence")),
        Posix::EMULTIHOP => Some((95, "EMULTIHOP (Reserved)")),
        Posix::ENOLINK => Some((97, "ENOLINK (Reserved)")),
        Posix::ENOMSG => Some((91, "No message of desired type")),
        Posix::ENOTRECOVERABLE => Some((104, "State not recoverable")),
        Posix::EOWNERDEAD => Some((105, "Previous owner died")),
        Posix::EPROTO => Some((100, "Protocol error")),
        Posix::ENOTCAPABLE => None,
        _ => super::bsd::errno(posix),
    }
}
