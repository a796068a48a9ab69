//! Reading result records from what the user names: JSONL files (one record
//! a line, as `--record` appends), JSON files (one record, as `--json`
//! prints), folders (every `.jsonl`/`.json` inside, recursively, sorted) and
//! glob patterns.
//!
//! A last line without its newline that does not parse is what a crash
//! during an append leaves: it is ignored with a warning. Any other line
//! that does not parse is an error naming the file and line. Records of
//! another schema version are an error, or skipped with a warning when
//! `lenient`.

use std::path::{Path, PathBuf};

use crate::record::{ResultRecord, SCHEMA, SCHEMA_NAME};

/// Why records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// A glob pattern is malformed.
    #[error("bad pattern `{pattern}`: {message}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A line is not a record.
    #[error("{path}:{line}: not a geneval result record: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A record of a schema version this geneval does not read.
    #[error("{path}:{line}: schema `{found}` is not {SCHEMA}, the version this geneval reads")]
    UnknownSchema {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The record's schema.
        found: String,
    },
    /// Nothing was found.
    #[error("no result records in {0}")]
    Empty(String),
}

impl ReadError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ReadError::Io { .. } => "check the path and its permissions",
            ReadError::Pattern { .. } => "quote the pattern; `*` and `**` are supported",
            ReadError::Parse { .. } => {
                "records are what `geneval … --json` prints or `--record FILE` appends"
            }
            ReadError::UnknownSchema { .. } => {
                "use the geneval version that wrote the records, or --lenient to skip them"
            }
            ReadError::Empty(_) => {
                "write records with `--record results.jsonl` on any metric command"
            }
        }
    }
}

/// How strict to be.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip records of unknown schema versions with a warning instead of failing.
    pub lenient: bool,
}

/// A record and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedRecord {
    /// The record.
    pub record: ResultRecord,
    /// `path:line`.
    pub source: String,
}

/// The records read, in input order, and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// The records.
    pub records: Vec<SourcedRecord>,
    /// Skipped lines and records, for the user.
    pub warnings: Vec<String>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ReadError {
    ReadError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn is_record_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "json" | "ndjson")
    )
}

fn folder_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| io(dir, e)))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            folder_files(&path, out)?;
        } else if is_record_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// The files an input names.
