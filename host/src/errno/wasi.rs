//! The 77 WASI preview1 errnos, by name.
//!
//! Source: WebAssembly/WASI, `legacy/preview1/witx/typenames.witx`, `enum errno` (the
//! numbering is the position in that enum; the meanings are the witx doc comments).
//!
//! Each errno names the POSIX condition it stands for ([`Posix`]); `success` stands for none.
//! This module knows nothing about any host platform.

use super::Posix;

macro_rules! wasi_errnos {
    ($(($num:literal, $variant:ident, $name:literal, $posix:expr, $meaning:literal),)*) => {
        /// A WASI preview1 errno. The discriminant is the ABI value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum WasiErrno {
            $(
                #[doc = $meaning]
                $variant = $num,
            )*
        }

        impl WasiErrno {
            /// Every errno, in ABI order.
            pub const ALL: &'static [WasiErrno] = &[$(WasiErrno::$variant,)*];

            /// The errno with ABI value `raw`, if there is one.
            pub fn from_raw(raw: u32) -> Option<Self> {
                match raw {
                    $($num => Some(WasiErrno::$variant),)*
                    _ => None,
                }
            }

            /// The witx name, e.g. `again`.
            pub fn name(self) -> &'static str {
                match self {
                    $(WasiErrno::$variant => $name,)*
                }
            }

            /// The witx description.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(WasiErrno::$variant => $meaning,)*
                }
            }

            /// The POSIX condition this errno reports; `None` for `success`.
            pub(crate) fn posix(self) -> Option<Posix> {
                match self {
                    $(WasiErrno::$variant => $posix,)*
                }
            }

            /// The POSIX name of the condition this errno reports, e.g. `EAGAIN` for
            /// `again`; `None` for `success`.
            pub fn posix_name(self) -> Option<&'static str> {
                self.posix().map(|p| p.name())
            }
        }
    };
}

