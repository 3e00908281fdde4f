//! `poll_oneoff`, faithful to POSIX `poll`: over host-managed descriptors, descriptors stock
//! wasmtime-wasi owns, and clocks.
//!
//! - `fd_read` fires only when a read would not block, with `nbytes` = bytes available, and
//!   with `FDREADWRITE_HANGUP` once the writer has closed (end-of-file);
//! - `fd_write` fires when a write of `PIPE_BUF` bytes would not block (`POLLOUT`), with
//!   `nbytes` = free space (for a host pipe its size, `F_GETPIPE_SZ` asked once, minus
//!   `FIONREAD`; for other host descriptors `PIPE_BUF`);
//! - a descriptor polled the way it does not go (`fd_write` on stdin, `fd_read` on stdout or
//!   stderr) never fires: Linux `poll` reports neither `POLLOUT` on a pipe's read end nor
//!   `POLLIN` on its write end;
//! - a regular file stock owns is always ready (`nbytes` = bytes to its end); any other
//!   descriptor stock owns fails the call with `badf`, as stock does;
//! - clocks: relative, or absolute on `realtime`/`monotonic`; another clock id, or clock
//!   flags other than `subscription_clock_abstime`, fail the call with `inval`, as stock does;
//! - at most [`MAX_SUBSCRIPTIONS`] subscriptions (`inval` beyond, as POSIX `poll` for more
//!   than `OPEN_MAX` descriptors): the host copies them, and a guest must not make it copy
//!   without bound;
//! - every subscription ready at the moment of the check is reported, clocks included: a
//!   timeout and a ready descriptor may arrive together, as POSIX allows;
//! - one host descriptor polled alone, with no deadline and no `--chaos` (an event loop's
//!   wake-up), takes a short path with the same answers: one `poll(2)`, one `FIONREAD`.
//!
//! Sockets are ready when `poll(2)` says so: a listener for reading when a connection is
//! pending; a connection for reading with `nbytes` = `FIONREAD` and hangup when the peer has
//! shut down, for writing with `nbytes` = send-buffer space.
//!
//! Waiting never spins: in-memory pipes wake the store's [`crate::signal::Signal`]; host
//! descriptors and sockets are waited on with `poll(2)` (in slices when both kinds are
//! involved).

use super::abi::{self, Event, EventFdReadwrite, Eventrwflags, Eventtype, SubscriptionU};
use super::call::Done;
use super::fds::Endpoint;
use super::{stock, GetCtx, WAIT_SLICE};
use crate::errno::WasiErrno;
use crate::output::Sink;
use crate::pipe::PIPE_BUF;
use crate::stdin::Source;
use crate::sys;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{Caller, Result};

/// The most subscriptions one call takes (Linux's default hard `RLIMIT_NOFILE`).
pub const MAX_SUBSCRIPTIONS: u32 = 1 << 20;
/// What a descriptor whose poll failed counts as: ready, so that the call that follows
/// reports the error.
const FAILED: sys::Polled = sys::Polled {
    ready: true,
    hangup: false,
};
/// How long one wait lasts when both host descriptors and in-memory pipes are involved.
const MIXED_SLICE: Duration = Duration::from_millis(2);

/// What a subscription waits for.
enum Want {
    Clock(Instant),
    Read(Probe),
    Write(Probe),
}

/// How to ask a descriptor for readiness.
enum Probe {
    Managed(Endpoint2),
    StockFile { remaining: u64 },
}

/// The managed endpoint, cloned out of the table so the loop holds no borrow of the store.
enum Endpoint2 {
    Source(Source),
    Sink(Sink),
    Listener(Arc<TcpListener>),
    Stream(Arc<crate::net::Conn>),
}

struct Sub {
    userdata: u64,
    want: Want,
    /// A managed non-blocking descriptor `--chaos` may report ready spuriously.
    wakeable: Option<(u32, crate::events::Handle)>,
}

/// One event to report: type, nbytes, flags.
struct Ready {
    kind: Eventtype,
    nbytes: u64,
    flags: Eventrwflags,
}

impl Ready {
    /// The event the guest is given for the subscription `userdata` names.
    #[inline(always)]
    fn event(&self, userdata: u64) -> Event {
        Event {
            userdata,
            error: abi::Errno::Success,
            type_: self.kind,
            fd_readwrite: EventFdReadwrite {
                nbytes: self.nbytes,
                flags: self.flags,
            },
        }
    }
}

