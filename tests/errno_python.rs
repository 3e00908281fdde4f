//! Every Linux row of the errno table, checked against this machine's own python3: for each
//! WASI errno with a Linux errno `n`, `type(OSError(n, os.strerror(n))).__name__` and
//! `str(...)` must equal the table's rendering byte for byte, and the table's name must be one
//! of Python's names for `n`. Without python3 the test fails; it never skips.

use std::process::Command;
use wouldblock::{HandleKind, Platform, PyError, WasiErrno};
use wouldblock_tests::{run_with_deadline, DEADLINE};

const SCRIPT: &str = r#"
import errno, json, os, sys
out = {}
for n in json.loads(sys.argv[1]):
    e = OSError(n, os.strerror(n))
    names = sorted(k for k, v in vars(errno).items() if k.startswith("E") and v == n)
    out[str(n)] = {"line": f"{type(e).__name__}: {e}", "names": names}
print(json.dumps(out))
"#;

#[test]
fn linux_rows_match_python3() {
    if std::env::consts::OS != "linux" {
        return; // The Linux table can only be checked against a Linux python3.
    }
    let rows: Vec<(WasiErrno, PyError)> = WasiErrno::ALL
        .iter()
        .filter_map(|e| {
            Some((
                *e,
                wouldblock::render(Platform::Linux, HandleKind::Pipe, *e, None)?,
            ))
        })
        .collect();
    // Every errno but `success` and `notcapable` has a Linux errno.
    assert_eq!(rows.len(), 75);
    let numbers: Vec<i32> = rows.iter().map(|(_, r)| r.errno).collect();
    let mut cmd = Command::new("python3");
    cmd.args(["-c", SCRIPT, &serde_json::to_string(&numbers).unwrap()]);
    let out = run_with_deadline(cmd, None, DEADLINE);
    assert_eq!(out.code, Some(0), "python3 failed: {out:?}");
    let py: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut checked = 0;
    for (wasi, row) in &rows {
        let got = &py[row.errno.to_string()];
        assert_eq!(
            got["line"],
            row.line.as_str(),
            "{} ({})",
            wasi.name(),
            row.errno
        );
        let names: Vec<&str> = got["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            names.contains(&row.name.as_str()),
            "{}: {} not in python's {names:?}",
            wasi.name(),
            row.name
        );
        checked += 1;
    }
    assert_eq!(checked, 75);
}
