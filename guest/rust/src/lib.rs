//! What every guest scenario shares: raw `wasi_snapshot_preview1` calls that return the WASI
//! errno as it crossed the boundary, and the one-line report format the host's tests and suite
//! parse.
//!
//! Report lines start with `WB ` and are space-separated `key=value` pairs, `op` first, then
//! `fd`, `errno` (the raw WASI value) and `name` (its witx name); call-specific fields follow,
//! and `data`, when present, is last and runs to the end of the line. Guests report what they
//! saw; they never guess the host platform.

/// `fdflags.nonblock`.
pub const FDFLAGS_NONBLOCK: u16 = 1 << 2;

/// A preview1 errno as returned by a call.
pub type Errno = u16;

/// `success`.
pub const SUCCESS: Errno = 0;
/// `again`: the call would block.
pub const AGAIN: Errno = 6;

mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
        pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
        pub fn fd_read(fd: u32, iovs: *const u32, iovs_len: u32, nread: *mut u32) -> u16;
        pub fn fd_write(fd: u32, iovs: *const u32, iovs_len: u32, nwritten: *mut u32) -> u16;
        pub fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> u16;
        pub fn sock_accept(fd: u32, flags: u32, result: *mut u32) -> u16;
        pub fn sock_recv(
            fd: u32,
            iovs: *const u32,
            iovs_len: u32,
            flags: u32,
            n: *mut u32,
            roflags: *mut u16,
        ) -> u16;
        pub fn sock_send(fd: u32, iovs: *const u32, iovs_len: u32, flags: u32, n: *mut u32) -> u16;
        pub fn sock_shutdown(fd: u32, how: u32) -> u16;
    }
}

/// The witx names of the 77 preview1 errnos, by value.
const NAMES: [&str; 77] = [
    "success",
    "2big",
    "acces",
    "addrinuse",
    "addrnotavail",
    "afnosupport",
    "again",
    "already",
    "badf",
    "badmsg",
    "busy",
    "canceled",
    "child",
    "connaborted",
    "connrefused",
    "connreset",
    "deadlk",
    "destaddrreq",
    "dom",
    "dquot",
    "exist",
    "fault",
    "fbig",
    "hostunreach",
    "idrm",
    "ilseq",
    "inprogress",
    "intr",
    "inval",
    "io",
    "isconn",
    "isdir",
    "loop",
    "mfile",
    "mlink",
    "msgsize",
    "multihop",
    "nametoolong",
    "netdown",
    "netreset",
    "netunreach",
    "nfile",
    "nobufs",
    "nodev",
    "noent",
    "noexec",
    "nolck",
    "nolink",
    "nomem",
    "nomsg",
    "noprotoopt",
    "nospc",
    "nosys",
    "notconn",
    "notdir",
    "notempty",
    "notrecoverable",
    "notsock",
    "notsup",
    "notty",
    "nxio",
    "overflow",
    "ownerdead",
    "perm",
    "pipe",
    "proto",
    "protonosupport",
    "prototype",
    "range",
    "rofs",
    "spipe",
    "srch",
    "stale",
    "timedout",
    "txtbsy",
    "xdev",
    "notcapable",
];

/// The witx name of `errno`, or `unknown`.
pub fn errno_name(errno: Errno) -> &'static str {
    NAMES.get(usize::from(errno)).copied().unwrap_or("unknown")
}

/// `fd_fdstat_set_flags(fd, flags)`.
pub fn set_flags(fd: u32, flags: u16) -> Errno {
    // SAFETY: plain values, no memory passed.
    unsafe { raw::fd_fdstat_set_flags(fd, u32::from(flags)) }
}

/// `fd_fdstat_get(fd)`: the errno and, on success, `fs_flags`.
pub fn get_flags(fd: u32) -> (Errno, u16) {
    // fdstat: filetype u8, pad, fs_flags u16 at 2, rights u64 at 8 and 16; align 8.
    let mut buf = [0u64; 3];
    // SAFETY: buf is 24 writable bytes, aligned to 8.
    let errno = unsafe { raw::fd_fdstat_get(fd, buf.as_mut_ptr().cast()) };
    let bytes = buf[0].to_le_bytes();
    (errno, u16::from_le_bytes([bytes[2], bytes[3]]))
}

/// `fd_read(fd)` into `buf` with one iovec: the errno and the count read.
pub fn read(fd: u32, buf: &mut [u8]) -> (Errno, usize) {
    let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let mut nread = 0u32;
    // SAFETY: one iovec over buf; nread is a valid u32.
    let errno = unsafe { raw::fd_read(fd, iov.as_ptr(), 1, &mut nread) };
    (errno, nread as usize)
}

