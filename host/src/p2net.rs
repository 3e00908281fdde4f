//! Preview2 sockets: `--allow-net`, and the would-blocks that cross the component boundary.
//!
//! wasmtime-wasi implements wasi:sockets; this module only decides which addresses a guest
//! may bind or connect to, and observes: it shadows `tcp-socket.accept` and
//! `tcp-socket.finish-connect` (recording `would-block` as `again` and `inprogress`), and wraps
//! the streams of every connection they return, so that an empty non-blocking `read` and a
//! zero-permit `check-write` on a socket are recorded too. Blocking reads and writes are not
//! would-blocks and are not recorded. With `--chaos`, `again` on sockets also makes the first
//! `finish-connect` of a socket say `would-block` (injected `inprogress`) when the guest has
//! not yet taken its pollable (`subscribe` is shadowed to know); `accept` is left alone
//! (whether a client is waiting cannot be known without accepting it).

use crate::errno::WasiErrno;
use crate::events::Handle;
use crate::p2::P2State;
use crate::p2observe::{ObservedInput, ObservedOutput};
use std::net::SocketAddr;
use std::sync::Arc;
use wasmtime::component::{Linker, Resource};
use wasmtime::StoreContextMut;
use wasmtime_wasi::p2::bindings::sockets::network::ErrorCode;
use wasmtime_wasi::p2::bindings::sync::sockets::tcp::HostTcpSocket;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, TcpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsView};
use wasmtime_wasi::{WasiCtxBuilder, WasiView};

/// An `--allow-net` entry: `HOST:PORT`, numeric host; port 0 allows every port on the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowNet(pub SocketAddr);

impl std::str::FromStr for AllowNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<SocketAddr>()
            .map(AllowNet)
            .map_err(|_| format!("`{s}` is not HOST:PORT with a numeric host, e.g. 127.0.0.1:8080 (port 0: any port)"))
    }
}

crate::spec::deserialize_from_str!(AllowNet);

impl AllowNet {
    fn allows(&self, addr: &SocketAddr) -> bool {
        self.0.ip() == addr.ip() && (self.0.port() == 0 || self.0.port() == addr.port())
    }
}

/// The policy: binding, listening and connecting only to allowed addresses; the implicit
/// ephemeral bind of a `connect` (wildcard address, port 0); accepting clients from an
/// allowed host (whatever their ephemeral port). No UDP.
pub fn permitted(allow: &[AllowNet], addr: SocketAddr, what: SocketAddrUse) -> bool {
    let listed = allow.iter().any(|a| a.allows(&addr));
    match what {
        SocketAddrUse::TcpBind => listed || (addr.ip().is_unspecified() && addr.port() == 0),
        SocketAddrUse::TcpListen | SocketAddrUse::TcpConnect => listed,
        SocketAddrUse::TcpAccept => allow.iter().any(|a| a.0.ip() == addr.ip()),
        SocketAddrUse::UdpBind | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => false,
    }
}

/// Gives the guest TCP to exactly the addresses in `allow` (nothing when empty).
pub fn configure(builder: &mut WasiCtxBuilder, allow: &[AllowNet]) {
    if allow.is_empty() {
        return;
    }
    let allow = Arc::new(allow.to_vec());
    builder
        .allow_tcp(true)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    builder.socket_addr_check(move |addr, what| {
        let ok = permitted(&allow, addr, what);
        Box::pin(async move { ok })
    });
}

