//! An embedder's run of a preview1 command through the public library, shared by the tests
//! that use the crate as a library (`library.rs`, `chaos.rs`): a store type of the test's own,
//! the faithful layer added with `wouldblock::add_to_linker`, `_start` called on a thread of
//! its own that must finish before the deadline.

use std::sync::mpsc;
use wasmtime::{Engine, Linker, Module, Store};
use wouldblock::FaithfulCtx;
use wouldblock_tests::DEADLINE;

/// A store type of the embedder's own.
struct Embedder {
    faithful: FaithfulCtx,
}

/// Runs `module` (compiled for `engine`) over `faithful`: its exit code, and the context
/// afterwards, finished.
pub fn run_module(engine: Engine, module: Module, faithful: FaithfulCtx) -> (i32, FaithfulCtx) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut linker: Linker<Embedder> = Linker::new(&engine);
        wouldblock::add_to_linker(&mut linker, |e: &mut Embedder| &mut e.faithful).unwrap();
        let mut store = Store::new(&engine, Embedder { faithful });
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .unwrap();
        let code = match start.call(&mut store, ()) {
            Ok(()) => 0,
            Err(e) => {
                e.downcast_ref::<wasmtime_wasi::I32Exit>()
                    .expect("an exit")
                    .0
            }
        };
        let mut faithful = store.into_data().faithful;
        faithful.finish();
        let _ = tx.send((code, faithful));
    });
    rx.recv_timeout(DEADLINE)
        .expect("the guest finished before the deadline")
}
