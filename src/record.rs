//! The result record every metric command can print (`--json`): one JSON
//! object that says what was measured, on what, how, and with which tool, so
//! that reports and gates never need to recompute anything.
//!
//! Schema `geneval.result/v1`. Fields are only ever added within a version.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::{Instant, SystemTime};

/// The schema name and version written in every record.
pub const SCHEMA: &str = "geneval.result/v1";

/// One input of a measurement.
#[derive(Debug, Clone, Serialize)]
pub struct InputRecord {
    /// The path as given.
    pub path: String,
    /// `features`, `statistics`, `partial-statistics`, `logits`.
    pub kind: String,
    /// Number of samples, when known.
    pub count: Option<u64>,
    /// Feature dimension, when known.
    pub dim: Option<usize>,
    /// SHA-256 of the file's bytes.
    pub sha256: Option<String>,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRecord {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// `fid`, `is`, `kid`, `prdc`, `stats`, `merge`.
    pub metric: String,
    /// The headline number (none for multi-valued metrics such as PRDC).
    pub value: Option<f64>,
    /// Its spread, when the metric has one (IS std, KID std).
    pub uncertainty: Option<f64>,
    /// Every number the command computed, by name.
    pub values: BTreeMap<String, f64>,
    /// The settings that change the number (splits, subsets, k, ...).
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The seed of any random draw.
    pub seed: Option<u64>,
    /// The inputs.
    pub inputs: Vec<InputRecord>,
    /// Files written.
    pub outputs: Vec<String>,
    /// Anything the user should know about the number.
    pub warnings: Vec<String>,
    /// Per-item results (per-text perplexities), when the metric has them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<serde_json::Value>,
    /// For checks and gates: whether they passed (`false` exits with 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// geneval's version.
    pub geneval_version: &'static str,
    /// Where the computation ran.
    pub device: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time in seconds.
    pub duration_s: f64,
}

/// Starts a record; [`RecordBuilder::finish`] stamps the duration.
pub struct RecordBuilder {
    record: ResultRecord,
    started: Instant,
}

impl RecordBuilder {
    /// A record for `metric`, timed from now.
    pub fn start(metric: &str) -> Self {
        Self {
            record: ResultRecord {
                schema: SCHEMA,
                metric: metric.to_owned(),
                value: None,
                uncertainty: None,
                values: BTreeMap::new(),
                settings: BTreeMap::new(),
                seed: None,
                inputs: Vec::new(),
                outputs: Vec::new(),
                warnings: Vec::new(),
                items: Vec::new(),
                passed: None,
                geneval_version: env!("CARGO_PKG_VERSION"),
                device: "cpu".into(),
                started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                duration_s: 0.0,
            },
            started: Instant::now(),
        }
    }

    /// The record being built.
    pub fn record(&mut self) -> &mut ResultRecord {
        &mut self.record
    }

    /// Stamps the duration and returns the record.
    pub fn finish(mut self) -> ResultRecord {
        self.record.duration_s = self.started.elapsed().as_secs_f64();
        self.record
    }
}

impl ResultRecord {
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
}

/// SHA-256 of a file, hex; `None` if it cannot be read (the caller has
/// already read it, so this only fails on a race).
pub fn file_sha256(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// An input record for a file.
pub fn input_record(
    path: &Path,
    kind: &str,
    count: Option<u64>,
    dim: Option<usize>,
) -> InputRecord {
    InputRecord {
        path: path.display().to_string(),
        kind: kind.to_owned(),
        count,
        dim,
        sha256: file_sha256(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            file_sha256(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn record_serialises_with_schema() {
        let mut b = RecordBuilder::start("fid");
        b.record().set("fid", 1.5).value = Some(1.5);
        let json = serde_json::to_value(b.finish()).unwrap();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["values"]["fid"], 1.5);
    }
}