/// `FDREADWRITE_HANGUP` when `hangup`.
fn hangup_flags(hangup: bool) -> Eventrwflags {
    if hangup {
        Eventrwflags::FD_READWRITE_HANGUP
    } else {
        Eventrwflags::empty()
    }
}

/// The event of a host descriptor polled for reading (`write`: for writing) that the poll
/// said `polled` of, `None` when it is not ready: `nbytes` from `FIONREAD` (for a write, the
/// pipe's free space), `hangup` from `POLLHUP`. Both paths of [`poll_oneoff`] answer with it.
#[inline(always)]
fn host_event(fd: &sys::HostFd, write: bool, polled: sys::Polled) -> Option<Ready> {
    if !polled.ready {
        return None;
    }
    Some(if write {
        Ready {
            kind: Eventtype::FdWrite,
            nbytes: fd.writable_bytes().unwrap_or(PIPE_BUF as u64),
            flags: Eventrwflags::empty(),
        }
    } else {
        Ready {
            kind: Eventtype::FdRead,
            nbytes: fd.readable_bytes().unwrap_or(0),
            flags: hangup_flags(polled.hangup),
        }
    })
}

/// The buffers of one `poll_oneoff` call, kept in the faithful context from call to call,
/// so that a wake-up allocates nothing (six allocations and frees were ~5% of a call's
/// samples, BENCHMARKS.md). A call with more than [`SCRATCH_KEEP`] subscriptions leaves
/// nothing behind: a guest must not make the host hold its largest call for the whole run.
#[derive(Default)]
pub(crate) struct PollScratch {
    /// The subscriptions' bytes, copied out of guest memory.
    raw: Vec<u8>,
    subs: Vec<Sub>,
    /// [`host_fds`] of `subs`.
    fds: Vec<(sys::RawHandle, bool)>,
    /// `poll(2)`'s answer for `fds`.
    host_ready: Vec<sys::Polled>,
    /// One entry per subscription: its event, if it fired.
    ready: Vec<Option<Ready>>,
}

/// The most subscriptions whose buffers [`PollScratch`] keeps after a call.
const SCRATCH_KEEP: usize = 64;

impl PollScratch {
    /// Empties every buffer (dropping the endpoints' handles the subscriptions hold), keeping
    /// the allocations of a call of at most [`SCRATCH_KEEP`] subscriptions.
    fn recycle(&mut self) {
        if self.subs.capacity() > SCRATCH_KEEP
            || self.raw.capacity() > SCRATCH_KEEP * abi::SUBSCRIPTION_SIZE as usize
        {
            *self = PollScratch::default();
            return;
        }
        self.raw.clear();
        self.subs.clear();
        self.fds.clear();
        self.host_ready.clear();
        self.ready.clear();
    }
}

/// The `poll_oneoff` override. Inlined down to the `poll(2)` and `FIONREAD` of a wake-up,
/// as `fd_read` is: each return after a system call costs ~8 ns (BENCHMARKS.md).
#[inline(always)]
pub fn poll_oneoff<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    subs: i32,
    events: i32,
    n: i32,
    nevents: i32,
) -> Done {
    if let Some(done) = one_host_descriptor(caller, get, (subs, events, n, nevents)) {
        return done;
    }
    // Boxed, so that taking it out and putting it back moves a pointer and drops nothing
    // (moving and dropping five vectors was ~75 instructions of a wake-up).
    let mut scratch = get(caller.data_mut())
        .poll_scratch
        .take()
        .unwrap_or_default();
    let done = poll_with(caller, get, &mut scratch, (subs, events, n, nevents));
    scratch.recycle();
    get(caller.data_mut()).poll_scratch = Some(scratch);
    done
}

