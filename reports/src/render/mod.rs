//! Renderers: pure functions from a [`crate::Report`] to bytes, one module
//! per format. Writing files is the caller's job (atomically, in one place).

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;

use std::path::Path;

use crate::report::{Report, ReportError};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown: tables (best in bold, ↓/↑ in headers), charts listed.
    Markdown,
    /// CSV: the models × metrics table, a value and an uncertainty column
    /// per metric.
    Csv,
    /// JSON: the whole report.
    Json,
    /// One self-contained HTML file with the charts inline as SVG.
    Html,
}

impl Format {
    /// The format a file name's extension asks for: `.md`/`.markdown`,
    /// `.csv`, `.json`, `.html`/`.htm`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    /// `md`, `csv`, `json`, `html`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// The report in `format`.
pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, ReportError> {
    Ok(match format {
        Format::Markdown => markdown::render(report).into_bytes(),
        Format::Csv => csv::render(report)?,
        Format::Json => json::render(report),
        Format::Html => html::render(report).into_bytes(),
    })
}

#[cfg(test)]
mod tests;
