//! Parsers for the `run` options that take a small language: `--stdin`, `--dir`, `--env`.
//!
//! Each parser returns a one-line message naming what is accepted; clap shows it as the error,
//! and a case file (which deserializes these types from strings) shows it with file:line:col.

use std::path::PathBuf;
use std::time::Duration;

/// Implements `Deserialize` for types parsed from one string by `FromStr`, so that a case file
/// holds them already parsed: a bad value is an error when the file is read, pointing at the
/// value.
macro_rules! deserialize_from_str {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
pub(crate) use deserialize_from_str;

deserialize_from_str!(
    StdinSpec,
    OutputSpec,
    DurationArg,
    BytesArg,
    DirSpec,
    EnvSpec
);

/// Where the guest's stdin comes from; parsed from the command line's spellings.
///
/// ```
/// use std::time::Duration;
/// use wouldblock::StdinSpec;
///
/// assert_eq!("open".parse(), Ok(StdinSpec::Open));
/// assert_eq!(
///     "after:200:hi".parse(),
///     Ok(StdinSpec::After(Duration::from_millis(200), b"hi".to_vec()))
/// );
/// assert!("later".parse::<StdinSpec>().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StdinSpec {
    /// The host's own stdin, read without changing its flags.
    #[default]
    Inherit,
    /// Closed at once: the first read sees end-of-file.
    Eof,
    /// A pipe that stays open and never receives data.
    Open,
    /// These bytes with end-of-file right behind them.
    Data(Vec<u8>),
    /// No data for this long, then these bytes with end-of-file right behind them (in one
    /// step: a reader never sees the bytes without the end-of-file).
    After(Duration, Vec<u8>),
    /// The contents of a host file.
    File(PathBuf),
}

const STDIN_FORMS: &str = "inherit, eof, open, data:TEXT, after:MS:TEXT, file:PATH";

impl std::str::FromStr for StdinSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "inherit" => return Ok(StdinSpec::Inherit),
            "eof" => return Ok(StdinSpec::Eof),
            "open" => return Ok(StdinSpec::Open),
            _ => {}
        }
        if let Some(text) = s.strip_prefix("data:") {
            return Ok(StdinSpec::Data(text.as_bytes().to_vec()));
        }
        if let Some(rest) = s.strip_prefix("after:") {
            let (ms, text) = rest
                .split_once(':')
                .ok_or_else(|| format!("`{s}`: expected after:MS:TEXT"))?;
            let ms: u64 = ms
                .parse()
                .map_err(|_| format!("`{s}`: MS must be a whole number of milliseconds"))?;
            return Ok(StdinSpec::After(
                Duration::from_millis(ms),
                text.as_bytes().to_vec(),
            ));
        }
        if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                return Err(format!("`{s}`: file: needs a PATH"));
            }
            return Ok(StdinSpec::File(PathBuf::from(path)));
        }
        Err(format!(
            "`{s}` is not a stdin spec; expected one of {STDIN_FORMS}"
        ))
    }
}

/// Where the guest's stdout or stderr goes; parsed from the command line's spellings.
///
/// ```
/// use std::time::Duration;
/// use wouldblock::{Drain, OutputSpec};
///
/// assert_eq!(
///     "pipe:65536:4096/10ms".parse(),
///     Ok(OutputSpec::Pipe {
///         capacity: 65536,
///         drain: Some(Drain { bytes: 4096, every: Duration::from_millis(10) }),
///     })
/// );
/// assert_eq!("pipe:8192".parse(), Ok(OutputSpec::Pipe { capacity: 8192, drain: None }));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OutputSpec {
    /// The host's own stdout/stderr, written without changing its flags.
    #[default]
    Inherit,
    /// A bounded pipe of `capacity` bytes whose reader takes `drain` (bytes per interval), or
    /// nothing until the guest exits; what it takes goes to the host's stdout/stderr.
    Pipe {
        /// The pipe's size in bytes (at least 1).
        capacity: usize,
        /// How fast the reader drains it.
        drain: Option<Drain>,
    },
}

/// A drain rate: `bytes` every `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drain {
    /// Bytes taken each time (at least 1).
    pub bytes: usize,
    /// How often (more than zero).
    pub every: Duration,
}

const OUTPUT_FORMS: &str =
    "inherit, pipe:CAPACITY or pipe:CAPACITY:BYTES/INTERVAL (e.g. pipe:65536:4096/10ms or pipe:64K:4K/10ms)";

