//! Parsers for the `run` options that take a small language: `--stdin`, `--dir`, `--env`.
//!
//! Each parser returns a one-line message naming what is accepted; clap shows it as the error.

use std::path::PathBuf;
use std::time::Duration;

/// Where the guest's stdin comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StdinSpec {
    /// The host's own stdin, read without changing its flags.
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

/// Where the guest's stdout or stderr goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputSpec {
    /// The host's own stdout/stderr, written without changing its flags.
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
    "inherit, pipe:CAPACITY or pipe:CAPACITY:BYTES/INTERVAL (e.g. pipe:65536:4096/10ms)";

/// The longest duration accepted: every deadline computed from one stays representable.
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A duration on the command line: `500ms`, `2s`, `1m`, `250us`; at most 10 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationArg(pub Duration);

impl std::str::FromStr for DurationArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let minutes = s
            .strip_suffix('m')
            .filter(|m| !m.ends_with('m'))
            .and_then(|m| m.parse::<u64>().ok())
            .map(|m| m.checked_mul(60).map_or(Duration::MAX, Duration::from_secs));
        let d = minutes.or_else(|| parse_interval(s)).ok_or_else(|| {
            format!("`{s}` is not a duration; expected a whole number and us, ms, s or m (e.g. 500ms, 2s)")
        })?;
        if d > MAX_DURATION {
            return Err(format!("`{s}` is too long; at most 10 years"));
        }
        Ok(DurationArg(d))
    }
}

/// A size in bytes on the command line: `1048576`, `64KiB`, `16MiB`, `1GiB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BytesArg(pub usize);

impl std::str::FromStr for BytesArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (num, mult) = match s {
            _ if s.ends_with("KiB") => (&s[..s.len() - 3], 1usize << 10),
            _ if s.ends_with("MiB") => (&s[..s.len() - 3], 1 << 20),
            _ if s.ends_with("GiB") => (&s[..s.len() - 3], 1 << 30),
            _ => (s, 1),
        };
        num.parse::<usize>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
            .filter(|n| *n > 0)
            .map(BytesArg)
            .ok_or_else(|| {
                format!("`{s}` is not a size; expected bytes, or a number with KiB, MiB or GiB")
            })
    }
}

/// Parses `10ms`, `2s`, `500us`.
fn parse_interval(s: &str) -> Option<Duration> {
    let (num, unit): (String, String) = s.chars().partition(|c| c.is_ascii_digit());
    let n: u64 = num.parse().ok()?;
    if !s.starts_with(num.as_str()) {
        return None;
    }
    let d = match unit.as_str() {
        "us" => Duration::from_micros(n),
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
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
        let capacity: usize =
            cap.parse().ok().filter(|c| *c > 0).ok_or_else(|| {
                format!("`{s}`: CAPACITY must be a whole number of bytes above 0")
            })?;
        let drain = match drain {
            None => None,
            Some(d) => {
                let bad = || {
                    format!("`{s}`: the drain must be BYTES/INTERVAL with BYTES above 0 and INTERVAL like 10ms, 500us or 1s (at most 10 years)")
                };
                let (bytes, every) = d.split_once('/').ok_or_else(bad)?;
                let bytes: usize = bytes.parse().ok().filter(|b| *b > 0).ok_or_else(bad)?;
                // The same bound as a duration: every sleep computed from it is finite.
                let every = parse_interval(every)
                    .filter(|d| *d <= MAX_DURATION)
                    .ok_or_else(bad)?;
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

/// An environment variable for the guest: `KEY=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSpec {
    /// The name; never empty, never contains `=`.
    pub key: String,
    /// The value; may be empty.
    pub value: String,
}

impl std::str::FromStr for EnvSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(EnvSpec {
                key: k.to_string(),
                value: v.to_string(),
            }),
            _ => Err(format!("`{s}`: expected KEY=VALUE with a non-empty KEY")),
        }
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
            "pipe:8:4/10",
            "pipe:8:4/ms",
            "pipe:8:4/1h",
            "pipe:4096:1/99999999999999999s",
            "file:x",
        ] {
            let err = bad.parse::<OutputSpec>().unwrap_err();
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!("500ms".parse(), Ok(DurationArg(Duration::from_millis(500))));
        assert_eq!("2s".parse(), Ok(DurationArg(Duration::from_secs(2))));
        assert_eq!("1m".parse(), Ok(DurationArg(Duration::from_secs(60))));
        assert!("0s".parse::<DurationArg>().is_err());
        assert!("5".parse::<DurationArg>().is_err());
        assert!("1h".parse::<DurationArg>().is_err());
        // Found by the `specs` fuzz target: minutes that overflow u64 seconds.
        assert!("9451002652045120030m".parse::<DurationArg>().is_err());
        // Past 10 years: a deadline `now + d` would overflow an Instant.
        assert!("18446744073709551615s".parse::<DurationArg>().is_err());
        assert_eq!(
            "5256000m".parse(),
            Ok(DurationArg(Duration::from_secs(5_256_000 * 60)))
        );
        assert!("5256001m".parse::<DurationArg>().is_err());
        assert_eq!("16MiB".parse(), Ok(BytesArg(16 << 20)));
        assert_eq!("4096".parse(), Ok(BytesArg(4096)));
        assert!("0".parse::<BytesArg>().is_err());
        assert!("1TB".parse::<BytesArg>().is_err());
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
        assert_eq!((e.key.as_str(), e.value.as_str()), ("A", "b=c"));
        assert!("=x".parse::<EnvSpec>().is_err());
        assert!("novalue".parse::<EnvSpec>().is_err());
    }
}