/// Prints one report line: `WB op=<op> fd=<fd> errno=<n> name=<name>` and `extra`
/// (`fd=none` for calls on no descriptor, passed as `u32::MAX`).
pub fn report(op: &str, fd: u32, errno: Errno, extra: &str) {
    let sep = if extra.is_empty() { "" } else { " " };
    let fd = if fd == u32::MAX {
        "none".to_string()
    } else {
        fd.to_string()
    };
    println!(
        "WB op={op} fd={fd} errno={errno} name={}{sep}{extra}",
        errno_name(errno)
    );
}

/// Reports `fd_fdstat_set_flags`.
pub fn report_set_flags(fd: u32, flags: u16) -> Errno {
    let errno = set_flags(fd, flags);
    report("fd_fdstat_set_flags", fd, errno, &format!("flags={flags}"));
    errno
}

/// Reports `fd_fdstat_get`, with the flags on success.
pub fn report_get_flags(fd: u32) -> Errno {
    let (errno, flags) = get_flags(fd);
    let extra = if errno == SUCCESS {
        format!("flags={flags}")
    } else {
        String::new()
    };
    report("fd_fdstat_get", fd, errno, &extra);
    errno
}

/// Reports one `fd_read` of up to `size` bytes, with the count and data on success.
pub fn report_read(fd: u32, size: usize) -> Errno {
    let mut buf = vec![0u8; size];
    let (errno, n) = read(fd, &mut buf);
    let extra = if errno == SUCCESS {
        format!("n={n} data={}", String::from_utf8_lossy(&buf[..n]))
    } else {
        String::new()
    };
    report("fd_read", fd, errno, &extra);
    errno
}

/// `fd_write(fd, data)` with one iovec: the errno and the count written.
pub fn write(fd: u32, data: &[u8]) -> (Errno, usize) {
    let iov = [data.as_ptr() as u32, data.len() as u32];
    let mut n = 0u32;
    // SAFETY: one iovec over data; n is a valid u32.
    let errno = unsafe { raw::fd_write(fd, iov.as_ptr(), 1, &mut n) };
    (errno, n as usize)
}

/// Reports one `fd_write` of `data`, with the count on success.
pub fn report_write(fd: u32, data: &[u8]) -> (Errno, usize) {
    let (errno, n) = write(fd, data);
    let extra = if errno == SUCCESS {
        format!("len={} n={n}", data.len())
    } else {
        format!("len={}", data.len())
    };
    report("fd_write", fd, errno, &extra);
    (errno, n)
}

/// A `poll_oneoff` subscription.
#[derive(Clone, Copy, Debug)]
pub enum Sub {
    /// A relative clock on the monotonic clock, in nanoseconds.
    Clock(u64),
    /// An absolute deadline on clock `id` (0 realtime, 1 monotonic), in nanoseconds.
    ClockAbs(u32, u64),
    /// Readable.
    Read(u32),
    /// Writable.
    Write(u32),
}

/// A `poll_oneoff` event.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// The index of the subscription it answers (its userdata).
    pub index: u64,
    /// The event's errno.
    pub errno: Errno,
    /// 0 clock, 1 fd_read, 2 fd_write.
    pub kind: u8,
    /// Bytes available (read) or free (write).
    pub nbytes: u64,
    /// `fdreadwrite` flags: 1 is hangup.
    pub flags: u16,
}

/// Subscriptions [`poll`] lays out on the stack; more go to the heap.
const POLL_ON_STACK: usize = 8;

/// `poll_oneoff` over `subs` (userdata = index): the errno and the events. See
/// [`poll_into`], which an event loop calls instead to keep one buffer of events.
pub fn poll(subs: &[Sub]) -> (Errno, Vec<Event>) {
    let mut events = Vec::new();
    let errno = poll_into(subs, &mut events);
    (errno, events)
}

