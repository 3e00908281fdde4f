//! `--chaos`: at the boundary, turn some operations into what POSIX allows them to be, so that
//! the rare paths of non-blocking code run on purpose.
//!
//! A spec is rules joined by commas, each `FAULT[@HANDLES]=FREQ`:
//! - `FAULT`: `again` (a non-blocking read, write, accept, recv or send that would have
//!   succeeded returns `again`, nothing moved), `short` (a read returns fewer bytes than asked
//!   for; a non-blocking write takes fewer than given, never splitting a write of at most
//!   `PIPE_BUF` bytes on a pipe, as POSIX forbids), `wake` (a `poll_oneoff` that would wait
//!   returns at once with one descriptor reported ready that is not, `nbytes` 0: the spurious
//!   readiness Linux `select(2)` documents; only non-blocking descriptors, so that a correct
//!   program's next call says `again` instead of waiting).
//! - `HANDLES`: `stdin`, `stdout`, `stderr`, `listener`, `socket`, `pipes` (the first three),
//!   `sockets` (the last two), joined by `+`; every handle when left out.
//! - `FREQ`: a probability (`0.1`, `10%`), or `/N`: every Nth eligible operation.
//!
//! Nothing injected is wrong for POSIX: a correct program produces the same output, no byte
//! is lost or reordered. A `--chaos-seed` fixes every random choice (SplitMix64, part of this
//! format: the same seed and the same calls give the same injections in every version).
//! Preview1 handles, preview2 streams (`crate::p2observe`) and WASI 0.3 stdio streams
//! (`crate::p3stdio`); never in `--wasi stock`.

use crate::events::Handle;
use crate::pipe::PIPE_BUF;
use std::fmt;

/// What to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// `again` on a call that would have succeeded.
    Again,
    /// A short read or write.
    Short,
    /// A spurious `poll_oneoff` wake-up.
    Wake,
}

impl Fault {
    const ALL: [(Fault, &'static str); 3] = [
        (Fault::Again, "again"),
        (Fault::Short, "short"),
        (Fault::Wake, "wake"),
    ];
}

/// How often a rule fires.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Freq {
    /// With this probability, in (0, 1].
    Chance(f64),
    /// On every Nth eligible operation.
    Every(u64),
}

const HANDLES: [(&str, &[Handle]); 7] = [
    ("stdin", &[Handle::Stdin]),
    ("stdout", &[Handle::Stdout]),
    ("stderr", &[Handle::Stderr]),
    ("listener", &[Handle::Listener]),
    ("socket", &[Handle::Socket]),
    ("pipes", &[Handle::Stdin, Handle::Stdout, Handle::Stderr]),
    ("sockets", &[Handle::Listener, Handle::Socket]),
];

#[derive(Clone, Debug, PartialEq)]
struct Rule {
    fault: Fault,
    /// The handles it applies to; empty for all.
    handles: Vec<Handle>,
    freq: Freq,
    /// The spelling it was given in, for reports.
    text: String,
}

/// A parsed `--chaos` spec.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosSpec {
    rules: Vec<Rule>,
}

impl std::str::FromStr for ChaosSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let rules = s
            .split(',')
            .map(|r| parse_rule(r.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChaosSpec { rules })
    }
}

impl fmt::Display for ChaosSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.rules.iter().map(|r| r.text.as_str()).collect();
        f.write_str(&texts.join(","))
    }
}

fn parse_rule(r: &str) -> Result<Rule, String> {
    let bad = |why: &str| {
        format!("`{r}`: {why} (a rule is FAULT[@HANDLES]=FREQ, e.g. again@stdin=0.1 or short=/3)")
    };
    let (head, freq) = r.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let (fault, handles) = match head.split_once('@') {
        Some((f, h)) => (f, Some(h)),
        None => (head, None),
    };
    let fault = Fault::ALL
        .iter()
        .find(|(_, n)| *n == fault)
        .map(|(f, _)| *f)
        .ok_or_else(|| bad("the fault is one of again, short, wake"))?;
    let mut set = Vec::new();
    for name in handles
        .map(|h| h.split('+').collect())
        .unwrap_or_else(Vec::new)
    {
        let (_, hs) = HANDLES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            bad("a handle is one of stdin, stdout, stderr, listener, socket, pipes, sockets")
        })?;
        for h in *hs {
            if !set.contains(h) {
                set.push(*h);
            }
        }
    }
    let freq = if let Some(n) = freq.strip_prefix('/') {
        match n.parse::<u64>() {
            Ok(n) if n >= 1 => Freq::Every(n),
            _ => return Err(bad("`/N` needs a whole N of at least 1")),
        }
    } else {
        let p = match freq.strip_suffix('%') {
            Some(pct) => pct.parse::<f64>().map(|p| p / 100.0),
            None => freq.parse::<f64>(),
        };
        match p {
            Ok(p) if p > 0.0 && p <= 1.0 => Freq::Chance(p),
            _ => return Err(bad("a probability is above 0 and at most 1 (or 100%)")),
        }
    };
    Ok(Rule {
        fault,
        handles: set,
        freq,
        text: r.to_string(),
    })
}