/// The wake-up of an event loop on one host descriptor, answered without the general path's
/// buffers, endpoint clones and second look-up of guest memory: one `fd_read` (`fd_write`)
/// subscription on a managed host descriptor that `poll(2)` waits on (a pipe or file the
/// host inherited), no deadline, no `--chaos`. It waits and answers as the general path
/// does: `nbytes` from `FIONREAD` (free space for a write), `hangup` from `POLLHUP`. `None`,
/// with nothing waited for and nothing written, for any other call and when `poll(2)`
/// fails: the general path then answers it.
#[inline(always)]
fn one_host_descriptor<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    (subs, events, n, nevents): (i32, i32, i32, i32),
) -> Option<Done> {
    if n != 1 || !sys::HOST_FDS_POLLABLE {
        return None;
    }
    let (mem, ctx) = stock::memory_and_state(caller, get).ok()?;
    if ctx.chaos.is_some() || ctx.deadline.is_some() {
        return None;
    }
    let (subs, events, nevents) = (subs as u32, events as u32, nevents as u32);
    let sr = abi::guest_range(mem, subs, abi::SUBSCRIPTION_SIZE).ok()?;
    abi::guest_range(mem, events, abi::EVENT_SIZE).ok()?;
    abi::guest_range(mem, nevents, 4).ok()?;
    let sub = abi::subscription(&mem[sr], 0).ok()?;
    let (fd, write) = match sub.u {
        SubscriptionU::FdRead(ref s) => (u32::from(s.file_descriptor), false),
        SubscriptionU::FdWrite(ref s) => (u32::from(s.file_descriptor), true),
        SubscriptionU::Clock(_) => return None,
    };
    let host = match (&ctx.fds.get(fd)?.endpoint, write) {
        (Endpoint::Read(Source::Host(host)), false) => host,
        (Endpoint::Write(Sink::Host(host)), true) => host,
        _ => return None,
    };
    let ready = host_event(host, write, host.wait(write, Duration::MAX).ok()?)?;
    let written = abi::write_event(mem, events, 0, ready.event(sub.userdata))
        .and_then(|()| abi::write_u32(mem, nevents, 1));
    Some(written.map_err(Into::into))
}

/// [`poll_oneoff`] with its buffers.
#[inline(always)]
fn poll_with<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    scratch: &mut PollScratch,
    (subs, events, n, nevents): (i32, i32, i32, i32),
) -> Done {
    let (subs, events, n, nevents) = (subs as u32, events as u32, n as u32, nevents as u32);
    if n == 0 || n > MAX_SUBSCRIPTIONS {
        return Err(WasiErrno::Inval.into());
    }
    let PollScratch {
        raw,
        subs: parsed,
        fds,
        host_ready,
        ready,
    } = scratch;
    // Checked up front, and copied: the wait below holds no borrow of guest memory.
    {
        let (mem, _) = stock::memory_and_state(caller, get)?;
        let sr = abi::guest_range(mem, subs, n * abi::SUBSCRIPTION_SIZE)?;
        abi::guest_range(mem, events, n * abi::EVENT_SIZE)?;
        abi::guest_range(mem, nevents, 4)?;
        raw.extend_from_slice(&mem[sr]);
    }
    // When the call began, for relative clocks; read only if there is one (a clock read is
    // ~20 ns of a wake-up, and an event loop on descriptors alone needs none).
    let mut start: Option<Instant> = None;
    parsed.reserve(n as usize);
    for i in 0..n as usize {
        let sub = abi::subscription(raw, i)?;
        let mut wakeable = None;
        let want = match sub.u {
            SubscriptionU::Clock(clock) => {
                let abstime = clock
                    .flags
                    .contains(abi::Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME);
                let id = clock.id as u32;
                // An absolute clock counts from the moment its clock was read, taken after
                // the reading, so that it never fires before the clock reaches `timeout`.
                let (base, wait) = if abstime {
                    let now = stock::clock_now(caller, get, id)??;
                    (Instant::now(), clock.timeout.saturating_sub(now))
                } else if id <= 1 {
                    (*start.get_or_insert_with(Instant::now), clock.timeout)
                } else {
                    return Err(WasiErrno::Inval.into());
                };
                Want::Clock(
                    base.checked_add(Duration::from_nanos(wait))
                        .unwrap_or(base + Duration::from_secs(u32::MAX.into())),
                )
            }
            SubscriptionU::FdRead(ref s) | SubscriptionU::FdWrite(ref s) => {
                let fd = u32::from(s.file_descriptor);
                let probe = match get(caller.data_mut()).fds.get(fd) {
                    Some(m) => Probe::Managed({
                        if m.flags.contains(abi::Fdflags::NONBLOCK) {
                            wakeable = Some((fd, m.handle));
                        }
                        match &m.endpoint {
                            Endpoint::Read(src) => Endpoint2::Source(src.clone()),
                            Endpoint::Write(sink) => Endpoint2::Sink(sink.clone()),
                            Endpoint::Listener(l) => Endpoint2::Listener(l.clone()),
                            Endpoint::Stream(st) => Endpoint2::Stream(st.clone()),
                        }
                    }),
                    None => match stock::pollable(caller, get, fd)?? {
                        stock::Pollable::File { remaining } => Probe::StockFile { remaining },
                    },
                };
                match sub.u {
                    SubscriptionU::FdRead(_) => Want::Read(probe),
                    _ => Want::Write(probe),
                }
            }
        };
        parsed.push(Sub {
            userdata: sub.userdata,
            want,
            wakeable,
        });
    }
    host_fds(parsed, fds);
    let ctx = get(caller.data_mut());
    if !spurious_wake(parsed, ctx, (fds, host_ready), ready) {
        let (signal, deadline) = (ctx.signal.clone(), ctx.deadline);
        wait_for_any(parsed, (fds, host_ready), ready, &signal, deadline)?;
    }
    let (mem, _) = stock::memory_and_state(caller, get)?;
    let mut count = 0u32;
    for (sub, r) in parsed.iter().zip(ready.iter()) {
        let Some(r) = r else { continue };
        abi::write_event(mem, events, count, r.event(sub.userdata))?;
        count += 1;
    }
    Ok(abi::write_u32(mem, nevents, count)?)
}

