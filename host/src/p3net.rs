//! WASI 0.3 TCP sockets: the host's own `tcp-socket` resource of `wasi:sockets/types@0.3.0`,
//! shadowing wasmtime-wasi's in faithful mode, so that the streams of a socket cross the
//! boundary observed. wasmtime-wasi's producers and consumers for them are crate-private, and
//! relaying its streams through a producer of ours would add an event-loop turn (a guest
//! looking once right after data arrived would get BLOCKED where POSIX returns the data).
//!
//! Behaviour is the 0.3 WIT's, as wasmtime-wasi 48 gives it:
//! - `create` needs `--allow-net` (else `access-denied`); `bind`, `connect` and `listen` check
//!   [`crate::p2net::permitted`], before any system call; an unbound `connect` binds
//!   implicitly (the OS's ephemeral port), an unbound `listen` binds the wildcard address;
//! - addresses are validated (`invalid-argument`: the wrong family, multicast, IPv4-mapped
//!   on IPv6, a connect to the unspecified address or port 0) and leave the socket as it was;
//!   a call out of order is `invalid-state`; a failed or denied `connect` leaves the socket
//!   closed with its error, which its later calls return;
//! - options are read and set on the socket; Unix's `SO_REUSEADDR` before a bind.
//!
//! Events (0.3 has no EAGAIN; as for stdio, [`crate::p3stdio`]):
//! - the stream of accepted connections: `stream.read` -> `again` on `listener` when no
//!   client is waiting (once per read), `stream.cancel-read` -> `again` when the guest cancels
//!   it (wasi-libc's EAGAIN for `accept`), `stream.probe-read` for a zero-length read;
//! - a connection's `receive` and `send` streams: the events of stdin and stdout on `socket`,
//!   numbered by the socket's resource; `--chaos` injects into them as it does into stdio
//!   (`again`, `short`, `wake`). Accepting is left alone by `--chaos`: whether a client waits
//!   cannot be known without accepting it.

use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::p2net::{permitted, AllowNet};
use crate::p2observe::Observer;
use crate::p3stdio::{ReadEnd, ReadProducer, WriteConsumer, WriteEnd};
use crate::pipe::ReadOutcome;
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;
use wasmtime::component::{
    Accessor, Destination, FutureReader, Linker, Resource, ResourceTable, ResourceType,
    StreamProducer, StreamReader, StreamResult,
};
use wasmtime::StoreContextMut;
use wasmtime_wasi::p3::bindings::sockets::types::{ErrorCode, IpAddressFamily, IpSocketAddress};
use wasmtime_wasi::sockets::SocketAddrUse;

/// What a store gives the 0.3 sockets.
pub trait P3Net: Send + 'static {
    /// The table the sockets live in.
    fn table(&mut self) -> &mut ResourceTable;
    /// The run's `--allow-net` and its observer.
    fn net(&self) -> &Net;
}

/// The run's network: what the guest may use, and where events go.
#[derive(Clone)]
pub struct Net {
    /// `--allow-net`; empty: no TCP at all.
    pub allow: Arc<[AllowNet]>,
    /// The run's events and `--chaos`.
    pub obs: Observer,
}

/// A guest's TCP socket.
pub struct TcpSocket {
    v6: bool,
    state: State,
    /// Bound, explicitly or by `connect`/`listen`.
    bound: bool,
    backlog: i32,
    /// Keep-alive idle time, interval and count as last set (Windows cannot read them).
    keepalive: (Duration, Duration, u32),
}

enum State {
    /// Created, maybe bound.
    Fresh(Socket),
    Connecting,
    Connected {
        stream: Arc<tokio::net::TcpStream>,
        send_taken: bool,
        receive_taken: bool,
    },
    Listening(Arc<tokio::net::TcpListener>),
    /// A connect failed.
    Closed(ErrorCode),
}

type Res<T> = Result<T, ErrorCode>;

/// The backlog of a `listen` the guest did not size (wasmtime-wasi's default).
const DEFAULT_BACKLOG: i32 = 128;

/// The largest keep-alive idle time and interval Linux takes (`MAX_TCP_KEEPIDLE`,
/// `MAX_TCP_KEEPINTVL` in include/net/tcp.h), and probe count (`MAX_TCP_KEEPCNT`).
const MAX_KEEPALIVE_SECS: u64 = 32767;
const MAX_KEEPALIVE_COUNT: u32 = 127;

