//! A report: what the renderers show, as plain data.
//!
//! [`Report::from_records`] turns result records into
//! - a models × metrics table (rows: the value of a label, `model` by
//!   default; columns: FID, KID, IS, precision, recall, density, coverage,
//!   perplexity, …; cells: mean ± uncertainty, the best per column marked by
//!   the metric's direction), at each model's latest `step`;
//! - per metric, when records carry a numeric `step` label, a steps × models
//!   table and a line chart;
//! - a bar chart per metric over models, and grouped bars for PRDC;
//! - for `selfcheck` records, the sets and checks and a chart per metric of
//!   value against disturbance level;
//! - the provenance of every record, and the warnings.
//!
//! Numbers from different feature networks or preprocessing modes are not
//! comparable: a column that would mix them is refused
//! ([`ReportError::Mixed`]) unless [`ReportOptions::allow_mixed`].

use std::collections::{BTreeMap, HashMap};

use serde::{Serialize, Serializer};

use crate::charts::{Bar, BarChart, Chart, GroupedBarChart, LineChart, Series};
use crate::compare::comparability;
use crate::frame::{aggregate_runs, measurements_frame, Measurement, RunStats};
use crate::read::{Records, SourcedRecord};
use crate::record::ResultRecord;
use crate::selfcheck::{SelfcheckSets, SetMeasure};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// There is nothing to report.
    #[error("no result records to report")]
    NoRecords,
    /// One column would hold numbers that cannot be compared.
    #[error(
        "the {} column would mix {}: `{}` ({}) and `{}` ({})",
        .0.metric, .0.what, .0.first, .0.first_source, .0.second, .0.second_source
    )]
    Mixed(Box<Mixing>),
    /// polars failed on the tables (a bug).
    #[error("building the report's tables failed: {0}")]
    Frame(String),
    /// The report would be written over one of the records it is made
    /// from (`geneval report r.json -o r.json`).
    #[error("the report {output} would overwrite the records file {input} it is made from")]
    OutputIsInput {
        /// The report's path.
        output: std::path::PathBuf,
        /// The records file it names.
        input: std::path::PathBuf,
    },
}

/// The two incomparable values of [`ReportError::Mixed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mixing {
    /// The metric (column).
    pub metric: String,
    /// What differs: `feature networks`, `preprocessing modes`, …
    pub what: String,
    /// The first value seen.
    pub first: String,
    /// Where the first value comes from (`file:line`).
    pub first_source: String,
    /// The other value.
    pub second: String,
    /// Where it comes from.
    pub second_source: String,
}

impl ReportError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ReportError::NoRecords => {
                "give files or folders of records written by `geneval … --json` or `--record FILE.jsonl`"
            }
            ReportError::Mixed(_) => {
                "numbers from different networks, modes or settings are not comparable: report them separately (one file each), or pass --allow-mixed to show them side by side with a warning"
            }
            ReportError::Frame(_) => "this is a bug in geneval; please report it with the records",
            ReportError::OutputIsInput { .. } => {
                "write the report to a file of its own: -o report.html (or .md, .csv, .json)"
            }
        }
    }
}

impl From<polars::prelude::PolarsError> for ReportError {
    fn from(e: polars::prelude::PolarsError) -> Self {
        ReportError::Frame(e.to_string())
    }
}

/// How to build a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The title.
    pub title: String,
    /// The label whose value names a row (`model`; `--by LABEL`).
    pub group_by_label: String,
    /// Show numbers from different networks or modes in one column (with a
    /// warning) instead of refusing.
    pub allow_mixed: bool,
    /// When the report was made (RFC 3339), given by the caller so that the
    /// same records always make the same report.
    pub generated_at: String,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: "geneval report".into(),
            group_by_label: "model".into(),
            allow_mixed: false,
            generated_at: String::new(),
        }
    }
}

use crate::metric::{metric_rank, PRDC, SET_METRICS};
pub use crate::metric::{metric_title, Direction};

/// A number as a table shows it: four significant digits, scientific
/// notation for very small or large magnitudes.
pub fn format_number(v: f64) -> String {
    crate::format::significant(v, 4)
}

/// An uncertainty as a table shows it: two significant digits.
pub fn format_uncertainty(u: f64) -> String {
    crate::format::significant(u, 2)
}

/// A step as a table shows it: an integer when it is one.
pub fn format_step(step: f64) -> String {
    if step.fract() == 0.0 && step.abs() < 1e15 {
        format!("{}", step as i64)
    } else {
        step.to_string()
    }
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// A stable key (`model`, `step`, `fid`, …), used for CSV headers.
    pub key: String,
    /// The header people read.
    pub title: String,
    /// Which way is better, for metric columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
}

impl Column {
    fn text(key: &str, title: &str) -> Self {
        Column {
            key: key.into(),
            title: title.into(),
            direction: None,
        }
    }

    fn metric(metric: &str) -> Self {
        Column {
            key: metric.into(),
            title: metric_title(metric),
            direction: Direction::of(metric),
        }
    }
}

/// A measured number in a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// The value (the mean over runs).
    pub value: f64,
    /// ± this: the record's own uncertainty for one run, the standard
    /// deviation over runs (ddof 1) for several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<f64>,
    /// The record's confidence interval, for one run that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// How many records (runs) it summarises.
    pub runs: usize,
    /// The best in its column (or row, in a steps table).
    pub best: bool,
    /// Anything to know about this number (another step, the network).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Measure {
    fn new(value: f64) -> Self {
        Measure {
            value,
            uncertainty: None,
            interval: None,
            runs: 1,
            best: false,
            note: None,
        }
    }

    /// `12.34 ± 0.56`, `12.34 [11.9, 12.8]` or `12.34`.
    pub fn display(&self) -> String {
        let mut text = format_number(self.value);
        if let Some(u) = self.uncertainty {
            text.push_str(" ± ");
            text.push_str(&format_uncertainty(u));
        }
        if let Some([low, high]) = self.interval {
            text.push_str(&format!(
                " [{}, {}]",
                format_number(low),
                format_number(high)
            ));
        }
        text
    }
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It held.
    Pass,
    /// A required check did not hold.
    Fail,
    /// A check that is reported but not required did not hold.
    Info,
}