/// `poll_oneoff` over `subs` (userdata = index): the errno; `events` is emptied, then holds
/// the events. For up to [`POLL_ON_STACK`] subscriptions the arrays the host reads and
/// writes are on the stack and nothing is zeroed or allocated, as in a C event loop (a
/// `pollfd` on the stack), so that an event loop's figures (`bench_wake`) are the host's,
/// not the guest's `memset` and allocator's.
pub fn poll_into(subs: &[Sub], events: &mut Vec<Event>) -> Errno {
    use std::mem::MaybeUninit;
    events.clear();
    let mut raw_stack = [MaybeUninit::<u64>::uninit(); POLL_ON_STACK * 6];
    let mut out_stack = [MaybeUninit::<u64>::uninit(); POLL_ON_STACK * 4];
    let (mut raw_heap, mut out_heap) = (Vec::new(), Vec::new());
    let (raw, out): (&mut [MaybeUninit<u64>], &mut [MaybeUninit<u64>]) =
        if subs.len() <= POLL_ON_STACK {
            (&mut raw_stack, &mut out_stack)
        } else {
            raw_heap.resize(subs.len() * 6, MaybeUninit::uninit());
            out_heap.resize(subs.len() * 4, MaybeUninit::uninit());
            (&mut raw_heap, &mut out_heap)
        };
    for (i, s) in subs.iter().enumerate() {
        let (tag, a, b, flags) = match *s {
            Sub::Clock(ns) => (0u64, 1u64, ns, 0u64),
            Sub::ClockAbs(id, ns) => (0, u64::from(id), ns, 1),
            Sub::Read(fd) => (1, u64::from(fd), 0, 0),
            Sub::Write(fd) => (2, u64::from(fd), 0, 0),
        };
        // Every word of the subscription is written: userdata, tag, the union (the clock's
        // id, timeout and precision, or the descriptor), the clock's flags.
        raw[i * 6..i * 6 + 6]
            .copy_from_slice(&[i as u64, tag, a, b, 0, flags].map(MaybeUninit::new));
    }
    let mut n = 0u32;
    // SAFETY: subscriptions are 48 bytes and events 32, both 8-aligned, as laid out above;
    // the subscriptions are initialised, and the host only writes the events.
    let errno = unsafe {
        raw::poll_oneoff(
            raw.as_ptr().cast(),
            out.as_mut_ptr().cast(),
            subs.len() as u32,
            &mut n,
        )
    };
    // A host answers at most one event per subscription; a broken one is not read past it.
    for e in out.chunks_exact(4).take((n as usize).min(subs.len())) {
        // Only the fields are read: the host writes an event field by field, so the padding
        // after `type` and after `flags` may never be written (preview1 `event`: userdata u64
        // at 0, error u16 at 8, type u8 at 10, nbytes u64 at 16, flags u16 at 24).
        let at = |offset: usize| e.as_ptr().cast::<u8>().wrapping_add(offset);
        // SAFETY: the host wrote these fields of the first `n` events before returning; each
        // offset is aligned for its type within a u64-aligned 32-byte event.
        unsafe {
            events.push(Event {
                index: at(0).cast::<u64>().read(),
                errno: at(8).cast::<u16>().read(),
                kind: at(10).read(),
                nbytes: at(16).cast::<u64>().read(),
                flags: at(24).cast::<u16>().read(),
            });
        }
    }
    errno
}

/// Reports a `poll_oneoff` and each of its events, in the order of the subscriptions.
pub fn report_poll(subs: &[Sub]) -> (Errno, Vec<Event>) {
    let (errno, mut events) = poll(subs);
    events.sort_by_key(|e| e.index);
    report(
        "poll_oneoff",
        u32::MAX,
        errno,
        &format!("nevents={}", events.len()),
    );
    for e in &events {
        let (kind, fd) = match subs.get(e.index as usize) {
            Some(Sub::Read(fd)) => ("fd_read", fd.to_string()),
            Some(Sub::Write(fd)) => ("fd_write", fd.to_string()),
            _ => ("clock", "none".to_string()),
        };
        let extra = match e.kind {
            0 => format!("type={kind}"),
            _ => format!("type={kind} nbytes={} hangup={}", e.nbytes, e.flags & 1),
        };
        println!(
            "WB op=event fd={fd} errno={} name={} {extra}",
            e.errno,
            errno_name(e.errno)
        );
    }
    (errno, events)
}

/// The first listening socket: the descriptor right after the preopened directories (none in
/// these scenarios), as `LISTEN_FDS` announces.
pub const LISTEN_FD: u32 = 3;

/// `sock_accept(fd, flags)`: the errno and the new descriptor.
pub fn accept(fd: u32, flags: u16) -> (Errno, u32) {
    let mut new_fd = u32::MAX;
    // SAFETY: one u32 out-parameter.
    let errno = unsafe { raw::sock_accept(fd, u32::from(flags), &mut new_fd) };
    (errno, new_fd)
}

/// Reports one `sock_accept`, with the new descriptor and its flags on success.
pub fn report_accept(fd: u32, flags: u16) -> (Errno, u32) {
    let (errno, new_fd) = accept(fd, flags);
    let extra = if errno == SUCCESS {
        let (_, got) = get_flags(new_fd);
        format!("flags={flags} new_fd={new_fd} new_flags={got}")
    } else {
        format!("flags={flags}")
    };
    report("sock_accept", fd, errno, &extra);
    (errno, new_fd)
}

