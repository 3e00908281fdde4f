//! Scenario `echo_server`: a non-blocking echo server driven by poll_oneoff. Serves the number
//! of clients given as its argument (default 1), concurrently, and exits once all of them have
//! closed. Reports each connection's byte count.

use wouldblock_guest::*;

struct Conn {
    fd: u32,
    pending: Vec<u8>,
    echoed: usize,
    eof: bool,
}

fn main() {
    let clients: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    if report_set_flags(LISTEN_FD, FDFLAGS_NONBLOCK) != SUCCESS {
        std::process::exit(1);
    }
    let (mut conns, mut accepted) = (Vec::<Conn>::new(), 0);
    let mut buf = vec![0u8; 16384];
    while accepted < clients || !conns.is_empty() {
        let mut subs = Vec::new();
        if accepted < clients {
            subs.push(Sub::Read(LISTEN_FD));
        }
        for c in &conns {
            subs.push(if c.pending.is_empty() {
                Sub::Read(c.fd)
            } else {
                Sub::Write(c.fd)
            });
        }
        let (errno, _) = poll(&subs);
        if errno != SUCCESS {
            report("poll_oneoff", u32::MAX, errno, "");
            std::process::exit(1);
        }
        // Accept everything pending.
        while accepted < clients {
            match accept(LISTEN_FD, FDFLAGS_NONBLOCK) {
                (SUCCESS, fd) => {
                    accepted += 1;
                    conns.push(Conn {
                        fd,
                        pending: Vec::new(),
                        echoed: 0,
                        eof: false,
                    });
                }
                _ => break,
            }
        }
        for c in &mut conns {
            // Read what is there, write what fits.
            while c.pending.len() < 65536 && !c.eof {
                match recv(c.fd, &mut buf, 0) {
                    (SUCCESS, 0) => c.eof = true,
                    (SUCCESS, n) => c.pending.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            while !c.pending.is_empty() {
                match send(c.fd, &c.pending) {
                    (SUCCESS, n) => {
                        c.pending.drain(..n);
                        c.echoed += n;
                    }
                    _ => break,
                }
            }
        }
        conns.retain(|c| {
            let done = c.eof && c.pending.is_empty();
            if done {
                println!(
                    "WB op=echoed fd={} errno=0 name=success bytes={}",
                    c.fd, c.echoed
                );
                shutdown(c.fd, 3);
            }
            !done
        });
    }
    // How many would-blocks it met depends on timing (none, when every client's bytes are
    // already there): the host's event lines show them; the summary does not count them.
    println!("WB op=echo_server fd=none errno=0 name=success clients={clients}");
}
