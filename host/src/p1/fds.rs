//! The descriptors the host manages itself, and their WASI fdflags.
//!
//! wasmtime-wasi keeps its own descriptor table; this one only records which of those numbers
//! the host answers for. It follows the guest's `fd_close` and `fd_renumber` (after the stock
//! call succeeded), so a number always means the same object to both tables.

use crate::events::Handle;
use crate::output::Sink;
use crate::stdin::Source;

/// `fdflags.append`.
pub const APPEND: u16 = 1 << 0;
/// `fdflags.dsync`.
pub const DSYNC: u16 = 1 << 1;
/// `fdflags.nonblock`.
pub const NONBLOCK: u16 = 1 << 2;
/// `fdflags.rsync`.
pub const RSYNC: u16 = 1 << 3;
/// `fdflags.sync`.
pub const SYNC: u16 = 1 << 4;
/// Every defined fdflags bit.
pub const ALL_FLAGS: u16 = APPEND | DSYNC | NONBLOCK | RSYNC | SYNC;
/// The bits `F_SETFL` can change on a pipe (Linux `fcntl(2)`: the sync flags are ignored).
pub const SETTABLE: u16 = APPEND | NONBLOCK;

/// Which way bytes flow through a managed descriptor.
pub enum Endpoint {
    /// The guest reads: stdin.
    Read(Source),
    /// The guest writes: stdout, stderr.
    Write(Sink),
}

/// A host-managed descriptor.
pub struct Managed {
    /// What it is, for events.
    pub handle: Handle,
    /// Where its bytes come from or go.
    pub endpoint: Endpoint,
    /// Its fdflags as the guest set them.
    pub flags: u16,
    /// Bytes accepted by short non-blocking writes since the last complete write or `again`:
    /// what Python reports as `characters_written` when the next write would block.
    pub short_written: u64,
}

impl Managed {
    /// A descriptor with no flags set.
    pub fn new(handle: Handle, endpoint: Endpoint) -> Self {
        Managed {
            handle,
            endpoint,
            flags: 0,
            short_written: 0,
        }
    }
}

/// Host-managed descriptors by number.
#[derive(Default)]
pub struct Fds {
    slots: Vec<Option<Managed>>,
}

impl Fds {
    /// Manages `fd` from now on.
    pub fn insert(&mut self, fd: u32, m: Managed) {
        let i = fd as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some(m);
    }

    /// The managed descriptor `fd`, if it is one.
    pub fn get(&self, fd: u32) -> Option<&Managed> {
        self.slots.get(fd as usize)?.as_ref()
    }

    /// Mutable access to the managed descriptor `fd`.
    pub fn get_mut(&mut self, fd: u32) -> Option<&mut Managed> {
        self.slots.get_mut(fd as usize)?.as_mut()
    }

    /// Stops managing `fd`, returning what it was.
    pub fn remove(&mut self, fd: u32) -> Option<Managed> {
        self.slots.get_mut(fd as usize)?.take()
    }

    /// Follows a successful `fd_renumber(from, to)`: `to` now names what `from` named.
    pub fn renumber(&mut self, from: u32, to: u32) {
        if from == to {
            return;
        }
        let moved = self.remove(from);
        self.remove(to);
        if let Some(m) = moved {
            self.insert(to, m);
        }
    }
}
