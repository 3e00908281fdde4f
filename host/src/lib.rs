//! `wouldblock`: a WASI host on wasmtime whose non-blocking handles return `again` exactly when
//! POSIX would return `EAGAIN`, and which shows every `again` as the exception Python would
//! raise on Linux, macOS, FreeBSD or Windows.
//!
//! Stock wasmtime-wasi refuses `fdflags.nonblock` on stdio and blocks. This crate is the
//! `wouldblock` command line and, for hosts that embed wasmtime themselves, a small library:
//!
//! - [`FaithfulCtx`], built with [`FaithfulCtxBuilder`] over a wasmtime-wasi
//!   [`WasiCtxBuilder`](wasmtime_wasi::WasiCtxBuilder), is kept in your own store data;
//!   [`add_to_linker`] defines every `wasi_snapshot_preview1` import in your linker, the
//!   managed descriptors answered faithfully, everything else by wasmtime-wasi;
//! - [`FaithfulCtx::events`] is the log of every would-block the guest met ([`EventLog`],
//!   [`Event`]); [`Event::python`] renders one as Python would raise it on a [`Platform`];
//! - [`explain`] is the errno model for any [`WasiErrno`]: what Python raises for it on each
//!   platform ([`render`] for one).
//!
//! ```
//! use wouldblock::{Platform, WasiErrno, HandleKind};
//!
//! let py = wouldblock::render(Platform::Macos, HandleKind::Pipe, WasiErrno::Again, None).unwrap();
//! assert_eq!(py.line, "BlockingIOError: [Errno 35] Resource temporarily unavailable");
//! ```
//!
//! Preview1 core modules only: preview2 components and the suite, compare and report
//! machinery are the command line's (`wouldblock --help`).

#![warn(missing_docs)]

// The library's surface is the re-exports below; the modules are the command line's.
mod chaos;
mod cli;
mod compare;
mod errno;
mod events;
mod explain;
mod fdwait;
mod guest;
mod limits;
mod modcache;
mod net;
mod output;
mod p1;
mod p2;
mod p2net;
mod p2observe;
mod p3;
mod p3net;
mod p3stdio;
mod pipe;
mod python;
mod recording;
mod report;
mod run;
mod schema;
mod signal;
mod spec;
mod stdin;
mod suite;
mod sys;

pub use chaos::ChaosSpec;
pub use errno::{HandleKind, Platform, WasiErrno};
pub use events::{Event, EventLog, Handle};
pub use explain::{explain, AbiWouldBlock, Explanation, Rendering, ABI_MODELS};
pub use net::MAX_LISTEN_FD;
pub use p1::{add_to_linker, FaithfulCtx, FaithfulCtxBuilder, GetCtx};
pub use python::{render, PyError};
pub use spec::{Drain, OutputSpec, StdinSpec};

/// The `wouldblock` command line, for the binary: runs it with `args` (the program name
/// first) and returns the process exit code. Not part of the library's API.
#[doc(hidden)]
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    cli::main_with_args(args)
}

/// Folds a possibly multi-line message into one line (the binary's panic hook). Not part of
/// the library's API.
#[doc(hidden)]
pub fn one_line(s: &str) -> String {
    run::one_line(s)
}

/// The command line's items the fuzz targets drive, with the `internals` feature: not part of
/// the library's API, no stability promise.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    /// Running guests.
    pub mod run {
        pub use crate::run::{engine, run, Finished, GuestEngine, RunError, RunOptions, WasiMode};
    }
    /// Option languages.
    pub mod spec {
        pub use crate::spec::{BytesArg, DirSpec, DurationArg, EnvSpec, OutputSpec, StdinSpec};
    }
    pub use crate::limits::Limits;
    pub use crate::net::ListenSpec;
    pub use crate::p2net::AllowNet;
    /// Case files.
    pub mod expect {
        pub use crate::suite::expect::{parse, Layout};
    }
    /// Comparing reports.
    pub mod compare {
        pub use crate::compare::{compare, html, human, load, markdown};
    }
}
