//! Guest memory as the overrides see it: every WASI structure they read or write, typed by
//! wiggle's `wasmtime_wasi::p1::types` (the witx definitions wasmtime-wasi itself is built
//! from), and the iovec arrays they read.
//!
//! Contract: a range outside guest memory is `fault`; a structure with an undefined tag,
//! enum value or flag bit is `inval` (as wasmtime-wasi reads them). Structures are copied
//! through an aligned scratch buffer, so a guest pointer of any alignment reads and writes
//! the same bytes the witx layout gives: the overrides accept misaligned pointers, as they
//! always have, where wasmtime-wasi's own calls trap.

use crate::errno::WasiErrno;
use std::borrow::Cow;
use std::ops::Range;
use wasmtime_wasi::p1::types;
use wiggle::{GuestError, GuestMemory, GuestPtr, GuestType};

pub use types::{
    Errno, Event, EventFdReadwrite, Eventrwflags, Eventtype, Fdflags, Fdstat, Filestat, Filetype,
    Rights, Subclockflags, Subscription, SubscriptionU,
};

/// The guest size of a subscription.
pub const SUBSCRIPTION_SIZE: u32 = 48;
/// The guest size of an event.
pub const EVENT_SIZE: u32 = 32;
/// The guest size of an iovec (and a ciovec): pointer and length.
const IOVEC_SIZE: u32 = 8;

/// Room for the largest structure copied (a filestat, 64 bytes), aligned as wasm's widest
/// field (u64).
#[repr(C, align(8))]
struct Scratch([u8; 64]);

/// `inval` for malformed values, `fault` for anything else (no range is read here that was
/// not checked).
fn errno_of(e: GuestError) -> WasiErrno {
    match e {
        GuestError::InvalidFlagValue(_) | GuestError::InvalidEnumValue(_) => WasiErrno::Inval,
        _ => WasiErrno::Fault,
    }
}

/// Decodes a `T` from its guest bytes (`T::guest_size()` of them).
fn decode<T: GuestType>(bytes: &[u8]) -> Result<T, WasiErrno> {
    let mut s = Scratch([0; 64]);
    s.0[..bytes.len()].copy_from_slice(bytes);
    GuestMemory::Unshared(&mut s.0)
        .read(GuestPtr::<T>::new(0))
        .map_err(errno_of)
}

/// Writes `value` at `ptr` in guest memory, with zeroed padding.
fn store<T: GuestType>(mem: &mut [u8], ptr: u32, value: T) -> Result<(), WasiErrno> {
    let r = guest_range(mem, ptr, T::guest_size())?;
    let mut s = Scratch([0; 64]);
    GuestMemory::Unshared(&mut s.0)
        .write(GuestPtr::<T>::new(0), value)
        .map_err(errno_of)?;
    let n = r.len();
    mem[r].copy_from_slice(&s.0[..n]);
    Ok(())
}

/// The byte range `[ptr, ptr+len)` of guest memory, or `fault`.
pub fn guest_range(mem: &[u8], ptr: u32, len: u32) -> Result<Range<usize>, WasiErrno> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(WasiErrno::Fault)?;
    if end > mem.len() {
        return Err(WasiErrno::Fault);
    }
    Ok(start..end)
}

/// The u32 at `ptr`.
pub fn read_u32(mem: &[u8], ptr: u32) -> Result<u32, WasiErrno> {
    let r = guest_range(mem, ptr, 4)?;
    Ok(u32::from_le_bytes(mem[r].try_into().expect("4 bytes")))
}