/// `--chaos` `wake`: when nothing is ready yet, perhaps one managed non-blocking descriptor
/// reported ready at once with `nbytes` 0 (recorded as an injected event), as a spurious
/// wake-up: then true, with `ready` holding that one event; false to wait as usual.
fn spurious_wake(
    subs: &[Sub],
    ctx: &mut super::FaithfulCtx,
    (raw, host_ready): (&[(sys::RawHandle, bool)], &mut Vec<sys::Polled>),
    ready: &mut Vec<Option<Ready>>,
) -> bool {
    let Some(chaos) = ctx.chaos.as_mut() else {
        return false;
    };
    if subs.iter().all(|s| s.wakeable.is_none()) {
        return false;
    }
    if poll_now(raw, host_ready).is_err() {
        return false;
    }
    check(subs, host_ready, Some(Instant::now()), ready);
    if ready.iter().any(Option::is_some) {
        return false;
    }
    let Some((i, (fd, handle))) = subs.iter().enumerate().find_map(|(i, s)| {
        s.wakeable
            .filter(|&(_, handle)| chaos.wake(handle))
            .map(|w| (i, w))
    }) else {
        return false;
    };
    ctx.events
        .record_injected("poll_oneoff", fd, handle, WasiErrno::Success);
    let kind = match subs[i].want {
        Want::Write(_) => Eventtype::FdWrite,
        _ => Eventtype::FdRead,
    };
    // `check` above left one `None` per subscription.
    ready[i] = Some(Ready {
        kind,
        nbytes: 0,
        flags: Eventrwflags::empty(),
    });
    true
}

/// A zero-timeout `poll(2)` of `raw` into `host_ready`; no system call when `raw` is empty.
fn poll_now(
    raw: &[(sys::RawHandle, bool)],
    host_ready: &mut Vec<sys::Polled>,
) -> std::io::Result<()> {
    host_ready.clear();
    if raw.is_empty() {
        return Ok(());
    }
    sys::poll_many_into(raw, Duration::ZERO, host_ready)
}

/// Host descriptors among the subscriptions (`poll(2)` decides their readiness), with
/// whether each is polled for writing, in subscription order, into `out`.
fn host_fds(subs: &[Sub], out: &mut Vec<(sys::RawHandle, bool)>) {
    out.clear();
    out.extend(subs.iter().filter_map(|s| {
        let (probe, write) = match &s.want {
            Want::Read(Probe::Managed(e)) => (e, false),
            Want::Write(Probe::Managed(e)) => (e, true),
            _ => return None,
        };
        let raw = match probe {
            Endpoint2::Source(Source::Host(fd)) if !write && sys::HOST_FDS_POLLABLE => fd.raw(),
            Endpoint2::Sink(Sink::Host(fd)) if write && sys::HOST_FDS_POLLABLE => fd.raw(),
            Endpoint2::Listener(l) => sys::raw_handle(&**l),
            Endpoint2::Stream(st) => sys::raw_handle(st.socket()),
            _ => return None,
        };
        Some((raw, write))
    }));
}