impl TcpSocket {
    fn new(v6: bool) -> io::Result<Self> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        sock.set_nonblocking(true)?;
        if v6 {
            sock.set_only_v6(true)?;
        }
        let keepalive = crate::sys::tcp_keepalive(&sock)?;
        Ok(TcpSocket {
            v6,
            state: State::Fresh(sock),
            bound: false,
            backlog: DEFAULT_BACKLOG,
            keepalive,
        })
    }

    fn connected(stream: tokio::net::TcpStream, v6: bool) -> Self {
        let keepalive = crate::sys::tcp_keepalive(&SockRef::from(&stream)).unwrap_or((
            Duration::from_secs(7200),
            Duration::from_secs(75),
            9,
        ));
        TcpSocket {
            v6,
            state: State::Connected {
                stream: Arc::new(stream),
                send_taken: false,
                receive_taken: false,
            },
            bound: true,
            backlog: DEFAULT_BACKLOG,
            keepalive,
        }
    }

    /// The socket underneath, for its addresses and options.
    fn sock(&self) -> Res<SockRef<'_>> {
        match &self.state {
            State::Fresh(s) => Ok(SockRef::from(s)),
            State::Connected { stream, .. } => Ok(SockRef::from(&**stream)),
            State::Listening(l) => Ok(SockRef::from(&**l)),
            State::Connecting => Err(ErrorCode::InvalidState),
            State::Closed(e) => Err(e.clone()),
        }
    }

    fn unspecified(&self) -> SocketAddr {
        let ip = if self.v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        SocketAddr::new(ip, 0)
    }

    /// An address of this socket's family that is not multicast or broadcast.
    fn valid_local(&self, addr: &SocketAddr) -> bool {
        match addr.ip() {
            IpAddr::V4(ip) => !self.v6 && !ip.is_multicast() && !ip.is_broadcast(),
            IpAddr::V6(ip) => {
                // IPv4-mapped and the deprecated IPv4-compatible forms are refused: OSes
                // treat them differently, as wasmtime-wasi does.
                let compatible = matches!(ip.segments(), [0, 0, 0, 0, 0, 0, _, _])
                    && ip != Ipv6Addr::UNSPECIFIED
                    && ip != Ipv6Addr::LOCALHOST;
                self.v6 && !ip.is_multicast() && ip.to_ipv4_mapped().is_none() && !compatible
            }
        }
    }

    fn bind(&mut self, addr: SocketAddr, allow: &[AllowNet]) -> Res<()> {
        let State::Fresh(sock) = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        if self.bound {
            return Err(ErrorCode::InvalidState);
        }
        if !self.valid_local(&addr) {
            return Err(ErrorCode::InvalidArgument);
        }
        if !permitted(allow, addr, SocketAddrUse::TcpBind) {
            return Err(ErrorCode::AccessDenied);
        }
        crate::sys::tcp_before_bind(sock)?;
        sock.bind(&addr.into())?;
        self.bound = true;
        Ok(())
    }

    /// The checks of a connect, then the socket to connect with (the state is `Connecting`).
    fn start_connect(&mut self, addr: SocketAddr, allow: &[AllowNet]) -> Res<Socket> {
        if !matches!(self.state, State::Fresh(_)) {
            return Err(ErrorCode::InvalidState);
        }
        if !self.valid_local(&addr) || addr.ip().to_canonical().is_unspecified() || addr.port() == 0
        {
            return Err(ErrorCode::InvalidArgument);
        }
        let implicit_ok =
            self.bound || permitted(allow, self.unspecified(), SocketAddrUse::TcpBind);
        if !implicit_ok || !permitted(allow, addr, SocketAddrUse::TcpConnect) {
            // A failed connection attempt (not a bad argument): the socket is closed.
            self.state = State::Closed(ErrorCode::AccessDenied);
            return Err(ErrorCode::AccessDenied);
        }
        let State::Fresh(sock) = std::mem::replace(&mut self.state, State::Connecting) else {
            unreachable!("checked above");
        };
        Ok(sock)
    }

    fn listen(&mut self, allow: &[AllowNet]) -> Res<Arc<tokio::net::TcpListener>> {
        let State::Fresh(sock) = &self.state else {
            return Err(ErrorCode::InvalidState);
        };
        let at = if self.bound {
            sock.local_addr()?
                .as_socket()
                .ok_or(ErrorCode::InvalidState)?
        } else {
            self.unspecified()
        };
        let allowed = permitted(allow, at, SocketAddrUse::TcpListen)
            && (self.bound || permitted(allow, at, SocketAddrUse::TcpBind));
        if !allowed {
            return Err(ErrorCode::AccessDenied);
        }
        if !self.bound {
            // Windows needs a bind before listen; Linux and macOS would bind here anyway.
            crate::sys::tcp_before_bind(sock)?;
            sock.bind(&at.into())?;
            self.bound = true;
        }
        sock.listen(self.backlog)?;
        let State::Fresh(sock) = std::mem::replace(&mut self.state, State::Connecting) else {
            unreachable!("checked above");
        };
        let listener = match tokio::net::TcpListener::from_std(sock.into()) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                self.state = State::Closed(ErrorCode::from(&e));
                return Err(e.into());
            }
        };
        self.state = State::Listening(listener.clone());
        Ok(listener)
    }

    fn set_backlog(&mut self, value: u64) -> Res<()> {
        if value == 0 {
            return Err(ErrorCode::InvalidArgument);
        }
        let value = i32::try_from(value).unwrap_or(i32::MAX);
        match &self.state {
            State::Fresh(_) => {}
            // Linux and macOS resize the queue of a listening socket on a second listen;
            // Windows keeps the first size and says success.
            State::Listening(l) => SockRef::from(&**l).listen(value)?,
            _ => return Err(ErrorCode::InvalidState),
        }
        self.backlog = value;
        Ok(())
    }

    /// The connection for the guest's one `receive` (or, when not `receive`, `send`) stream:
    /// `invalid-state` when not connected or already taken, a closed socket's error.
    fn take_half(&mut self, receive: bool) -> Res<Arc<tokio::net::TcpStream>> {
        match &mut self.state {
            State::Connected {
                stream,
                send_taken,
                receive_taken,
            } => {
                let taken = if receive { receive_taken } else { send_taken };
                if std::mem::replace(taken, true) {
                    return Err(ErrorCode::InvalidState);
                }
                Ok(stream.clone())
            }
            State::Closed(e) => Err(e.clone()),
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn set_keepalive(
        &mut self,
        idle: Option<u64>,
        interval: Option<u64>,
        count: Option<u32>,
    ) -> Res<()> {
        let secs = |nanos: u64| {
            // Whole seconds, rounded up: the kernel counts in seconds.
            Duration::from_secs(nanos.div_ceil(1_000_000_000).min(MAX_KEEPALIVE_SECS))
        };
        if idle == Some(0) || interval == Some(0) || count == Some(0) {
            return Err(ErrorCode::InvalidArgument);
        }
        let (mut i, mut v, mut c) = self.keepalive;
        i = idle.map_or(i, secs);
        v = interval.map_or(v, secs);
        c = count.map_or(c, |c| c.min(MAX_KEEPALIVE_COUNT));
        // The idle time and interval go together (Windows sets both in one call); the probe
        // count only when it is what changes (a separate option, missing under Wine).
        let mut params = TcpKeepalive::new().with_time(i).with_interval(v);
        if count.is_some() {
            params = params.with_retries(c);
        }
        self.sock()?.set_tcp_keepalive(&params)?;
        self.keepalive = (i, v, c);
        Ok(())
    }
}

fn socket<'a>(
    table: &'a mut ResourceTable,
    r: &Resource<TcpSocket>,
) -> wasmtime::Result<&'a mut TcpSocket> {
    Ok(table.get_mut(r)?)
}

