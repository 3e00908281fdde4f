//! Scenario `sock_accept_after_connect`: blocking accepts of two clients, the first with no
//! flags and the second with `nonblock`: each accepted socket has exactly the flags passed,
//! and fdstat says it is a stream socket.

use wouldblock_guest::*;

fn main() {
    for flags in [0, FDFLAGS_NONBLOCK] {
        let (errno, fd) = report_accept(LISTEN_FD, flags);
        if errno != SUCCESS {
            std::process::exit(1);
        }
        let mut buf = [0u64; 3];
        #[link(wasm_import_module = "wasi_snapshot_preview1")]
        extern "C" {
            fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
        }
        // SAFETY: 24 writable, 8-aligned bytes.
        let e = unsafe { fd_fdstat_get(fd, buf.as_mut_ptr().cast()) };
        let filetype = buf[0] & 0xff;
        report("fd_fdstat_get", fd, e, &format!("filetype={filetype}"));
    }
}
