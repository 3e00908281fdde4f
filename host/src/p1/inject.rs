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
/// read fires, so that the cut shows). Inlined: without `--chaos` it is one test of every
/// read (a call was ~50 instructions of a wake-up).
#[inline(always)]
pub(super) fn before_read(
    chaos: &mut Option<Chaos>,
    events: &SharedLog,
    (call, fd, handle): (&'static str, u32, Handle),
    nonblocking: bool,
    waiting: impl FnOnce() -> u64,
    len: usize,
) -> Result<usize, WasiErrno> {
    match chaos.as_mut() {
        None => Ok(len),
        Some(chaos) => chaos_read(
            chaos,
            events,
            (call, fd, handle),
            nonblocking,
            waiting(),
            len,
        ),
    }
}

/// [`before_read`] with `--chaos`, `waiting` bytes waiting.
fn chaos_read(
    chaos: &mut Chaos,
    events: &SharedLog,
    (call, fd, handle): (&'static str, u32, Handle),
    nonblocking: bool,
    waiting: u64,
    len: usize,
) -> Result<usize, WasiErrno> {
    let waiting = usize::try_from(waiting).unwrap_or(usize::MAX);
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
#[inline(always)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chaos(spec: &str) -> Option<Chaos> {
        Some(Chaos::new(spec.parse().unwrap(), 1))
    }

    const KEY: (&str, u32, Handle) = ("fd_read", 0, Handle::Stdin);

    /// `again` only where POSIX allows it: a non-blocking read with bytes waiting. Never at
    /// end-of-file or with nothing waiting (a real `again` or a wait is the handle's to give),
    /// never on a blocking read.
    #[test]
    fn again_only_on_a_non_blocking_read_with_bytes_waiting() {
        let events = SharedLog::default();
        let mut c = chaos("again=/1");
        assert_eq!(before_read(&mut c, &events, KEY, true, || 0, 10), Ok(10));
        assert_eq!(before_read(&mut c, &events, KEY, false, || 5, 10), Ok(10));
        assert!(events.snapshot().events().is_empty());
        assert_eq!(
            before_read(&mut c, &events, KEY, true, || 5, 10),
            Err(WasiErrno::Again)
        );
        let log = events.snapshot();
        assert_eq!(log.events().len(), 1);
        assert!(log.events()[0].injected);
        assert_eq!(log.events()[0].errno, WasiErrno::Again);
    }

    /// A short read asks for fewer bytes than are waiting, so that the cut shows; with nothing
    /// waiting (or unknown) the count is the guest's.
    #[test]
    fn a_short_read_asks_for_less_than_is_waiting() {
        let events = SharedLog::default();
        let mut c = chaos("short=/1");
        for _ in 0..100 {
            let asked = before_read(&mut c, &events, KEY, false, || 6, 100).unwrap();
            assert!((1..6).contains(&asked), "{asked}");
        }
        assert_eq!(before_read(&mut c, &events, KEY, true, || 1, 100), Ok(100));
        assert!(events.snapshot().events().is_empty());
        after_cut(&events, KEY, 100, 3, 3);
        after_cut(&events, KEY, 100, 100, 3);
        assert_eq!(events.snapshot().events()[0].count, 1);
    }

    /// No write is turned into `again` without room, and none is touched without `--chaos`.
    #[test]
    fn writes_without_room_or_chaos_are_left_alone() {
        let mut c = chaos("again=/1");
        assert!(matches!(
            before_write(&mut c, Handle::Stdout, || false, 10),
            Write::Offer(10)
        ));
        assert!(matches!(
            before_write(&mut c, Handle::Stdout, || true, 10),
            Write::Again
        ));
        assert!(matches!(
            before_write(&mut c, Handle::Stdout, || true, 0),
            Write::Offer(0)
        ));
        assert!(matches!(
            before_write(&mut None, Handle::Stdout, || true, 10),
            Write::Offer(10)
        ));
    }
}
