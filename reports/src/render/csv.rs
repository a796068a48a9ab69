//! The models × metrics table as CSV (polars' `CsvWriter`): the row label,
//! the step when there are steps, then per metric a `<metric>` column (the
//! mean) and a `<metric>_uncertainty` column (the record's uncertainty or
//! the std over runs). Without a models table (a report of self-checks
//! only) the first table is written the same way.

use polars::prelude::*;

use crate::report::{Cell, Report, ReportError, Table};

/// `text` made safe to open in a spreadsheet: a leading `'` when it would
/// be read as a formula (see the module's documentation).
pub fn escape_formula(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.trim().parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A table as a DataFrame for CSV: text columns as strings (escaped with
/// [`escape_formula`]); numeric columns as a value and an `_uncertainty`
/// column.
pub fn table_frame(table: &Table) -> PolarsResult<DataFrame> {
    let mut columns = Vec::new();
    for (c, column) in table.columns.iter().enumerate() {
        let cells = || {
            table
                .rows
                .iter()
                .map(move |row| row.get(c).unwrap_or(&Cell::Empty))
        };
        let numeric = column.direction.is_some() || cells().any(|cell| cell.measure().is_some());
        if numeric {
            let values: Vec<Option<f64>> = cells()
                .map(|cell| cell.measure().map(|m| m.value))
                .collect();
            let uncertainties: Vec<Option<f64>> = cells()
                .map(|cell| cell.measure().and_then(|m| m.uncertainty))
                .collect();
            columns.push(Column::new(escape_formula(&column.key).into(), values));
            columns.push(Column::new(
                escape_formula(&format!("{}_uncertainty", column.key)).into(),
                uncertainties,
            ));
        } else {
            let texts: Vec<Option<String>> = cells()
                .map(|cell| match cell {
                    Cell::Empty => None,
                    other => Some(escape_formula(&other.display())),
                })
                .collect();
            columns.push(Column::new(escape_formula(&column.key).into(), texts));
        }
    }
    DataFrame::new(table.rows.len(), columns)
}

/// The report's models × metrics table (or its first table) as CSV.
pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let Some(table) = report.models_table().or(report.tables.first()) else {
        return Ok(Vec::new());
    };
    let mut frame = table_frame(table)?;
    let mut bytes = Vec::new();
    CsvWriter::new(&mut bytes).finish(&mut frame)?;
    Ok(bytes)
}
