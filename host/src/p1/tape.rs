//! `--record` and `--replay`: every preview1 call the host answers from the outside world,
//! written down as it happens, or answered from a recording ([`crate::recording`]).
//!
//! Contract: [`around`] wraps each such call (registered with `wrap!(… taped SCOPE)`): the
//! calls on a managed descriptor (`Scope::Fd`: reads, writes, the socket calls,
//! `fd_fdstat_get`, `fd_filestat_get`) and the calls that read the world whatever their
//! arguments (`Scope::Always`: `poll_oneoff`, `clock_time_get`, `random_get`). With no tape
//! it only runs the call. Recording runs the call, then writes its arguments, errno, the
//! guest memory it wrote (read back from the ABI's out-parameters), the bytes a write took
//! and the events it recorded. Replaying never runs the call: it checks that the guest asks
//! exactly what the recording holds next (the same call, the same arguments), writes the
//! recorded bytes into guest memory, sends what a write took to the real stdout/stderr (after
//! checking the guest wrote the same bytes), re-records the events and returns the recorded
//! errno; the first call that differs stops the guest with [`Diverged`]. Every other call
//! (`fd_fdstat_set_flags`, `fd_close`, files, args) runs for real, being deterministic.

use super::abi::{gather, iovecs, read_u32, Fdflags};
use super::call::{done, Done, Fail};
use super::fds::{Endpoint, Managed};
use super::{stock, FaithfulCtx, GetCtx};
use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::recording::{Bytes, Call, End, Header, Line, Recording, Region, Sent};
use crate::run::{Diverged, RunError};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::Caller;

/// Which calls of one import are taped.
#[derive(Clone, Copy)]
pub enum Scope {
    /// Those on a managed descriptor (the first argument).
    Fd,
    /// All of them.
    Always,
}

/// A run's tape.
pub enum Tape {
    /// `--record FILE`.
    Record(Recorder),
    /// `--replay FILE`.
    Replay(Player),
}

/// Writes a recording as the run goes.
pub struct Recorder {
    out: std::io::BufWriter<std::fs::File>,
    started: Instant,
}

/// Answers calls from a recording.
pub struct Player {
    rec: Arc<Recording>,
    next: usize,
}

impl Tape {
    /// A recording to `file`, which starts with `header`.
    pub fn record(file: std::fs::File, header: Header) -> std::io::Result<Tape> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        out.write_all(crate::recording::to_line(&Line::Header(header)).as_bytes())?;
        Ok(Tape::Record(Recorder {
            out,
            started: Instant::now(),
        }))
    }

    /// A replay of `rec`.
    pub fn replay(rec: Arc<Recording>) -> Tape {
        Tape::Replay(Player { rec, next: 0 })
    }

    /// The run has ended with `status`: a recording writes its end; a replay checks that
    /// the guest ended as recorded, after every recorded call (else [`RunError::Diverged`]).
    pub fn finish(&mut self, status: Result<i32, RunError>) -> Result<i32, RunError> {
        let ended = end_of(&status);
        match self {
            Tape::Record(r) => {
                let line = crate::recording::to_line(&Line::End(ended));
                if let Err(e) = r
                    .out
                    .write_all(line.as_bytes())
                    .and_then(|()| r.out.flush())
                {
                    return Err(RunError::host(anyhow::anyhow!("--record: {e}")));
                }
                status
            }
            Tape::Replay(p) => {
                if matches!(status, Err(RunError::Diverged(_))) {
                    return status;
                }
                let ended = ended.to_string();
                if let Some(next) = p.rec.calls.get(p.next) {
                    return Err(RunError::Diverged(anyhow::anyhow!(
                        "at the end: the guest ended ({ended}) after call {}; the recording goes on with {} more, the next {}",
                        p.next,
                        p.rec.calls.len() - p.next,
                        show(&next.call, &next.args)
                    )));
                }
                match &p.rec.end {
                    Some(recorded) if recorded.to_string() != ended => {
                        Err(RunError::Diverged(anyhow::anyhow!(
                            "at the end: the guest ended ({ended}) after all {} calls; when recorded it ended ({recorded})",
                            p.next
                        )))
                    }
                    _ => status,
                }
            }
        }
    }
}

/// How a run with `status` ended, as a recording says it.
fn end_of(status: &Result<i32, RunError>) -> End {
    let stop = match status {
        Ok(code) => {
            return End {
                exit: Some(*code),
                stop: None,
            }
        }
        Err(RunError::Trap(_)) => "trap",
        Err(RunError::Timeout(_)) => "deadline",
        Err(RunError::MemoryLimit(_)) => "memory",
        Err(RunError::Host(_) | RunError::Input(_) | RunError::Diverged(_)) => "host",
    };
    End {
        exit: None,
        stop: Some(stop.into()),
    }
}