impl Verdict {
    /// `pass`, `FAIL`, `info`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Info => "info",
        }
    }
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Cell {
    /// Nothing measured.
    Empty,
    /// Text (a model name, a step, a check's detail).
    Text {
        /// The text.
        text: String,
    },
    /// A number with its uncertainty.
    Number(Measure),
    /// A check's outcome.
    Verdict {
        /// The outcome.
        verdict: Verdict,
    },
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Cell::Text { text: text.into() }
    }

    /// The cell as plain text (numbers with `±`).
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text { text } => text.clone(),
            Cell::Number(m) => m.display(),
            Cell::Verdict { verdict } => verdict.label().to_owned(),
        }
    }

    /// The number, for numeric cells.
    pub fn measure(&self) -> Option<&Measure> {
        match self {
            Cell::Number(m) => Some(m),
            _ => None,
        }
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// What it is: `models`, `steps:<metric>`, `selfcheck-sets`,
    /// `selfcheck-checks` (with `:N` for the N-th self-check after the first).
    pub key: String,
    /// Its heading.
    pub title: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Lines under the table.
    pub notes: Vec<String>,
    /// The charts that illustrate it (indexes into [`Report::charts`]).
    pub charts: Vec<usize>,
}

/// A headline number: the best value of a metric column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// The metric's column.
    pub column: Column,
    /// The row (model) that holds it.
    pub group: String,
    /// The number.
    pub measure: Measure,
    /// Among how many rows it is the best.
    pub of: usize,
}

impl Headline {
    /// `FID (lower is better): best b, 10.00 (of 3)`.
    pub fn describe(&self) -> String {
        let direction = self
            .column
            .direction
            .map(|d| format!(" ({})", d.describe()))
            .unwrap_or_default();
        let of = if self.of > 1 {
            format!(" (of {})", self.of)
        } else {
            String::new()
        };
        format!(
            "{}{direction}: best {}, {}{of}",
            self.column.title,
            self.group,
            self.measure.display()
        )
    }
}

/// Where one record came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// `file:line`.
    pub source: String,
    /// The record's metric.
    pub metric: String,
    /// The row it went into (the label's value, or its fallback).
    pub group: String,
    /// The command line that wrote it.
    pub command: Option<String>,
    /// The network or language model (its id, else its name).
    pub model: Option<String>,
    /// The preprocessing or perplexity mode.
    pub mode: Option<String>,
    /// The geneval version that wrote it.
    pub geneval_version: String,
    /// When it started.
    pub started_at: String,
}

/// A report, ready for any renderer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The title.
    pub title: String,
    /// When it was made.
    pub generated_at: String,
    /// The label that names rows.
    pub group_by: String,
    /// How many records it was made from.
    pub record_count: usize,
    /// Lines saying what is in it and the best numbers.
    pub summary: Vec<String>,
    /// The best number per metric, for summary cards.
    pub headlines: Vec<Headline>,
    /// The tables, the models × metrics table (key `models`) first.
    pub tables: Vec<Table>,
    /// The charts with their captions.
    #[serde(serialize_with = "serialize_charts")]
    pub charts: Vec<(String, Chart)>,
    /// One entry per record.
    pub provenance: Vec<Provenance>,
    /// What the reader and the report want the user to know.
    pub warnings: Vec<String>,
}

impl Report {
    /// Builds the report from records read by [`crate::read_records`]; the
    /// reader's warnings are carried over.
    pub fn from_records(records: &Records, options: &ReportOptions) -> Result<Report, ReportError> {
        if records.records.is_empty() {
            return Err(ReportError::NoRecords);
        }
        let mut builder = Builder {
            options,
            warnings: records.warnings.clone(),
            tables: Vec::new(),
            charts: Vec::new(),
            summary: Vec::new(),
            headlines: Vec::new(),
        };
        let rows = builder.rows(&records.records);
        builder.metric_tables(&records.records, &rows)?;
        builder.selfchecks(&records.records);
        builder.record_warnings(&records.records);
        let provenance = records
            .records
            .iter()
            .zip(&rows)
            .map(|(r, row)| provenance(r, &row.group))
            .collect();
        let mut summary = vec![describe_inputs(&records.records)];
        summary.append(&mut builder.summary);
        Ok(Report {
            title: options.title.clone(),
            generated_at: options.generated_at.clone(),
            group_by: options.group_by_label.clone(),
            record_count: records.records.len(),
            summary,
            headlines: builder.headlines,
            tables: builder.tables,
            charts: builder.charts,
            provenance,
            warnings: builder.warnings,
        })
    }

    /// The models × metrics table, if there is one.
    pub fn models_table(&self) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == "models")
    }
}

/// Records that are not measurements of a model.
const NOT_MEASUREMENTS: [&str; 4] = ["selfcheck", "report", "gate", "demo"];

/// One number a record gives a column.
struct Number {
    metric: String,
    value: f64,
    uncertainty: Option<f64>,
    interval: Option<[f64; 2]>,
}

impl Number {
    fn new(metric: &str, value: f64, uncertainty: Option<f64>, interval: Option<[f64; 2]>) -> Self {
        Number {
            metric: metric.to_owned(),
            value,
            uncertainty,
            interval,
        }
    }
}

/// What one record contributes.
struct Row {
    group: String,
    step: Option<f64>,
    numbers: Vec<Number>,
}

