//! Which record a rule judges: the latest (by `started_at`, then by the
//! order records were read) of those with the rule's metric and labels.

use super::config::{format_labels, Labels};
use super::error::GateError;
use crate::record::ResultRecord;
use geneval_reports::SourcedRecord;
use std::collections::BTreeSet;
use std::time::SystemTime;

/// Whether `record` is of `metric` and carries every label of `filter`.
pub fn matches(record: &ResultRecord, metric: &str, filter: &Labels) -> bool {
    record.metric == metric && filter.iter().all(|(k, v)| record.labels.get(k) == Some(v))
}

/// `started_at` as a time; `None` (older than any time) when unreadable.
fn started(record: &ResultRecord) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(record.started_at.trim()).ok()
}

/// The latest record matching `metric` and `filter`, or why there is none.
/// `rule` and `where_` (`the records`, `the baseline b.jsonl`) are for the
/// error.
pub fn latest<'a>(
    records: &'a [SourcedRecord],
    metric: &str,
    filter: &Labels,
    rule: usize,
    where_: &str,
) -> Result<&'a SourcedRecord, GateError> {
    let found = records
        .iter()
        .enumerate()
        .filter(|(_, r)| matches(&r.record, metric, filter))
        .max_by_key(|(i, r)| (started(&r.record), *i))
        .map(|(_, r)| r);
    if let Some(record) = found {
        return Ok(record);
    }
    let of_metric: Vec<&SourcedRecord> = records
        .iter()
        .filter(|r| r.record.metric == metric)
        .collect();
    if of_metric.is_empty() {
        let available: BTreeSet<String> = records.iter().map(|r| r.record.metric.clone()).collect();
        return Err(GateError::UnknownMetric {
            rule,
            metric: metric.to_owned(),
            where_: where_.to_owned(),
            available: available.into_iter().collect(),
        });
    }
    let available: BTreeSet<String> = of_metric
        .iter()
        .map(|r| {
            if r.record.labels.is_empty() {
                "(no labels)".to_owned()
            } else {
                format!("{{{}}}", format_labels(&r.record.labels))
            }
        })
        .collect();
    Err(GateError::NoLabelMatch {
        rule,
        metric: metric.to_owned(),
        filter: format_labels(filter),
        where_: where_.to_owned(),
        available: available.into_iter().collect(),
    })
}

/// The number `key` of a record (`value` or a key of `values`), or an
/// error listing the numbers it has.
pub fn number(record: &SourcedRecord, key: &str, rule: usize) -> Result<f64, GateError> {
    record.record.number(key).ok_or_else(|| {
        let r = &record.record;
        let mut available = Vec::new();
        if r.value.is_some() {
            available.push("value".to_owned());
        }
        if r.uncertainty.is_some() {
            available.push("uncertainty".to_owned());
        }
        available.extend(r.values.keys().cloned());
        GateError::MissingValue {
            rule,
            metric: r.metric.clone(),
            key: key.to_owned(),
            source_: record.source.clone(),
            available,
        }
    })
}

/// The standard uncertainty of the number `key`: the record's
/// `uncertainty` (or its interval's half-width) when `key` is the headline
/// value, else `values["<stem>_std"]` for a key `<stem>_mean`.
pub fn uncertainty(record: &ResultRecord, key: &str) -> Option<f64> {
    let headline = key == "value"
        || (record.value.is_some() && record.values.get(key).copied() == record.value);
    let mut found = None;
    if headline {
        found = record
            .uncertainty
            .or_else(|| record.interval.map(|[low, high]| (high - low).abs() / 2.0));
    }
    if found.is_none() {
        if let Some(stem) = key.strip_suffix("_mean") {
            found = record.values.get(&format!("{stem}_std")).copied();
        }
    }
    found.filter(|u| u.is_finite() && *u >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testutil::{record, sourced};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn latest_is_by_start_time_then_by_order() {
        let mut late = record("fid", 3.0, 30);
        late.started_at = "yesterday".into(); // unreadable: older than any time
        let records = sourced(vec![
            record("fid", 1.0, 20),
            record("fid", 2.0, 40),
            record("kid", 9.0, 50),
            late,
            record("fid", 4.0, 10),
            record("fid", 5.0, 40),
        ]);
        let got = latest(&records, "fid", &Labels::new(), 1, "the records").unwrap();
        assert_eq!(
            got.record.value,
            Some(5.0),
            "same second: the later line wins"
        );
        assert_eq!(got.source, "mem:6");
        let got = latest(&records[..4], "fid", &Labels::new(), 1, "the records").unwrap();
        assert_eq!(got.record.value, Some(2.0));
    }

    #[test]
    fn label_filter_picks_among_labelled_records() {
        let mut ours = record("fid", 1.0, 10);
        ours.labels = labels(&[("model", "ours"), ("step", "100")]);
        let mut base = record("fid", 2.0, 20);
        base.labels = labels(&[("model", "base")]);
        let records = sourced(vec![ours, base, record("fid", 3.0, 30)]);
        let got = latest(&records, "fid", &labels(&[("model", "ours")]), 1, "x").unwrap();
        assert_eq!(got.record.value, Some(1.0));
        let got = latest(&records, "fid", &Labels::new(), 1, "x").unwrap();
        assert_eq!(got.record.value, Some(3.0));
        let err = latest(
            &records,
            "fid",
            &labels(&[("model", "new")]),
            2,
            "the records",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "rule 2: no `fid` record labelled model=new in the records (their labels: \
             (no labels), {model=base}, {model=ours, step=100})"
        );
    }

    #[test]
    fn unknown_metric_lists_the_metrics_there_are() {
        let records = sourced(vec![record("kid", 1.0, 1), record("fid", 1.0, 2)]);
        let err = latest(&records, "is", &Labels::new(), 3, "the records").unwrap_err();
        assert!(matches!(err, GateError::UnknownMetric { rule: 3, .. }));
        assert_eq!(
            err.to_string(),
            "rule 3: no `is` record in the records (metrics there: fid, kid)"
        );
    }

    #[test]
    fn numbers_and_their_uncertainty() {
        let mut kid = record("kid", 0.02, 1);
        kid.uncertainty = Some(0.004);
        kid.values.insert("kid_mean".into(), 0.02);
        kid.values.insert("kid_std".into(), 0.004);
        assert_eq!(uncertainty(&kid, "value"), Some(0.004));
        assert_eq!(uncertainty(&kid, "kid_mean"), Some(0.004));
        assert_eq!(uncertainty(&kid, "kid_std"), None);
        let mut fid = record("fid", 20.0, 1);
        assert_eq!(uncertainty(&fid, "fid"), None);
        fid.interval = Some([19.0, 21.5]);
        assert_eq!(uncertainty(&fid, "fid"), Some(1.25));
        let sourced = sourced(vec![kid]);
        assert_eq!(number(&sourced[0], "kid_mean", 1).unwrap(), 0.02);
        let err = number(&sourced[0], "precision", 1).unwrap_err().to_string();
        assert_eq!(
            err,
            "rule 1: the `kid` record at mem:1 has no number `precision` (it has: value, \
             uncertainty, kid, kid_mean, kid_std)"
        );
    }
}
