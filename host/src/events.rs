//! The would-block events a guest met, recorded where they cross the host boundary.
//!
//! One entry per distinct (call, fd, handle, errno), in order of first occurrence, with a count
//! and, for partial writes, the bytes accepted before the would-block. Recording is a short
//! linear scan: a guest meets few distinct events, however many times it meets each.
//!
//! A run records into a [`SharedLog`], so that a run stopped while blocked where the host
//! cannot interrupt it (inside wasmtime-wasi) is still reported with every event it met.
//! Meeting the same event again (a guest spinning on `again`) takes no lock: one
//! compare-and-swap on a counter that the next locked look folds into the log.

use crate::errno::WasiErrno;
use crate::recording::Occurrence;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

/// What kind of host object a descriptor is; decides how some platforms report an errno
/// (a Windows socket says WSAEWOULDBLOCK where a pipe says EAGAIN).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Handle {
    /// The guest's stdin.
    Stdin,
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
    /// A listening socket (`--tcplisten`).
    Listener,
    /// A connected socket.
    Socket,
}

impl Handle {
    /// The name used in reports and summary lines.
    pub fn name(self) -> &'static str {
        match self {
            Handle::Stdin => "stdin",
            Handle::Stdout => "stdout",
            Handle::Stderr => "stderr",
            Handle::Listener => "listener",
            Handle::Socket => "socket",
        }
    }

    /// Pipe or socket, for platforms that report the two differently.
    pub fn kind(self) -> crate::errno::HandleKind {
        match self {
            Handle::Stdin | Handle::Stdout | Handle::Stderr => crate::errno::HandleKind::Pipe,
            Handle::Listener | Handle::Socket => crate::errno::HandleKind::Socket,
        }
    }
}

/// One distinct event and how often it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The WASI call, e.g. `fd_read`.
    pub call: &'static str,
    /// The guest descriptor.
    pub fd: u32,
    /// What the descriptor is.
    pub handle: Handle,
    /// What the guest was told.
    pub errno: WasiErrno,
    /// How many times.
    pub count: u64,
    /// For writes: bytes accepted before the would-block, summed over the events.
    pub characters_written: Option<u64>,
    /// Made by `--chaos`, not by the handle: `again` where the call would have succeeded, or
    /// (errno `success`) a short read or write, or a spurious `poll_oneoff` wake-up.
    pub injected: bool,
}

impl Event {
    /// The exception Python raises for this event on `platform`, e.g. `BlockingIOError:
    /// [Errno 11] Resource temporarily unavailable` on Linux, with `characters_written` for
    /// a write that would block after short writes; `None` where the platform has no such
    /// error.
    ///
    /// ```
    /// use wouldblock::{Event, Handle, Platform, WasiErrno};
    ///
    /// let e = Event {
    ///     call: "fd_write",
    ///     fd: 1,
    ///     handle: Handle::Stdout,
    ///     errno: WasiErrno::Again,
    ///     count: 1,
    ///     characters_written: Some(3192),
    ///     injected: false,
    /// };
    /// let py = e.python(Platform::Macos).unwrap();
    /// assert_eq!(py.line, "BlockingIOError: [Errno 35] Resource temporarily unavailable");
    /// assert_eq!(py.characters_written, Some(3192));
    /// ```
    pub fn python(&self, platform: crate::errno::Platform) -> Option<crate::python::PyError> {
        crate::python::render(
            platform,
            self.handle.kind(),
            self.errno,
            self.characters_written,
        )
    }
}

/// All events of one guest run.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    /// The entry the last occurrence went to: a guest that meets one event in a loop finds
    /// it without a scan.
    last: usize,
    /// While `--record` records a call: every occurrence, one by one.
    journal: Option<Vec<Occurrence>>,
}

impl EventLog {
    /// Records one occurrence.
    #[cfg(test)]
    pub(crate) fn record(&mut self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.record_write(call, fd, handle, errno, 0, false);
    }

    /// Records one occurrence of something `--chaos` injected.
    #[cfg(test)]
    pub(crate) fn record_injected(
        &mut self,
        call: &'static str,
        fd: u32,
        handle: Handle,
        errno: WasiErrno,
    ) {
        self.record_write(call, fd, handle, errno, 0, true);
    }

    /// Records one would-block write (`injected` by `--chaos` or not) that came after
    /// `written` bytes of short writes; the event's `characters_written` is the sum over its
    /// occurrences.
    pub(crate) fn record_write(
        &mut self,
        call: &'static str,
        fd: u32,
        handle: Handle,
        errno: WasiErrno,
        written: u64,
        injected: bool,
    ) {
        if let Some(journal) = &mut self.journal {
            journal.push(Occurrence {
                call: call.to_string(),
                fd,
                handle,
                errno: errno.name().to_string(),
                written,
                injected,
            });
        }
        let e = self.entry(call, fd, handle, errno, injected);
        e.count += 1;
        if written > 0 {
            *e.characters_written.get_or_insert(0) += written;
        }
    }