/// `fd_read(0, 1024, 1, 2048)`.
fn show(call: &str, args: &[i64]) -> String {
    let args: Vec<String> = args.iter().map(i64::to_string).collect();
    format!("{call}({})", args.join(", "))
}

/// Runs the import `name` (`run`) with `args`, through the tape when the run has one.
#[inline(always)]
pub fn around<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: impl GetCtx<T>,
    name: &'static str,
    scope: Scope,
    args: &[i64],
    run: impl FnOnce(&mut Caller<'_, T>) -> Done,
) -> Done {
    let ctx = get(caller.data_mut());
    let replaying = match &ctx.tape {
        None => return run(caller),
        Some(tape) => matches!(tape, Tape::Replay(_)),
    };
    let handle = match scope {
        Scope::Fd => match ctx.fds.get(args[0] as u32) {
            Some(m) => Some(m.handle),
            None => return run(caller),
        },
        Scope::Always => None,
    };
    if replaying {
        let (mem, ctx) = stock::memory_and_state(caller, get)?;
        return replay(mem, ctx, name, args);
    }
    let at = match &ctx.tape {
        Some(Tape::Record(r)) => r.started.elapsed(),
        _ => unreachable!("a recording"),
    };
    ctx.events.start_journal();
    let done = run(caller);
    let (mem, ctx) = stock::memory_and_state(caller, get)?;
    let events = ctx.events.end_journal();
    let errno = match &done {
        Ok(()) => WasiErrno::Success,
        Err(Fail::Errno(e)) => *e,
        // The run stops here; its end says why.
        Err(Fail::Trap(_)) => return done,
    };
    let Some(Tape::Record(r)) = &mut ctx.tape else {
        unreachable!("checked above")
    };
    let (mem, ret, sent) = effects(name, args, mem, errno == WasiErrno::Success);
    let call = Call {
        at_us: at.as_micros() as u64,
        call: name.to_string(),
        args: args.to_vec(),
        handle,
        errno: errno.name().to_string(),
        ret,
        mem,
        sent,
        events,
    };
    let line = crate::recording::to_line(&Line::Call(call));
    if let Err(e) = r.out.write_all(line.as_bytes()) {
        return Err(wasmtime::Error::msg(format!("--record: {e}")).into());
    }
    done
}

/// What the call `name` with `args` left in guest memory (`ok`: it succeeded): the regions
/// its out-parameters name, the count it returned, and for a write what it took.
fn effects(
    name: &str,
    args: &[i64],
    mem: &[u8],
    ok: bool,
) -> (Vec<Region>, Option<u64>, Option<Sent>) {
    let at = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let region = |addr: u32, len: usize| {
        let data = mem.get(addr as usize..)?.get(..len)?;
        Some(Region {
            addr,
            data: Bytes::new(data),
        })
    };
    let count = |ptr: u32| ok.then(|| read_u32(mem, ptr).ok()).flatten();
    let mut regions = Vec::new();
    let (mut ret, mut sent) = (None, None);
    match name {
        "fd_read" | "sock_recv" => {
            let n_ptr = if name == "fd_read" { at(3) } else { at(4) };
            regions.extend(region(n_ptr, 4));
            if name == "sock_recv" {
                regions.extend(region(at(5), 2));
            }
            if let Some(n) = count(n_ptr) {
                ret = Some(u64::from(n));
                // The bytes read, buffer by buffer.
                let mut left = n as usize;
                for r in iovecs(mem, at(1), at(2)).into_iter().flatten().flatten() {
                    if left == 0 {
                        break;
                    }
                    let take = r.len().min(left);
                    regions.extend(region(r.start as u32, take));
                    left -= take;
                }
            }
        }
        "fd_write" | "sock_send" => {
            let n_ptr = if name == "fd_write" { at(3) } else { at(4) };
            regions.extend(region(n_ptr, 4));
            if let Some(n) = count(n_ptr) {
                ret = Some(u64::from(n));
                sent = gather(mem, at(1), at(2), n as usize)
                    .ok()
                    .map(|d| Sent::of(&d));
            }
        }
        "poll_oneoff" => {
            regions.extend(region(at(3), 4));
            if let Some(n) = count(at(3)) {
                ret = Some(u64::from(n));
                regions.extend(region(at(1), n as usize * 32));
            }
        }
        "sock_accept" => {
            regions.extend(region(at(2), 4));
            ret = count(at(2)).map(u64::from);
        }
        "fd_fdstat_get" => regions.extend(region(at(1), 24)),
        "fd_filestat_get" => regions.extend(region(at(1), 64)),
        "clock_time_get" => {
            regions.extend(region(at(2), 8));
            ret = ok
                .then(|| mem.get(at(2) as usize..)?.get(..8))
                .flatten()
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        }
        "random_get" => regions.extend(region(at(0), at(1) as usize)),
        _ => {}
    }
    (regions, ret, sent)
}

