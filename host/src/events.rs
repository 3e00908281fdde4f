//! The would-block events a guest met, recorded where they cross the host boundary.
//!
//! One entry per distinct (call, fd, handle, errno), in order of first occurrence, with a count
//! and, for partial writes, the bytes accepted before the would-block. Recording is a short
//! linear scan: a guest meets few distinct events, however many times it meets each.
//!
//! A run records into a [`SharedLog`], so that a run stopped while blocked where the host
//! cannot interrupt it (inside wasmtime-wasi) is still reported with every event it met.

use crate::errno::WasiErrno;
use crate::recording::Occurrence;
use serde::Serialize;
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
    /// While `--record` records a call: every occurrence, one by one.
    journal: Option<Vec<Occurrence>>,
}

impl EventLog {
    /// Records one occurrence.
    pub(crate) fn record(&mut self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.record_write(call, fd, handle, errno, 0, false);
    }

    /// Records one occurrence of something `--chaos` injected.
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
        let i = match self.events.iter().position(|e| {
            e.call == call
                && e.fd == fd
                && e.handle == handle
                && e.errno == errno
                && e.injected == injected
        }) {
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
/// it. Recording takes an uncontended lock: nobody else looks until the run is over or
/// abandoned at its deadline.
#[derive(Clone, Debug, Default)]
pub struct SharedLog(Arc<Mutex<EventLog>>);

impl SharedLog {
    fn lock(&self) -> MutexGuard<'_, EventLog> {
        // Every update is one push or one counter: a poisoned lock is still consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`EventLog::record`].
    pub fn record(&self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.lock().record(call, fd, handle, errno);
    }

    /// [`EventLog::record_injected`].
    pub fn record_injected(&self, call: &'static str, fd: u32, handle: Handle, errno: WasiErrno) {
        self.lock().record_injected(call, fd, handle, errno);
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
        self.lock()
            .record_write(call, fd, handle, errno, written, injected);
    }

    /// From now on, keeps every occurrence for [`SharedLog::end_journal`] too.
    pub(crate) fn start_journal(&self) {
        self.lock().journal = Some(Vec::new());
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
        self.lock()
            .record_write(call, o.fd, o.handle, errno, o.written, o.injected);
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
}
