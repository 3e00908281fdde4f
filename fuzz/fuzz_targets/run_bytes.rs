//! Arbitrary bytes as a guest: rejected as input, trapped or run, never a host panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|bytes: &[u8]| common::run_module(bytes));