/// Splits a wasmtime-wasi socket result as its generated binding does: an error code goes to
/// the guest, anything else traps.
fn to_guest<T>(r: wasmtime_wasi::p2::SocketResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

/// Replaces the connection's streams in the table with observed ones.
fn observe_streams(
    state: &mut P2State,
    input: &Resource<DynInputStream>,
    output: &Resource<DynOutputStream>,
    id: u32,
) -> wasmtime::Result<()> {
    let obs = state.observer.clone();
    let table = state.ctx().table;
    let slot = table.get_mut(input)?;
    let inner = std::mem::replace(slot, Box::new(wasmtime_wasi::p2::pipe::ClosedInputStream));
    *slot = Box::new(ObservedInput::new(inner, obs.clone(), id, Handle::Socket));
    let slot = table.get_mut(output)?;
    let inner = std::mem::replace(slot, Box::new(wasmtime_wasi::p2::pipe::ClosedOutputStream));
    *slot = Box::new(ObservedOutput::new(inner, obs, id, Handle::Socket));
    Ok(())
}

/// A connection's two streams.
type Streams = (Resource<DynInputStream>, Resource<DynOutputStream>);

type AcceptResult = (
    Resource<TcpSocket>,
    Resource<DynInputStream>,
    Resource<DynOutputStream>,
);

/// Shadows the two socket calls that can say `would-block`, and `subscribe` to know when a
/// guest may have waited for a connect (shadowing must be allowed).
pub fn add_to_linker(linker: &mut Linker<P2State>) -> wasmtime::Result<()> {
    let mut tcp = linker.instance("wasi:sockets/tcp@0.2.12")?;
    tcp.func_wrap(
        "[method]tcp-socket.accept",
        |mut store: StoreContextMut<'_, P2State>,
         (this,): (Resource<TcpSocket>,)|
         -> wasmtime::Result<(Result<AcceptResult, ErrorCode>,)> {
            let id = this.rep();
            let state = store.data_mut();
            let r = to_guest(HostTcpSocket::accept(&mut state.sockets(), this))?;
            match &r {
                Ok((sock, input, output)) => observe_streams(state, input, output, sock.rep())?,
                Err(ErrorCode::WouldBlock) => {
                    state
                        .events
                        .record("tcp-socket.accept", id, Handle::Listener, WasiErrno::Again)
                }
                Err(_) => {}
            }
            Ok((r,))
        },
    )?;
    tcp.func_wrap(
        "[method]tcp-socket.subscribe",
        |mut store: StoreContextMut<'_, P2State>,
         (this,): (Resource<TcpSocket>,)|
         -> wasmtime::Result<(Resource<DynPollable>,)> {
            let state = store.data_mut();
            state.connect_asked.insert(this.rep());
            Ok((HostTcpSocket::subscribe(&mut state.sockets(), this)?,))
        },
    )?;
    tcp.func_wrap(
        "[method]tcp-socket.finish-connect",
        |mut store: StoreContextMut<'_, P2State>,
         (this,): (Resource<TcpSocket>,)|
         -> wasmtime::Result<(Result<Streams, ErrorCode>,)> {
            let id = this.rep();
            let state = store.data_mut();
            // `--chaos` again on a socket: the first `finish-connect`, before the guest took
            // the socket's pollable, says in progress whatever the handshake did, as a
            // non-blocking connect may however fast the peer; the socket is left connecting,
            // its pollable resolves once connected, and the next call asks for real. Later
            // calls are not touched: the pollable promises completion.
            let first = state.connect_asked.insert(id);
            if first && state.observer.chaos(|c| c.again(Handle::Socket)) == Some(true) {
                state.events.record_injected(
                    "tcp-socket.finish-connect",
                    id,
                    Handle::Socket,
                    WasiErrno::Inprogress,
                );
                return Ok((Err(ErrorCode::WouldBlock),));
            }
            let r = to_guest(HostTcpSocket::finish_connect(&mut state.sockets(), this))?;
            match r {
                Ok((input, output)) => {
                    observe_streams(state, &input, &output, id)?;
                    Ok((Ok((input, output)),))
                }
                Err(e) => {
                    if matches!(e, ErrorCode::WouldBlock) {
                        state.events.record(
                            "tcp-socket.finish-connect",
                            id,
                            Handle::Socket,
                            WasiErrno::Inprogress,
                        );
                    }
                    Ok((Err(e),))
                }
            }
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        let allow = ["127.0.0.1:8080".parse::<AllowNet>().unwrap()];
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(permitted(
            &allow,
            a("127.0.0.1:8080"),
            SocketAddrUse::TcpBind
        ));
        assert!(permitted(&allow, a("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!permitted(
            &allow,
            a("0.0.0.0:8080"),
            SocketAddrUse::TcpBind
        ));
        assert!(!permitted(
            &allow,
            a("127.0.0.1:8081"),
            SocketAddrUse::TcpListen
        ));
        assert!(permitted(
            &allow,
            a("127.0.0.1:8080"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!permitted(
            &allow,
            a("127.0.0.2:8080"),
            SocketAddrUse::TcpConnect
        ));
        assert!(permitted(
            &allow,
            a("127.0.0.1:51234"),
            SocketAddrUse::TcpAccept
        ));
        assert!(!permitted(
            &allow,
            a("127.0.0.1:8080"),
            SocketAddrUse::UdpBind
        ));
        let any_port = ["127.0.0.1:0".parse::<AllowNet>().unwrap()];
        assert!(permitted(
            &any_port,
            a("127.0.0.1:9"),
            SocketAddrUse::TcpConnect
        ));
        assert!("localhost:80".parse::<AllowNet>().is_err());
    }
}