/// Answers the call `name` with `args` from the recording.
fn replay(mem: &mut [u8], ctx: &mut FaithfulCtx, name: &str, args: &[i64]) -> Done {
    let Some(Tape::Replay(p)) = &mut ctx.tape else {
        unreachable!("a replay")
    };
    let rec = p.rec.clone();
    let index = p.next;
    let stop = |why: String| -> Done {
        Err(wasmtime::Error::new(Diverged(format!("at call {}: {why}", index + 1))).into())
    };
    let Some(c) = rec.calls.get(index) else {
        let asked = show(name, args);
        return match &rec.end {
            // The recorded run was stopped by its deadline in this very call.
            Some(End {
                stop: Some(why), ..
            }) if why == "deadline" => {
                let timeout =
                    std::time::Duration::from_millis(rec.header.timeout_ms.unwrap_or_default());
                Err(wasmtime::Error::new(crate::limits::DeadlineExceeded(timeout)).into())
            }
            _ => stop(format!(
                "the guest called {asked}; the recording has no more calls"
            )),
        };
    };
    if c.call != name || c.args != args {
        return stop(format!(
            "the guest called {}; the recording has {}",
            show(name, args),
            show(&c.call, &c.args)
        ));
    }
    p.next += 1;
    for r in &c.mem {
        let Some(data) = r.data.decode() else {
            return stop("the recording's bytes are not valid hex".into());
        };
        let Some(dst) = mem
            .get_mut(r.addr as usize..)
            .and_then(|m| m.get_mut(..data.len()))
        else {
            return stop(format!(
                "the recording writes {} bytes at {}, outside the guest's memory",
                data.len(),
                r.addr
            ));
        };
        dst.copy_from_slice(&data);
    }
    if let Some(sent) = &c.sent {
        let (iovs, iovs_len) = (args[1] as u32, args[2] as u32);
        let wrote = match gather(mem, iovs, iovs_len, sent.len as usize) {
            Ok(wrote) if Sent::of(&wrote) == *sent => wrote.into_owned(),
            _ => {
                return stop(format!(
                    "the guest wrote other bytes than the {} recorded",
                    sent.len
                ))
            }
        };
        if let Some(Managed {
            endpoint: Endpoint::Write(sink),
            ..
        }) = ctx.fds.get(args[0] as u32)
        {
            if let Err(e) = super::faithful::write_blocking(sink, &wrote, ctx.deadline)? {
                return Err(e.into());
            }
        }
    }
    if c.call == "sock_accept" && c.errno == "success" {
        let Some(fd) = c.ret.and_then(|fd| u32::try_from(fd).ok()) else {
            return stop("the recording's sock_accept returned no descriptor".into());
        };
        let flags = Fdflags::from_bits_truncate(args[1] as u16);
        let stand_in = stand_in().map_err(|e| wasmtime::Error::msg(format!("--replay: {e}")))?;
        ctx.fds.insert(
            fd,
            Managed::host_only(
                Handle::Socket,
                Endpoint::Stream(Arc::new(stand_in.into())),
                flags,
            ),
        );
    }
    for o in &c.events {
        if let Err(why) = ctx.events.replay(o) {
            return stop(format!("the recording has {why}"));
        }
    }
    match WasiErrno::parse(&c.errno) {
        Some(e) => done(e),
        None => stop(format!("the recording has an unknown errno `{}`", c.errno)),
    }
}

