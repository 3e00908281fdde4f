//! Every command-line spec parser on arbitrary text: an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wouldblock::internals::spec::{BytesArg, DirSpec, DurationArg, EnvSpec, OutputSpec, StdinSpec};
use wouldblock::internals::AllowNet;
use wouldblock::internals::ListenSpec;

fuzz_target!(|text: &str| {
    let _ = text.parse::<StdinSpec>();
    let _ = text.parse::<OutputSpec>();
    let _ = text.parse::<DurationArg>();
    let _ = text.parse::<BytesArg>();
    let _ = text.parse::<DirSpec>();
    let _ = text.parse::<EnvSpec>();
    let _ = text.parse::<ListenSpec>();
    let _ = text.parse::<AllowNet>();
});
