//! Records as polars DataFrames.
//!
//! - [`records_frame`]: one row per record (what it measured, with what, and
//!   where it came from), every label as a `label.<key>` column. For a look
//!   at the records as a table, or for CSV/JSON export.
//! - [`aggregate_runs`]: repeated runs of the same group, metric and step
//!   collapsed to their mean, standard deviation (ddof 1) and count; the
//!   report's cells are made from it.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::read::SourcedRecord;

/// One row per record: `source`, `metric`, `value`, `uncertainty`,
/// `interval_low`, `interval_high`, `model_name`, `model_id`, `mode`, one
/// `label.<key>` column per label key found in any record (sorted, null
/// where a record lacks it), `geneval_version`, `device`, `started_at`,
/// `command`.
pub fn records_frame(records: &[SourcedRecord]) -> PolarsResult<DataFrame> {
    let text = |name: &str, f: &dyn Fn(&SourcedRecord) -> Option<String>| {
        Column::new(
            name.into(),
            records.iter().map(f).collect::<Vec<Option<String>>>(),
        )
    };
    let number = |name: &str, f: &dyn Fn(&SourcedRecord) -> Option<f64>| {
        Column::new(
            name.into(),
            records.iter().map(f).collect::<Vec<Option<f64>>>(),
        )
    };
    let mut columns = vec![
        text("source", &|r| Some(r.source.clone())),
        text("metric", &|r| Some(r.record.metric.clone())),
        number("value", &|r| r.record.value),
        number("uncertainty", &|r| r.record.uncertainty),
        number("interval_low", &|r| r.record.interval.map(|i| i[0])),
        number("interval_high", &|r| r.record.interval.map(|i| i[1])),
        text("model_name", &|r| {
            r.record.model.as_ref().map(|m| m.name.clone())
        }),
        text("model_id", &|r| {
            r.record.model.as_ref().and_then(|m| m.id.clone())
        }),
        text("mode", &|r| r.record.mode.clone()),
    ];
    let keys: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| r.record.labels.keys().map(String::as_str))
        .collect();
    for key in keys {
        columns.push(text(&format!("label.{key}"), &|r| {
            r.record.labels.get(key).cloned()
        }));
    }
    columns.extend([
        text("geneval_version", &|r| {
            Some(r.record.geneval_version.clone())
        }),
        text("device", &|r| Some(r.record.device.clone())),
        text("started_at", &|r| Some(r.record.started_at.clone())),
        text("command", &|r| r.record.command.clone()),
    ]);
    DataFrame::new(records.len(), columns)
}

/// One measured number, the unit [`aggregate_runs`] groups: a record gives
/// one (FID) or several (PRDC's precision, recall, density, coverage).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The row of the report it belongs to (a label's value).
    pub group: String,
    /// The column: `fid`, `kid`, `precision`, `ppl`, …
    pub metric: String,
    /// The record's numeric `step` label, if any.
    pub step: Option<f64>,
    /// The number.
    pub value: f64,
    /// Its standard deviation as the record gives it.
    pub uncertainty: Option<f64>,
    /// When the record's run started (RFC 3339).
    pub started_at: String,
}

/// The long frame of measurements: `group`, `metric`, `step`, `value`,
/// `uncertainty`, `started_at`, one row each.
pub fn measurements_frame(measurements: &[Measurement]) -> PolarsResult<DataFrame> {
    let strings = |f: fn(&Measurement) -> &str| measurements.iter().map(f).collect::<Vec<&str>>();
    DataFrame::new(
        measurements.len(),
        vec![
            Column::new("group".into(), strings(|m| &m.group)),
            Column::new("metric".into(), strings(|m| &m.metric)),
            Column::new(
                "step".into(),
                measurements.iter().map(|m| m.step).collect::<Vec<_>>(),
            ),
            Column::new(
                "value".into(),
                measurements.iter().map(|m| m.value).collect::<Vec<_>>(),
            ),
            Column::new(
                "uncertainty".into(),
                measurements
                    .iter()
                    .map(|m| m.uncertainty)
                    .collect::<Vec<_>>(),
            ),
            Column::new("started_at".into(), strings(|m| &m.started_at)),
        ],
    )
}

/// The runs of one group, metric and step, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    /// The group (row).
    pub group: String,
    /// The metric (column).
    pub metric: String,
    /// The step, if the runs had one.
    pub step: Option<f64>,
    /// Mean of the runs' values.
    pub mean: f64,
    /// Standard deviation over the runs (ddof 1), when there are two or more.
    pub std: Option<f64>,
    /// How many runs.
    pub runs: usize,
    /// The record's own uncertainty when there is exactly one run.
    pub uncertainty: Option<f64>,
    /// The latest start time among the runs.
    pub latest: String,
}