crate::spec::deserialize_from_str!(ChaosSpec);

/// The injector of one run: the spec, its seed, and where the random sequence is.
#[derive(Clone, Debug)]
pub struct Chaos {
    spec: ChaosSpec,
    state: u64,
    /// Eligible operations each rule has seen, for `/N`.
    seen: Vec<u64>,
}

impl Chaos {
    /// An injector for `spec`, its random choices fixed by `seed`.
    pub fn new(spec: ChaosSpec, seed: u64) -> Chaos {
        let seen = vec![0; spec.rules.len()];
        Chaos {
            spec,
            state: seed,
            seen,
        }
    }

    /// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
    /// OOPSLA 2014): the next 64 random bits.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// Whether `fault` fires for an eligible operation on `handle`: every matching rule
    /// counts the operation (and draws, for a probability); it fires when any of them does.
    fn fires(&mut self, fault: Fault, handle: Handle) -> bool {
        let mut fired = false;
        for i in 0..self.spec.rules.len() {
            let rule = &self.spec.rules[i];
            if rule.fault != fault || !(rule.handles.is_empty() || rule.handles.contains(&handle)) {
                continue;
            }
            let freq = rule.freq;
            self.seen[i] += 1;
            let hit = match freq {
                Freq::Every(n) => self.seen[i].is_multiple_of(n),
                // 53 random bits, as a double in [0, 1).
                Freq::Chance(p) => ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p,
            };
            fired |= hit;
        }
        fired
    }

    /// Whether a non-blocking call on `handle` that would succeed returns `again` instead.
    pub fn again(&mut self, handle: Handle) -> bool {
        self.fires(Fault::Again, handle)
    }

    /// Whether a `poll_oneoff` that would wait reports `handle` ready at once.
    pub fn wake(&mut self, handle: Handle) -> bool {
        self.fires(Fault::Wake, handle)
    }

    /// How many bytes a read of `len` bytes on `handle` asks for: `len`, or when a short read
    /// fires, between 1 and `len - 1`.
    pub fn read_len(&mut self, handle: Handle, len: usize) -> usize {
        if len > 1 && self.fires(Fault::Short, handle) {
            self.between(1, len - 1)
        } else {
            len
        }
    }

    /// The permit a preview2 `check-write` on `handle` gives when the stream has room for
    /// `n` bytes: `n`, or when a short write fires, less (on a pipe only when `n` is above
    /// `PIPE_BUF`, and then at least `PIPE_BUF`: a write that small stays whole). The cut is
    /// log-uniform: the guest's write size is not known here, and a small permit is as likely
    /// as a large one to be below it.
    pub fn permit_len(&mut self, handle: Handle, n: usize) -> usize {
        let least = match handle.kind() {
            crate::errno::HandleKind::Pipe => PIPE_BUF,
            crate::errno::HandleKind::Socket => 1,
        };
        if n > least && self.fires(Fault::Short, handle) {
            let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            let cut = least as f64 * (n as f64 / least as f64).powf(u);
            (cut as usize).clamp(least, n - 1)
        } else {
            n
        }
    }

