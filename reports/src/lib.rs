//! geneval's result records and what is made from them.
//!
//! - [`record`]: the versioned schema every metric command writes
//!   (`geneval.result/v1`), with its JSON Schema.
//! - [`read`]: records from JSONL/JSON files, folders and globs, tolerant of
//!   a crash-truncated last line, strict about unknown schema versions.

pub mod read;
pub mod record;

pub use read::{read_records, ReadError, ReadOptions, Records, SourcedRecord};
pub use record::{InputRecord, ModelRecord, ResultRecord, SCHEMA, SCHEMA_NAME};
