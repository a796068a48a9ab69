//! The whole report as pretty-printed JSON: tables with their cells
//! (value, uncertainty, best), charts as data, provenance, warnings.

use crate::report::Report;

/// The report as JSON, with a final newline.
pub fn render(report: &Report) -> Vec<u8> {
    // A Report holds only strings, numbers and plain containers: it always
    // serialises (non-finite numbers become null).
    let mut bytes = serde_json::to_vec_pretty(report).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
