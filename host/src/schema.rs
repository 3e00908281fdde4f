//! JSON Schemas of the four documents wouldblock writes, generated from the Rust types that
//! write them (schemars): `wouldblock.report/1` (`run --report`), `wouldblock.suite/1`
//! (`suite --format json`), `wouldblock.compare/1` (`compare --format json`) and
//! `wouldblock.recording/1` (`run --record`, one line of it: JSON Lines). The files in
//! `schemas/` are these, committed (`make schemas` writes them; a test fails when they are
//! stale, and validates real reports against them).

use clap::ValueEnum;

/// A document with a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Document {
    /// `run --report`: `wouldblock.report/1`.
    Report,
    /// `suite --format json`: `wouldblock.suite/1`.
    Suite,
    /// `compare --format json`: `wouldblock.compare/1`.
    Compare,
    /// One line of `run --record`'s JSON Lines: `wouldblock.recording/1`.
    Recording,
}

impl Document {
    /// The schema identifier the document carries, e.g. `wouldblock.report/1`.
    pub fn id(self) -> &'static str {
        match self {
            Document::Report => crate::report::SCHEMA,
            Document::Suite => crate::suite::SCHEMA,
            Document::Compare => crate::compare::SCHEMA,
            Document::Recording => crate::recording::FORMAT,
        }
    }

    /// The JSON Schema, pretty-printed, with a final newline.
    pub fn schema(self) -> String {
        let mut schema = match self {
            Document::Report => schemars::schema_for!(crate::report::Report),
            Document::Suite => schemars::schema_for!(crate::suite::SuiteReport),
            Document::Compare => schemars::schema_for!(crate::compare::Comparison),
            Document::Recording => schemars::schema_for!(crate::recording::Line),
        };
        schema.insert("title".into(), self.id().into());
        serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
    }
}