/// Writes the u32 `value` at `ptr`.
pub fn write_u32(mem: &mut [u8], ptr: u32, value: u32) -> Result<(), WasiErrno> {
    let r = guest_range(mem, ptr, 4)?;
    mem[r].copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Writes the u16 `value` at `ptr` (`roflags`).
pub fn write_u16(mem: &mut [u8], ptr: u32, value: u16) -> Result<(), WasiErrno> {
    let r = guest_range(mem, ptr, 2)?;
    mem[r].copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Subscription `i` of the copied subscription array `raw`. A descriptor's subscription
/// (what an event loop polls every time) is read straight from its witx layout: tag at 8,
/// descriptor at 16; wiggle's reader was ~200 instructions of a one-byte wake-up
/// (BENCHMARKS.md). A clock, and an undefined tag, go through wiggle as before.
#[inline(always)]
pub fn subscription(raw: &[u8], i: usize) -> Result<Subscription, WasiErrno> {
    let size = SUBSCRIPTION_SIZE as usize;
    let bytes: &[u8; SUBSCRIPTION_SIZE as usize] = raw[i * size..(i + 1) * size]
        .try_into()
        .expect("one subscription");
    let fd = types::SubscriptionFdReadwrite {
        file_descriptor: types::Fd::from(read_u32(bytes, 16)?),
    };
    let u = match bytes[8] {
        1 => SubscriptionU::FdRead(fd),
        2 => SubscriptionU::FdWrite(fd),
        _ => return decode(bytes),
    };
    Ok(Subscription {
        userdata: u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
        u,
    })
}

/// Writes event `i` of the array at `events` (checked by the caller to hold it), byte by
/// byte in its witx layout with zeroed padding, as wiggle writes it (a test holds the two
/// equal; wiggle's writer was ~170 instructions of a one-byte wake-up).
#[inline(always)]
pub fn write_event(mem: &mut [u8], events: u32, i: u32, event: Event) -> Result<(), WasiErrno> {
    let r = guest_range(mem, events + i * EVENT_SIZE, EVENT_SIZE)?;
    let mut b = [0u8; EVENT_SIZE as usize];
    b[0..8].copy_from_slice(&event.userdata.to_le_bytes());
    b[8..10].copy_from_slice(&u16::from(event.error).to_le_bytes());
    b[10] = u8::from(event.type_);
    b[16..24].copy_from_slice(&event.fd_readwrite.nbytes.to_le_bytes());
    b[24..26].copy_from_slice(&u16::from(event.fd_readwrite.flags).to_le_bytes());
    mem[r].copy_from_slice(&b);
    Ok(())
}

/// Writes `stat` at `ptr`.
pub fn write_fdstat(mem: &mut [u8], ptr: u32, stat: Fdstat) -> Result<(), WasiErrno> {
    store(mem, ptr, stat)
}

/// Replaces the `fs_flags` of the fdstat at `ptr` (one wasmtime-wasi just wrote).
pub fn set_fdstat_flags(mem: &mut [u8], ptr: u32, flags: Fdflags) -> Result<(), WasiErrno> {
    let r = guest_range(mem, ptr, Fdstat::guest_size())?;
    let stat: Fdstat = decode(&mem[r])?;
    store(
        mem,
        ptr,
        Fdstat {
            fs_flags: flags,
            ..stat
        },
    )
}

/// Writes `stat` at `ptr`.
pub fn write_filestat(mem: &mut [u8], ptr: u32, stat: Filestat) -> Result<(), WasiErrno> {
    store(mem, ptr, stat)
}

/// The first non-empty buffer of an iovec array (as wasmtime-wasi reads), or an empty range.
/// A short read into it is what POSIX `readv` allows.
/// Empty buffers before it are skipped unchecked, as wasmtime-wasi skips them.
pub fn first_iovec(mem: &[u8], iovs: u32, iovs_len: u32) -> Result<Range<usize>, WasiErrno> {
    let size = iovs_len.checked_mul(IOVEC_SIZE).ok_or(WasiErrno::Fault)?;
    guest_range(mem, iovs, size)?;
    for i in 0..iovs_len {
        let base = iovs + i * IOVEC_SIZE;
        let (buf, len) = (read_u32(mem, base)?, read_u32(mem, base + 4)?);
        if len != 0 {
            return guest_range(mem, buf, len);
        }
    }
    Ok(0..0)
}

/// The buffers of an iovec array, each checked against guest memory, read one at a time:
/// nothing is allocated for them, however many there are.
pub fn iovecs(
    mem: &[u8],
    iovs: u32,
    iovs_len: u32,
) -> Result<impl Iterator<Item = Result<Range<usize>, WasiErrno>> + '_, WasiErrno> {
    let size = iovs_len.checked_mul(IOVEC_SIZE).ok_or(WasiErrno::Fault)?;
    guest_range(mem, iovs, size)?;
    Ok((0..iovs_len).map(move |i| {
        let base = iovs + i * IOVEC_SIZE;
        guest_range(mem, read_u32(mem, base)?, read_u32(mem, base + 4)?)
    }))
}

/// The total length of an iovec array's buffers, every one checked (`fault` for any that
/// lies outside guest memory, before a byte is written).
pub fn iovecs_len(mem: &[u8], iovs: u32, iovs_len: u32) -> Result<u64, WasiErrno> {
    iovecs(mem, iovs, iovs_len)?.try_fold(0u64, |n, r| Ok(n + r?.len() as u64))
}

/// The first `limit` bytes of an iovec array's data (checked by [`iovecs_len`]): borrowed
/// when one buffer holds them, else gathered into at most `limit` bytes of host memory.
pub fn gather(
    mem: &[u8],
    iovs: u32,
    iovs_len: u32,
    limit: usize,
) -> Result<Cow<'_, [u8]>, WasiErrno> {
    // Empty buffers are skipped; a buffer outside guest memory is still an error.
    let mut ranges = iovecs(mem, iovs, iovs_len)?.filter(|r| !matches!(r, Ok(r) if r.is_empty()));
    let Some(first) = ranges.next().transpose()? else {
        return Ok(Cow::Borrowed(&[][..]));
    };
    if first.len() >= limit {
        return Ok(Cow::Borrowed(&mem[first.start..first.start + limit]));
    }
    let mut out = Vec::with_capacity(limit);
    out.extend_from_slice(&mem[first]);
    for r in ranges {
        let r = r?;
        let take = r.len().min(limit - out.len());
        out.extend_from_slice(&mem[r.start..r.start + take]);
        if out.len() == limit {
            break;
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The witx layouts the overrides used to write by hand, byte for byte.
    #[test]
    fn structures_have_the_witx_layout() {
        let mut mem = vec![0xAAu8; 128];
        let event = Event {
            userdata: 0x0102_0304_0506_0708,
            error: types::Errno::Success,
            type_: Eventtype::FdWrite,
            fd_readwrite: EventFdReadwrite {
                nbytes: 65536,
                flags: Eventrwflags::FD_READWRITE_HANGUP,
            },
        };
        // Misaligned on purpose.
        write_event(&mut mem, 1, 0, event).unwrap();
        let mut want = [0u8; 32];
        want[0..8].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
        want[10] = 2;
        want[16..24].copy_from_slice(&65536u64.to_le_bytes());
        want[24..26].copy_from_slice(&1u16.to_le_bytes());
        assert_eq!(&mem[1..33], &want[..]);
        assert_eq!((mem[0], mem[33]), (0xAA, 0xAA));

        let stat = Fdstat {
            fs_filetype: Filetype::SocketStream,
            fs_flags: Fdflags::NONBLOCK,
            fs_rights_base: Rights::FD_READ | Rights::SOCK_ACCEPT,
            fs_rights_inheriting: Rights::FD_WRITE,
        };
        write_fdstat(&mut mem, 3, stat.clone()).unwrap();
        let mut want = [0u8; 24];
        want[0] = 6;
        want[2..4].copy_from_slice(&4u16.to_le_bytes());
        want[8..16].copy_from_slice(&((1u64 << 1) | (1 << 29)).to_le_bytes());
        want[16..24].copy_from_slice(&(1u64 << 6).to_le_bytes());
        assert_eq!(&mem[3..27], &want[..]);
        set_fdstat_flags(&mut mem, 3, Fdflags::APPEND).unwrap();
        assert_eq!(&mem[5..7], &1u16.to_le_bytes());
        assert_eq!(write_fdstat(&mut mem, 120, stat), Err(WasiErrno::Fault));
    }

    proptest::proptest! {
        /// The hand-read subscriptions are wiggle's, for any bytes: the same value, or the
        /// same error.
        #[test]
        fn subscriptions_read_as_wiggle_reads_them(
            mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 48),
            tag in 0u8..5,
        ) {
            bytes[8] = tag;
            let wiggle: Result<Subscription, WasiErrno> = decode(&bytes);
            let ours = subscription(&bytes, 0);
            proptest::prop_assert_eq!(format!("{ours:?}"), format!("{wiggle:?}"));
        }

        /// The hand-written events are wiggle's, byte for byte, padding zeroed, at any
        /// alignment; one past the end of memory is `fault`, and nothing is written.
        #[test]
        fn events_are_written_as_wiggle_writes_them(
            userdata in proptest::prelude::any::<u64>(),
            errno in 0u16..77,
            kind in 0u8..3,
            nbytes in proptest::prelude::any::<u64>(),
            hangup in proptest::prelude::any::<bool>(),
            at in 0u32..8,
        ) {
            let event = || Event {
                userdata,
                error: types::Errno::try_from(errno).expect("a defined errno"),
                type_: Eventtype::try_from(kind).expect("a defined event type"),
                fd_readwrite: EventFdReadwrite {
                    nbytes,
                    flags: if hangup { Eventrwflags::FD_READWRITE_HANGUP } else { Eventrwflags::empty() },
                },
            };
            let (mut ours, mut wiggle) = (vec![0xAAu8; 48], vec![0xAAu8; 48]);
            write_event(&mut ours, at, 0, event()).unwrap();
            store(&mut wiggle, at, event()).unwrap();
            proptest::prop_assert_eq!(&ours, &wiggle);
            let end = 48 - EVENT_SIZE + 1;
            proptest::prop_assert_eq!(write_event(&mut ours, end, 0, event()), Err(WasiErrno::Fault));
            proptest::prop_assert_eq!(&ours, &wiggle);
        }
    }

    #[test]
    fn subscriptions_decode_and_refuse_bad_tags() {
        let mut raw = vec![0u8; 96];
        raw[0..8].copy_from_slice(&7u64.to_le_bytes());
        raw[8] = 1; // fd_read
        raw[16..20].copy_from_slice(&9u32.to_le_bytes());
        raw[48 + 8] = 0; // clock
        raw[48 + 16..48 + 20].copy_from_slice(&1u32.to_le_bytes());
        raw[48 + 24..48 + 32].copy_from_slice(&500u64.to_le_bytes());
        raw[48 + 40..48 + 42].copy_from_slice(&1u16.to_le_bytes());
        let s = subscription(&raw, 0).unwrap();
        assert_eq!(s.userdata, 7);
        assert!(matches!(s.u, SubscriptionU::FdRead(ref r) if u32::from(r.file_descriptor) == 9));
        let SubscriptionU::Clock(c) = subscription(&raw, 1).unwrap().u else {
            panic!("a clock")
        };
        assert_eq!((c.id, c.timeout), (types::Clockid::Monotonic, 500));
        assert_eq!(c.flags, types::Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME);
        raw[8] = 3;
        assert_eq!(subscription(&raw, 0).err(), Some(WasiErrno::Inval));
        raw[48 + 40] = 2; // an undefined clock flag
        assert_eq!(subscription(&raw, 1).err(), Some(WasiErrno::Inval));
    }
}
