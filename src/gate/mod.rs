//! `geneval gate`: quality rules over result records, for CI.
//!
//! A TOML file names where the records are, optional `[[run]]` command lines
//! that produce fresh ones, and `[[rule]]`s: thresholds (`max`, `min`) on the
//! latest matching record and regressions against a baseline record
//! (`max_increase_percent`, …), optionally noise-aware. The flow:
//!
//! `config::load → run::run_geneval (each [[run]]) → evaluate::evaluate (each
//! rule) → table / github / junit`.
//!
//! - [`config`]: the file's typed form and its validation.
//! - [`select`]: which record a rule looks at (latest match by `started_at`).
//! - [`mod@evaluate`]: one rule against that record and its baseline.
//! - [`allow`]: which `[[run]]` command lines may run (metric commands only,
//!   parsed with the real CLI; no `--ort-lib`, no outputs, local models).
//! - [`run`]: the `[[run]]` sections, as child `geneval` processes.
//! - [`table`], [`github`], [`junit`]: pure renderers of the results.

pub mod allow;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod github;
pub mod junit;
pub mod number;
pub mod run;
pub mod select;
pub mod table;

pub use config::{GateConfig, Rule, RunSpec};
pub use error::GateError;
pub use evaluate::{evaluate, Check, CheckKind, RuleResult, Verdict};

#[cfg(test)]
pub(crate) mod testutil {
    use crate::record::ResultRecord;
    use geneval_reports::SourcedRecord;

    /// A record of `metric` with `value`, started at second `second` of a day.
    pub fn record(metric: &str, value: f64, second: u32) -> ResultRecord {
        let mut r = ResultRecord::new(metric, "0.1.0", format!("2026-11-29T10:00:{second:02}Z"));
        r.value = Some(value);
        r.values.insert(metric.to_owned(), value);
        r
    }

    /// Every rule of the TOML `config` evaluated on one FID record of 27.3.
    pub fn results_for(config: &str) -> Vec<super::evaluate::RuleResult> {
        let config = super::config::parse(config, std::path::Path::new("q.toml"))
            .unwrap()
            .config;
        let records = sourced(vec![record("fid", 27.3, 1)]);
        config
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| super::evaluate::evaluate(i + 1, rule, &records, None).unwrap())
            .collect()
    }

    /// Records with sources `mem:1`, `mem:2`, ….
    pub fn sourced(records: Vec<ResultRecord>) -> Vec<SourcedRecord> {
        records
            .into_iter()
            .enumerate()
            .map(|(i, record)| SourcedRecord {
                record,
                source: format!("mem:{}", i + 1),
            })
            .collect()
    }
}