/// `sock_recv(fd)` into `buf` with one iovec: the errno and the count received.
pub fn recv(fd: u32, buf: &mut [u8], flags: u32) -> (Errno, usize) {
    let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let (mut n, mut roflags) = (0u32, 0u16);
    // SAFETY: one iovec over buf; valid out-parameters.
    let errno = unsafe { raw::sock_recv(fd, iov.as_ptr(), 1, flags, &mut n, &mut roflags) };
    (errno, n as usize)
}

/// Reports one `sock_recv` of up to `size` bytes, with the count and data on success.
pub fn report_recv(fd: u32, size: usize) -> Errno {
    let mut buf = vec![0u8; size];
    let (errno, n) = recv(fd, &mut buf, 0);
    let extra = if errno == SUCCESS {
        format!("n={n} data={}", String::from_utf8_lossy(&buf[..n]))
    } else {
        String::new()
    };
    report("sock_recv", fd, errno, &extra);
    errno
}

/// `sock_send(fd, data)` with one iovec: the errno and the count sent.
pub fn send(fd: u32, data: &[u8]) -> (Errno, usize) {
    let iov = [data.as_ptr() as u32, data.len() as u32];
    let mut n = 0u32;
    // SAFETY: one iovec over data; a valid out-parameter.
    let errno = unsafe { raw::sock_send(fd, iov.as_ptr(), 1, 0, &mut n) };
    (errno, n as usize)
}

/// `sock_shutdown(fd, how)`.
pub fn shutdown(fd: u32, how: u32) -> Errno {
    // SAFETY: plain values.
    unsafe { raw::sock_shutdown(fd, how) }
}

/// For a scenario that exists only in preview2: what a preview1 build of it prints.
pub fn preview2_only() {
    println!("WB op=skip fd=none errno=0 name=success reason=preview2-only");
}

/// The `HOST:PORT` argument of a network scenario: 127.0.0.1 and the port.
pub fn port_arg() -> u16 {
    std::env::args()
        .nth(1)
        .and_then(|a| a.rsplit(':').next().map(str::to_string))
        .and_then(|p| p.parse().ok())
        .expect("an argument 127.0.0.1:PORT")
}

#[cfg(target_env = "p2")]
pub mod p2net {
    //! Raw wasi:sockets (preview2) helpers for the `net_*` scenarios.
    use wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    use wasi::sockets::tcp::TcpSocket;

    /// `127.0.0.1:port`.
    pub fn loopback(port: u16) -> IpSocketAddress {
        IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port,
            address: (127, 0, 0, 1),
        })
    }

    /// The wasi-libc errno for a preview2 error code (what C or Python on WASI would see),
    /// and its witx name.
    pub fn errno(code: ErrorCode) -> (u16, &'static str) {
        match code {
            ErrorCode::WouldBlock => (6, "again"),
            ErrorCode::AccessDenied => (2, "acces"),
            ErrorCode::ConnectionRefused => (14, "connrefused"),
            ErrorCode::AddressInUse => (3, "addrinuse"),
            ErrorCode::InvalidState => (28, "inval"),
            _ => (29, "io"),
        }
    }

    /// Reports a preview2 call's result in the `WB` format, with the error code's own name.
    pub fn report<T>(op: &str, r: &Result<T, ErrorCode>) {
        match r {
            Ok(_) => println!("WB op={op} fd=none errno=0 name=success"),
            Err(e) => {
                let (n, name) = errno(*e);
                println!(
                    "WB op={op} fd=none errno={n} name={name} error={}",
                    e.name()
                );
            }
        }
    }

    /// A listening socket on `127.0.0.1:port`.
    pub fn listen(port: u16) -> Result<TcpSocket, ErrorCode> {
        let net = wasi::sockets::instance_network::instance_network();
        let sock = wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4)?;
        sock.start_bind(&net, loopback(port))?;
        sock.subscribe().block();
        sock.finish_bind()?;
        sock.start_listen()?;
        sock.subscribe().block();
        sock.finish_listen()?;
        Ok(sock)
    }
}

/// The monotonic clock, in nanoseconds (`clock_time_get`).
pub fn monotonic_ns() -> u64 {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    }
    let mut now = 0u64;
    // SAFETY: one u64 out-parameter.
    unsafe { clock_time_get(1, 1, &mut now) };
    now
}

/// The first argument as a count (default `n`).
pub fn count_arg(n: u64) -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(n)
}
