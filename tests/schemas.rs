//! The JSON Schemas in `schemas/`: each is what `wouldblock schema DOC` generates from the
//! types (a stale file fails; `make schemas` rewrites them), and real documents of each kind
//! (a run report with events, a suite report, a comparison) validate against the committed
//! file, while a document that breaks it does not.

use std::path::{Path, PathBuf};
use std::process::Command;
use wouldblock_tests::guests::*;
use wouldblock_tests::{read_json, run_with_deadline, temp_dir, Output, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_wouldblock");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn wouldblock(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(repo());
    run_with_deadline(cmd, None, DEADLINE)
}

/// The committed schema of `doc` (`report`, `suite`, `compare`).
fn committed(doc: &str) -> serde_json::Value {
    read_json(&repo().join(format!("schemas/wouldblock.{doc}-1.schema.json")))
}

/// Every error of `instance` against the committed schema of `doc`, one line each.
fn errors(doc: &str, instance: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::validator_for(&committed(doc)).expect("a valid schema");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    for doc in ["report", "suite", "compare", "recording"] {
        let out = wouldblock(&["schema", doc]);
        assert_eq!(out.code, Some(0), "{out:?}");
        let file = repo().join(format!("schemas/wouldblock.{doc}-1.schema.json"));
        let committed = std::fs::read_to_string(&file).unwrap();
        assert!(
            committed == out.stdout,
            "{} is stale: run `make schemas`",
            file.display()
        );
        let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(schema["title"], format!("wouldblock.{doc}/1"));
    }
}

#[test]
fn real_documents_validate_against_the_committed_schemas() {
    let dir = temp_dir("schemas");
    // A run report with an event.
    let run = dir.join("run.json");
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--report",
        run.to_str().unwrap(),
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let report = read_json(&run);
    assert_eq!(report["events"][0]["wasi_name"], "again");
    assert_eq!(errors("report", &report), Vec::<String>::new());
    // A suite report, and a comparison of two.
    let suite = dir.join("suite.json");
    let out = wouldblock(&[
        "suite",
        "--filter",
        "stdin_nonblock",
        "--no-step-summary",
        "--format",
        "json",
        "--output",
        suite.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let suite_report = read_json(&suite);
    assert_eq!(errors("suite", &suite_report), Vec::<String>::new());
    let out = wouldblock(&[
        "compare",
        "--format",
        "json",
        suite.to_str().unwrap(),
        suite.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let cmp: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(cmp["schema"], "wouldblock.compare/1");
    assert_eq!(errors("compare", &cmp), Vec::<String>::new());
    // Broken documents do not validate: the schemas constrain.
    let mut broken = report.clone();
    broken["exit_code"] = "zero".into();
    broken["events"][0]["python"]["handle_kind"] = "tty".into();
    assert_eq!(
        errors("report", &broken).len(),
        2,
        "{:?}",
        errors("report", &broken)
    );
    let mut broken = suite_report;
    broken["cases"][0]["outcome"] = "maybe".into();
    assert_eq!(errors("suite", &broken).len(), 1);
    // A recording: every line validates against the schema of one line.
    let rec = dir.join("run.jsonl");
    let out = wouldblock(&[
        "run",
        "--stdin",
        "open",
        "--record",
        rec.to_str().unwrap(),
        P1_RUST_STDIN_NONBLOCK_READ,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&rec)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["line"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"header"));
    assert_eq!(kinds.last(), Some(&"end"));
    assert!(kinds.contains(&"call"), "{kinds:?}");
    for line in &lines {
        assert_eq!(errors("recording", line), Vec::<String>::new());
    }
    let mut broken = lines[1].clone();
    broken["args"] = "0, 1".into();
    assert_eq!(errors("recording", &broken).len(), 1);
}