/// Groups the long frame of [`measurements_frame`] by (group, metric, step)
/// in order of first appearance and summarises each group's runs.
pub fn aggregate_runs(long: &DataFrame) -> PolarsResult<Vec<RunStats>> {
    if long.height() == 0 {
        return Ok(Vec::new());
    }
    let summary = long
        .group_by_stable(["group", "metric", "step"])?
        .apply(|runs| {
            let n = runs.height();
            let values = runs.column("value")?.as_materialized_series();
            let mean = values.mean();
            let std = if n > 1 { values.std(1) } else { None };
            let uncertainty = if n == 1 {
                runs.column("uncertainty")?.f64()?.get(0)
            } else {
                None
            };
            let latest = runs
                .column("started_at")?
                .str()?
                .iter()
                .flatten()
                .max()
                .map(str::to_owned);
            DataFrame::new(
                1,
                vec![
                    runs.column("group")?.head(Some(1)),
                    runs.column("metric")?.head(Some(1)),
                    runs.column("step")?.head(Some(1)),
                    Column::new("mean".into(), [mean]),
                    Column::new("std".into(), [std]),
                    Column::new("runs".into(), [n as u32]),
                    Column::new("uncertainty".into(), [uncertainty]),
                    Column::new("latest".into(), [latest]),
                ],
            )
        })?;
    let group = summary.column("group")?.str()?;
    let metric = summary.column("metric")?.str()?;
    let step = summary.column("step")?.f64()?;
    let mean = summary.column("mean")?.f64()?;
    let std = summary.column("std")?.f64()?;
    let runs = summary.column("runs")?.u32()?;
    let uncertainty = summary.column("uncertainty")?.f64()?;
    let latest = summary.column("latest")?.str()?;
    Ok((0..summary.height())
        .map(|i| RunStats {
            group: group.get(i).unwrap_or_default().to_owned(),
            metric: metric.get(i).unwrap_or_default().to_owned(),
            step: step.get(i),
            mean: mean.get(i).unwrap_or(f64::NAN),
            std: std.get(i),
            runs: runs.get(i).unwrap_or(0) as usize,
            uncertainty: uncertainty.get(i),
            latest: latest.get(i).unwrap_or_default().to_owned(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ModelRecord, ResultRecord};

    fn record(metric: &str, value: f64, labels: &[(&str, &str)]) -> SourcedRecord {
        let mut r = ResultRecord::new(metric, "0.1.0", "2026-01-01T00:00:00Z".into());
        r.value = Some(value);
        r.model = Some(ModelRecord {
            name: "builtin".into(),
            id: Some("builtin-v1".into()),
        });
        for (k, v) in labels {
            r.labels.insert((*k).into(), (*v).into());
        }
        SourcedRecord {
            record: r,
            source: "r.jsonl:1".into(),
        }
    }

    #[test]
    fn one_row_per_record_with_a_column_per_label() {
        let df = records_frame(&[
            record("fid", 1.0, &[("model", "a")]),
            record("kid", 0.1, &[("step", "10")]),
        ])
        .unwrap();
        assert_eq!(df.height(), 2);
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert!(names.contains(&"label.model".to_owned()));
        assert!(names.contains(&"label.step".to_owned()));
        let model = df.column("label.model").unwrap().str().unwrap();
        assert_eq!(model.get(0), Some("a"));
        assert_eq!(model.get(1), None);
        assert_eq!(
            df.column("model_id").unwrap().str().unwrap().get(0),
            Some("builtin-v1")
        );
    }

    #[test]
    fn repeated_runs_collapse_to_mean_and_std() {
        let m = |group: &str, step: Option<f64>, value: f64, t: &str| Measurement {
            group: group.into(),
            metric: "fid".into(),
            step,
            value,
            uncertainty: Some(0.5),
            started_at: t.into(),
        };
        let long = measurements_frame(&[
            m("a", Some(1.0), 10.0, "2026-01-01T00:00:00Z"),
            m("b", None, 5.0, "2026-01-01T00:00:00Z"),
            m("a", Some(1.0), 12.0, "2026-01-02T00:00:00Z"),
            m("a", Some(2.0), 8.0, "2026-01-01T00:00:00Z"),
        ])
        .unwrap();
        let stats = aggregate_runs(&long).unwrap();
        assert_eq!(stats.len(), 3);
        assert_eq!(stats[0].group, "a");
        assert_eq!(stats[0].step, Some(1.0));
        assert_eq!(stats[0].runs, 2);
        assert_eq!(stats[0].mean, 11.0);
        assert!((stats[0].std.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(stats[0].uncertainty, None);
        assert_eq!(stats[0].latest, "2026-01-02T00:00:00Z");
        assert_eq!(stats[1].group, "b");
        assert_eq!(stats[1].step, None);
        assert_eq!(stats[1].uncertainty, Some(0.5));
        assert_eq!(stats[1].std, None);
        assert_eq!(stats[2].step, Some(2.0));
    }
}
