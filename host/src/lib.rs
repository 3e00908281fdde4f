//! `wouldblock`: a WASI host on wasmtime whose non-blocking handles return `again` exactly when
//! POSIX would return EAGAIN, and which shows every `again` as the exception Python would raise.
//!
//! Modules: [`cli`] (the command line), [`explain`] (the errno command), [`suite`] and [`compare`] (portability reports), [`run`] (one guest run), [`guest`] (loading),
//! [`p1`] and [`p2`] (the two ABIs), [`stdin`], [`output`], [`pipe`] and [`signal`] (host-managed handles),
//! [`events`] and [`report`] (what crossed the boundary), [`errno`] and [`python`] (the
//! errno model), [`spec`] (option languages), [`sys`] (platform code).

pub mod cli;
pub mod compare;
pub mod errno;
pub mod events;
pub mod explain;
pub mod guest;
pub mod limits;
pub mod net;
pub mod output;
pub mod p1;
pub mod p2;
pub mod p2net;
pub mod p2observe;
pub mod pipe;
pub mod python;
pub mod report;
pub mod run;
pub mod schema;
pub mod signal;
pub mod spec;
pub mod stdin;
pub mod suite;
pub mod sys;
