//! `wasmtime run`'s spellings, for people who come from it: `-S`/`--wasi KEY[=VAL]` and
//! `-W`/`--wasm KEY[=VAL]` options (comma-separated, as wasmtime takes them), turned into
//! what `wouldblock run` does, or refused with one line that says what to use instead.
//!
//! The option names are those of wasmtime 48's `crates/cli-flags` (`WasiOptions`,
//! `WasmOptions`); values are read as wasmtime reads them (`y`/`n` booleans, durations with
//! a bare number as seconds, sizes in bytes or hex). Nothing here runs anything.

use crate::net::ListenSpec;
use crate::run::WasiMode;
use crate::spec::{BytesArg, DurationArg, StdinSpec};
use std::time::Duration;

/// What the wasmtime-style options asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Translated {
    /// `--wasi faithful|stock`, the last one given.
    pub mode: Option<WasiMode>,
    /// `-S tcplisten=ADDR`, in order.
    pub tcplisten: Vec<ListenSpec>,
    /// `-S inherit-stdin=n`: stdin at end-of-file.
    pub stdin: Option<StdinSpec>,
    /// `-W timeout=`.
    pub timeout: Option<Duration>,
    /// `-W max-memory-size=`.
    pub max_memory: Option<usize>,
    /// `-W fuel=`.
    pub fuel: Option<u64>,
    /// `-W unknown-imports-trap`.
    pub trap_unknown_imports: bool,
}

/// Splits `-S a,b=c` into `(a, None)`, `(b, Some(c))`.
fn items(values: &[String]) -> impl Iterator<Item = (&str, Option<&str>)> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        })
}

/// A wasmtime boolean: nothing, `y`, `yes`, `true`, or `n`, `no`, `false`.
fn boolean(flag: &str, key: &str, value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => Err(format!(
            "{flag} {key}={other}: expected y or n (or nothing for y)"
        )),
    }
}

fn value<'a>(flag: &str, key: &str, value: Option<&'a str>) -> Result<&'a str, String> {
    value.ok_or_else(|| format!("{flag} {key} needs a value: {flag} {key}=…"))
}

/// `-S`/`--wasi`: `faithful` and `stock` choose wouldblock's mode; everything else is a
/// wasmtime WASI option.
pub fn wasi(values: &[String], out: &mut Translated) -> Result<(), String> {
    const F: &str = "-S";
    for (key, val) in items(values) {
        let on = || boolean(F, key, val);
        match key {
            "faithful" if val.is_none() => out.mode = Some(WasiMode::Faithful),
            "stock" if val.is_none() => out.mode = Some(WasiMode::Stock),
            "tcplisten" => {
                let addr = value(F, key, val)?;
                let spec = addr
                    .parse()
                    .map_err(|e| format!("-S tcplisten={addr}: {e}"))?;
                out.tcplisten.push(spec);
            }
            // What wouldblock always gives a guest: yes is a no-op, no is not offered.
            "cli" | "common" | "preview2" | "cli-exit-with-code" | "network-error-code"
            | "listenfd" | "inherit-stdout" | "inherit-stderr" => {
                if !on()? {
                    return Err(match key {
                        "inherit-stdout" | "inherit-stderr" => format!(
                            "-S {key}=n: wouldblock always forwards the guest's output; bound it with --{} pipe:CAPACITY",
                            &key["inherit-".len()..]
                        ),
                        _ => format!("-S {key}=n: wouldblock always provides it"),
                    });
                }
            }
            "inherit-stdin" => {
                if !on()? {
                    out.stdin = Some(StdinSpec::Eof);
                }
            }
            "tcp" => {
                if !on()? {
                    return Err("-S tcp=n: a guest gets no TCP unless --allow-net or --tcplisten gives it some".into());
                }
            }
            "udp" => {
                if on()? {
                    return Err("-S udp: wouldblock gives guests no UDP".into());
                }
            }
            "inherit-network" => {
                if on()? {
                    return Err("-S inherit-network: wouldblock grants the network address by address: use --allow-net HOST:PORT (preview2) or --tcplisten HOST:PORT (preview1)".into());
                }
            }
            "allow-ip-name-lookup" => {
                if on()? {
                    return Err("-S allow-ip-name-lookup: wouldblock resolves no names: give --allow-net numeric addresses".into());
                }
            }
            "inherit-env" => {
                if on()? {
                    return Err("-S inherit-env: the host environment is not inherited: pass each variable with --env NAME (its host value) or --env NAME=VALUE".into());
                }
            }
            "cwd" => {
                return Err("-S cwd: wouldblock does not set a working directory; preopen it with --dir HOST::GUEST".into())
            }
            "nn" | "nn-graph" | "threads" | "http" | "config" | "config-var" | "keyvalue"
            | "keyvalue-in-memory-data" | "tls" | "http-outgoing-body-buffer-chunks"
            | "http-outgoing-body-chunk-size" | "max-http-fields-size" => {
                return Err(format!(
                    "-S {key}: wouldblock does not provide that WASI proposal (it runs wasi:cli, filesystem, clocks, random and sockets)"
                ))
            }
            "max-resources" | "hostcall-fuel" | "max-random-size" => {
                return Err(format!(
                    "-S {key}: not configurable in wouldblock (wasmtime-wasi's defaults apply)"
                ))
            }
            other => {
                return Err(format!(
                    "-S {other}: not a wasmtime WASI option, nor faithful or stock"
                ))
            }
        }
    }
    Ok(())
}