/// Checks every subscription once, into `out`: one entry per subscription; `host_ready`
/// holds `poll(2)`'s answer for [`host_fds`]; `now` is the time, `None` only when no
/// subscription is a clock.
#[inline(always)]
fn check(
    subs: &[Sub],
    host_ready: &[sys::Polled],
    now: Option<Instant>,
    out: &mut Vec<Option<Ready>>,
) {
    let mut host = host_ready.iter();
    out.clear();
    out.extend(subs.iter().map(|s| match &s.want {
        Want::Clock(deadline) => now.is_some_and(|now| now >= *deadline).then_some(Ready {
            kind: Eventtype::Clock,
            nbytes: 0,
            flags: Eventrwflags::empty(),
        }),
        Want::Read(probe) => {
            let (ready, nbytes, hangup) = match probe {
                Probe::StockFile { remaining } => (true, *remaining, *remaining == 0),
                Probe::Managed(Endpoint2::Source(Source::Mem(p))) => {
                    let (avail, closed) = p.readiness();
                    (avail > 0 || closed, avail as u64, closed)
                }
                Probe::Managed(Endpoint2::Source(Source::Host(fd))) => {
                    return host_event(fd, false, host_polled(&mut host, fd, false));
                }
                // The write end of a pipe never polls readable (Linux `pipe_poll`).
                Probe::Managed(Endpoint2::Sink(_)) => (false, 0, false),
                // A pending connection: accept would not block.
                Probe::Managed(Endpoint2::Listener(_)) => {
                    (host.next().expect("one answer per host fd").ready, 0, false)
                }
                Probe::Managed(Endpoint2::Stream(st)) => {
                    let p = host.next().expect("one answer per host fd");
                    let nbytes = match p.ready {
                        true => sys::socket_readable_bytes(st.socket()),
                        false => 0,
                    };
                    (p.ready, nbytes, p.hangup)
                }
            };
            ready.then_some(Ready {
                kind: Eventtype::FdRead,
                nbytes,
                flags: hangup_flags(hangup),
            })
        }
        Want::Write(probe) => {
            let (ready, nbytes) = match probe {
                Probe::StockFile { .. } => (true, PIPE_BUF as u64),
                Probe::Managed(Endpoint2::Sink(Sink::Pipe(p))) => {
                    (p.is_writable(), p.free() as u64)
                }
                Probe::Managed(Endpoint2::Sink(Sink::Host(fd))) => {
                    return host_event(fd, true, host_polled(&mut host, fd, true));
                }
                // The read end of a pipe never polls writable (Linux `pipe_poll`).
                Probe::Managed(Endpoint2::Source(_)) => (false, 0),
                Probe::Managed(Endpoint2::Listener(_)) => {
                    (host.next().expect("one answer per host fd").ready, 0)
                }
                Probe::Managed(Endpoint2::Stream(st)) => {
                    let ready = host.next().expect("one answer per host fd").ready;
                    let nbytes = if ready {
                        sys::socket_writable_bytes(st.socket()).unwrap_or(PIPE_BUF as u64)
                    } else {
                        0
                    };
                    (ready, nbytes)
                }
            };
            ready.then_some(Ready {
                kind: Eventtype::FdWrite,
                nbytes,
                flags: Eventrwflags::empty(),
            })
        }
    }));
}

/// What the poll said of the host descriptor `fd` (`write`: polled for writing): the next of
/// `answers` where `poll(2)` waits on host descriptors, else asked now.
#[inline(always)]
fn host_polled(
    answers: &mut std::slice::Iter<'_, sys::Polled>,
    fd: &sys::HostFd,
    write: bool,
) -> sys::Polled {
    if sys::HOST_FDS_POLLABLE {
        *answers.next().expect("one answer per host fd")
    } else {
        fd.wait(write, Duration::ZERO).unwrap_or(FAILED)
    }
}

