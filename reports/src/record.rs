//! The result record: one JSON object per measurement that says what was
//! measured, on what, how, and with which tool, so that reports and gates
//! never recompute anything.
//!
//! Schema `geneval.result/v1`. Within a version fields are only ever added
//! (readers ignore fields they do not know); a change that would make an
//! old reader misread a record gets a new version. The JSON Schema in
//! `reports/result.schema.json` is generated from these types
//! ([`json_schema`]) and a test keeps the committed file equal to it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema name and version written in every record.
pub const SCHEMA: &str = "geneval.result/v1";

/// The schema's name without its version, to tell "another version" from
/// "not a geneval record".
pub const SCHEMA_NAME: &str = "geneval.result";

/// One input of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InputRecord {
    /// The path as given.
    pub path: String,
    /// `images`, `features`, `statistics`, `partial-statistics`, `logits`,
    /// `text`, `texts`, `model`, `tokenizer`.
    pub kind: String,
    /// Number of samples, when known.
    #[serde(default)]
    pub count: Option<u64>,
    /// Feature dimension, when known.
    #[serde(default)]
    pub dim: Option<usize>,
    /// SHA-256 of the file's bytes (none for folders of images).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Images read with `--verify-inputs`: SHA-256 over one line per image,
    /// in list order, `relative path \t SHA-256 of its bytes \n` (the
    /// dataset's fingerprint: the same files give the same value anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
}

/// The network that produced the features (or the language model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelRecord {
    /// As the user named it: `fid-inception`, `builtin`, a path.
    pub name: String,
    /// Its identity: `fid-inception@sha256:…`, `sha256:…` of the file.
    #[serde(default)]
    pub id: Option<String>,
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResultRecord {
    /// Always [`SCHEMA`] when written by this version.
    pub schema: String,
    /// `fid`, `is`, `kid`, `prdc`, `ppl`, `stats`, `merge`, `selfcheck`, …
    pub metric: String,
    /// The headline number (none for multi-valued metrics such as PRDC).
    #[serde(default)]
    pub value: Option<f64>,
    /// Its standard deviation, when the metric has one (IS std, KID std).
    #[serde(default)]
    pub uncertainty: Option<f64>,
    /// A confidence interval `[low, high]` of the value, when asked for
    /// (FID `--bootstrap`); its level is in `settings.interval_level`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// Every number the command computed, by name.
    #[serde(default)]
    pub values: BTreeMap<String, f64>,
    /// The settings that change the number (splits, subsets, k, …).
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The feature network or language model, when one was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRecord>,
    /// The preprocessing mode (`pytorch-fid`, `tf`, `clean`) or the
    /// perplexity mode (`corpus`, `second-half`, `per-text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The seed of any random draw.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Labels given by the user (`--label model=ours --label step=20000`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The inputs.
    #[serde(default)]
    pub inputs: Vec<InputRecord>,
    /// Files written.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Anything the user should know about the number.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Per-item results (per-text perplexities), when the metric has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<serde_json::Value>,
    /// For checks and gates: whether they passed (`false` exits with 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// The command line that produced the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// geneval's version.
    pub geneval_version: String,
    /// Where the computation ran (`cpu`, `cuda:0`).
    pub device: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// End time, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Wall time in seconds.
    pub duration_s: f64,
}

impl ResultRecord {
    /// An empty record of this version for `metric`.
    pub fn new(metric: &str, geneval_version: &str, started_at: String) -> Self {
        ResultRecord {
            schema: SCHEMA.to_owned(),
            metric: metric.to_owned(),
            value: None,
            uncertainty: None,
            interval: None,
            values: BTreeMap::new(),
            settings: BTreeMap::new(),
            model: None,
            mode: None,
            seed: None,
            labels: BTreeMap::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            warnings: Vec::new(),
            items: Vec::new(),
            passed: None,
            command: None,
            geneval_version: geneval_version.to_owned(),
            device: "cpu".into(),
            started_at,
            finished_at: None,
            duration_s: 0.0,
        }
    }

    /// Sets a named value.
    pub fn set(&mut self, name: &str, value: f64) -> &mut Self {
        self.values.insert(name.to_owned(), value);
        self
    }

    /// Sets a named setting.
    pub fn setting(&mut self, name: &str, value: impl Into<serde_json::Value>) -> &mut Self {
        self.settings.insert(name.to_owned(), value.into());
        self
    }

    /// A number of the record by name: `value`, `uncertainty`, or a key of
    /// `values` (`fid`, `precision`, `mean_perplexity`, …).
    pub fn number(&self, name: &str) -> Option<f64> {
        match name {
            "value" => self.value,
            "uncertainty" => self.uncertainty,
            _ => self.values.get(name).copied(),
        }
    }
}

/// The JSON Schema of [`ResultRecord`], pretty-printed with a final newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ResultRecord);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_older_records_without_new_fields() {
        let mut r = ResultRecord::new("fid", "0.1.0", "2026-11-29T00:00:00Z".into());
        r.set("fid", 1.5).value = Some(1.5);
        r.labels.insert("model".into(), "ours".into());
        let json = serde_json::to_string(&r).unwrap();
        let back: ResultRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        // A record written before labels, model and mode existed.
        let old = r#"{"schema":"geneval.result/v1","metric":"kid","value":0.01,
            "uncertainty":0.001,"values":{"kid_mean":0.01},"settings":{},"seed":0,
            "inputs":[],"outputs":[],"warnings":[],"geneval_version":"0.1.0",
            "device":"cpu","started_at":"2026-11-20T00:00:00Z","duration_s":0.5,
            "some_future_field":1}"#;
        let old: ResultRecord = serde_json::from_str(old).unwrap();
        assert_eq!(old.number("kid_mean"), Some(0.01));
        assert_eq!(old.number("uncertainty"), Some(0.001));
        assert!(old.labels.is_empty());
    }

    #[test]
    fn committed_json_schema_is_the_generated_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("result.schema.json");
        let generated = json_schema();
        if std::env::var_os("GENEVAL_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date: run `GENEVAL_BLESS=1 cargo test -p geneval-reports` and commit it",
            path.display()
        );
    }
}
