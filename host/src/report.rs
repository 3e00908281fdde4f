//! The run report: the JSON written by `--report` (schema `wouldblock.report/1`) and the
//! summary lines printed to stderr after the guest exits.

use crate::errno::Platform;
use crate::events::Event;
use crate::python::PyError;
use crate::run::{Finished, WasiMode};
use serde::Serialize;

/// The schema identifier; bumped on any incompatible change.
pub const SCHEMA: &str = "wouldblock.report/1";

/// The `--report` document.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The guest file as given.
    pub guest: String,
    /// `p1`, `p2` or `p3`.
    pub abi: String,
    /// Which preview1 implementation ran.
    pub wasi: WasiMode,
    /// Where the host ran.
    pub platform: HostPlatform,
    /// The platform `python` renderings are for.
    pub render_platform: Platform,
    /// The guest's exit code; when it was stopped, wouldblock's (124, 125, 134).
    pub exit_code: i32,
    /// Who chose `exit_code`: the guest (it exited with it, whatever the number: a guest may
    /// exit 2 or 124 itself), or wouldblock (it stopped the guest, see `stopped`).
    pub exit_by: ExitBy,
    /// Why the guest was stopped (a trap, the deadline, the memory limit), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Bytes the guest wrote through `pipe:` outputs, all forwarded to the host.
    pub captured: crate::run::Captured,
    /// Each distinct event.
    pub events: Vec<EventReport>,
    /// What `--chaos` injected by: its spec and seed (`--chaos-seed` repeats the run's
    /// choices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosReport>,
}

/// A run's `--chaos`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ChaosReport {
    /// The spec as given, e.g. `again@stdin=0.1,short=/3`.
    pub spec: String,
    /// The seed of its random choices.
    pub seed: u64,
}

/// Who chose a run's exit code.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ExitBy {
    /// The guest exited (returned from `_start`, or called `proc_exit`).
    Guest,
    /// wouldblock stopped it: a trap, the deadline, fuel, the memory limit.
    Wouldblock,
}

/// The machine a report comes from: OS and architecture as Rust names them, and, when known,
/// the kernel release and the host name. One type for the run report and the suite report.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct HostPlatform {
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `x86_64`.
    pub arch: String,
    /// The kernel release (`uname -r`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// The machine's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

impl HostPlatform {
    /// This host.
    pub fn current() -> Self {
        HostPlatform {
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            kernel: crate::sys::kernel_release(),
            hostname: crate::sys::hostname(),
        }
    }
}

/// One event in a report (the run report's and the suite report's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct EventReport {
    /// e.g. `fd_read`.
    pub call: String,
    /// The guest descriptor.
    pub fd: u32,
    /// e.g. `stdin`.
    pub handle: String,
    /// The WASI errno value.
    pub wasi_errno: u16,
    /// The WASI errno name.
    pub wasi_name: String,
    /// How many times.
    pub count: u64,
    /// Bytes accepted before the would-block, for writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characters_written: Option<u64>,
    /// Made by `--chaos`, not by the handle (`success`: a short read or write, or a spurious
    /// `poll_oneoff` wake-up).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub injected: bool,
    /// As Python raises it on the render platform; `null` where that platform has no errno.
    pub python: Option<PyError>,
    /// As Python raises it on every platform with a table.
    pub renderings: Vec<PyError>,
}

/// Every event of `log` for a report, rendered for `platform` and for all platforms.
pub fn event_reports(platform: Platform, log: &crate::events::EventLog) -> Vec<EventReport> {
    log.events()
        .iter()
        .map(|e| EventReport {
            call: e.call.into(),
            fd: e.fd,
            handle: e.handle.name().into(),
            wasi_errno: e.errno.raw(),
            wasi_name: e.errno.name().into(),
            count: e.count,
            characters_written: e.characters_written,
            injected: e.injected,
            python: e.python(platform),
            renderings: Platform::ALL.iter().filter_map(|p| e.python(*p)).collect(),
        })
        .collect()
}

impl Report {
    /// The report of a run that started, however it ended: the guest's exit code, or the
    /// one wouldblock chose when it stopped the guest, and why.
    pub fn new(guest: String, wasi: WasiMode, platform: Platform, run: &Finished) -> Self {
        let (exit_code, exit_by, stopped) = match &run.result {
            Ok(code) => (*code, ExitBy::Guest, None),
            Err(e) => (e.exit_code(), ExitBy::Wouldblock, Some(e.message())),
        };
        Report {
            schema: SCHEMA.into(),
            guest,
            abi: run.abi.into(),
            wasi,
            platform: HostPlatform::current(),
            render_platform: platform,
            exit_code,
            exit_by,
            stopped,
            captured: run.captured,
            events: event_reports(platform, &run.events),
            chaos: run.chaos.as_ref().map(|(spec, seed)| ChaosReport {
                spec: spec.to_string(),
                seed: *seed,
            }),
        }
    }
}

/// The stderr line for one event, e.g.
/// `wouldblock: fd_read(fd=0, stdin) -> again (6) x3 = BlockingIOError: [Errno 11] ... [linux]`.
pub fn summary_line(platform: Platform, e: &Event) -> String {
    let python = match e.python(platform) {
        Some(py) => match py.characters_written {
            Some(n) => format!("{} (characters_written={n})", py.line),
            None => py.line,
        },
        None if e.errno == crate::errno::WasiErrno::Success => {
            let what = match e.call {
                "poll_oneoff" => "a spurious wake-up",
                "fd_write" | "sock_send" | "stream.write" => "a short write",
                "stream.probe-read" | "stream.probe-write" => "ready at once",
                "output-stream.check-write" => "a smaller write permit",
                _ => "a short read",
            };
            format!("{what}, no exception")
        }
        None => format!("no {} errno", platform.name()),
    };
    format!(
        "wouldblock: {}(fd={}, {}) -> {} ({}) x{}{} = {} [{}]",
        e.call,
        e.fd,
        e.handle.name(),
        e.errno.name(),
        e.errno.raw(),
        e.count,
        if e.injected { " injected" } else { "" },
        python,
        platform.name()
    )
}