    fn entry(
        &mut self,
        call: &'static str,
        fd: u32,
        handle: Handle,
        errno: WasiErrno,
        injected: bool,
    ) -> &mut Event {
        let same = |e: &Event| {
            e.fd == fd
                && e.errno == errno
                && e.handle == handle
                && e.injected == injected
                && e.call == call
        };
        let hint = self.events.get(self.last).is_some_and(same);
        let i = match hint
            .then_some(self.last)
            .or_else(|| self.events.iter().position(same))
        {
            Some(i) => i,
            None => {
                self.events.push(Event {
                    call,
                    fd,
                    handle,
                    errno,
                    count: 0,
                    characters_written: None,
                    injected,
                });
                self.events.len() - 1
            }
        };
        self.last = i;
        &mut self.events[i]
    }

    /// The events, in order of first occurrence.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// Every call that records events.
const EVENT_CALLS: [&str; 7] = [
    "fd_read",
    "fd_write",
    "poll_oneoff",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// An [`EventLog`] shared between the store that records into it and the run that reports
/// it. Recording takes an uncontended lock, or none when the event is the one met last:
/// nobody else looks until the run is over or abandoned at its deadline.
#[derive(Clone, Debug, Default)]
pub struct SharedLog(Arc<Shared>);

/// Entries whose key the lock-free path knows (a guest meets few distinct events).
const KEYED: usize = 16;
/// The low bits of [`Shared::hot`]: occurrences not yet in the log.
const COUNT: u64 = (1 << 48) - 1;
/// [`Shared::hot`] naming no entry.
const NO_SLOT: u64 = (KEYED as u64) << 48;

#[derive(Debug)]
struct Shared {
    log: Mutex<EventLog>,
    /// The entry met last, as `slot << 48`, plus the occurrences of it met since without the
    /// lock; [`NO_SLOT`] when there is none that path may count (or a journal must see every
    /// occurrence).
    hot: AtomicU64,
    /// The packed key ([`pack`]) of each of the first [`KEYED`] entries, 0 until the entry
    /// exists; written once, under the lock.
    keys: [AtomicU64; KEYED],
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            log: Mutex::default(),
            hot: AtomicU64::new(NO_SLOT),
            keys: Default::default(),
        }
    }
}

/// An event's identity in one non-zero word: call, fd, handle, errno, injected.
fn pack(call: &str, fd: u32, handle: Handle, errno: WasiErrno, injected: bool) -> Option<u64> {
    let call = EVENT_CALLS.iter().position(|c| *c == call)? as u64;
    Some(
        1 + (call
            | (handle as u64) << 3
            | u64::from(errno.raw()) << 6
            | u64::from(injected) << 22
            | u64::from(fd) << 23),
    )
}

