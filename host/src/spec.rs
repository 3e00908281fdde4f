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
    /// These bytes, then end-of-file.
    Data(Vec<u8>),
    /// No data for this long, then these bytes, then end-of-file.
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