/// Whether a system call said it would block.
///
/// Reads, writes and accepts make the system call itself first, and tokio's only when that
/// would block: tokio answers WouldBlock without asking the kernel until its event loop has
/// seen the socket ready again, so a look right after data or room came would be BLOCKED
/// where POSIX is not. tokio's call is still made after a would-block, to clear its
/// readiness so that `poll_*_ready`/`poll_accept` wait.
fn would_block<T>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// One direction of a connected socket, as the end of a guest's `receive` or `send` stream:
/// the connection, its resource (the events' fd) and the future that reports how the stream
/// ended.
struct Half {
    stream: Arc<tokio::net::TcpStream>,
    id: u32,
    done: Option<oneshot::Sender<Res<()>>>,
}

impl Half {
    /// A half whose stream's result is `rx`'s.
    fn new(stream: Arc<tokio::net::TcpStream>, id: u32) -> (Self, oneshot::Receiver<Res<()>>) {
        let (tx, rx) = oneshot::channel();
        let half = Half {
            stream,
            id,
            done: Some(tx),
        };
        (half, rx)
    }

    fn handle(&self) -> (Handle, u32) {
        (Handle::Socket, self.id)
    }

    /// Whether the socket is readable (or, with `write`, writable) now, as `poll` says.
    fn ready_now(&self, write: bool) -> bool {
        let fd = crate::sys::raw_handle(&*self.stream);
        crate::sys::poll_many(&[(fd, write)], Duration::ZERO).map_or(true, |r| r[0])
    }