impl SharedLog {
    fn lock(&self) -> MutexGuard<'_, EventLog> {
        // Every update is one push or one counter: a poisoned lock is still consistent.
        let mut log = self.0.log.lock().unwrap_or_else(|p| p.into_inner());
        let hot = self.0.hot.fetch_and(!COUNT, Relaxed);
        Self::fold(&mut log, hot);
        log
    }

    /// Adds the occurrences counted in `hot` (a value of [`Shared::hot`]) to its entry.
    fn fold(log: &mut EventLog, hot: u64) {
        let (slot, count) = ((hot >> 48) as usize, hot & COUNT);
        if count > 0 {
            log.events[slot].count += count;
        }
    }

    /// One occurrence: counted without the lock when it is the event met last, else
    /// recorded under it (and made the one met last).
    fn occur(
        &self,
        (call, fd, handle, errno): (&'static str, u32, Handle, WasiErrno),
        written: u64,
        injected: bool,
    ) {
        let key = pack(call, fd, handle, errno, injected);
        if let (0, Some(key)) = (written, key) {
            let mut hot = self.0.hot.load(Relaxed);
            loop {
                let slot = (hot >> 48) as usize;
                let known = self.0.keys.get(slot).map(|k| k.load(Relaxed));
                if known != Some(key) || hot & COUNT == COUNT {
                    break;
                }
                match self
                    .0
                    .hot
                    .compare_exchange_weak(hot, hot + 1, Relaxed, Relaxed)
                {
                    Ok(_) => return,
                    Err(now) => hot = now,
                }
            }
        }
        let mut log = self.lock();
        log.record_write(call, fd, handle, errno, written, injected);
        let slot = log.last;
        let next = match key {
            Some(key) if slot < KEYED && log.journal.is_none() => {
                self.0.keys[slot].store(key, Relaxed);
                (slot as u64) << 48
            }
            _ => NO_SLOT,
        };
        let hot = self.0.hot.swap(next, Relaxed);
        Self::fold(&mut log, hot);
    }

    /// [`EventLog::record`].
    pub fn record(&self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.occur((call, fd, handle, errno), 0, false);
    }

    /// [`EventLog::record_injected`].
    pub fn record_injected(&self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.occur((call, fd, handle, errno), 0, true);
    }

    /// [`EventLog::record_write`].
    pub fn record_write(
        &self,
        call: &'static str,
        fd: u32,
        handle: Handle,
        errno: WasiErrno,
        written: u64,
        injected: bool,
    ) {
        self.occur((call, fd, handle, errno), written, injected);
    }

    /// From now on, keeps every occurrence for [`SharedLog::end_journal`] too.
    pub(crate) fn start_journal(&self) {
        let mut log = self.lock();
        log.journal = Some(Vec::new());
        // Every occurrence goes through the lock while the journal keeps them.
        let hot = self.0.hot.swap(NO_SLOT, Relaxed);
        Self::fold(&mut log, hot);
    }

    /// The occurrences since [`SharedLog::start_journal`], which stops keeping them.
    pub(crate) fn end_journal(&self) -> Vec<Occurrence> {
        self.lock().journal.take().unwrap_or_default()
    }

    /// Records an occurrence read back from a recording: `invalid` when it names a call or
    /// errno no event has.
    pub(crate) fn replay(&self, o: &Occurrence) -> Result<(), String> {
        let call = EVENT_CALLS
            .iter()
            .find(|c| **c == o.call)
            .ok_or_else(|| format!("an event of an unknown call `{}`", o.call))?;
        let errno = WasiErrno::parse(&o.errno)
            .ok_or_else(|| format!("an event with an unknown errno `{}`", o.errno))?;
        self.occur((call, o.fd, o.handle, errno), o.written, o.injected);
        Ok(())
    }

    /// Whether any event has been recorded yet.
    pub fn met_any(&self) -> bool {
        !self.lock().events().is_empty()
    }

    /// The events so far.
    pub fn snapshot(&self) -> EventLog {
        self.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_events() {
        let mut log = EventLog::default();
        log.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        log.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        log.record("fd_read", 3, Handle::Stdin, WasiErrno::Again);
        let ev = log.events();
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].fd, ev[0].count), (0, 2));
        assert_eq!((ev[1].fd, ev[1].count), (3, 1));
        log.record_write("fd_write", 1, Handle::Stdout, WasiErrno::Again, 0, false);
        log.record_write("fd_write", 1, Handle::Stdout, WasiErrno::Again, 5, false);
        log.record_write("fd_write", 1, Handle::Stdout, WasiErrno::Again, 7, false);
        let ev = &log.events()[2];
        assert_eq!((ev.count, ev.characters_written), (3, Some(12)));
        // What --chaos made is an event of its own.
        log.record_write("fd_write", 1, Handle::Stdout, WasiErrno::Again, 4, true);
        log.record_injected("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        let ev = log.events();
        assert_eq!(ev.len(), 5);
        assert!(!ev[2].injected && ev[3].injected && ev[4].injected);
        assert_eq!((ev[3].count, ev[3].characters_written), (1, Some(4)));
    }
    /// Repeats counted without the lock reach the log, in order of first occurrence, exactly
    /// as the locked path counts them: alone, interleaved, with writes' byte counts and
    /// injected twins, and from threads racing each other and the readers.
    #[test]
    fn shared_counts_match_the_plain_log() {
        let shared = SharedLog::default();
        let mut plain = EventLog::default();
        let script: Vec<(&'static str, u32, Handle, WasiErrno, u64, bool)> = (0..1000u32)
            .map(|i| match i % 7 {
                0..=2 => ("fd_read", 0, Handle::Stdin, WasiErrno::Again, 0, false),
                3 => (
                    "fd_write",
                    1,
                    Handle::Stdout,
                    WasiErrno::Again,
                    u64::from(i % 3),
                    false,
                ),
                4 => ("fd_read", 0, Handle::Stdin, WasiErrno::Again, 0, true),
                5 if i % 2 == 0 => (
                    "sock_recv",
                    1 << 30,
                    Handle::Socket,
                    WasiErrno::Again,
                    0,
                    false,
                ),
                _ => ("fd_read", 0, Handle::Stdin, WasiErrno::Again, 0, false),
            })
            .collect();
        for &(call, fd, handle, errno, written, injected) in &script {
            shared.record_write(call, fd, handle, errno, written, injected);
            plain.record_write(call, fd, handle, errno, written, injected);
        }
        assert_eq!(shared.snapshot().events(), plain.events());
        assert!(shared.met_any());

        let shared = SharedLog::default();
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let log = shared.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000u32 {
                        log.record("fd_read", t % 2, Handle::Stdin, WasiErrno::Again);
                        if i % 1000 == 0 {
                            let _ = log.snapshot();
                        }
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let counts: Vec<(u32, u64)> = shared
            .snapshot()
            .events()
            .iter()
            .map(|e| (e.fd, e.count))
            .collect();
        let mut counts = counts;
        counts.sort();
        assert_eq!(counts, [(0, 40_000), (1, 40_000)]);
    }

    /// While a journal is kept, every occurrence is in it, repeats too.
    #[test]
    fn a_journal_sees_every_repeat() {
        let shared = SharedLog::default();
        shared.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        shared.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        shared.start_journal();
        for _ in 0..3 {
            shared.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        }
        assert_eq!(shared.end_journal().len(), 3);
        shared.record("fd_read", 0, Handle::Stdin, WasiErrno::Again);
        assert_eq!(shared.snapshot().events()[0].count, 6);
    }
}