/// The longest duration accepted: every deadline computed from one stays representable.
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A duration on the command line, as `wasmtime run -W timeout=` reads it and more: a bare
/// number is seconds (`5`, `1.5`), a number with a unit (`500ms`, `2s`, `250us`, `100ns`,
/// `1.5s`, `1m`, `1h`), or humantime's forms (`1h 30m`, `2min`); `_` separates digits.
/// Above zero and at most 10 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationArg(pub Duration);

impl std::str::FromStr for DurationArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let d = parse_duration(s).ok_or_else(|| {
            format!("`{s}` is not a duration; expected e.g. 5 (seconds), 500ms, 1.5s, 2m, 1h")
        })?;
        if d.is_zero() {
            return Err(format!("`{s}` is not a duration above zero"));
        }
        if d > MAX_DURATION {
            return Err(format!("`{s}` is too long; at most 10 years"));
        }
        Ok(DurationArg(d))
    }
}

/// Parses the forms [`DurationArg`] takes (zero and any length included).
fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim().replace('_', "");
    // A number and an optional unit: what `wasmtime run` takes, decimals too.
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let nanos_per: Option<u64> = match unit {
        "" | "s" => Some(1_000_000_000),
        "ms" => Some(1_000_000),
        "us" | "\u{3bc}s" | "\u{b5}s" => Some(1_000),
        "ns" => Some(1),
        "m" => Some(60_000_000_000),
        "h" => Some(3_600_000_000_000),
        _ => None,
    };
    match (nanos_per, num.is_empty()) {
        (Some(per), false) => {
            if let Ok(whole) = num.parse::<u64>() {
                let nanos = u128::from(whole) * u128::from(per);
                return Some(Duration::from_nanos(
                    u64::try_from(nanos).unwrap_or(u64::MAX),
                ));
            }
            let nanos = num.parse::<f64>().ok()? * per as f64;
            (nanos.is_finite() && nanos >= 0.0)
                .then(|| Duration::from_nanos(nanos.min(u64::MAX as f64) as u64))
        }
        (None, false) => humantime_sum(&t),
        _ => None,
    }
}

/// humantime's forms, one `NUMBER UNIT` piece at a time, summed here (saturating).
///
/// `humantime::parse_duration` (2.4.0) panics instead of failing when its running total
/// reaches `u64::MAX` seconds with exactly one second of nanoseconds to carry
/// (chronotope/humantime#66; the `specs` fuzz target found
/// `18446744073709551611.5s01.5s…`). One piece alone starts from zero and cannot reach that
/// carry, so each is parsed by humantime and the sum is ours. A piece ends where humantime's
/// own parser starts the next one: at a digit after unit letters.
fn humantime_sum(t: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let (mut start, mut unit) = (0, false);
    for (i, c) in t.char_indices() {
        if c.is_ascii_digit() && unit {
            total = total.saturating_add(humantime::parse_duration(&t[start..i]).ok()?);
            (start, unit) = (i, false);
        } else if !(c.is_ascii_digit() || c.is_whitespace() || c == '.') {
            unit = true;
        }
    }
    Some(total.saturating_add(humantime::parse_duration(&t[start..]).ok()?))
}

/// A size in bytes on the command line: `1048576`, `0x10000`, `64K`, `64KB`, `64KiB`, `16M`,
/// `16MB`, `16MiB`, `1G`… (every multiple is binary: K = 1024), `_` separating digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BytesArg(pub usize);