fn expand(input: &str) -> Result<Vec<PathBuf>, ReadError> {
    let path = Path::new(input);
    if path.is_dir() {
        let mut files = Vec::new();
        folder_files(path, &mut files)?;
        return Ok(files);
    }
    if path.exists() || !input.contains(['*', '?', '[']) {
        return Ok(vec![path.to_owned()]);
    }
    let pattern = |e: &dyn std::fmt::Display| ReadError::Pattern {
        pattern: input.to_owned(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in glob::glob(input).map_err(|e| pattern(&e))? {
        let path = entry.map_err(|e| pattern(&e))?;
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses the text of one file into `out`.
pub fn parse_records(
    text: &str,
    path: &Path,
    options: ReadOptions,
    out: &mut Records,
) -> Result<(), ReadError> {
    let trimmed = text.trim_start();
    // A single pretty-printed record (`--json > r.json` of an older tool, or by hand).
    if trimmed.starts_with('{') && !text.trim_end().contains('\n') || is_pretty(trimmed) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            return push(value, path, 1, options, out);
        }
    }
    let ends_with_newline = text.ends_with('\n');
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(value) => push(value, path, i + 1, options, out)?,
            Err(e) if i == last && !ends_with_newline => {
                out.warnings.push(format!(
                    "{}:{}: ignored an incomplete last line (an interrupted append?): {e}",
                    path.display(),
                    i + 1
                ));
            }
            Err(e) => {
                return Err(ReadError::Parse {
                    path: path.to_owned(),
                    line: i + 1,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(())
}

fn is_pretty(text: &str) -> bool {
    text.starts_with("{\n") || text.starts_with("{\r\n")
}

fn push(
    value: serde_json::Value,
    path: &Path,
    line: usize,
    options: ReadOptions,
    out: &mut Records,
) -> Result<(), ReadError> {
    let schema = value
        .get("schema")
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_owned();
    if schema != SCHEMA {
        if !schema.starts_with(SCHEMA_NAME) {
            return Err(ReadError::Parse {
                path: path.to_owned(),
                line,
                message: format!("`schema` is `{schema}`, not {SCHEMA}"),
            });
        }
        if options.lenient {
            out.warnings.push(format!(
                "{}:{line}: skipped a record of schema `{schema}` (this geneval reads {SCHEMA})",
                path.display()
            ));
            return Ok(());
        }
        return Err(ReadError::UnknownSchema {
            path: path.to_owned(),
            line,
            found: schema,
        });
    }
    let record: ResultRecord = serde_json::from_value(value).map_err(|e| ReadError::Parse {
        path: path.to_owned(),
        line,
        message: e.to_string(),
    })?;
    out.records.push(SourcedRecord {
        record,
        source: format!("{}:{line}", path.display()),
    });
    Ok(())
}

/// Reads every record the inputs name (files, folders, globs).
pub fn read_records(inputs: &[String], options: ReadOptions) -> Result<Records, ReadError> {
    let mut out = Records::default();
    for input in inputs {
        let files = expand(input)?;
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            parse_records(&text, &path, options, &mut out)?;
        }
    }
    if out.records.is_empty() {
        return Err(ReadError::Empty(inputs.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(metric: &str, value: f64) -> String {
        let mut r = ResultRecord::new(metric, "0.1.0", "2026-11-29T00:00:00Z".into());
        r.value = Some(value);
        serde_json::to_string(&r).unwrap()
    }

    #[test]
    fn reads_files_folders_and_globs_and_ignores_a_truncated_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let full = line("fid", 3.0);
        let text = format!(
            "{}\n{}\n{}",
            line("fid", 1.0),
            line("kid", 2.0),
            &full[..40]
        );
        std::fs::write(&a, text).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.json"), line("is", 4.0)).unwrap();
        std::fs::write(dir.path().join("sub/notes.txt"), "not a record").unwrap();
        let got = read_records(&[a.display().to_string()], ReadOptions::default()).unwrap();
        assert_eq!(got.records.len(), 2);
        assert_eq!(got.records[1].source, format!("{}:2", a.display()));
        assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
        assert!(got.warnings[0].contains(":3: ignored an incomplete last line"));
        let got =
            read_records(&[dir.path().display().to_string()], ReadOptions::default()).unwrap();
        assert_eq!(got.records.len(), 3);
        let pattern = format!("{}/**/*.json", dir.path().display());
        let got = read_records(&[pattern], ReadOptions::default()).unwrap();
        assert_eq!(got.records[0].record.metric, "is");
    }

    #[test]
    fn bad_lines_unknown_versions_and_empty_inputs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        // A broken line that is not the last one is not a crash: error.
        std::fs::write(&a, format!("{{\"schema\n{}\n", line("fid", 1.0))).unwrap();
        let err = read_records(&[a.display().to_string()], ReadOptions::default()).unwrap_err();
        assert!(matches!(err, ReadError::Parse { line: 1, .. }), "{err}");
        let v2 = line("fid", 1.0).replace("geneval.result/v1", "geneval.result/v2");
        std::fs::write(&a, format!("{v2}\n{}\n", line("kid", 2.0))).unwrap();
        let err = read_records(&[a.display().to_string()], ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("schema `geneval.result/v2`"),
            "{err}"
        );
        let got = read_records(&[a.display().to_string()], ReadOptions { lenient: true }).unwrap();
        assert_eq!(got.records.len(), 1);
        assert!(got.warnings[0].contains("skipped a record of schema"));
        std::fs::write(&a, "{\"metric\": \"fid\"}\n").unwrap();
        let err =
            read_records(&[a.display().to_string()], ReadOptions { lenient: true }).unwrap_err();
        assert!(err.to_string().contains("not geneval.result/v1"), "{err}");
        std::fs::write(&a, "").unwrap();
        let err = read_records(&[a.display().to_string()], ReadOptions::default()).unwrap_err();
        assert!(matches!(err, ReadError::Empty(_)));
        let err = read_records(
            &[dir.path().join("none.jsonl").display().to_string()],
            ReadOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
    }
}
