//! The case-file parser (both layouts) and the report loader (`compare`) on arbitrary text: a parsed
//! file or a located error, never a panic; a loaded report always compares.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wouldblock::internals::compare;
use wouldblock::internals::expect;

fuzz_target!(|text: &str| {
    let _ = expect::parse(text, expect::Layout::Scenario);
    let _ = expect::parse(text, expect::Layout::Cases);
    let path = std::env::temp_dir().join(format!(
        "wouldblock-fuzz-report-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    if let Ok(report) = compare::load(&path) {
        let cmp = compare::compare(&[("a".into(), report.clone()), ("b".into(), report)], false);
        let _ = (
            compare::human(&cmp),
            compare::markdown(&cmp),
            compare::html(&cmp),
        );
    }
});