impl std::str::FromStr for BytesArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{s}` is not a size; expected bytes (decimal, or hex as 0x…), or a number with K, M or G (KB, KiB…)")
        };
        let t = s.trim().replace('_', "");
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return usize::from_str_radix(hex, 16)
                .ok()
                .filter(|n| *n > 0)
                .map(BytesArg)
                .ok_or_else(bad);
        }
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let shift = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(bad()),
        };
        num.parse::<usize>()
            .ok()
            .and_then(|n| n.checked_mul(1 << shift))
            .filter(|n| *n > 0)
            .map(BytesArg)
            .ok_or_else(bad)
    }
}

impl std::str::FromStr for OutputSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "inherit" {
            return Ok(OutputSpec::Inherit);
        }
        let Some(rest) = s.strip_prefix("pipe:") else {
            return Err(format!(
                "`{s}` is not an output spec; expected {OUTPUT_FORMS}"
            ));
        };
        let (cap, drain) = match rest.split_once(':') {
            Some((c, d)) => (c, Some(d)),
            None => (rest, None),
        };
        // Sizes as --max-memory takes them (8192, 0x2000, 64K, 1M).
        let capacity = cap.parse::<BytesArg>().map(|b| b.0).map_err(|_| {
            format!("`{s}`: CAPACITY must be a size above 0 (bytes, or with K, M or G)")
        })?;
        let drain = match drain {
            None => None,
            Some(d) => {
                let bad = || {
                    format!("`{s}`: the drain must be BYTES/INTERVAL with BYTES above 0 and INTERVAL a duration above 0 like 10ms, 500us or 1s (at most 10 years)")
                };
                let (bytes, every) = d.split_once('/').ok_or_else(bad)?;
                let bytes = bytes.parse::<BytesArg>().map_err(|_| bad())?.0;
                // A duration as --timeout takes it, with the same bounds.
                let every = every.parse::<DurationArg>().map_err(|_| bad())?.0;
                Some(Drain { bytes, every })
            }
        };
        Ok(OutputSpec::Pipe { capacity, drain })
    }
}

/// A preopened directory: `HOST[::GUEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirSpec {
    /// The directory on the host.
    pub host: PathBuf,
    /// The name the guest sees it by.
    pub guest: String,
}

impl std::str::FromStr for DirSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (host, guest) = match s.split_once("::") {
            Some((h, g)) => (h, g),
            None => (s, s),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!(
                "`{s}`: expected HOST[::GUEST] with neither part empty"
            ));
        }
        Ok(DirSpec {
            host: PathBuf::from(host),
            guest: guest.to_string(),
        })
    }
}

/// An environment variable for the guest: `NAME=VALUE`, or `NAME` for the host's value (as
/// `wasmtime run --env NAME` takes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSpec {
    /// The name; never empty, never contains `=`.
    pub key: String,
    /// The value (may be empty); `None`: the host's, if it has one.
    pub value: Option<String>,
}

