//! Errno model: WASI errno -> POSIX condition -> a platform's native errno.
//!
//! Stage one ([`WasiErrno::posix`]) is platform-neutral. Stage two ([`native`]) is one table per
//! platform, each an exhaustive `match` over [`Posix`] so that a new condition cannot be
//! forgotten. Numbers only appear in the tables; code everywhere else uses names.
//!
//! What Python makes of a native errno lives in [`crate::python`].

mod bsd;
mod freebsd;
mod linux;
mod macos;
mod wasi;
mod wasi_libc;
mod windows;

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
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux with glibc.
    Linux,
    /// macOS (Apple Libc).
    Macos,
    /// FreeBSD.
    Freebsd,
    /// Windows: the Universal CRT, and Winsock for sockets.
    Windows,
    /// CPython built for WASI, on wasi-libc.
    Wasi,
}

impl Platform {
    /// Every platform with a table, in display order.
    pub const ALL: &'static [Platform] = &[
        Platform::Linux,
        Platform::Macos,
        Platform::Freebsd,
        Platform::Windows,
        Platform::Wasi,
    ];

    /// The lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Freebsd => "freebsd",
            Platform::Windows => "windows",
            Platform::Wasi => "wasi",
        }
    }

    /// The platform the host runs on, when it has a table.
    pub fn host() -> Option<Platform> {
        crate::sys::host_platform()
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Platform::ALL
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "`{s}` is not a platform; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What kind of host object an errno came from. Only Windows tells them apart: Winsock
/// reports socket errors as `WSAE*` codes, everything else goes through the CRT's errno.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum HandleKind {
    /// A pipe, file or terminal.
    Pipe,
    /// A socket.
    Socket,
}

/// How CPython prints the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// `[Errno N] strerror`: a C errno.
    Errno,
    /// `[WinError N] message`: a Windows error code (`OSError.winerror`).
    Winerror,
}

/// A platform's native error for one condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Native {
    /// The name the code is known by, e.g. `EAGAIN` or `WSAEWOULDBLOCK`.
    pub name: &'static str,
    /// The value of `OSError.errno` (and `winerror` for [`Form::Winerror`]).
    pub number: i32,
    /// The message CPython prints after the number.
    pub strerror: &'static str,
    /// Which of the two forms CPython prints.
    pub form: Form,
}

/// Stage two: the native error for `posix` on `platform` from a handle of `kind`, or `None`
/// where the platform has no such error.
pub fn native(platform: Platform, posix: Posix, kind: HandleKind) -> Option<Native> {
    let errno_form = |(number, strerror): (i32, &'static str)| Native {
        name: posix.name(),
        number,
        strerror,
        form: Form::Errno,
    };
    match platform {
        Platform::Linux => linux::errno(posix).map(errno_form),
        Platform::Macos => macos::errno(posix).map(errno_form),
        Platform::Freebsd => freebsd::errno(posix).map(errno_form),
        Platform::Wasi => wasi_libc::errno(posix).map(errno_form),
        Platform::Windows => match (kind, windows::socket_error(posix)) {
            (HandleKind::Socket, Some((number, name, strerror))) => Some(Native {
                name,
                number,
                strerror,
                form: Form::Winerror,
            }),
            (HandleKind::Socket, None) | (HandleKind::Pipe, _) => {
                windows::python_errno(posix).map(|n| errno_form((n, windows::strerror(n))))
            }
        },
    }
}

/// The value of `errno.<NAME>` for `posix` in CPython on `platform`: the key CPython's
/// exception map uses.
pub fn python_errno(platform: Platform, posix: Posix) -> Option<i32> {
    match platform {
        Platform::Windows => windows::python_errno(posix),
        Platform::Linux | Platform::Macos | Platform::Freebsd | Platform::Wasi => {
            native(platform, posix, HandleKind::Pipe).map(|n| n.number)
        }
    }
}

/// `errno.EWOULDBLOCK` in CPython on `platform` (`EAGAIN` everywhere but Windows).
pub fn python_ewouldblock(platform: Platform) -> Option<i32> {
    match platform {
        Platform::Windows => Some(windows::EWOULDBLOCK),
        Platform::Linux | Platform::Macos | Platform::Freebsd | Platform::Wasi => {
            python_errno(platform, Posix::EAGAIN)
        }
    }
}
