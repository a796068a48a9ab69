//! The report's plain-data pieces: columns, cells with their measures and
//! best marks, tables, headlines, provenance.

use super::*;

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
    pub(super) fn text(key: &str, title: &str) -> Self {
        Column {
            key: key.into(),
            title: title.into(),
            direction: None,
        }
    }

    pub(super) fn metric(metric: &str) -> Self {
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
    pub(super) fn new(value: f64) -> Self {
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
    pub(super) fn text(text: impl Into<String>) -> Self {
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

/// Marks the best numeric cell(s) by `direction` when at least two are
/// numbers (ties are all marked).
pub(super) fn mark_best<'c>(cells: impl Iterator<Item = &'c mut Cell>, direction: Direction) {
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