impl std::str::FromStr for EnvSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (s, None),
        };
        if key.is_empty() {
            return Err(format!(
                "`{s}`: expected NAME or NAME=VALUE with a non-empty NAME"
            ));
        }
        Ok(EnvSpec {
            key: key.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_forms() {
        assert_eq!("open".parse(), Ok(StdinSpec::Open));
        assert_eq!("eof".parse(), Ok(StdinSpec::Eof));
        assert_eq!("inherit".parse(), Ok(StdinSpec::Inherit));
        assert_eq!("data:a:b".parse(), Ok(StdinSpec::Data(b"a:b".to_vec())));
        assert_eq!(
            "after:50:hello".parse(),
            Ok(StdinSpec::After(
                Duration::from_millis(50),
                b"hello".to_vec()
            ))
        );
        assert_eq!("file:/x".parse(), Ok(StdinSpec::File("/x".into())));
        for bad in ["", "opn", "after:x:y", "after:50", "file:", "after:-1:x"] {
            let err = bad.parse::<StdinSpec>().unwrap_err();
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn output_forms() {
        assert_eq!("inherit".parse(), Ok(OutputSpec::Inherit));
        assert_eq!(
            "pipe:64".parse(),
            Ok(OutputSpec::Pipe {
                capacity: 64,
                drain: None
            })
        );
        assert_eq!(
            "pipe:65536:4096/10ms".parse(),
            Ok(OutputSpec::Pipe {
                capacity: 65536,
                drain: Some(Drain {
                    bytes: 4096,
                    every: Duration::from_millis(10)
                })
            })
        );
        // Sizes as --max-memory spells them.
        assert_eq!(
            "pipe:64K:4KiB/10ms".parse::<OutputSpec>(),
            "pipe:65536:4096/10ms".parse::<OutputSpec>()
        );
        assert_eq!(
            "pipe:0x2000".parse(),
            Ok(OutputSpec::Pipe {
                capacity: 8192,
                drain: None
            })
        );
        assert_eq!(
            "pipe:1:1/500us".parse::<OutputSpec>().unwrap(),
            OutputSpec::Pipe {
                capacity: 1,
                drain: Some(Drain {
                    bytes: 1,
                    every: Duration::from_micros(500)
                })
            }
        );
        for bad in [
            "",
            "pipe",
            "pipe:",
            "pipe:0",
            "pipe:x",
            "pipe:8:",
            "pipe:8:0/1ms",
            "pipe:8:4/0ms",
            "pipe:8:4/0",
            "pipe:8:4/ms",
            "pipe:8:4/1x",
            "pipe:4096:1/99999999999999999s",
            "file:x",
        ] {
            let err = bad.parse::<OutputSpec>().unwrap_err();
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn durations_and_sizes() {
        let d = |s: &str| s.parse::<DurationArg>().map(|d| d.0);
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(d("1m"), Ok(Duration::from_secs(60)));
        // wasmtime's forms: a bare number is seconds; us, \u{3bc}s and ns.
        assert_eq!(d("5"), Ok(Duration::from_secs(5)));
        assert_eq!(d("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(d("250\u{3bc}s"), Ok(Duration::from_micros(250)));
        assert_eq!(d("100ns"), Ok(Duration::from_nanos(100)));
        assert_eq!(d("1_000ms"), Ok(Duration::from_secs(1)));
        // Decimals and hours; humantime's forms.
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(d("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("2min"), Ok(Duration::from_secs(120)));
        for bad in ["0s", "0", "", "s", "1.2.3s", "-1s", "1y1", "NaNs", "infs"] {
            assert!(d(bad).is_err(), "{bad}");
        }
        // Found by the `specs` fuzz target: minutes that overflow u64 seconds.
        assert!(d("9451002652045120030m").is_err());
        // humantime's forms summed piece by piece (a panic in humantime 2.4.0 otherwise).
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d(" 1 h 2min 3s 4ms"), Ok(Duration::from_millis(3_723_004)));
        assert_eq!(d("1.5h 1.5m"), Ok(Duration::from_secs(5490)));
        for huge in [
            "18446744073709551615s 1000000000ns",
            "18446744073709551615s 999999999ns 1ns",
            "18446744073709551611.5s01.5s1.5s01.5s1.5s1.5s01.5s01.6500s0",
        ] {
            assert_eq!(
                d(huge),
                Err(format!("`{huge}` is too long; at most 10 years"))
            );
        }
        for bad in ["1h x", "1h.5m", "h1", "1h 2", "1 h2 q"] {
            assert!(d(bad).is_err(), "{bad}");
        }
        // Past 10 years: a deadline `now + d` would overflow an Instant.
        assert!(d("18446744073709551615s").is_err());
        assert!(d("1e300s").is_err());
        assert_eq!(d("5256000m"), Ok(Duration::from_secs(5_256_000 * 60)));
        assert!(d("5256001m").is_err());
        let b = |s: &str| s.parse::<BytesArg>().map(|b| b.0);
        assert_eq!(b("16MiB"), Ok(16 << 20));
        assert_eq!(b("64M"), Ok(64 << 20));
        assert_eq!(b("64MB"), Ok(64 << 20));
        assert_eq!(b("64m"), Ok(64 << 20));
        assert_eq!(b("2K"), Ok(2048));
        assert_eq!(b("1GiB"), Ok(1 << 30));
        assert_eq!(b("0x10000"), Ok(65536));
        assert_eq!(b("1_048_576"), Ok(1 << 20));
        assert_eq!(b("4096"), Ok(4096));
        for bad in [
            "0",
            "0x0",
            "1TB",
            "",
            "M",
            "0xZZ",
            "-1",
            "99999999999999999999G",
        ] {
            assert!(b(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dir_and_env_forms() {
        let d: DirSpec = "/tmp::/sandbox".parse().unwrap();
        assert_eq!(d.host, PathBuf::from("/tmp"));
        assert_eq!(d.guest, "/sandbox");
        let d: DirSpec = ".".parse().unwrap();
        assert_eq!(d.guest, ".");
        assert!("::x".parse::<DirSpec>().is_err());
        assert!("x::".parse::<DirSpec>().is_err());
        let e: EnvSpec = "A=b=c".parse().unwrap();
        assert_eq!((e.key.as_str(), e.value.as_deref()), ("A", Some("b=c")));
        let e: EnvSpec = "HOME".parse().unwrap();
        assert_eq!((e.key.as_str(), e.value), ("HOME", None));
        assert!("=x".parse::<EnvSpec>().is_err());
        assert!("".parse::<EnvSpec>().is_err());
    }
}
