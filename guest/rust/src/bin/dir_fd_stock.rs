//! Scenario `dir_fd_stock`: a descriptor the host does not manage (the first preopened
//! directory, fd 3) keeps wasmtime-wasi's behaviour: set-flags, fdstat and read on it report
//! whatever stock gives.

use wouldblock_guest::*;

fn main() {
    report_set_flags(3, FDFLAGS_NONBLOCK);
    report_get_flags(3);
    report_read(3, 16);
}