    /// How many of `len` bytes a non-blocking write on `handle` may take: `len`, or when a
    /// short write fires, between 1 and `len - 1` (on a pipe only for more than `PIPE_BUF`
    /// bytes, and then at least 1: POSIX keeps smaller writes whole).
    pub fn write_len(&mut self, handle: Handle, len: usize) -> usize {
        let splittable = match handle.kind() {
            crate::errno::HandleKind::Pipe => len > PIPE_BUF,
            crate::errno::HandleKind::Socket => len > 1,
        };
        if splittable && self.fires(Fault::Short, handle) {
            self.between(1, len - 1)
        } else {
            len
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn spec(s: &str) -> ChaosSpec {
        s.parse().unwrap()
    }

    #[test]
    fn specs_parse_and_print_as_given() {
        let s = spec("again@stdin+socket=0.25, short=/3,wake@pipes=10%");
        assert_eq!(s.rules.len(), 3);
        assert_eq!(s.rules[0].handles, [Handle::Stdin, Handle::Socket]);
        assert_eq!(s.rules[0].freq, Freq::Chance(0.25));
        assert_eq!(s.rules[1].handles, []);
        assert_eq!(s.rules[1].freq, Freq::Every(3));
        assert_eq!(s.rules[2].freq, Freq::Chance(0.1));
        assert_eq!(
            s.rules[2].handles,
            [Handle::Stdin, Handle::Stdout, Handle::Stderr]
        );
        assert_eq!(
            s.to_string(),
            "again@stdin+socket=0.25,short=/3,wake@pipes=10%"
        );
    }

    #[test]
    fn bad_specs_say_why() {
        for (s, why) in [
            ("again", "no `=`"),
            ("eagain=0.1", "the fault is one of"),
            ("again@tty=0.1", "a handle is one of"),
            ("again=0", "a probability is above 0"),
            ("again=1.5", "a probability is above 0"),
            ("again=101%", "a probability is above 0"),
            ("again=/0", "`/N` needs a whole N"),
            ("again=/x", "`/N` needs a whole N"),
            ("", "no `=`"),
        ] {
            let e = s.parse::<ChaosSpec>().unwrap_err();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn every_nth_counts_eligible_operations_per_rule() {
        let mut c = Chaos::new(spec("again@stdin=/3"), 0);
        let fired: Vec<bool> = (0..7).map(|_| c.again(Handle::Stdin)).collect();
        assert_eq!(fired, [false, false, true, false, false, true, false]);
        // Other handles are not eligible and do not count.
        assert!(!c.again(Handle::Stdout));
        assert!(!c.again(Handle::Stdin));
        assert!(c.again(Handle::Stdin));
        assert!(!c.wake(Handle::Stdin));
    }

    #[test]
    fn a_seed_fixes_every_choice() {
        let draw = |seed| {
            let mut c = Chaos::new(spec("again=0.5,short=0.5"), seed);
            (0..64)
                .map(|_| (c.again(Handle::Socket), c.read_len(Handle::Socket, 100)))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // SplitMix64's published first output for seed 0 pins the generator itself.
        assert_eq!(Chaos::new(spec("wake=1"), 0).next(), 0xE220_A839_7B1D_CDAF);
        // About half fire.
        let hits = draw(1).iter().filter(|(a, _)| *a).count();
        assert!((16..=48).contains(&hits), "{hits}");
    }

    proptest::proptest! {
        /// Any spec the grammar makes parses, and prints back as given; any text at all
        /// parses or fails with a message, never a panic.
        #[test]
        fn specs_round_trip(
            rules in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["again", "short", "wake"]),
                    proptest::collection::vec(
                        proptest::sample::select(HANDLES.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
                        0..3,
                    ),
                    proptest::prop_oneof![
                        (1u64..1000).prop_map(|n| format!("/{n}")),
                        (1u32..=100).prop_map(|p| format!("{p}%")),
                        (1u32..=1000).prop_map(|p| format!("{}", f64::from(p) / 1000.0)),
                    ],
                ),
                1..5,
            ),
            noise in ".{0,40}",
        ) {
            let text: Vec<String> = rules
                .iter()
                .map(|(fault, handles, freq)| match handles.is_empty() {
                    true => format!("{fault}={freq}"),
                    false => format!("{fault}@{}={freq}", handles.join("+")),
                })
                .collect();
            let text = text.join(",");
            let spec: ChaosSpec = text.parse().unwrap();
            proptest::prop_assert_eq!(spec.to_string(), text);
            proptest::prop_assert_eq!(spec.rules.len(), rules.len());
            let _ = noise.parse::<ChaosSpec>();
        }
    }

    #[test]
    fn short_writes_never_split_what_posix_keeps_whole() {
        let mut c = Chaos::new(spec("short=1"), 3);
        for len in [0, 1, 100, PIPE_BUF] {
            assert_eq!(c.write_len(Handle::Stdout, len), len);
        }
        for _ in 0..100 {
            let n = c.write_len(Handle::Stderr, PIPE_BUF + 1);
            assert!((1..=PIPE_BUF).contains(&n), "{n}");
            let n = c.write_len(Handle::Socket, 2);
            assert_eq!(n, 1);
            let n = c.read_len(Handle::Stdin, 10);
            assert!((1..10).contains(&n), "{n}");
        }
        assert_eq!(c.read_len(Handle::Stdin, 1), 1);
    }
}