    /// Reports how the stream ended (once), and shuts this direction down: the guest is done
    /// reading (as `shutdown(SHUT_RD)`), or the peer sees end-of-file.
    fn end(&mut self, result: Result<(), io::Error>, how: std::net::Shutdown) {
        let _ = SockRef::from(&*self.stream).shutdown(how);
        if let Some(tx) = self.done.take() {
            let _ = tx.send(result.map_err(Into::into));
        }
    }
}

/// A socket's read side as the end of a `receive` stream.
struct Receiving(Half);

impl ReadEnd for Receiving {
    fn handle(&self) -> (Handle, u32) {
        self.0.handle()
    }

    fn readable_now(&self) -> bool {
        self.0.ready_now(false)
    }

    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.stream.poll_read_ready(cx).map(|_| ())
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        let stream = &*self.0.stream;
        let mut read = (&*SockRef::from(stream)).read(buf);
        if would_block(&read) {
            read = stream.try_read(buf);
        }
        match read {
            Ok(0) => Ok(ReadOutcome::Eof),
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
            Err(e) => Err(e),
        }
    }

    fn ended(&mut self, error: Option<io::Error>) {
        self.0
            .end(error.map_or(Ok(()), Err), std::net::Shutdown::Read);
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        self.0.end(Ok(()), std::net::Shutdown::Read);
    }
}

/// A socket's write side as the end of a `send` stream.
struct Sending(Half);

impl WriteEnd for Sending {
    fn handle(&self) -> (Handle, u32) {
        self.0.handle()
    }

    fn writable_now(&self) -> bool {
        self.0.ready_now(true)
    }

    fn poll_writable(&self, cx: &mut Context<'_>, _len: usize) -> Poll<()> {
        self.0.stream.poll_write_ready(cx).map(|_| ())
    }

    fn write_now(&mut self, buf: &[u8]) -> io::Result<usize> {
        let stream = &*self.0.stream;
        let mut written = (&*SockRef::from(stream)).write(buf);
        if would_block(&written) {
            written = stream.try_write(buf);
        }
        match written {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            written => written,
        }
    }

    fn failed(&mut self, error: io::Error) {
        self.0.end(Err(error), std::net::Shutdown::Write);
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.end(Ok(()), std::net::Shutdown::Write);
    }
}

/// The stream of a listening socket's accepted connections.
struct Accepting {
    listener: Arc<tokio::net::TcpListener>,
    v6: bool,
    id: u32,
    net: Net,
    /// A connection a probe accepted, for the next read.
    ready: Option<tokio::net::TcpStream>,
    /// The read in progress was answered BLOCKED (recorded once).
    blocked: bool,
}

