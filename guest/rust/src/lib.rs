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

mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
        pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
        pub fn fd_read(fd: u32, iovs: *const u32, iovs_len: u32, nread: *mut u32) -> u16;
    }
}

/// The witx names of the 77 preview1 errnos, by value.
const NAMES: [&str; 77] = [
    "success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again", "already",
    "badf", "badmsg", "busy", "canceled", "child", "connaborted", "connrefused", "connreset",
    "deadlk", "destaddrreq", "dom", "dquot", "exist", "fault", "fbig", "hostunreach",
    "idrm", "ilseq", "inprogress", "intr", "inval", "io", "isconn", "isdir",
    "loop", "mfile", "mlink", "msgsize", "multihop", "nametoolong", "netdown", "netreset",
    "netunreach", "nfile", "nobufs", "nodev", "noent", "noexec", "nolck", "nolink",
    "nomem", "nomsg", "noprotoopt", "nospc", "nosys", "notconn", "notdir", "notempty",
    "notrecoverable", "notsock", "notsup", "notty", "nxio", "overflow", "ownerdead", "perm",
    "pipe", "proto", "protonosupport", "prototype", "range", "rofs", "spipe", "srch",
    "stale", "timedout", "txtbsy", "xdev", "notcapable",
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

/// Prints one report line: `WB op=<op> fd=<fd> errno=<n> name=<name>` and `extra`.
pub fn report(op: &str, fd: u32, errno: Errno, extra: &str) {
    let sep = if extra.is_empty() { "" } else { " " };
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
