//! Where `--chaos` ([`crate::chaos`]) acts on the preview1 calls of managed descriptors.
//!
//! - Before a read: `again` in place of a non-blocking read that has data waiting (nothing is
//!   consumed), else perhaps a smaller count to ask for; after it, a read cut short by that is
//!   recorded as an injected `success` event.
//! - Before a non-blocking write that has room: `again` in place of it (recorded by the write's
//!   own booking, with `characters_written`), else perhaps fewer bytes to offer.
//! - `poll_oneoff` asks [`Chaos::wake`] itself (see `poll.rs`).
//!
//! Blocking calls are never turned into `again` (POSIX has them wait) and blocking writes are
//! never cut short (a blocking write to a pipe writes everything).

use crate::chaos::Chaos;
use crate::errno::WasiErrno;
use crate::events::{Handle, SharedLog};

/// What a read of `len` bytes asks for, `waiting` telling the bytes waiting (0: none, or
/// unknown): `Err(again)` (recorded) when an injected `again` fires on a non-blocking read
/// with bytes waiting, else the count to ask for (cut below what is waiting when a short
/// read fires, so that the cut shows).
pub(super) fn before_read(
    chaos: &mut Option<Chaos>,
    events: &SharedLog,
    (call, fd, handle): (&'static str, u32, Handle),
    nonblocking: bool,
    waiting: impl FnOnce() -> u64,
    len: usize,
) -> Result<usize, WasiErrno> {
    let Some(chaos) = chaos.as_mut() else {
        return Ok(len);
    };
    let waiting = usize::try_from(waiting()).unwrap_or(usize::MAX);
    if nonblocking && waiting > 0 && chaos.again(handle) {
        events.record_injected(call, fd, handle, WasiErrno::Again);
        return Err(WasiErrno::Again);
    }
    let whole = if waiting > 0 { len.min(waiting) } else { len };
    let asked = chaos.read_len(handle, whole);
    Ok(if asked < whole { asked } else { len })
}

/// Records a read or write that [`before_read`] or [`before_write`] cut from `len` to
/// `asked` bytes and that moved all of them.
pub(super) fn after_cut(
    events: &SharedLog,
    (call, fd, handle): (&'static str, u32, Handle),
    len: usize,
    asked: usize,
    got: usize,
) {
    if asked < len && got == asked {
        events.record_injected(call, fd, handle, WasiErrno::Success);
    }
}

/// What a non-blocking write of `len` bytes does.
pub(super) enum Write {
    /// Offers this many bytes (`len` when nothing fires).
    Offer(usize),
    /// Returns an injected `again`, nothing written.
    Again,
}

/// Before a non-blocking write of `len` bytes on `handle`: an injected `again` when the
/// handle has room (`has_room`; the `again` is recorded by the write's booking, with
/// `characters_written`), else perhaps fewer bytes to offer.
pub(super) fn before_write(
    chaos: &mut Option<Chaos>,
    handle: Handle,
    has_room: impl FnOnce() -> bool,
    len: usize,
) -> Write {
    let Some(chaos) = chaos.as_mut() else {
        return Write::Offer(len);
    };
    if len > 0 && has_room() && chaos.again(handle) {
        return Write::Again;
    }
    Write::Offer(chaos.write_len(handle, len))
}