impl Accepting {
    /// The next permitted connection, accepting as long as clients wait.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<tokio::net::TcpStream>> {
        if let Some(s) = self.ready.take() {
            return Poll::Ready(Ok(s));
        }
        loop {
            // accept(2) first, as for reads ([`would_block`]).
            let direct = match SockRef::from(&*self.listener).accept() {
                Ok((s, peer)) => {
                    let peer = peer.as_socket();
                    let s = std::net::TcpStream::from(s);
                    s.set_nonblocking(true)
                        .and_then(|()| tokio::net::TcpStream::from_std(s))
                        .map(|s| (s, peer))
                }
                Err(e) => Err(e),
            };
            let accepted = match direct {
                r if would_block(&r) => self
                    .listener
                    .poll_accept(cx)
                    .map_ok(|(s, peer)| (s, Some(peer))),
                done => Poll::Ready(done),
            };
            match accepted {
                Poll::Ready(Ok((s, peer))) => {
                    if peer.is_some_and(|p| permitted(&self.net.allow, p, SocketAddrUse::TcpAccept))
                    {
                        return Poll::Ready(Ok(s));
                    }
                }
                // A client that gave up before being accepted: the next one.
                Poll::Ready(Err(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn not_ready(
        &mut self,
        call: &'static str,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let log = &self.net.obs.log;
        if finish {
            self.blocked = false;
            log.record(
                "stream.cancel-read",
                self.id,
                Handle::Listener,
                WasiErrno::Again,
            );
            return Poll::Ready(Ok(StreamResult::Cancelled));
        }
        if !std::mem::replace(&mut self.blocked, true) {
            log.record(call, self.id, Handle::Listener, WasiErrno::Again);
        }
        Poll::Pending
    }
}

impl<D: P3Net> StreamProducer<D> for Accepting {
    type Item = Resource<TcpSocket>;
    type Buffer = Option<Resource<TcpSocket>>;

    fn poll_produce<'a>(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'a, D>,
        mut dst: Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let probe = dst.remaining(&mut store) == Some(0);
        let call = if probe {
            "stream.probe-read"
        } else {
            "stream.read"
        };
        let stream = match self.poll_next(cx) {
            Poll::Ready(Ok(s)) => s,
            Poll::Ready(Err(_)) => return Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending => return self.not_ready(call, finish),
        };
        let at_once = !std::mem::take(&mut self.blocked);
        if probe {
            if at_once {
                self.net
                    .obs
                    .log
                    .record(call, self.id, Handle::Listener, WasiErrno::Success);
            }
            self.ready = Some(stream);
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        let sock = TcpSocket::connected(stream, self.v6);
        let sock = store.data_mut().table().push(sock)?;
        dst.set_buffer(Some(sock));
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

/// Shadows wasmtime-wasi's `tcp-socket` (add wasmtime-wasi's p3 first, with shadowing
/// allowed).
pub fn add_to_linker<T: P3Net>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    type Done = FutureReader<Res<()>>;
    let mut types = linker.instance("wasi:sockets/types@0.3.0")?;
    types.resource(
        "tcp-socket",
        ResourceType::host::<TcpSocket>(),
        |mut store, rep| {
            store
                .data_mut()
                .table()
                .delete(Resource::<TcpSocket>::new_own(rep))?;
            Ok(())
        },
    )?;
    types.func_wrap(
        "[static]tcp-socket.create",
        |mut store: StoreContextMut<'_, T>,
         (family,): (IpAddressFamily,)|
         -> wasmtime::Result<(Res<Resource<TcpSocket>>,)> {
            if store.data().net().allow.is_empty() {
                return Ok((Err(ErrorCode::AccessDenied),));
            }
            let sock = match TcpSocket::new(matches!(family, IpAddressFamily::Ipv6)) {
                Ok(s) => s,
                Err(e) => return Ok((Err(e.into()),)),
            };
            Ok((Ok(store.data_mut().table().push(sock)?),))
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.bind",
        |mut store: StoreContextMut<'_, T>,
         (this, addr): (Resource<TcpSocket>, IpSocketAddress)|
         -> wasmtime::Result<(Res<()>,)> {
            let allow = store.data().net().allow.clone();
            let sock = socket(store.data_mut().table(), &this)?;
            Ok((sock.bind(addr.into(), &allow),))
        },
    )?;
    types.func_wrap_concurrent(
        "[method]tcp-socket.connect",
        |store: &Accessor<T>, (this, addr): (Resource<TcpSocket>, IpSocketAddress)| {
            Box::pin(async move {
                let addr = SocketAddr::from(addr);
                let started = store.with(|mut a| -> wasmtime::Result<_> {
                    let allow = a.get().net().allow.clone();
                    Ok(socket(a.get().table(), &this)?.start_connect(addr, &allow))
                })?;
                let sock = match started {
                    Ok(s) => s,
                    Err(e) => return Ok((Err(e),)),
                };
                let connecting = tokio::net::TcpSocket::from_std_stream(sock.into());
                let r = connecting.connect(addr).await;
                store.with(|mut a| -> wasmtime::Result<_> {
                    let sock = socket(a.get().table(), &this)?;
                    Ok((match r {
                        Ok(stream) => {
                            let v6 = sock.v6;
                            let keepalive = sock.keepalive;
                            *sock = TcpSocket::connected(stream, v6);
                            sock.keepalive = keepalive;
                            Ok(())
                        }
                        Err(e) => {
                            let code = ErrorCode::from(&e);
                            sock.state = State::Closed(code.clone());
                            Err(code)
                        }
                    },))
                })
            })
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.listen",
        |mut store: StoreContextMut<'_, T>,
         (this,): (Resource<TcpSocket>,)|
         -> wasmtime::Result<(Res<StreamReader<Resource<TcpSocket>>>,)> {
            let net = store.data().net().clone();
            let sock = socket(store.data_mut().table(), &this)?;
            let v6 = sock.v6;
            let listener = match sock.listen(&net.allow) {
                Ok(l) => l,
                Err(e) => return Ok((Err(e),)),
            };
            let accepting = Accepting {
                listener,
                v6,
                id: this.rep(),
                net,
                ready: None,
                blocked: false,
            };
            Ok((Ok(StreamReader::new(&mut store, accepting)?),))
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.send",
        |mut store: StoreContextMut<'_, T>,
         (this, mut data): (Resource<TcpSocket>, StreamReader<u8>)|
         -> wasmtime::Result<(Done,)> {
            let obs = store.data().net().obs.clone();
            let sock = socket(store.data_mut().table(), &this)?;
            let stream = match sock.take_half(false) {
                Ok(s) => s,
                Err(e) => {
                    data.close(&mut store)?;
                    return Ok((FutureReader::new(&mut store, async move {
                        wasmtime::error::Ok(Err(e))
                    })?,));
                }
            };
            let (half, rx) = Half::new(stream, this.rep());
            data.pipe(&mut store, WriteConsumer::new(Sending(half), obs))?;
            Ok((FutureReader::new(&mut store, async move {
                wasmtime::error::Ok(rx.await.unwrap_or(Ok(())))
            })?,))
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.receive",
        |mut store: StoreContextMut<'_, T>,
         (this,): (Resource<TcpSocket>,)|
         -> wasmtime::Result<((StreamReader<u8>, Done),)> {
            let obs = store.data().net().obs.clone();
            let sock = socket(store.data_mut().table(), &this)?;
            let stream = match sock.take_half(true) {
                Ok(s) => s,
                Err(e) => {
                    let empty = StreamReader::new(&mut store, std::iter::empty())?;
                    let done =
                        FutureReader::new(&mut store, async move { wasmtime::error::Ok(Err(e)) })?;
                    return Ok(((empty, done),));
                }
            };
            let (half, rx) = Half::new(stream, this.rep());
            let reader = StreamReader::new(&mut store, ReadProducer::new(Receiving(half), obs))?;
            let done = FutureReader::new(&mut store, async move {
                wasmtime::error::Ok(rx.await.unwrap_or(Ok(())))
            })?;
            Ok(((reader, done),))
        },
    )?;
    add_queries(&mut types)?;
    add_options(&mut types)?;
    Ok(())
}

/// Defines a method `[method]tcp-socket.NAME` taking the socket and one argument.
macro_rules! method {
    ($types:expr, $name:literal, |$sock:ident $(, $arg:ident : $ty:ty)?| -> $ret:ty $body:block) => {
        $types.func_wrap(
            concat!("[method]tcp-socket.", $name),
            |mut store: StoreContextMut<'_, T>,
             (this, $($arg,)?): (Resource<TcpSocket>, $($ty,)?)|
             -> wasmtime::Result<($ret,)> {
                let $sock = socket(store.data_mut().table(), &this)?;
                Ok(($body,))
            },
        )?;
    };
}

fn add_queries<T: P3Net>(
    types: &mut wasmtime::component::LinkerInstance<'_, T>,
) -> wasmtime::Result<()> {
    method!(types, "get-local-address", |s| -> Res<IpSocketAddress> {
        if !s.bound {
            Err(ErrorCode::InvalidState)
        } else {
            s.sock().and_then(|k| {
                let a = k.local_addr()?;
                a.as_socket().map(Into::into).ok_or(ErrorCode::InvalidState)
            })
        }
    });
    method!(types, "get-remote-address", |s| -> Res<IpSocketAddress> {
        match &s.state {
            State::Connected { stream, .. } => {
                stream.peer_addr().map(Into::into).map_err(Into::into)
            }
            State::Closed(e) => Err(e.clone()),
            _ => Err(ErrorCode::InvalidState),
        }
    });
    method!(types, "get-is-listening", |s| -> bool {
        matches!(s.state, State::Listening(_))
    });
    method!(types, "get-address-family", |s| -> IpAddressFamily {
        if s.v6 {
            IpAddressFamily::Ipv6
        } else {
            IpAddressFamily::Ipv4
        }
    });
    method!(types, "set-listen-backlog-size", |s,
                                               value: u64|
     -> Res<()> {
        s.set_backlog(value)
    });
    Ok(())
}

fn add_options<T: P3Net>(
    types: &mut wasmtime::component::LinkerInstance<'_, T>,
) -> wasmtime::Result<()> {
    method!(types, "get-keep-alive-enabled", |s| -> Res<bool> {
        s.sock().and_then(|k| Ok(k.keepalive()?))
    });
    method!(types, "set-keep-alive-enabled", |s,
                                              value: bool|
     -> Res<()> {
        s.sock().and_then(|k| Ok(k.set_keepalive(value)?))
    });
    method!(types, "get-keep-alive-idle-time", |s| -> Res<u64> {
        s.sock().map(|_| nanos(s.keepalive.0))
    });
    method!(types, "set-keep-alive-idle-time", |s,
                                                value: u64|
     -> Res<()> {
        s.set_keepalive(Some(value), None, None)
    });
    method!(types, "get-keep-alive-interval", |s| -> Res<u64> {
        s.sock().map(|_| nanos(s.keepalive.1))
    });
    method!(types, "set-keep-alive-interval", |s,
                                               value: u64|
     -> Res<()> {
        s.set_keepalive(None, Some(value), None)
    });
    method!(types, "get-keep-alive-count", |s| -> Res<u32> {
        s.sock().map(|_| s.keepalive.2)
    });
    method!(types, "set-keep-alive-count", |s, value: u32| -> Res<()> {
        s.set_keepalive(None, None, Some(value))
    });
    method!(types, "get-hop-limit", |s| -> Res<u8> {
        let v6 = s.v6;
        s.sock().and_then(|k| {
            let hops = if v6 {
                k.unicast_hops_v6()?
            } else {
                k.ttl_v4()?
            };
            Ok(u8::try_from(hops).unwrap_or(u8::MAX))
        })
    });
    method!(types, "set-hop-limit", |s, value: u8| -> Res<()> {
        let v6 = s.v6;
        if value == 0 {
            Err(ErrorCode::InvalidArgument)
        } else {
            s.sock().and_then(|k| {
                if v6 {
                    k.set_unicast_hops_v6(value.into())?;
                } else {
                    k.set_ttl_v4(value.into())?;
                }
                Ok(())
            })
        }
    });
    method!(types, "get-receive-buffer-size", |s| -> Res<u64> {
        s.sock().and_then(|k| Ok(k.recv_buffer_size()? as u64))
    });
    method!(types, "set-receive-buffer-size", |s,
                                               value: u64|
     -> Res<()> {
        buffer_size(value).and_then(|v| s.sock().and_then(|k| Ok(k.set_recv_buffer_size(v)?)))
    });
    method!(types, "get-send-buffer-size", |s| -> Res<u64> {
        s.sock().and_then(|k| Ok(k.send_buffer_size()? as u64))
    });
    method!(types, "set-send-buffer-size", |s, value: u64| -> Res<()> {
        buffer_size(value).and_then(|v| s.sock().and_then(|k| Ok(k.set_send_buffer_size(v)?)))
    });
    Ok(())
}

/// A duration as WASI's nanoseconds.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A buffer size the guest asked for, as the OS takes it: not zero, at most `i32::MAX`.
fn buffer_size(value: u64) -> Res<usize> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    Ok(usize::try_from(value.min(i32::MAX as u64)).unwrap_or(i32::MAX as usize))
}
