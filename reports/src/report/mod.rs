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
//! - the provenance of every record, and the warnings;
//! - room for sample images ([`samples`]), which the caller fills.
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

mod builder;
mod columns;
pub mod samples;
mod selfchecks;
mod table;
#[cfg(test)]
mod tests;

use builder::*;
pub use samples::{SampleKind, SampleSection, Samples, Thumbnail, Tile};
use table::mark_best;
pub use table::{Cell, Column, Headline, Measure, Provenance, Table, Verdict};

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
    /// Sample images (thumbnail grids, `nn`'s copies and outliers), which
    /// the caller adds: records name image files, this crate reads none.
    /// Only the HTML page shows them; the JSON report leaves them out.
    #[serde(skip)]
    pub samples: Samples,
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
            samples: Samples::default(),
        })
    }

    /// The models × metrics table, if there is one.
    pub fn models_table(&self) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == "models")
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
