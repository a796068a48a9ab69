//! What a `selfcheck` record keeps in its settings: the measured sets and
//! the checks, typed.
//!
//! The writer (`geneval selfcheck`) builds a [`SelfcheckSets`] and calls
//! [`SelfcheckSets::write_to`]; the report reads it back with
//! [`SelfcheckSets::from_record`]. Field names are those of the JSON the
//! records have always carried (`settings.sets[]`, `settings.checks[]`), so
//! old records still read; every field may be missing.

use serde::{Deserialize, Serialize};

use crate::metric::SET_METRICS;
use crate::record::ResultRecord;

/// One disturbed (or clean) set and the metrics measured on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SetMeasure {
    /// The set's name (`clean`, `noise_0.1`).
    pub set: Option<String>,
    /// The kind of disturbance (`none`, `noise`, `mode-dropping`, …).
    pub disturbance: Option<String>,
    /// Its strength.
    pub level: Option<f64>,
    /// FID against the reference set.
    pub fid: Option<f64>,
    /// KID against the reference set.
    pub kid: Option<f64>,
    /// Inception score of the set.
    pub is: Option<f64>,
    /// PRDC precision.
    pub precision: Option<f64>,
    /// PRDC recall.
    pub recall: Option<f64>,
    /// PRDC density.
    pub density: Option<f64>,
    /// PRDC coverage.
    pub coverage: Option<f64>,
}

impl SetMeasure {
    /// A metric of [`SET_METRICS`] by key.
    pub fn metric(&self, key: &str) -> Option<f64> {
        match key {
            "fid" => self.fid,
            "kid" => self.kid,
            "is" => self.is,
            "precision" => self.precision,
            "recall" => self.recall,
            "density" => self.density,
            "coverage" => self.coverage,
            _ => None,
        }
    }

    /// The metrics in [`SET_METRICS`] order.
    pub fn metrics(&self) -> impl Iterator<Item = (&'static str, Option<f64>)> + '_ {
        SET_METRICS.iter().map(|key| (*key, self.metric(key)))
    }
}

/// One check of a self-check and whether it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfcheckCheck {
    /// What is checked (`FID rises with noise`).
    pub name: Option<String>,
    /// Whether it held.
    pub passed: bool,
    /// Whether a failure fails the self-check (`false`: reported only).
    pub required: bool,
    /// The numbers behind it.
    pub detail: Option<String>,
}

impl Default for SelfcheckCheck {
    fn default() -> Self {
        SelfcheckCheck {
            name: None,
            passed: false,
            required: true,
            detail: None,
        }
    }
}

/// The sets and checks of one self-check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelfcheckSets {
    /// The sets, clean first.
    pub sets: Vec<SetMeasure>,
    /// The checks.
    pub checks: Vec<SelfcheckCheck>,
}

impl SelfcheckSets {
    /// Reads `settings.sets` and `settings.checks` of a record; entries that
    /// are not objects of the expected shape are skipped.
    pub fn from_record(record: &ResultRecord) -> SelfcheckSets {
        fn list<T: serde::de::DeserializeOwned>(record: &ResultRecord, name: &str) -> Vec<T> {
            record
                .settings
                .get(name)
                .and_then(|s| s.as_array())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| serde_json::from_value(v.clone()).ok())
                        .collect()
                })
                .unwrap_or_default()
        }
        SelfcheckSets {
            sets: list(record, "sets"),
            checks: list(record, "checks"),
        }
    }

    /// Writes `settings.sets` and `settings.checks` of a record.
    pub fn write_to(&self, record: &mut ResultRecord) {
        let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
        record
            .setting("sets", json(serde_json::to_value(&self.sets)))
            .setting("checks", json(serde_json::to_value(&self.checks)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_checks_round_trip_through_a_record() {
        let sets = SelfcheckSets {
            sets: vec![SetMeasure {
                set: Some("noise_0.1".into()),
                disturbance: Some("noise".into()),
                level: Some(0.1),
                fid: Some(2.5),
                kid: Some(0.01),
                is: Some(3.0),
                precision: Some(0.9),
                recall: Some(0.8),
                density: Some(1.0),
                coverage: Some(0.7),
            }],
            checks: vec![SelfcheckCheck {
                name: Some("FID rises with noise".into()),
                passed: true,
                required: false,
                detail: Some("1 < 2".into()),
            }],
        };
        let mut record = ResultRecord::new("selfcheck", "0.1.0", "2026-01-01T00:00:00Z".into());
        sets.write_to(&mut record);
        let line = serde_json::to_string(&record).unwrap();
        let back: ResultRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(SelfcheckSets::from_record(&back), sets);
    }

    #[test]
    fn the_json_of_older_records_reads() {
        let mut record = ResultRecord::new("selfcheck", "0.1.0", "2026-01-01T00:00:00Z".into());
        record.setting(
            "sets",
            vec![
                serde_json::json!({"set": "clean", "disturbance": "none", "level": 0.0,
                "fid": 1.0, "kid": null, "is": 3.0, "precision": 0.9, "recall": 0.8,
                "density": 1.0, "coverage": 0.7}),
            ],
        );
        record.setting(
            "checks",
            vec![serde_json::json!({"name": "n", "passed": false, "detail": "d"})],
        );
        let read = SelfcheckSets::from_record(&record);
        assert_eq!(read.sets[0].fid, Some(1.0));
        assert_eq!(read.sets[0].kid, None);
        assert_eq!(read.sets[0].metrics().count(), 7);
        assert!(read.checks[0].required);
    }
}
