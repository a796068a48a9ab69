//! geneval's result records and what is made from them.
//!
//! - [`record`]: the versioned schema every metric command writes
//!   (`geneval.result/v1`), with its JSON Schema.
//! - [`read`]: records from JSONL/JSON files, folders and globs, tolerant of
//!   a crash-truncated last line, strict about unknown schema versions.
//! - [`charts`]: plotters charts (SVG, PNG) from plain series.
//! - [`metric`]: the one table of known metrics (titles, directions,
//!   column order, comparability family).
//! - [`compare`]: what makes two records of a metric incomparable.
//! - [`format`](mod@crate::format): numbers to n significant digits.
//! - [`selfcheck`]: the typed sets and checks of a `selfcheck` record.
//! - [`frame`]: records as polars DataFrames; repeated runs aggregated.
//! - [`report`]: records → a [`Report`] (tables, charts, provenance).
//! - [`render`]: a report as Markdown, CSV, JSON or self-contained HTML.

pub mod charts;
pub mod compare;
pub mod format;
pub mod frame;
pub mod metric;
pub mod read;
pub mod record;
pub mod render;
pub mod report;
pub mod selfcheck;

pub use read::{read_records, ReadError, ReadOptions, Records, SourcedRecord};
pub use record::{InputRecord, ModelRecord, ResultRecord, SCHEMA, SCHEMA_NAME};
pub use render::Format;
pub use report::{Report, ReportError, ReportOptions};
