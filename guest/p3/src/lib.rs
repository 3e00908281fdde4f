//! What the WASI 0.3 scenarios share: a look at a stream operation that never waits, and the
//! `WB` lines that say what it returned.
//!
//! A non-blocking read or write in 0.3 is an async `stream.read`/`stream.write` polled once:
//! the host either completes it at once, or the guest gets the canonical ABI's BLOCKED and may
//! cancel it (wasi-libc's p3 target turns BLOCKED-then-`Cancelled` into EAGAIN for
//! `O_NONBLOCK`). The report lines go to stdout through std (preview2 stdio): the 0.3 streams
//! under test stay the scenario's own.

use std::fmt::Display;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use wasip3::wit_bindgen::StreamReader;

pub use wasip3;
pub use wasip3::wit_bindgen::StreamResult;

/// Polls `op` once with the task's own waker: `Pending` is the host's BLOCKED.
pub async fn poll_once<F: Future>(mut op: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(op.as_mut().poll(cx))).await
}

/// Which of two operations finished first.
pub enum First<A, B> {
    A(A),
    B(B),
}

/// Polls `a` and `b` (in that order, with the task's own waker) until one finishes; the other
/// is left as it is, for the caller to cancel or await.
pub async fn first<FA: Future, FB: Future>(
    mut a: Pin<&mut FA>,
    mut b: Pin<&mut FB>,
) -> First<FA::Output, FB::Output> {
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(First::A(x));
        }
        b.as_mut().poll(cx).map(First::B)
    })
    .await
}

/// The line for a finished read on `fd` (`op` is `stream.read` or `stream.cancel-read`).
pub fn read_line(op: &str, fd: impl Display, r: StreamResult, data: &[u8]) -> String {
    match r {
        StreamResult::Complete(n) => format!(
            "WB op={op} fd={fd} errno=0 name=success n={n} data={}",
            String::from_utf8_lossy(data)
        ),
        StreamResult::Dropped => format!("WB op={op} fd={fd} errno=0 name=success n=0 closed=1"),
        StreamResult::Cancelled => {
            format!("WB op={op} fd={fd} errno=6 name=again result=cancelled n=0")
        }
    }
}

/// The line for a finished write on `fd` (`op` is `stream.write` or `stream.cancel-write`).
pub fn write_line(op: &str, fd: impl Display, r: StreamResult) -> String {
    match r {
        StreamResult::Complete(n) => format!("WB op={op} fd={fd} errno=0 name=success n={n}"),
        StreamResult::Dropped => format!("WB op={op} fd={fd} errno=32 name=pipe result=dropped"),
        StreamResult::Cancelled => {
            format!("WB op={op} fd={fd} errno=6 name=again result=cancelled n=0")
        }
    }
}

/// The line for an operation the host answered BLOCKED.
pub fn blocked_line(op: &str, fd: impl Display) -> String {
    format!("WB op={op} fd={fd} result=blocked")
}

/// One `stream.read` of up to `cap` bytes from `fd`'s stream, looked at once; BLOCKED is
/// cancelled. Prints what happened; the result, `None` when it was BLOCKED.
pub async fn read_or_cancel(
    rx: &mut StreamReader<u8>,
    fd: impl Display,
    cap: usize,
) -> Option<StreamResult> {
    let mut read = pin!(rx.read(Vec::with_capacity(cap)));
    match poll_once(read.as_mut()).await {
        Poll::Ready((r, data)) => {
            println!("{}", read_line("stream.read", &fd, r, &data));
            Some(r)
        }
        Poll::Pending => {
            println!("{}", blocked_line("stream.read", &fd));
            let (r, data) = read.as_mut().cancel();
            println!("{}", read_line("stream.cancel-read", fd, r, &data));
            None
        }
    }
}

/// WASI 0.3 sockets for the `net_*` scenarios, reported as the preview2 ones are.
pub mod net {
    use wasip3::sockets::types::{
        ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, TcpSocket,
    };

    /// The port of the first argument, `127.0.0.1:PORT`.
    pub fn port_arg() -> u16 {
        std::env::args()
            .nth(1)
            .and_then(|a| a.rsplit(':').next().map(str::to_string))
            .and_then(|p| p.parse().ok())
            .expect("an argument 127.0.0.1:PORT")
    }

    /// `127.0.0.1:port`.
    pub fn loopback(port: u16) -> IpSocketAddress {
        IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port,
            address: (127, 0, 0, 1),
        })
    }

    /// The wasi-libc errno for an error code (what C or Python on WASI would see), its witx
    /// name, and the code's own WIT name: the preview2 scenarios' mapping.
    pub fn errno(code: &ErrorCode) -> (u16, &'static str, &'static str) {
        match code {
            ErrorCode::AccessDenied => (2, "acces", "access-denied"),
            ErrorCode::ConnectionRefused => (14, "connrefused", "connection-refused"),
            ErrorCode::AddressInUse => (3, "addrinuse", "address-in-use"),
            ErrorCode::InvalidState => (28, "inval", "invalid-state"),
            ErrorCode::InvalidArgument => (28, "inval", "invalid-argument"),
            _ => (29, "io", "other"),
        }
    }

    /// Reports a call's result in the `WB` format.
    pub fn report<T>(op: &str, r: &Result<T, ErrorCode>) {
        match r {
            Ok(_) => println!("WB op={op} fd=none errno=0 name=success"),
            Err(e) => {
                let (n, name, wit) = errno(e);
                println!("WB op={op} fd=none errno={n} name={name} error={wit}");
            }
        }
    }

    /// A socket bound to `127.0.0.1:port`, not yet listening.
    pub fn bound(port: u16) -> Result<TcpSocket, ErrorCode> {
        let sock = TcpSocket::create(IpAddressFamily::Ipv4)?;
        sock.bind(loopback(port))?;
        Ok(sock)
    }
}
