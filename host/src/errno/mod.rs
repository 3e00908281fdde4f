//! Errno model: WASI errno -> POSIX condition -> a platform's native errno.
//!
//! Stage one ([`WasiErrno::posix`]) is platform-neutral. Stage two ([`native`]) is one table per
//! platform, each an exhaustive `match` over [`Posix`] so that a new condition cannot be
//! forgotten. Numbers only appear in the tables; code everywhere else uses names.
//!
//! What Python makes of a native errno lives in [`crate::python`].

mod linux;
mod wasi;

pub use wasi::WasiErrno;

macro_rules! posix_names {
    ($($name:ident,)*) => {
        /// A POSIX error condition, named as in `<errno.h>`. One per WASI errno except `success`;
        /// `ENOTCAPABLE` is WASI's own extension.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Posix {
            $($name,)*
        }

        impl Posix {
            /// The `<errno.h>` name, e.g. `EAGAIN`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Posix::$name => stringify!($name),)*
                }
            }
        }
    };
}

posix_names! {
    E2BIG,
    EACCES,
    EADDRINUSE,
    EADDRNOTAVAIL,
    EAFNOSUPPORT,
    EAGAIN,
    EALREADY,
    EBADF,
    EBADMSG,
    EBUSY,
    ECANCELED,
    ECHILD,
    ECONNABORTED,
    ECONNREFUSED,
    ECONNRESET,
    EDEADLK,
    EDESTADDRREQ,
    EDOM,
    EDQUOT,
    EEXIST,
    EFAULT,
    EFBIG,
    EHOSTUNREACH,
    EIDRM,
    EILSEQ,
    EINPROGRESS,
    EINTR,
    EINVAL,
    EIO,
    EISCONN,
    EISDIR,
    ELOOP,
    EMFILE,
    EMLINK,
    EMSGSIZE,
    EMULTIHOP,
    ENAMETOOLONG,
    ENETDOWN,
    ENETRESET,
    ENETUNREACH,
    ENFILE,
    ENOBUFS,
    ENODEV,
    ENOENT,
    ENOEXEC,
    ENOLCK,
    ENOLINK,
    ENOMEM,
    ENOMSG,
    ENOPROTOOPT,
    ENOSPC,
    ENOSYS,
    ENOTCONN,
    ENOTDIR,
    ENOTEMPTY,
    ENOTRECOVERABLE,
    ENOTSOCK,
    ENOTSUP,
    ENOTTY,
    ENXIO,
    EOVERFLOW,
    EOWNERDEAD,
    EPERM,
    EPIPE,
    EPROTO,
    EPROTONOSUPPORT,
    EPROTOTYPE,
    ERANGE,
    EROFS,
    ESPIPE,
    ESRCH,
    ESTALE,
    ETIMEDOUT,
    ETXTBSY,
    EXDEV,
    ENOTCAPABLE,
}

/// A platform whose native errno a WASI result can be rendered as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux with glibc.
    Linux,
}

impl Platform {
    /// Every platform with a table.
    pub const ALL: &'static [Platform] = &[Platform::Linux];

    /// The platform the host runs on; Linux's table serves where no table of the host's own
    /// exists yet (the report says which platform a rendering is for).
    pub fn host() -> Platform {
        Platform::Linux
    }

    /// The lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
        }
    }
}

/// A platform's native errno for one condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Native {
    /// The `<errno.h>` name the condition is known by.
    pub name: &'static str,
    /// The native errno value.
    pub number: i32,
    /// `strerror` of that value, as CPython prints it on that platform.
    pub strerror: &'static str,
}

/// Stage two: the native errno for `posix` on `platform`, or `None` where the platform has no
/// such errno.
pub fn native(platform: Platform, posix: Posix) -> Option<Native> {
    let (number, strerror) = match platform {
        Platform::Linux => linux::errno(posix)?,
    };
    Some(Native {
        name: posix.name(),
        number,
        strerror,
    })
}
