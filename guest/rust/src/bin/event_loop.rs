//! Scenario `event_loop`: copy stdin to stderr with both non-blocking, driven by poll_oneoff,
//! as an event loop does: read what is there until `again`, write what fits until `again`,
//! and poll for whichever side is stuck. Reports the bytes moved and the number of polls, so
//! a busy spin shows. Optional arguments: read size and write size (default 4096), and a mix
//! seed: when not 0, each turn of the loop picks at random between polling, retrying at once,
//! and one blocking read (the flag cleared and set again), so that tests cover every mix.
//! The summary ends with `characters_written`: the bytes of the short writes just before each
//! `again` on stderr, summed, as the guest saw them (the host's events must say the same).

use wouldblock_guest::*;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let read_size = args.first().copied().unwrap_or(4096).max(1);
    let write_size = args.get(1).copied().unwrap_or(4096).max(1);
    let mut mix = args.get(2).copied().unwrap_or(0) as u64;
    if report_set_flags(0, FDFLAGS_NONBLOCK) != SUCCESS
        || report_set_flags(2, FDFLAGS_NONBLOCK) != SUCCESS
    {
        std::process::exit(1);
    }
    let (mut pending, mut buf) = (Vec::new(), vec![0u8; read_size]);
    let (mut read_total, mut written_total, mut polls, mut eof) = (0usize, 0usize, 0usize, false);
    // Short writes since the last whole one, and their sum at each `again`.
    let (mut short, mut characters_written) = (0usize, 0usize);
    loop {
        // Write what fits.
        while !pending.is_empty() {
            let take = pending.len().min(write_size);
            let (errno, n) = write(2, &pending[..take]);
            if errno != SUCCESS {
                if errno == AGAIN {
                    characters_written += std::mem::take(&mut short);
                }
                break;
            }
            short = if n < take { short + n } else { 0 };
            pending.drain(..n);
            written_total += n;
        }
        if eof && pending.is_empty() {
            break;
        }
        // Read what is there, while there is room to hold it.
        while !eof && pending.len() < 65536 {
            let (errno, n) = read(0, &mut buf);
            match (errno, n) {
                (SUCCESS, 0) => eof = true,
                (SUCCESS, n) => {
                    pending.extend_from_slice(&buf[..n]);
                    read_total += n;
                }
                _ => break,
            }
        }
        if pending.is_empty() && eof {
            break;
        }
        let mut subs = Vec::new();
        if !eof && pending.len() < 65536 {
            subs.push(Sub::Read(0));
        }
        if !pending.is_empty() {
            subs.push(Sub::Write(2));
        }
        if subs.is_empty() {
            continue;
        }
        if mix != 0 {
            // xorshift64: a tiny deterministic generator.
            mix ^= mix << 13;
            mix ^= mix >> 7;
            mix ^= mix << 17;
            match mix % 3 {
                0 => {}
                1 => continue,
                _ if !eof && pending.len() < 65536 => {
                    set_flags(0, 0);
                    let (errno, n) = read(0, &mut buf);
                    set_flags(0, FDFLAGS_NONBLOCK);
                    match (errno, n) {
                        (SUCCESS, 0) => eof = true,
                        (SUCCESS, n) => {
                            pending.extend_from_slice(&buf[..n]);
                            read_total += n;
                        }
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
        }
        polls += 1;
        let (errno, _) = poll(&subs);
        if errno != SUCCESS {
            report("poll_oneoff", u32::MAX, errno, "");
            std::process::exit(1);
        }
    }
    println!(
        "WB op=event_loop fd=none errno=0 name=success read={read_total} written={written_total} \
         polls={polls} characters_written={characters_written}"
    );
}
