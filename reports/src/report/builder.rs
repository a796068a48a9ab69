//! The builder's state and its first and last steps: each record's group,
//! step and numbers; the records' own warnings.

use super::*;

/// Records that are not measurements of a model.
pub(super) const NOT_MEASUREMENTS: [&str; 4] = ["selfcheck", "report", "gate", "demo"];

/// One number a record gives a column.
pub(super) struct Number {
    pub(super) metric: String,
    pub(super) value: f64,
    pub(super) uncertainty: Option<f64>,
    pub(super) interval: Option<[f64; 2]>,
}

impl Number {
    pub(super) fn new(
        metric: &str,
        value: f64,
        uncertainty: Option<f64>,
        interval: Option<[f64; 2]>,
    ) -> Self {
        Number {
            metric: metric.to_owned(),
            value,
            uncertainty,
            interval,
        }
    }
}

/// What one record contributes.
pub(super) struct Row {
    pub(super) group: String,
    pub(super) step: Option<f64>,
    pub(super) numbers: Vec<Number>,
}

/// The data inputs' last path: the generated side of `fid real fake`, the
/// one set of `is`.
pub(super) fn fallback_group(record: &ResultRecord) -> Option<String> {
    if record.metric == "ppl" {
        if let Some(model) = &record.model {
            return Some(model.name.clone());
        }
    }
    record
        .inputs
        .iter()
        .rev()
        .find(|i| !matches!(i.kind.as_str(), "model" | "tokenizer"))
        .map(|i| i.path.clone())
}

pub(super) fn numbers(record: &ResultRecord) -> Vec<Number> {
    let metric = record.metric.as_str();
    if NOT_MEASUREMENTS.contains(&metric) {
        return Vec::new();
    }
    match metric {
        "prdc" => PRDC
            .iter()
            .filter_map(|m| record.number(m).map(|v| Number::new(m, v, None, None)))
            .collect(),
        "ppl" => {
            let mut out = Vec::new();
            if let Some(v) = record.value {
                out.push(Number::new("ppl", v, record.uncertainty, record.interval));
            }
            if let Some(v) = record.number("bits_per_byte") {
                out.push(Number::new("bits_per_byte", v, None, None));
            }
            out
        }
        _ => record
            .value
            .map(|v| Number::new(metric, v, record.uncertainty, record.interval))
            .into_iter()
            .collect(),
    }
}

pub(super) fn parse_step(text: &str) -> Option<f64> {
    text.trim()
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
}

pub(super) fn provenance(r: &SourcedRecord, group: &str) -> Provenance {
    let record = &r.record;
    Provenance {
        source: r.source.clone(),
        metric: record.metric.clone(),
        group: group.to_owned(),
        command: record.command.clone(),
        model: record
            .model
            .as_ref()
            .map(|m| m.id.clone().unwrap_or_else(|| m.name.clone())),
        mode: record.mode.clone(),
        geneval_version: record.geneval_version.clone(),
        started_at: record.started_at.clone(),
    }
}

pub(super) fn describe_inputs(records: &[SourcedRecord]) -> String {
    let mut files: Vec<&str> = records
        .iter()
        .map(|r| {
            r.source
                .rsplit_once(':')
                .map_or(r.source.as_str(), |(f, _)| f)
        })
        .collect();
    files.sort_unstable();
    files.dedup();
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for r in records {
        *counts.entry(metric_rank(&r.record.metric)).or_default() += 1;
    }
    let metrics: Vec<String> = counts
        .iter()
        .map(|((_, m), n)| format!("{m} ×{n}"))
        .collect();
    format!(
        "{} record{} from {} file{}: {}",
        records.len(),
        plural(records.len()),
        files.len(),
        plural(files.len()),
        metrics.join(", ")
    )
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) type StepKey = Option<u64>;

/// Per metric, per kind of difference, the distinct values and where each
/// was first seen.
pub(super) type Seen = Vec<(String, Vec<(&'static str, Vec<(String, String)>)>)>;

/// (group, metric, step) → the records behind a cell, with their intervals.
pub(super) type Origins = HashMap<(String, String, StepKey), Vec<(usize, Option<[f64; 2]>)>>;

pub(super) fn step_key(step: Option<f64>) -> StepKey {
    step.map(f64::to_bits)
}

pub(super) struct Builder<'a> {
    pub(super) options: &'a ReportOptions,
    pub(super) warnings: Vec<String>,
    pub(super) tables: Vec<Table>,
    pub(super) charts: Vec<(String, Chart)>,
    pub(super) summary: Vec<String>,
    pub(super) headlines: Vec<Headline>,
}

impl Builder<'_> {
    /// The group, step and numbers of every record, in order.
    pub(super) fn rows(&mut self, records: &[SourcedRecord]) -> Vec<Row> {
        let by = &self.options.group_by_label;
        let mut unlabelled = 0;
        let mut bad_steps: Vec<String> = Vec::new();
        let rows = records
            .iter()
            .map(|r| {
                let record = &r.record;
                let numbers = numbers(record);
                let group = match record.labels.get(by) {
                    Some(value) => value.clone(),
                    // A self-check or a gate is no row of the table.
                    None if numbers.is_empty() => String::new(),
                    None => {
                        unlabelled += 1;
                        fallback_group(record).unwrap_or_else(|| "(unlabelled)".into())
                    }
                };
                let step = record.labels.get("step").and_then(|s| {
                    let parsed = parse_step(s);
                    if parsed.is_none() && !bad_steps.contains(s) {
                        bad_steps.push(s.clone());
                    }
                    parsed
                });
                Row {
                    group,
                    step,
                    numbers,
                }
            })
            .collect();
        if unlabelled > 0 {
            self.warnings.push(format!(
                "{unlabelled} record{} without a `{by}` label: grouped by their language model or generated input path; label runs with `--label {by}=NAME`",
                plural(unlabelled)
            ));
        }
        if !bad_steps.is_empty() {
            self.warnings.push(format!(
                "`step` labels that are not numbers were ignored: {}",
                bad_steps.join(", ")
            ));
        }
        rows
    }
}

impl Builder<'_> {
    /// The records' own warnings, each once, with how many records say it.
    pub(super) fn record_warnings(&mut self, records: &[SourcedRecord]) {
        let mut seen: Vec<(&str, &str, usize)> = Vec::new();
        for r in records {
            for w in &r.record.warnings {
                match seen.iter_mut().find(|(text, ..)| text == w) {
                    Some(entry) => entry.2 += 1,
                    None => seen.push((w, &r.source, 1)),
                }
            }
        }
        for (text, source, n) in seen {
            self.warnings.push(if n == 1 {
                format!("{source}: {text}")
            } else {
                format!("{text} ({n} records, first {source})")
            });
        }
    }
}