/// `-W`/`--wasm`: the limits wouldblock has; the rest are wasmtime engine settings
/// wouldblock keeps at wasmtime's defaults.
pub fn wasm(values: &[String], out: &mut Translated) -> Result<(), String> {
    const F: &str = "-W";
    for (key, val) in items(values) {
        match key {
            "timeout" => {
                let v = value(F, key, val)?;
                out.timeout = Some(v.parse::<DurationArg>().map_err(|e| format!("-W timeout: {e}"))?.0);
            }
            "max-memory-size" => {
                let v = value(F, key, val)?;
                out.max_memory =
                    Some(v.parse::<BytesArg>().map_err(|e| format!("-W max-memory-size: {e}"))?.0);
            }
            "fuel" => {
                let v = value(F, key, val)?.replace('_', "");
                let n = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                out.fuel = Some(n.map_err(|_| format!("-W fuel={v}: expected a whole number"))?);
            }
            "unknown-imports-trap" => out.trap_unknown_imports = boolean(F, key, val)?,
            "nan-canonicalization" | "epoch-interruption" | "max-wasm-stack" | "async-stack-size"
            | "async-stack-zeroing" | "unknown-exports-allow" | "unknown-imports-default" | "wmemcheck" | "max-table-elements" | "max-instances"
            | "max-tables" | "max-memories" | "trap-on-grow-failure" | "all-proposals"
            | "bulk-memory" | "multi-memory" | "multi-value" | "reference-types" | "simd"
            | "relaxed-simd" | "relaxed-simd-deterministic" | "tail-call" | "threads"
            | "shared-memory" | "shared-everything-threads" | "component-model"
            | "component-model-async" | "component-model-more-async-builtins"
            | "component-model-async-stackful" | "component-model-threading"
            | "component-model-error-context" | "component-model-gc" | "component-model-map"
            | "function-references" | "stack-switching" | "gc" | "custom-page-sizes"
            | "wide-arithmetic" | "branch-hinting" | "extended-const" | "exceptions"
            | "gc-support" | "component-model-fixed-length-lists"
            | "component-model-implements" | "concurrency-support" => {
                return Err(format!(
                    "-W {key}: wouldblock runs guests with wasmtime's default settings and takes only -W timeout, max-memory-size and fuel (or --timeout, --max-memory, --fuel)"
                ))
            }
            other => return Err(format!("-W {other}: not a wasmtime -W option")),
        }
    }
    Ok(())
}

/// The one line for a `wasmtime run` option wouldblock does not take.
pub fn refused(option: &str) -> String {
    let why = match option {
        "-O" => "it compiles with wasmtime's default optimizations",
        "-C" => "it compiles with Cranelift, wasmtime's default",
        "-D" => "it has no debugger support; a trap prints its wasm backtrace",
        "-R" => "it does not record executions",
        "--profile" => "it has no profiler; `make bench` measures it",
        "--allow-precompiled" => "it runs .wasm and .wat files only",
        "--gdbstub" => "it has no debugger support",
        "--preload" => "it runs one guest, with no preloaded modules",
        "--target" => "it compiles for the host it runs on",
        "--config" => "it takes its options on the command line, not from a wasmtime config file",
        _ => "it has no such option",
    };
    format!("{option}: not supported by wouldblock: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasi_of(v: &[&str]) -> Result<Translated, String> {
        let mut t = Translated::default();
        wasi(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &mut t)?;
        Ok(t)
    }

    fn wasm_of(v: &[&str]) -> Result<Translated, String> {
        let mut t = Translated::default();
        wasm(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &mut t)?;
        Ok(t)
    }

    #[test]
    fn wasi_options() {
        let t = wasi_of(&["tcplisten=127.0.0.1:0,cli", "stock", "preview2=y"]).unwrap();
        assert_eq!(t.tcplisten, ["127.0.0.1:0".parse().unwrap()]);
        assert_eq!(t.mode, Some(WasiMode::Stock));
        assert_eq!(
            wasi_of(&["inherit-stdin=n"]).unwrap().stdin,
            Some(StdinSpec::Eof)
        );
        assert!(wasi_of(&["udp=n", "inherit-network=n"]).is_ok());
        for (bad, says) in [
            ("inherit-network", "--allow-net HOST:PORT"),
            ("allow-ip-name-lookup", "numeric addresses"),
            ("inherit-env", "--env NAME"),
            ("tcplisten=localhost:80", "numeric host"),
            ("tcplisten", "needs a value"),
            ("http", "does not provide"),
            ("cli=maybe", "expected y or n"),
            ("bogus", "not a wasmtime WASI option"),
        ] {
            let e = wasi_of(&[bad]).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn wasm_options() {
        let t = wasm_of(&["timeout=5,max-memory-size=0x10000", "fuel=1_000"]).unwrap();
        assert_eq!(t.timeout, Some(Duration::from_secs(5)));
        assert_eq!(t.max_memory, Some(65536));
        assert_eq!(t.fuel, Some(1000));
        for (bad, says) in [
            ("simd=n", "wasmtime's default settings"),
            ("timeout=soon", "not a duration"),
            ("fuel=x", "whole number"),
            ("frobnicate", "not a wasmtime -W option"),
        ] {
            let e = wasm_of(&[bad]).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