/// The data inputs' last path: the generated side of `fid real fake`, the
/// one set of `is`.
fn fallback_group(record: &ResultRecord) -> Option<String> {
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

fn numbers(record: &ResultRecord) -> Vec<Number> {
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

fn parse_step(text: &str) -> Option<f64> {
    text.trim()
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
}

fn provenance(r: &SourcedRecord, group: &str) -> Provenance {
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

fn describe_inputs(records: &[SourcedRecord]) -> String {
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

type StepKey = Option<u64>;

/// Per metric, per kind of difference, the distinct values and where each
/// was first seen.
type Seen = Vec<(String, Vec<(&'static str, Vec<(String, String)>)>)>;

/// (group, metric, step) → the records behind a cell, with their intervals.
type Origins = HashMap<(String, String, StepKey), Vec<(usize, Option<[f64; 2]>)>>;

fn step_key(step: Option<f64>) -> StepKey {
    step.map(f64::to_bits)
}

struct Builder<'a> {
    options: &'a ReportOptions,
    warnings: Vec<String>,
    tables: Vec<Table>,
    charts: Vec<(String, Chart)>,
    summary: Vec<String>,
    headlines: Vec<Headline>,
}

impl Builder<'_> {
    /// The group, step and numbers of every record, in order.
    fn rows(&mut self, records: &[SourcedRecord]) -> Vec<Row> {
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

    /// Refuses (or, when allowed, notes) metric columns whose records
    /// differ in what makes numbers incomparable. Returns, for a mixed
    /// metric, each record's note (`network · mode`).
    fn check_mixing(
        &mut self,
        records: &[SourcedRecord],
        rows: &[Row],
    ) -> Result<HashMap<(String, usize), String>, ReportError> {
        // metric -> what -> distinct (value, first source), in order.
        let mut seen: Seen = Vec::new();
        for (r, row) in records.iter().zip(rows) {
            for Number { metric, .. } in &row.numbers {
                let index = match seen.iter().position(|(m, _)| m == metric) {
                    Some(i) => i,
                    None => {
                        seen.push((metric.clone(), Vec::new()));
                        seen.len() - 1
                    }
                };
                for (what, value) in comparability(metric, &r.record) {
                    let Some(value) = value else { continue };
                    let whats = &mut seen[index].1;
                    let w = match whats.iter().position(|(x, _)| *x == what) {
                        Some(i) => i,
                        None => {
                            whats.push((what, Vec::new()));
                            whats.len() - 1
                        }
                    };
                    let values = &mut whats[w].1;
                    if !values.iter().any(|(v, _)| *v == value) {
                        values.push((value, r.source.clone()));
                    }
                }
            }
        }
        let mut notes = HashMap::new();
        for (metric, whats) in &seen {
            let mixed: Vec<&(&str, Vec<(String, String)>)> = whats
                .iter()
                .filter(|(_, values)| values.len() > 1)
                .collect();
            let Some((what, values)) = mixed.first() else {
                continue;
            };
            if !self.options.allow_mixed {
                return Err(ReportError::Mixed(Box::new(Mixing {
                    metric: metric_title(metric),
                    what: (*what).to_owned(),
                    first: values[0].0.clone(),
                    first_source: values[0].1.clone(),
                    second: values[1].0.clone(),
                    second_source: values[1].1.clone(),
                })));
            }
            for (what, values) in &mixed {
                let listed: Vec<String> = values
                    .iter()
                    .map(|(v, source)| format!("`{v}` ({source})"))
                    .collect();
                self.warnings.push(format!(
                    "the {} column mixes {what}: {}; shown side by side as asked (--allow-mixed), but these numbers are not comparable",
                    metric_title(metric),
                    listed.join(", ")
                ));
            }
            for (i, (r, row)) in records.iter().zip(rows).enumerate() {
                if row.numbers.iter().any(|n| n.metric == *metric) {
                    let parts: Vec<String> = comparability(metric, &r.record)
                        .into_iter()
                        .filter_map(|(_, v)| v)
                        .collect();
                    let note = if parts.is_empty() {
                        "network and mode unknown".to_owned()
                    } else {
                        parts.join(" · ")
                    };
                    notes.insert((metric.clone(), i), note);
                }
            }
        }
        Ok(notes)
    }

    /// The models × metrics table, the steps tables and the metric charts.
    fn metric_tables(
        &mut self,
        records: &[SourcedRecord],
        rows: &[Row],
    ) -> Result<(), ReportError> {
        let notes = self.check_mixing(records, rows)?;
        let mut measurements = Vec::new();
        // (group, metric, step) -> the records behind it, with their intervals.
        let mut origin: Origins = HashMap::new();
        for (i, (r, row)) in records.iter().zip(rows).enumerate() {
            for Number {
                metric,
                value,
                uncertainty,
                interval,
            } in &row.numbers
            {
                if !value.is_finite() {
                    self.warnings
                        .push(format!("{}: {metric} is {value}; left out", r.source));
                    continue;
                }
                measurements.push(Measurement {
                    group: row.group.clone(),
                    metric: metric.clone(),
                    step: row.step,
                    value: *value,
                    uncertainty: uncertainty.filter(|u| u.is_finite()),
                    started_at: r.record.started_at.clone(),
                });
                origin
                    .entry((row.group.clone(), metric.clone(), step_key(row.step)))
                    .or_default()
                    .push((i, *interval));
            }
        }
        if measurements.is_empty() {
            return Ok(());
        }
        let stats = aggregate_runs(&measurements_frame(&measurements)?)?;
        let mut groups: Vec<&str> = Vec::new();
        for m in &measurements {
            if !groups.contains(&m.group.as_str()) {
                groups.push(&m.group);
            }
        }
        let mut metrics: Vec<&str> = Vec::new();
        for m in &measurements {
            if !metrics.contains(&m.metric.as_str()) {
                metrics.push(&m.metric);
            }
        }
        metrics.sort_by_key(|m| metric_rank(m));

        let measure = |s: &RunStats| {
            let from = &origin[&(s.group.clone(), s.metric.clone(), step_key(s.step))];
            let mut notes_here: Vec<String> = Vec::new();
            for (i, _) in from {
                if let Some(note) = notes.get(&(s.metric.clone(), *i)) {
                    if !notes_here.contains(note) {
                        notes_here.push(note.clone());
                    }
                }
            }
            if s.runs > 1 {
                notes_here.insert(0, format!("mean ± std of {} runs", s.runs));
            }
            Measure {
                value: s.mean,
                uncertainty: if s.runs > 1 { s.std } else { s.uncertainty },
                interval: if s.runs == 1 { from[0].1 } else { None },
                runs: s.runs,
                best: false,
                note: (!notes_here.is_empty()).then(|| notes_here.join("; ")),
            }
        };

        // The models × metrics table, at each model's latest step.
        let stepped = stats.iter().any(|s| s.step.is_some());
        let latest_step = |group: &str| {
            stats
                .iter()
                .filter(|s| s.group == group)
                .filter_map(|s| s.step)
                .fold(None, |acc: Option<f64>, s| {
                    Some(acc.map_or(s, |a| a.max(s)))
                })
        };
        let pick = |group: &str, metric: &str| -> Option<&RunStats> {
            let of = || {
                stats
                    .iter()
                    .filter(|s| s.group == group && s.metric == metric)
            };
            of().filter(|s| s.step.is_some())
                .max_by(|a, b| {
                    a.step
                        .partial_cmp(&b.step)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .or_else(|| of().find(|s| s.step.is_none()))
        };
        let mut columns = vec![Column::text(
            &self.options.group_by_label,
            &self.options.group_by_label,
        )];
        if stepped {
            columns.push(Column::text("step", "step"));
        }
        let first_metric = columns.len();
        columns.extend(metrics.iter().map(|m| Column::metric(m)));
        let mut table_rows = Vec::new();
        for group in &groups {
            let group_step = latest_step(group);
            let mut row = vec![Cell::text(*group)];
            if stepped {
                row.push(group_step.map_or(Cell::Empty, |s| Cell::text(format_step(s))));
            }
            for metric in &metrics {
                row.push(match pick(group, metric) {
                    Some(s) => {
                        let mut m = measure(s);
                        if let Some(step) = s.step.filter(|step| Some(*step) != group_step) {
                            let at = format!("at step {}", format_step(step));
                            m.note = Some(m.note.map_or(at.clone(), |n| format!("{at}; {n}")));
                        }
                        Cell::Number(m)
                    }
                    None => Cell::Empty,
                });
            }
            table_rows.push(row);
        }
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            if let Some(direction) = column.direction {
                mark_best(table_rows.iter_mut().map(|row| &mut row[c]), direction);
            }
        }
        let mut table_notes = vec![
            "Cells: value ± the record's own uncertainty (IS: std over splits; KID: std over subsets), or mean ± std (ddof 1) over repeated runs; [low, high]: a bootstrap interval.".to_owned(),
            "↓ lower is better, ↑ higher is better; the best per column is marked.".to_owned(),
        ];
        if stepped {
            table_notes.push(
                "Each row at its latest step; every step is in the tables by step below."
                    .to_owned(),
            );
        }
        // Headlines: the best per metric column.
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            let Some(direction) = column.direction else {
                continue;
            };
            let filled: Vec<(usize, &Measure)> = table_rows
                .iter()
                .enumerate()
                .filter_map(|(r, row)| row[c].measure().map(|m| (r, m)))
                .collect();
            let best = filled.iter().map(|(_, m)| m.value).reduce(|a, b| {
                if direction.better(b, a) {
                    b
                } else {
                    a
                }
            });
            if let Some(best) = best {
                let winners: Vec<&(usize, &Measure)> =
                    filled.iter().filter(|(_, m)| m.value == best).collect();
                let group = winners
                    .iter()
                    .map(|(r, _)| groups[*r])
                    .collect::<Vec<_>>()
                    .join(", ");
                self.headlines.push(Headline {
                    column: column.clone(),
                    group,
                    measure: winners[0].1.clone(),
                    of: filled.len(),
                });
            }
        }
        let by_title = match self.options.group_by_label.as_str() {
            "model" => "Models".to_owned(),
            other => format!("By {other}"),
        };
        self.tables.push(Table {
            key: "models".into(),
            title: format!("{by_title} × metrics"),
            columns: columns.clone(),
            rows: table_rows.clone(),
            notes: table_notes,
            charts: Vec::new(),
        });
        let models_table = self.tables.len() - 1;

        // By step: a table and a line chart per metric.
        for metric in &metrics {
            let of_metric: Vec<&RunStats> = stats
                .iter()
                .filter(|s| s.metric == *metric && s.step.is_some())
                .collect();
            let mut steps: Vec<f64> = of_metric.iter().filter_map(|s| s.step).collect();
            steps.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            steps.dedup();
            // One step is all in the models table already.
            if steps.len() < 2 {
                continue;
            }
            let step_groups: Vec<&str> = groups
                .iter()
                .copied()
                .filter(|g| of_metric.iter().any(|s| s.group == *g))
                .collect();
            let column = Column::metric(metric);
            let mut step_columns = vec![Column::text("step", "step")];
            step_columns.extend(step_groups.iter().map(|g| Column {
                key: (*g).to_owned(),
                title: (*g).to_owned(),
                direction: column.direction,
            }));
            let mut step_rows = Vec::new();
            for step in &steps {
                let mut row = vec![Cell::text(format_step(*step))];
                for group in &step_groups {
                    row.push(
                        of_metric
                            .iter()
                            .find(|s| s.group == *group && s.step == Some(*step))
                            .map_or(Cell::Empty, |s| Cell::Number(measure(s))),
                    );
                }
                if let Some(direction) = column.direction {
                    mark_best(row.iter_mut().skip(1), direction);
                }
                step_rows.push(row);
            }
            let direction_note = column.direction.map(|d| {
                format!(
                    "{} {}; the best per step is marked.",
                    metric_title(metric),
                    d.describe()
                )
            });
            self.tables.push(Table {
                key: format!("steps:{metric}"),
                title: format!("{} by step", metric_title(metric)),
                columns: step_columns,
                rows: step_rows,
                notes: direction_note.into_iter().collect(),
                charts: vec![self.charts.len()],
            });
            {
                let series = step_groups
                    .iter()
                    .map(|group| {
                        let mut points: Vec<(f64, f64, f64)> = of_metric
                            .iter()
                            .filter(|s| s.group == *group)
                            .map(|s| {
                                let m = measure(s);
                                (
                                    s.step.unwrap_or_default(),
                                    m.value,
                                    m.uncertainty.unwrap_or(0.0),
                                )
                            })
                            .collect();
                        points.sort_by(|a, b| {
                            a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal)
                        });
                        let has_errors = points.iter().any(|p| p.2 > 0.0);
                        Series {
                            name: (*group).to_owned(),
                            points: points.iter().map(|p| (p.0, p.1)).collect(),
                            errors: has_errors.then(|| points.iter().map(|p| p.2).collect()),
                        }
                    })
                    .collect();
                self.charts.push((
                    format!(
                        "{} over training steps, one line per {}{}; error bars: ± uncertainty.",
                        metric_title(metric),
                        self.options.group_by_label,
                        column
                            .direction
                            .map(|d| format!(" ({})", d.describe()))
                            .unwrap_or_default()
                    ),
                    Chart::Line(LineChart {
                        title: format!("{} over steps", metric_title(metric)),
                        x_label: "step".into(),
                        y_label: y_label(metric),
                        series,
                    }),
                ));
            }
        }

        // Bars per metric over groups; PRDC as grouped bars.
        const PRDC: [&str; 4] = ["precision", "recall", "density", "coverage"];
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            if PRDC.contains(&column.key.as_str()) {
                continue;
            }
            let bars: Vec<Bar> = table_rows
                .iter()
                .zip(&groups)
                .filter_map(|(row, group)| {
                    row[c].measure().map(|m| Bar {
                        label: (*group).to_owned(),
                        value: m.value,
                        error: m.uncertainty,
                    })
                })
                .collect();
            if bars.len() < 2 {
                continue;
            }
            self.tables[models_table].charts.push(self.charts.len());
            self.charts.push((
                format!(
                    "{} per {}{}{}; error bars: ± uncertainty.",
                    column.title,
                    self.options.group_by_label,
                    if stepped { " at its latest step" } else { "" },
                    column
                        .direction
                        .map(|d| format!(" ({})", d.describe()))
                        .unwrap_or_default()
                ),
                Chart::Bar(BarChart {
                    title: format!("{} per {}", column.title, self.options.group_by_label),
                    y_label: y_label(&column.key),
                    bars,
                }),
            ));
        }
        let prdc_columns: Vec<(usize, &Column)> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| PRDC.contains(&c.key.as_str()))
            .collect();
        if !prdc_columns.is_empty() {
            let chart_groups: Vec<(String, Vec<f64>)> = table_rows
                .iter()
                .zip(&groups)
                .filter(|(row, _)| {
                    prdc_columns
                        .iter()
                        .any(|(c, _)| row[*c].measure().is_some())
                })
                .map(|(row, group)| {
                    (
                        (*group).to_owned(),
                        prdc_columns
                            .iter()
                            .map(|(c, _)| row[*c].measure().map_or(f64::NAN, |m| m.value))
                            .collect(),
                    )
                })
                .collect();
            self.tables[models_table].charts.push(self.charts.len());
            self.charts.push((
                format!(
                    "Precision, recall, density and coverage per {} (all higher is better; density can exceed 1).",
                    self.options.group_by_label
                ),
                Chart::GroupedBar(GroupedBarChart {
                    title: "Precision, recall, density, coverage".into(),
                    y_label: "value".into(),
                    categories: prdc_columns.iter().map(|(_, c)| c.title.clone()).collect(),
                    groups: chart_groups,
                }),
            ));
        }
        Ok(())
    }

    /// The sets, checks and charts of each `selfcheck` record.
    fn selfchecks(&mut self, records: &[SourcedRecord]) {
        let selfchecks: Vec<&SourcedRecord> = records
            .iter()
            .filter(|r| r.record.metric == "selfcheck")
            .collect();
        for (k, r) in selfchecks.iter().enumerate() {
            let record = &r.record;
            let suffix = if selfchecks.len() > 1 {
                format!(" ({})", r.source)
            } else {
                String::new()
            };
            let key_suffix = if k == 0 {
                String::new()
            } else {
                format!(":{}", k + 1)
            };
            let SelfcheckSets { sets, checks } = SelfcheckSets::from_record(record);
            let setting = |name: &str| {
                record
                    .settings
                    .get(name)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            };
            let network = record
                .model
                .as_ref()
                .map(|m| match &m.id {
                    Some(id) if *id != m.name => format!("{} ({id})", m.name),
                    _ => m.name.clone(),
                })
                .unwrap_or_else(|| "unknown network".into());
            let mut about = format!("Network {network}");
            if let Some(mode) = &record.mode {
                about.push_str(&format!(", {mode} preprocessing"));
            }
            if let (Some(n), Some(size)) = (setting("n"), setting("size")) {
                about.push_str(&format!("; {n} images of {size}×{size} per set"));
            }
            if let Some(classes) = setting("classes") {
                about.push_str(&format!(", {classes} classes"));
            }
            if let Some(seed) = record.seed {
                about.push_str(&format!(", seed {seed}"));
            }
            about.push_str(". Every set is compared with an independent reference set; the clean set (level 0) is undisturbed.");

            let mut columns = vec![
                Column::text("set", "set"),
                Column::text("disturbance", "disturbance"),
                Column::text("level", "level"),
            ];
            columns.extend(SET_METRICS.iter().map(|m| Column::metric(m)));
            let rows: Vec<Vec<Cell>> = sets
                .iter()
                .map(|set| {
                    let text = |t: &Option<String>| t.as_deref().map_or(Cell::Empty, Cell::text);
                    let mut row = vec![text(&set.set), text(&set.disturbance)];
                    row.push(
                        set.level
                            .map_or(Cell::Empty, |l| Cell::text(format_step(l))),
                    );
                    row.extend(
                        set.metrics()
                            .map(|(_, v)| v.map_or(Cell::Empty, |v| Cell::Number(Measure::new(v)))),
                    );
                    row
                })
                .collect();
            if !rows.is_empty() {
                self.tables.push(Table {
                    key: format!("selfcheck-sets{key_suffix}"),
                    title: format!("Self-check: metrics under disturbances{suffix}"),
                    columns,
                    rows,
                    notes: vec![about],
                    charts: Vec::new(),
                });
            }
            let mut counts = (0, 0, 0);
            let check_rows: Vec<Vec<Cell>> = checks
                .iter()
                .map(|c| {
                    let verdict = match (c.passed, c.required) {
                        (true, _) => Verdict::Pass,
                        (false, true) => Verdict::Fail,
                        (false, false) => Verdict::Info,
                    };
                    match verdict {
                        Verdict::Pass => counts.0 += 1,
                        Verdict::Fail => counts.1 += 1,
                        Verdict::Info => counts.2 += 1,
                    }
                    let text = |t: &Option<String>| t.as_deref().map_or(Cell::Empty, Cell::text);
                    vec![text(&c.name), Cell::Verdict { verdict }, text(&c.detail)]
                })
                .collect();
            let has_checks = !check_rows.is_empty();
            if has_checks {
                self.tables.push(Table {
                    key: format!("selfcheck-checks{key_suffix}"),
                    title: format!("Self-check: checks{suffix}"),
                    columns: vec![
                        Column::text("check", "check"),
                        Column::text("result", "result"),
                        Column::text("numbers", "numbers"),
                    ],
                    rows: check_rows,
                    notes: vec![
                        "info: a check this network is known to miss; reported, not required."
                            .into(),
                    ],
                    charts: Vec::new(),
                });
                let passed = record.passed.unwrap_or(counts.1 == 0);
                self.summary.push(format!(
                    "Self-check{suffix}: {} — {} of {} checks held, {} required failed, {} info",
                    if passed { "passed" } else { "FAILED" },
                    counts.0,
                    counts.0 + counts.1 + counts.2,
                    counts.1,
                    counts.2
                ));
                if !passed {
                    self.warnings.push(format!(
                        "{}: the self-check FAILED ({} required check{} did not hold)",
                        r.source,
                        counts.1,
                        plural(counts.1)
                    ));
                }
            }
            let first_chart = self.charts.len();
            self.selfcheck_charts(&sets, &suffix);
            // The charts go under the last table of this self-check.
            let key = if has_checks {
                "selfcheck-checks"
            } else {
                "selfcheck-sets"
            };
            if let Some(table) = self
                .tables
                .iter_mut()
                .rev()
                .find(|t| t.key == format!("{key}{key_suffix}"))
            {
                table.charts.extend(first_chart..self.charts.len());
            }
        }
    }

    /// Per metric, value against disturbance level, a line per disturbance.
    fn selfcheck_charts(&mut self, sets: &[SetMeasure], suffix: &str) {
        let kind_of = |set: &SetMeasure| set.disturbance.clone().unwrap_or_default();
        let clean = sets.iter().find(|s| kind_of(s) == "none");
        let mut kinds: Vec<String> = Vec::new();
        for set in sets {
            let kind = kind_of(set);
            if kind != "none" && !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return;
        }
        // Density has no bound and no chart; its numbers are in the table.
        for metric in SET_METRICS.iter().filter(|m| **m != "density") {
            let value = |set: &SetMeasure| set.metric(metric);
            let series: Vec<Series> = kinds
                .iter()
                .map(|kind| {
                    let mut points: Vec<(f64, f64)> = clean
                        .and_then(value)
                        .map(|v| (0.0, v))
                        .into_iter()
                        .collect();
                    let of_kind = sets.iter().filter(|s| kind_of(s) == *kind);
                    for (i, set) in of_kind.enumerate() {
                        if let Some(v) = value(set) {
                            points.push(((i + 1) as f64, v));
                        }
                    }
                    Series {
                        name: kind.clone(),
                        points,
                        errors: None,
                    }
                })
                .collect();
            if series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            let title = metric_title(metric);
            self.charts.push((
                format!(
                    "Self-check{suffix}: {title} against disturbance strength, one line per disturbance (0 = clean set, 1–4 = its four levels in the table; {}).",
                    Direction::of(metric).map_or("", |d| d.describe())
                ),
                Chart::Line(LineChart {
                    title: format!("Self-check: {title} vs disturbance"),
                    x_label: "disturbance level (0 = clean)".into(),
                    y_label: title,
                    series,
                }),
            ));
        }
    }

    /// The records' own warnings, each once, with how many records say it.
    fn record_warnings(&mut self, records: &[SourcedRecord]) {
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

fn y_label(metric: &str) -> String {
    match Direction::of(metric) {
        Some(d) => format!("{} {}", metric_title(metric), d.arrow()),
        None => metric_title(metric),
    }
}

/// Marks the best numeric cell(s) by `direction` when at least two are
/// numbers (ties are all marked).
fn mark_best<'c>(cells: impl Iterator<Item = &'c mut Cell>, direction: Direction) {
    let mut numbers: Vec<&mut Measure> = cells
        .filter_map(|c| match c {
            Cell::Number(m) => Some(m),
            _ => None,
        })
        .collect();
    if numbers.len() < 2 {
        return;
    }
    let best = numbers
        .iter()
        .map(|m| m.value)
        .reduce(|a, b| if direction.better(b, a) { b } else { a });
    if let Some(best) = best {
        for m in numbers.iter_mut() {
            m.best = m.value == best;
        }
    }
}

fn serialize_charts<S: Serializer>(charts: &[(String, Chart)], s: S) -> Result<S::Ok, S::Error> {
    charts
        .iter()
        .map(|(caption, chart)| chart_json(caption, chart))
        .collect::<Vec<_>>()
        .serialize(s)
}

/// A chart as JSON: its caption, kind and data (the drawing is the HTML's).
fn chart_json(caption: &str, chart: &Chart) -> serde_json::Value {
    use serde_json::json;
    match chart {
        Chart::Line(c) => json!({
            "caption": caption, "kind": "line", "title": c.title,
            "x_label": c.x_label, "y_label": c.y_label,
            "series": c.series.iter().map(|s| json!({
                "name": s.name,
                "points": s.points.iter().map(|(x, y)| [*x, *y]).collect::<Vec<_>>(),
                "errors": s.errors,
            })).collect::<Vec<_>>(),
        }),
        Chart::Bar(c) => json!({
            "caption": caption, "kind": "bar", "title": c.title, "y_label": c.y_label,
            "bars": c.bars.iter().map(|b| json!({
                "label": b.label, "value": b.value, "error": b.error,
            })).collect::<Vec<_>>(),
        }),
        Chart::GroupedBar(c) => json!({
            "caption": caption, "kind": "grouped_bar", "title": c.title, "y_label": c.y_label,
            "categories": c.categories,
            "groups": c.groups.iter().map(|(name, values)| json!({
                "name": name, "values": values,
            })).collect::<Vec<_>>(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{InputRecord, ModelRecord};

    fn rec(metric: &str, value: f64, labels: &[(&str, &str)]) -> ResultRecord {
        let mut r = ResultRecord::new(metric, "0.1.0", "2026-01-01T00:00:00Z".into());
        r.value = Some(value);
        r.set(metric, value);
        r.model = Some(ModelRecord {
            name: "builtin".into(),
            id: Some("builtin-randconv-v1".into()),
        });
        r.mode = Some("pytorch-fid".into());
        for (k, v) in labels {
            r.labels.insert((*k).into(), (*v).into());
        }
        r
    }

    fn records(list: Vec<ResultRecord>) -> Records {
        Records {
            records: list
                .into_iter()
                .enumerate()
                .map(|(i, record)| SourcedRecord {
                    record,
                    source: format!("runs.jsonl:{}", i + 1),
                })
                .collect(),
            warnings: Vec::new(),
            files: Vec::new(),
        }
    }

    fn report(list: Vec<ResultRecord>) -> Result<Report, ReportError> {
        Report::from_records(&records(list), &ReportOptions::default())
    }

    fn cell<'r>(table: &'r Table, row: &str, column: &str) -> &'r Cell {
        let c = table.columns.iter().position(|c| c.key == column).unwrap();
        let r = table
            .rows
            .iter()
            .find(|r| r[0].display() == row)
            .unwrap_or_else(|| panic!("no row {row}"));
        &r[c]
    }

    fn measure<'r>(table: &'r Table, row: &str, column: &str) -> &'r Measure {
        cell(table, row, column)
            .measure()
            .unwrap_or_else(|| panic!("{row}/{column} is not a number"))
    }

    #[test]
    fn no_records_is_an_error() {
        assert!(matches!(report(vec![]), Err(ReportError::NoRecords)));
    }

    #[test]
    fn best_is_marked_by_each_metrics_direction() {
        let mut is_a = rec("is", 5.0, &[("model", "a")]);
        is_a.uncertainty = Some(0.1);
        let r = report(vec![
            rec("fid", 20.0, &[("model", "a")]),
            rec("fid", 10.0, &[("model", "b")]),
            rec("fid", 15.0, &[("model", "c")]),
            is_a,
            rec("is", 7.0, &[("model", "b")]),
            rec("is", 9.0, &[("model", "c")]),
            rec("bits_per_byte", 1.0, &[("model", "a")]),
        ])
        .unwrap();
        let t = r.models_table().unwrap();
        let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["model", "fid", "is", "bits_per_byte"]);
        assert_eq!(t.columns[1].direction, Some(Direction::Lower));
        assert_eq!(t.columns[2].direction, Some(Direction::Higher));
        assert!(measure(t, "b", "fid").best);
        assert!(!measure(t, "a", "fid").best && !measure(t, "c", "fid").best);
        assert!(measure(t, "c", "is").best);
        assert!(!measure(t, "a", "is").best && !measure(t, "b", "is").best);
        assert_eq!(measure(t, "a", "is").uncertainty, Some(0.1));
        // A single number in a column is not "best" of anything.
        assert!(!measure(t, "a", "bits_per_byte").best);
        assert_eq!(cell(t, "b", "bits_per_byte"), &Cell::Empty);
        assert_eq!(r.headlines.len(), 3);
        assert_eq!(r.headlines[0].group, "b");
        assert_eq!(r.headlines[1].group, "c");
        assert_eq!(
            r.headlines[0].describe(),
            "FID (lower is better): best b, 10.00 (of 3)"
        );
    }

    #[test]
    fn ties_are_all_best_and_directions_are_known() {
        let r = report(vec![
            rec("kid", 0.5, &[("model", "a")]),
            rec("kid", 0.5, &[("model", "b")]),
        ])
        .unwrap();
        let t = r.models_table().unwrap();
        assert!(measure(t, "a", "kid").best && measure(t, "b", "kid").best);
        assert_eq!(r.headlines[0].group, "a, b");
        assert_eq!(Direction::of("ppl"), Some(Direction::Lower));
        assert_eq!(Direction::of("mean_perplexity"), Some(Direction::Lower));
        assert_eq!(Direction::of("word_perplexity"), Some(Direction::Lower));
        assert_eq!(Direction::of("bits_per_byte"), Some(Direction::Lower));
        assert_eq!(Direction::of("coverage"), Some(Direction::Higher));
        assert_eq!(Direction::of("duration"), None);
    }

    #[test]
    fn mixing_feature_networks_is_refused_naming_both() {
        let mut inception = rec("fid", 12.0, &[("model", "b")]);
        inception.model = Some(ModelRecord {
            name: "fid-inception".into(),
            id: Some("fid-inception@sha256:6726825d".into()),
        });
        let list = vec![rec("fid", 10.0, &[("model", "a")]), inception];
        let err = report(list.clone()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ReportError::Mixed(_)));
        assert!(text.contains("FID"), "{text}");
        assert!(
            text.contains("builtin-randconv-v1") && text.contains("runs.jsonl:1"),
            "{text}"
        );
        assert!(
            text.contains("fid-inception@sha256:6726825d") && text.contains("runs.jsonl:2"),
            "{text}"
        );
        assert!(err.hint().contains("--allow-mixed"));

        let options = ReportOptions {
            allow_mixed: true,
            ..ReportOptions::default()
        };
        let r = Report::from_records(&records(list), &options).unwrap();
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("mixes feature networks")));
        let t = r.models_table().unwrap();
        assert_eq!(
            measure(t, "b", "fid").note.as_deref(),
            Some("fid-inception@sha256:6726825d · pytorch-fid")
        );
    }

    #[test]
    fn mixing_preprocessing_modes_is_refused() {
        let mut clean = rec("kid", 0.1, &[("model", "b")]);
        clean.mode = Some("clean".into());
        let err = report(vec![rec("kid", 0.2, &[("model", "a")]), clean]).unwrap_err();
        assert!(err.to_string().contains("preprocessing modes"), "{err}");
        assert!(err.to_string().contains("`clean`"), "{err}");
        // Features given as .npy carry no network: nothing to compare.
        let mut features = rec("kid", 0.1, &[("model", "b")]);
        features.model = None;
        features.mode = None;
        assert!(report(vec![rec("kid", 0.2, &[("model", "a")]), features]).is_ok());
    }

    fn ppl(model: &str, mode: &str, max_length: u64, value: f64) -> ResultRecord {
        let mut r = rec("ppl", value, &[]);
        r.model = Some(ModelRecord {
            name: model.into(),
            id: Some(format!("sha256:{model}")),
        });
        r.mode = Some(mode.into());
        r.setting("max_length", max_length)
            .setting("stride", 512u64);
        r.set("bits_per_byte", value.ln() / 4.0);
        r
    }

    #[test]
    fn perplexities_compare_models_but_not_modes_or_windows() {
        let r = report(vec![
            ppl("gpt2", "corpus", 1024, 25.0),
            ppl("gpt2-medium", "corpus", 1024, 18.0),
        ])
        .unwrap();
        let t = r.models_table().unwrap();
        // Without a `model` label the language model names the row.
        assert!(measure(t, "gpt2-medium", "ppl").best);
        assert!(measure(t, "gpt2-medium", "bits_per_byte").best);
        let err = report(vec![
            ppl("gpt2", "corpus", 1024, 25.0),
            ppl("gpt2-medium", "second-half", 1024, 18.0),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("perplexity modes"), "{err}");
        let err = report(vec![
            ppl("gpt2", "corpus", 1024, 25.0),
            ppl("gpt2-medium", "corpus", 512, 18.0),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("max_length=512"), "{err}");
    }

    #[test]
    fn steps_latest_in_the_main_table_and_all_in_step_tables() {
        let r = report(vec![
            rec("fid", 30.0, &[("model", "a"), ("step", "1000")]),
            rec("fid", 20.0, &[("model", "a"), ("step", "2000")]),
            rec("fid", 25.0, &[("model", "b"), ("step", "1000")]),
            rec("fid", 17.0, &[("model", "b"), ("step", "2_000")]),
            rec("fid", 19.0, &[("model", "b"), ("step", "2000")]),
            rec("kid", 0.3, &[("model", "b"), ("step", "1000")]),
            rec("fid", 40.0, &[("model", "c"), ("step", "final")]),
        ])
        .unwrap();
        let t = r.models_table().unwrap();
        assert_eq!(t.columns[1].key, "step");
        assert_eq!(cell(t, "a", "step").display(), "2000");
        assert_eq!(measure(t, "a", "fid").value, 20.0);
        // Repeated runs: mean ± std (ddof 1).
        let b = measure(t, "b", "fid");
        assert_eq!((b.value, b.runs), (18.0, 2));
        assert!((b.uncertainty.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert!(b.best);
        // b's KID is only at step 1000: shown, with a note.
        assert_eq!(measure(t, "b", "kid").note.as_deref(), Some("at step 1000"));
        // A step that is not a number: no step, a warning.
        assert_eq!(cell(t, "c", "step"), &Cell::Empty);
        assert!(r.warnings.iter().any(|w| w.contains("final")));

        let steps = r.tables.iter().find(|t| t.key == "steps:fid").unwrap();
        let labels: Vec<String> = steps.rows.iter().map(|r| r[0].display()).collect();
        assert_eq!(labels, ["1000", "2000"]);
        assert_eq!(steps.columns.len(), 3, "step, a, b (c has no numeric step)");
        assert!(measure(steps, "1000", "b").best);
        assert!(measure(steps, "2000", "b").best);
        // KID has one step only: the models table says it all.
        assert!(!r.tables.iter().any(|t| t.key == "steps:kid"));
        let line = r
            .charts
            .iter()
            .find_map(|(_, c)| match c {
                Chart::Line(l) if l.title == "FID over steps" => Some(l),
                _ => None,
            })
            .expect("a line chart of FID over steps");
        assert_eq!(line.series.len(), 2);
        assert_eq!(line.series[0].points, [(1000.0, 30.0), (2000.0, 20.0)]);
        assert_eq!(line.series[1].errors.as_ref().unwrap()[1], 2f64.sqrt());
        // Only one step of KID: no line either.
        assert!(!r.charts.iter().any(|(_, c)| c.title() == "KID over steps"));
    }

    #[test]
    fn no_steps_no_step_column() {
        let r = report(vec![rec("fid", 1.0, &[("model", "a")])]).unwrap();
        let t = r.models_table().unwrap();
        assert!(t.columns.iter().all(|c| c.key != "step"));
        assert!(!r.tables.iter().any(|t| t.key.starts_with("steps:")));
    }

    #[test]
    fn unlabelled_records_are_grouped_by_their_generated_input() {
        let input = |path: &str| InputRecord {
            path: path.into(),
            kind: "images".into(),
            count: Some(10),
            dim: None,
            sha256: None,
        };
        let mut fid = rec("fid", 3.0, &[]);
        fid.inputs = vec![input("real/"), input("fake/")];
        let mut bare = rec("is", 3.0, &[]);
        bare.inputs.clear();
        let r = report(vec![fid, bare]).unwrap();
        let t = r.models_table().unwrap();
        assert_eq!(measure(t, "fake/", "fid").value, 3.0);
        assert_eq!(measure(t, "(unlabelled)", "is").value, 3.0);
        assert!(r.warnings.iter().any(|w| w.contains("--label model=NAME")));
        assert_eq!(r.provenance[0].group, "fake/");
    }

    #[test]
    fn grouping_by_another_label() {
        let options = ReportOptions {
            group_by_label: "run".into(),
            ..ReportOptions::default()
        };
        let list = vec![
            rec("fid", 1.0, &[("model", "a"), ("run", "x")]),
            rec("fid", 2.0, &[("model", "a"), ("run", "y")]),
        ];
        let r = Report::from_records(&records(list), &options).unwrap();
        let t = r.models_table().unwrap();
        assert_eq!(t.columns[0].key, "run");
        assert_eq!(t.title, "By run × metrics");
        assert!(measure(t, "x", "fid").best);
    }

    #[test]
    fn prdc_becomes_four_columns_and_grouped_bars() {
        let mut prdc = ResultRecord::new("prdc", "0.1.0", "2026-01-01T00:00:00Z".into());
        for (k, v) in [
            ("precision", 0.7),
            ("recall", 0.6),
            ("density", 1.1),
            ("coverage", 0.5),
        ] {
            prdc.set(k, v);
        }
        prdc.set("improved_precision", 0.4);
        prdc.labels.insert("model".into(), "a".into());
        let r = report(vec![prdc]).unwrap();
        let t = r.models_table().unwrap();
        let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            ["model", "precision", "recall", "density", "coverage"]
        );
        let grouped = r
            .charts
            .iter()
            .find_map(|(_, c)| match c {
                Chart::GroupedBar(g) => Some(g),
                _ => None,
            })
            .unwrap();
        assert_eq!(grouped.groups, [("a".to_owned(), vec![0.7, 0.6, 1.1, 0.5])]);
    }

    #[test]
    fn selfcheck_sets_checks_and_charts() {
        let mut sc = ResultRecord::new("selfcheck", "0.1.0", "2026-01-01T00:00:00Z".into());
        let row = |set: &str, kind: &str, level: f64, fid: f64| {
            serde_json::json!({"set": set, "disturbance": kind, "level": level,
                "fid": fid, "kid": fid / 100.0, "is": 3.0, "precision": 0.9,
                "recall": 0.8, "density": 1.0, "coverage": 0.7})
        };
        sc.setting(
            "sets",
            vec![
                row("clean", "none", 0.0, 1.0),
                row("noise_0.1", "noise", 0.1, 2.0),
                row("noise_0.2", "noise", 0.2, 3.0),
                row("keep_8_classes", "mode-dropping", 8.0, 1.5),
            ],
        );
        sc.setting(
            "checks",
            vec![
                serde_json::json!({"name": "FID rises with noise", "passed": true, "required": true, "detail": "1 < 2 < 3"}),
                serde_json::json!({"name": "precision falls with noise", "passed": false, "required": false, "detail": "0.9"}),
            ],
        );
        sc.passed = Some(true);
        let r = report(vec![sc]).unwrap();
        assert!(r.models_table().is_none());
        let sets = r.tables.iter().find(|t| t.key == "selfcheck-sets").unwrap();
        assert_eq!(sets.rows.len(), 4);
        assert_eq!(sets.rows[1][2].display(), "0.1");
        let checks = r
            .tables
            .iter()
            .find(|t| t.key == "selfcheck-checks")
            .unwrap();
        assert_eq!(
            checks.rows[0][1],
            Cell::Verdict {
                verdict: Verdict::Pass
            }
        );
        assert_eq!(
            checks.rows[1][1],
            Cell::Verdict {
                verdict: Verdict::Info
            }
        );
        assert!(r
            .summary
            .iter()
            .any(|l| l.contains("passed — 1 of 2 checks held")));
        let fid = r
            .charts
            .iter()
            .find_map(|(_, c)| match c {
                Chart::Line(l) if l.title == "Self-check: FID vs disturbance" => Some(l),
                _ => None,
            })
            .unwrap();
        assert_eq!(fid.series[0].name, "noise");
        assert_eq!(fid.series[0].points, [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]);
        assert_eq!(fid.series[1].points, [(0.0, 1.0), (1.0, 1.5)]);
        assert_eq!(r.charts.len(), 6);
    }

    #[test]
    fn numbers_are_formatted_to_four_significant_digits() {
        assert_eq!(format_number(46.73224), "46.73");
        assert_eq!(format_number(2.5546), "2.555");
        assert_eq!(format_number(0.27620), "0.2762");
        assert_eq!(format_number(0.0046), "0.004600");
        assert_eq!(format_number(-0.0035), "-0.003500");
        assert_eq!(format_number(2.22e-16), "2.220e-16");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(12345.6), "12346");
        assert_eq!(format_uncertainty(0.28284), "0.28");
        assert_eq!(format_uncertainty(0.0005), "0.00050");
        assert_eq!(format_uncertainty(1.234), "1.2");
        assert_eq!(format_uncertainty(12.34), "12");
        assert_eq!(format_step(20000.0), "20000");
        assert_eq!(format_step(0.25), "0.25");
    }

    #[test]
    fn record_warnings_are_listed_once_with_a_count() {
        let mut a = rec("fid", 1.0, &[("model", "a")]);
        a.warnings.push("not comparable".into());
        let mut b = rec("fid", 2.0, &[("model", "b")]);
        b.warnings.push("not comparable".into());
        let mut list = records(vec![a, b]);
        list.warnings
            .push("r.jsonl:3: ignored an incomplete last line".into());
        let r = Report::from_records(&list, &ReportOptions::default()).unwrap();
        assert_eq!(r.warnings[0], "r.jsonl:3: ignored an incomplete last line");
        assert!(r
            .warnings
            .contains(&"not comparable (2 records, first runs.jsonl:1)".to_owned()));
    }
}