/// An accepted connection's stand-in in a replay: a loopback socket nobody writes to (every
/// call on it is answered from the recording).
fn stand_in() -> std::io::Result<std::net::TcpStream> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let _client = std::net::TcpStream::connect(l.local_addr()?)?;
    Ok(l.accept()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guest memory with two iovecs at 0 (buffers 3 bytes at 100 and 8 bytes at 200) and the
    /// count `n` at 64.
    fn memory(n: u32) -> Vec<u8> {
        let mut mem = vec![0u8; 512];
        for (i, (buf, len)) in [(100u32, 3u32), (200, 8)].into_iter().enumerate() {
            mem[i * 8..i * 8 + 4].copy_from_slice(&buf.to_le_bytes());
            mem[i * 8 + 4..i * 8 + 8].copy_from_slice(&len.to_le_bytes());
        }
        mem[64..68].copy_from_slice(&n.to_le_bytes());
        mem[100..103].copy_from_slice(b"abc");
        mem[200..208].copy_from_slice(b"defghijk");
        mem
    }

    fn data(regions: &[Region]) -> Vec<(u32, Vec<u8>)> {
        regions
            .iter()
            .map(|r| (r.addr, r.data.decode().unwrap()))
            .collect()
    }

    #[test]
    fn a_read_keeps_the_count_and_the_bytes_read_across_buffers() {
        let (mem, ret, sent) = effects("fd_read", &[0, 0, 2, 64], &memory(5), true);
        assert_eq!((ret, sent), (Some(5), None));
        assert_eq!(
            data(&mem),
            [
                (64, 5u32.to_le_bytes().to_vec()),
                (100, b"abc".to_vec()),
                (200, b"de".to_vec())
            ]
        );
        // Failed (again): only the count the call wrote, no bytes.
        let (mem, ret, _) = effects("fd_read", &[0, 0, 2, 64], &memory(0), false);
        assert_eq!((data(&mem), ret), (vec![(64, vec![0; 4])], None));
    }

    #[test]
    fn a_write_keeps_the_count_and_what_it_took() {
        let (mem, ret, sent) = effects("fd_write", &[1, 0, 2, 64], &memory(4), true);
        assert_eq!(ret, Some(4));
        assert_eq!(data(&mem), [(64, 4u32.to_le_bytes().to_vec())]);
        assert_eq!(sent, Some(Sent::of(b"abcd")));
    }

    #[test]
    fn out_parameters_outside_memory_are_left_out() {
        let (mem, ret, _) = effects("fd_read", &[0, 0, 2, 510], &memory(0), true);
        assert_eq!((mem.len(), ret), (0, None));
        let (mem, _, _) = effects("random_get", &[500, 100], &memory(0), true);
        assert!(mem.is_empty());
        let (mem, _, _) = effects("random_get", &[100, 3], &memory(0), true);
        assert_eq!(data(&mem), [(100, b"abc".to_vec())]);
    }

    #[test]
    fn a_poll_keeps_its_events_and_a_clock_its_reading() {
        let mut mem = memory(2);
        mem[300..308].copy_from_slice(&7u64.to_le_bytes());
        let (regions, ret, _) = effects("poll_oneoff", &[0, 128, 3, 64], &mem, true);
        assert_eq!(ret, Some(2));
        assert_eq!(
            regions
                .iter()
                .map(|r| (r.addr, r.data.decode().unwrap().len()))
                .collect::<Vec<_>>(),
            [(64, 4), (128, 64)]
        );
        let (_, ret, _) = effects("clock_time_get", &[1, 0, 300], &mem, true);
        assert_eq!(ret, Some(7));
    }

    fn recording(calls: Vec<Call>, end: Option<End>) -> Arc<Recording> {
        Arc::new(Recording {
            header: serde_json::from_value(serde_json::json!({
                "format": crate::recording::FORMAT, "wouldblock": "wouldblock 0",
                "guest": {"path": "g", "size": 0, "fnv1a64": "0"}, "argv": [], "env": [],
                "listeners": [], "chaos": null, "timeout_ms": null
            }))
            .unwrap(),
            calls,
            end,
        })
    }

    #[test]
    fn a_replay_ends_as_recorded_or_diverges() {
        let exit = |code| End {
            exit: Some(code),
            stop: None,
        };
        let mut tape = Tape::replay(recording(vec![], Some(exit(3))));
        assert_eq!(tape.finish(Ok(3)).unwrap(), 3);
        let mut tape = Tape::replay(recording(vec![], Some(exit(3))));
        let e = tape.finish(Ok(0)).unwrap_err();
        assert_eq!(
            e.message(),
            "replay diverged at the end: the guest ended (exit 0) after all 0 calls; when recorded it ended (exit 3)"
        );
        // A recording cut off before its end accepts any end once every call was made.
        let mut tape = Tape::replay(recording(vec![], None));
        assert_eq!(tape.finish(Ok(9)).unwrap(), 9);
        let call = Call {
            at_us: 0,
            call: "fd_read".into(),
            args: vec![0, 1, 2, 3],
            handle: Some(Handle::Stdin),
            errno: "again".into(),
            ret: None,
            mem: vec![],
            sent: None,
            events: vec![],
        };
        let mut tape = Tape::replay(recording(vec![call], Some(exit(0))));
        let e = tape.finish(Ok(0)).unwrap_err();
        assert_eq!(
            e.message(),
            "replay diverged at the end: the guest ended (exit 0) after call 0; the recording goes on with 1 more, the next fd_read(0, 1, 2, 3)"
        );
        assert_eq!(e.exit_code(), 65);
    }
}
