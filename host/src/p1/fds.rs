//! The descriptors the host manages itself, and their WASI fdflags.
//!
//! wasmtime-wasi keeps its own descriptor table; this one only records which of those numbers
//! the host answers for. It follows the guest's `fd_close` and `fd_renumber` (after the stock
//! call succeeded), so a number always means the same object to both tables.

use super::abi::Fdflags;
use crate::errno::WasiErrno;
use crate::events::{Handle, SharedLog};
use crate::net::Conn;
use crate::output::Sink;
use crate::stdin::Source;
use std::net::TcpListener;
use std::sync::Arc;

/// Which way bytes flow through a managed descriptor.
pub enum Endpoint {
    /// The guest reads: stdin.
    Read(Source),
    /// The guest writes: stdout, stderr.
    Write(Sink),
    /// A listening socket.
    Listener(Arc<TcpListener>),
    /// A connected socket.
    Stream(Arc<Conn>),
}

impl Endpoint {
    /// True for sockets, whose calls never reach wasmtime-wasi (it has no sockets in p1).
    pub fn is_socket(&self) -> bool {
        matches!(self, Endpoint::Listener(_) | Endpoint::Stream(_))
    }
}

/// A host-managed descriptor.
pub struct Managed {
    /// What it is, for events.
    pub handle: Handle,
    /// Where its bytes come from or go.
    pub endpoint: Endpoint,
    /// Its fdflags as the guest set them.
    pub flags: Fdflags,
    /// Bytes accepted by short non-blocking writes since the last complete write or `again`:
    /// what Python reports as `characters_written` when the next write would block.
    pub short_written: u64,
    /// Whether wasmtime-wasi's table holds a descriptor under the same number (stdio, the
    /// reserved listener numbers): closing this one closes that one too.
    pub stock_beneath: bool,
}

impl Managed {
    /// A descriptor with no flags set.
    pub fn new(handle: Handle, endpoint: Endpoint) -> Self {
        Managed {
            handle,
            endpoint,
            flags: Fdflags::empty(),
            short_written: 0,
            stock_beneath: true,
        }
    }

    /// A descriptor that exists only here (an accepted connection).
    pub fn host_only(handle: Handle, endpoint: Endpoint, flags: Fdflags) -> Self {
        Managed {
            flags,
            stock_beneath: false,
            ..Managed::new(handle, endpoint)
        }
    }
}

impl Managed {
    /// Books a write of `len` bytes that ended with `result`: short writes accumulate, a
    /// complete one resets the count, `again` (`injected` by `--chaos` or not) is recorded
    /// with what the short writes before it accepted (Python's `characters_written`).
    pub fn account_write(
        &mut self,
        events: &SharedLog,
        (call, fd): (&'static str, u32),
        len: usize,
        result: Result<usize, WasiErrno>,
        injected: bool,
    ) -> Result<usize, WasiErrno> {
        match result {
            Ok(n) => {
                if n < len {
                    self.short_written += n as u64;
                } else {
                    self.short_written = 0;
                }
                Ok(n)
            }
            Err(WasiErrno::Again) => {
                let written = std::mem::take(&mut self.short_written);
                events.record_write(call, fd, self.handle, WasiErrno::Again, written, injected);
                Err(WasiErrno::Again)
            }
            Err(e) => Err(e),
        }
    }
}

/// Accepted connections are numbered from here up, far above anything wasmtime-wasi hands
/// out (it counts up from the last number in use); `path_open` refuses to return one of ours
/// should it ever get there.
pub const HOST_ONLY_BASE: u32 = 1 << 30;

/// Host-managed descriptors by number: a vector for the small numbers every call checks,
/// a map for the rest.
#[derive(Default)]
pub struct Fds {
    low: Vec<Option<Managed>>,
    high: std::collections::BTreeMap<u32, Managed>,
}

/// Numbers below this live in the vector.
const LOW: u32 = 1024;

impl Fds {
    /// Manages `fd` from now on.
    pub fn insert(&mut self, fd: u32, m: Managed) {
        if fd >= LOW {
            self.high.insert(fd, m);
            return;
        }
        let i = fd as usize;
        if self.low.len() <= i {
            self.low.resize_with(i + 1, || None);
        }
        self.low[i] = Some(m);
    }

    /// The managed descriptor `fd`, if it is one.
    pub fn get(&self, fd: u32) -> Option<&Managed> {
        if fd >= LOW {
            return self.high.get(&fd);
        }
        self.low.get(fd as usize)?.as_ref()
    }

    /// Mutable access to the managed descriptor `fd`.
    pub fn get_mut(&mut self, fd: u32) -> Option<&mut Managed> {
        if fd >= LOW {
            return self.high.get_mut(&fd);
        }
        self.low.get_mut(fd as usize)?.as_mut()
    }

    /// Stops managing `fd`, returning what it was.
    pub fn remove(&mut self, fd: u32) -> Option<Managed> {
        if fd >= LOW {
            return self.high.remove(&fd);
        }
        self.low.get_mut(fd as usize)?.take()
    }

    /// The lowest free number at or above [`HOST_ONLY_BASE`].
    pub fn next_host_only(&self) -> u32 {
        (HOST_ONLY_BASE..)
            .find(|fd| self.get(*fd).is_none())
            .expect("fewer than 2^31 sockets")
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