/// Blocks until at least one subscription is ready; `ready` then holds each one's event.
/// `raw` is [`host_fds`] of `subs`, `host_ready` a buffer for `poll(2)`'s answers. Fails
/// with [`crate::limits::DeadlineExceeded`] once `deadline` passes. Inlined, with the poll
/// and `FIONREAD` below it: each return after a system call costs ~8 ns (BENCHMARKS.md).
#[inline(always)]
fn wait_for_any(
    subs: &[Sub],
    (raw, host_ready): (&[(sys::RawHandle, bool)], &mut Vec<sys::Polled>),
    ready: &mut Vec<Option<Ready>>,
    signal: &crate::signal::Signal,
    deadline: Option<crate::limits::Deadline>,
) -> Result<()> {
    // In-memory pipes wake the signal; host handles `poll_many` cannot wait on are asked
    // again every slice.
    let has_mem = subs.iter().any(|s| {
        matches!(
            &s.want,
            Want::Read(Probe::Managed(Endpoint2::Source(Source::Mem(_))))
                | Want::Write(Probe::Managed(Endpoint2::Sink(Sink::Pipe(_))))
        )
    });
    let sliced = !sys::HOST_FDS_POLLABLE
        && subs.iter().any(|s| {
            matches!(
                &s.want,
                Want::Read(Probe::Managed(Endpoint2::Source(Source::Host(_))))
                    | Want::Write(Probe::Managed(Endpoint2::Sink(Sink::Host(_))))
            )
        });
    let next_clock = subs
        .iter()
        .filter_map(|s| match s.want {
            Want::Clock(d) => Some(d),
            _ => None,
        })
        .min();
    // How long the next wait may last: to the next clock, at most a slice with a deadline
    // to look at, and a mixed slice when some handles cannot be waited on with the others.
    let mixed = has_mem || sliced;
    // The time, read only when a clock or the deadline needs it: a wait on descriptors alone
    // reads no clock.
    let timed = next_clock.is_some() || deadline.is_some();
    let clock = || timed.then(Instant::now);
    let wait_limit = |now: Option<Instant>| {
        let Some(now) = now else {
            return (None, None);
        };
        let next_clock = match (next_clock, deadline) {
            (c, None) => c,
            (Some(c), Some(_)) => Some(c.min(now + WAIT_SLICE)),
            (None, Some(_)) => Some(now + WAIT_SLICE),
        };
        (
            next_clock,
            next_clock.map(|d| d.saturating_duration_since(now)),
        )
    };
    let host_slice = |now: Option<Instant>| match (mixed, wait_limit(now).1) {
        (true, Some(c)) => c.min(MIXED_SLICE),
        (true, None) => MIXED_SLICE,
        (false, Some(c)) => c,
        (false, None) => Duration::MAX,
    };
    // Whether `host_ready` holds what the last blocking poll of the host's descriptors
    // said, fresh enough to check without asking the kernel again. When the host's
    // descriptors (and clocks) are all there is to wait for, the first look is already the
    // blocking poll: it returns at once when one is ready, and a zero-timeout poll before it
    // was one syscall more per wake-up.
    let mut polled = !raw.is_empty()
        && !mixed
        && sys::poll_many_into(raw, host_slice(clock()), host_ready).is_ok();
    loop {
        let seen = signal.generation();
        if !std::mem::take(&mut polled) && poll_now(raw, host_ready).is_err() {
            // Ready, so that the next call reports the error.
            host_ready.clear();
            host_ready.resize(raw.len(), FAILED);
        }
        let now = clock();
        check(subs, host_ready, now, ready);
        if ready.iter().any(Option::is_some) {
            return Ok(());
        }
        crate::limits::check(deadline)?;
        if raw.is_empty() {
            // In-memory pipes and clocks: sleep until a pipe changes or the clock fires (and
            // no longer than a slice when host handles must be asked again).
            let at = now.unwrap_or_else(Instant::now);
            let mut deadline = wait_limit(now).0.unwrap_or(at + Duration::from_secs(3600));
            if sliced {
                deadline = deadline.min(at + MIXED_SLICE);
            }
            signal.wait_past(seen, deadline);
        } else {
            polled = sys::poll_many_into(raw, host_slice(now), host_ready).is_ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_of(n: usize) -> PollScratch {
        let mut s = PollScratch::default();
        s.raw.resize(n * abi::SUBSCRIPTION_SIZE as usize, 0);
        s.subs.extend((0..n).map(|i| Sub {
            userdata: i as u64,
            want: Want::Clock(Instant::now()),
            wakeable: None,
        }));
        s.fds.resize(n, (0, false));
        s.host_ready.resize(n, FAILED);
        s.ready.extend((0..n).map(|_| None));
        s
    }

    /// A call's buffers come back empty; those of a call of up to SCRATCH_KEEP
    /// subscriptions keep their allocation, those of a larger one are let go.
    #[test]
    fn the_scratch_keeps_small_buffers_and_lets_large_ones_go() {
        let mut small = scratch_of(SCRATCH_KEEP);
        let kept = small.subs.capacity();
        small.recycle();
        assert!(small.raw.is_empty() && small.subs.is_empty() && small.fds.is_empty());
        assert!(small.host_ready.is_empty() && small.ready.is_empty());
        assert_eq!(small.subs.capacity(), kept);
        let mut large = scratch_of(SCRATCH_KEEP + 1);
        large.recycle();
        assert!(large.subs.is_empty());
        assert_eq!(
            (
                large.raw.capacity(),
                large.subs.capacity(),
                large.fds.capacity()
            ),
            (0, 0, 0)
        );
    }
}