wasi_errnos! {
    (0, Success, "success", None, "No error occurred. System call completed successfully."),
    (1, TooBig, "2big", Some(Posix::E2BIG), "Argument list too long."),
    (2, Acces, "acces", Some(Posix::EACCES), "Permission denied."),
    (3, Addrinuse, "addrinuse", Some(Posix::EADDRINUSE), "Address in use."),
    (4, Addrnotavail, "addrnotavail", Some(Posix::EADDRNOTAVAIL), "Address not available."),
    (5, Afnosupport, "afnosupport", Some(Posix::EAFNOSUPPORT), "Address family not supported."),
    (6, Again, "again", Some(Posix::EAGAIN), "Resource unavailable, or operation would block."),
    (7, Already, "already", Some(Posix::EALREADY), "Connection already in progress."),
    (8, Badf, "badf", Some(Posix::EBADF), "Bad file descriptor."),
    (9, Badmsg, "badmsg", Some(Posix::EBADMSG), "Bad message."),
    (10, Busy, "busy", Some(Posix::EBUSY), "Device or resource busy."),
    (11, Canceled, "canceled", Some(Posix::ECANCELED), "Operation canceled."),
    (12, Child, "child", Some(Posix::ECHILD), "No child processes."),
    (13, Connaborted, "connaborted", Some(Posix::ECONNABORTED), "Connection aborted."),
    (14, Connrefused, "connrefused", Some(Posix::ECONNREFUSED), "Connection refused."),
    (15, Connreset, "connreset", Some(Posix::ECONNRESET), "Connection reset."),
    (16, Deadlk, "deadlk", Some(Posix::EDEADLK), "Resource deadlock would occur."),
    (17, Destaddrreq, "destaddrreq", Some(Posix::EDESTADDRREQ), "Destination address required."),
    (18, Dom, "dom", Some(Posix::EDOM), "Mathematics argument out of domain of function."),
    (19, Dquot, "dquot", Some(Posix::EDQUOT), "Reserved."),
    (20, Exist, "exist", Some(Posix::EEXIST), "File exists."),
    (21, Fault, "fault", Some(Posix::EFAULT), "Bad address."),
    (22, Fbig, "fbig", Some(Posix::EFBIG), "File too large."),
    (23, Hostunreach, "hostunreach", Some(Posix::EHOSTUNREACH), "Host is unreachable."),
    (24, Idrm, "idrm", Some(Posix::EIDRM), "Identifier removed."),
    (25, Ilseq, "ilseq", Some(Posix::EILSEQ), "Illegal byte sequence."),
    (26, Inprogress, "inprogress", Some(Posix::EINPROGRESS), "Operation in progress."),
    (27, Intr, "intr", Some(Posix::EINTR), "Interrupted function."),
    (28, Inval, "inval", Some(Posix::EINVAL), "Invalid argument."),
    (29, Io, "io", Some(Posix::EIO), "I/O error."),
    (30, Isconn, "isconn", Some(Posix::EISCONN), "Socket is connected."),
    (31, Isdir, "isdir", Some(Posix::EISDIR), "Is a directory."),
    (32, Loop, "loop", Some(Posix::ELOOP), "Too many levels of symbolic links."),
    (33, Mfile, "mfile", Some(Posix::EMFILE), "File descriptor value too large."),
    (34, Mlink, "mlink", Some(Posix::EMLINK), "Too many links."),
    (35, Msgsize, "msgsize", Some(Posix::EMSGSIZE), "Message too large."),
    (36, Multihop, "multihop", Some(Posix::EMULTIHOP), "Reserved."),
    (37, Nametoolong, "nametoolong", Some(Posix::ENAMETOOLONG), "Filename too long."),
    (38, Netdown, "netdown", Some(Posix::ENETDOWN), "Network is down."),
    (39, Netreset, "netreset", Some(Posix::ENETRESET), "Connection aborted by network."),
    (40, Netunreach, "netunreach", Some(Posix::ENETUNREACH), "Network unreachable."),
    (41, Nfile, "nfile", Some(Posix::ENFILE), "Too many files open in system."),
    (42, Nobufs, "nobufs", Some(Posix::ENOBUFS), "No buffer space available."),
    (43, Nodev, "nodev", Some(Posix::ENODEV), "No such device."),
    (44, Noent, "noent", Some(Posix::ENOENT), "No such file or directory."),
    (45, Noexec, "noexec", Some(Posix::ENOEXEC), "Executable file format error."),
    (46, Nolck, "nolck", Some(Posix::ENOLCK), "No locks available."),
    (47, Nolink, "nolink", Some(Posix::ENOLINK), "Reserved."),
    (48, Nomem, "nomem", Some(Posix::ENOMEM), "Not enough space."),
    (49, Nomsg, "nomsg", Some(Posix::ENOMSG), "No message of the desired type."),
    (50, Noprotoopt, "noprotoopt", Some(Posix::ENOPROTOOPT), "Protocol not available."),
    (51, Nospc, "nospc", Some(Posix::ENOSPC), "No space left on device."),
    (52, Nosys, "nosys", Some(Posix::ENOSYS), "Function not supported."),
    (53, Notconn, "notconn", Some(Posix::ENOTCONN), "The socket is not connected."),
    (54, Notdir, "notdir", Some(Posix::ENOTDIR), "Not a directory or a symbolic link to a directory."),
    (55, Notempty, "notempty", Some(Posix::ENOTEMPTY), "Directory not empty."),
    (56, Notrecoverable, "notrecoverable", Some(Posix::ENOTRECOVERABLE), "State not recoverable."),
    (57, Notsock, "notsock", Some(Posix::ENOTSOCK), "Not a socket."),
    (58, Notsup, "notsup", Some(Posix::ENOTSUP), "Not supported, or operation not supported on socket."),
    (59, Notty, "notty", Some(Posix::ENOTTY), "Inappropriate I/O control operation."),
    (60, Nxio, "nxio", Some(Posix::ENXIO), "No such device or address."),
    (61, Overflow, "overflow", Some(Posix::EOVERFLOW), "Value too large to be stored in data type."),
    (62, Ownerdead, "ownerdead", Some(Posix::EOWNERDEAD), "Previous owner died."),
    (63, Perm, "perm", Some(Posix::EPERM), "Operation not permitted."),
    (64, Pipe, "pipe", Some(Posix::EPIPE), "Broken pipe."),
    (65, Proto, "proto", Some(Posix::EPROTO), "Protocol error."),
    (66, Protonosupport, "protonosupport", Some(Posix::EPROTONOSUPPORT), "Protocol not supported."),
    (67, Prototype, "prototype", Some(Posix::EPROTOTYPE), "Protocol wrong type for socket."),
    (68, Range, "range", Some(Posix::ERANGE), "Result too large."),
    (69, Rofs, "rofs", Some(Posix::EROFS), "Read-only file system."),
    (70, Spipe, "spipe", Some(Posix::ESPIPE), "Invalid seek."),
    (71, Srch, "srch", Some(Posix::ESRCH), "No such process."),
    (72, Stale, "stale", Some(Posix::ESTALE), "Reserved."),
    (73, Timedout, "timedout", Some(Posix::ETIMEDOUT), "Connection timed out."),
    (74, Txtbsy, "txtbsy", Some(Posix::ETXTBSY), "Text file busy."),
    (75, Xdev, "xdev", Some(Posix::EXDEV), "Cross-device link."),
    (76, Notcapable, "notcapable", Some(Posix::ENOTCAPABLE), "Extension: Capabilities insufficient."),
}

impl WasiErrno {
    /// The ABI value.
    pub fn raw(self) -> u16 {
        self as u16
    }

    /// Looks an errno up by its witx name (`again`) or ABI value (`6`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(n) = text.parse::<u32>() {
            return Self::from_raw(n);
        }
        let lower = text.to_ascii_lowercase();
        Self::ALL.iter().copied().find(|e| e.name() == lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_is_dense_and_named() {
        assert_eq!(WasiErrno::ALL.len(), 77);
        for (i, e) in WasiErrno::ALL.iter().enumerate() {
            assert_eq!(usize::from(e.raw()), i);
            assert_eq!(WasiErrno::from_raw(i as u32), Some(*e));
            assert_eq!(WasiErrno::parse(e.name()), Some(*e));
        }
        assert_eq!(WasiErrno::from_raw(77), None);
        assert_eq!(WasiErrno::Again.raw(), 6);
        assert_eq!(WasiErrno::Notcapable.raw(), 76);
        assert_eq!(WasiErrno::parse("AGAIN"), Some(WasiErrno::Again));
        assert_eq!(WasiErrno::parse("nosuchname"), None);
    }
}
