//! Reading result records from what the user names: JSONL files (one record
//! a line, as `--record` appends), JSON files (one record, as `--json`
//! prints), folders (every `.jsonl`/`.json` inside, recursively, sorted) and
//! glob patterns.
//!
//! A last line without its newline that does not parse is what a crash
//! during an append leaves: it is ignored with a warning. Any other line
//! that does not parse is an error naming the file and line. Records of
//! another schema version are an error, or skipped with a warning when
//! `lenient`. A number stored as `null` (how JSON writers store NaN and
//! infinity; geneval once wrote a KID of `NaN` that way) is read as
//! missing, with a warning naming the line, so one such record does not
//! make every report and gate on the file fail.
//!
//! Folders and `**` patterns are walked without following symbolic links
//! to folders (a warning names each one): a link to `.` or to a parent
//! would otherwise list the same records again and again, or forever. A
//! file reached twice (a link to a file, a file named twice) is read once.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

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
    /// The files read, in order (a command writing a file checks it is
    /// not one of these).
    pub files: Vec<PathBuf>,
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

/// What the expansion of the inputs has found so far: the files, each
/// once by canonical path, and the warnings.
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    seen: HashMap<PathBuf, PathBuf>,
    warnings: Vec<String>,
}

impl Found {
    /// Adds `path` unless the same file was already added.
    fn file(&mut self, path: PathBuf) {
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        match self.seen.get(&canonical) {
            Some(first) => self.warnings.push(format!(
                "{}: the same file as {}: read once",
                path.display(),
                first.display()
            )),
            None => {
                self.seen.insert(canonical, path.clone());
                self.files.push(path);
            }
        }
    }

    fn skipped_link(&mut self, path: &Path) {
        self.warnings.push(format!(
            "{}: a symbolic link to a folder, not followed (name the folder itself to read it)",
            path.display()
        ));
    }
}

/// The entries of `dir`, sorted by path.
fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, ReadError> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(dir, e))?;
    entries.sort_by_key(|e| e.path());
    Ok(entries)
}

/// Walks `dir` (shown as `shown`, which is empty for the working folder)
/// down `depth` levels of folders, handing each file (or link to a file)
/// to `take`. Links to folders are not followed, so the walk ends.
fn walk(
    dir: &Path,
    shown: &Path,
    depth: usize,
    found: &mut Found,
    take: &mut dyn FnMut(&Path) -> bool,
) -> Result<(), ReadError> {
    for entry in sorted_entries(dir)? {
        let path = shown.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io(&path, e))?;
        if kind.is_dir() {
            if depth > 1 {
                walk(&entry.path(), &path, depth - 1, found, take)?;
            }
        } else if kind.is_symlink() && entry.path().is_dir() {
            if depth > 1 {
                found.skipped_link(&path);
            }
        } else if entry.path().is_file() && take(&path) {
            // Regular files and links to them; not pipes or devices,
            // which could block the read forever.
            found.file(path);
        }
    }
    Ok(())
}

/// Files matching a glob pattern, walked from the pattern's literal
/// folder prefix (`runs/**/*.jsonl` walks `runs/`), as deep as the
/// pattern reaches (any depth for `**`). `*`, `?` and `[…]` do not cross
/// `/`, as in a shell and the `glob` crate.
fn glob_files(input: &str, found: &mut Found) -> Result<(), ReadError> {
    let pattern = glob::Pattern::new(input).map_err(|e| ReadError::Pattern {
        pattern: input.to_owned(),
        message: e.to_string(),
    })?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut base = PathBuf::new();
    let mut rest = Vec::new();
    for component in Path::new(input).components() {
        let text = component.as_os_str().to_string_lossy();
        if rest.is_empty() && !text.contains(['*', '?', '[']) {
            base.push(component);
        } else if !matches!(component, Component::CurDir) {
            rest.push(text.into_owned());
        }
    }
    let depth = if rest.iter().any(|c| c.contains("**")) {
        usize::MAX
    } else {
        rest.len()
    };
    let dir = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base.as_path()
    };
    if depth == 0 || !dir.is_dir() {
        return Ok(());
    }
    walk(dir, &base, depth, found, &mut |path| {
        pattern.matches_path_with(path, options)
    })
}

/// Adds the files an input names: the file itself, the record files of a
/// folder (recursively), or the files a pattern matches.
fn expand(input: &str, found: &mut Found) -> Result<(), ReadError> {
    let path = Path::new(input);
    if path.is_dir() {
        return walk(path, path, usize::MAX, found, &mut |p| is_record_file(p));
    }
    if path.exists() || !input.contains(['*', '?', '[']) {
        found.file(path.to_owned());
        return Ok(());
    }
    glob_files(input, found)
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
    let mut value = value;
    let missing = drop_nulls(&mut value);
    if !missing.is_empty() {
        out.warnings.push(format!(
            "{}:{line}: {} stored as null (a NaN or infinity, not a number): read as missing",
            path.display(),
            missing.join(", ")
        ));
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

/// Removes the numbers of a record that are `null` where the schema
/// wants a number (`values.*`, `interval`, `duration_s`) and returns their
/// names. `value` and `uncertainty` may be null in any record (PRDC has
/// no headline value), so a null there is already "missing".
fn drop_nulls(value: &mut serde_json::Value) -> Vec<String> {
    let mut dropped = Vec::new();
    let Some(object) = value.as_object_mut() else {
        return dropped;
    };
    if let Some(serde_json::Value::Object(values)) = object.get_mut("values") {
        values.retain(|key, v| {
            if v.is_null() {
                dropped.push(format!("values.{key}"));
            }
            !v.is_null()
        });
    }
    let null_in_interval = object
        .get("interval")
        .and_then(|v| v.as_array())
        .is_some_and(|bounds| bounds.iter().any(|b| b.is_null()));
    if null_in_interval {
        object.remove("interval");
        dropped.push("interval".to_owned());
    }
    if object.get("duration_s").is_some_and(|v| v.is_null()) {
        object.insert("duration_s".to_owned(), 0.0.into());
        dropped.push("duration_s".to_owned());
    }
    dropped
}

/// Reads every record the inputs name (files, folders, globs).
pub fn read_records(inputs: &[String], options: ReadOptions) -> Result<Records, ReadError> {
    let mut found = Found::default();
    for input in inputs {
        expand(input, &mut found)?;
    }
    let mut out = Records {
        warnings: std::mem::take(&mut found.warnings),
        ..Records::default()
    };
    for path in found.files {
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        parse_records(&text, &path, options, &mut out)?;
        out.files.push(path);
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

    #[test]
    fn symlink_loops_in_a_records_folder_end_and_count_each_record_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.jsonl"),
            format!("{}\n", line("fid", 1.0)),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.json"), line("kid", 2.0)).unwrap();
        // Two links back to the folder: following them listed a.jsonl 41
        // times with one, and never finished with two.
        std::os::unix::fs::symlink(".", dir.path().join("l1")).unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("sub/l2")).unwrap();
        // A link to a file already read is read once.
        std::os::unix::fs::symlink("a.jsonl", dir.path().join("same.jsonl")).unwrap();
        let root = dir.path().display().to_string();
        let started = std::time::Instant::now();
        for inputs in [
            vec![root.clone()],
            vec![format!("{root}/**/*.json*")],
            vec![format!("{root}/*/*.json*"), format!("{root}/*.jsonl")],
        ] {
            let got = read_records(&inputs, ReadOptions::default()).unwrap();
            let metrics: Vec<&str> = got
                .records
                .iter()
                .map(|r| r.record.metric.as_str())
                .collect();
            assert_eq!(metrics.len(), 2, "{inputs:?}: {metrics:?}");
            assert_eq!(got.files.len(), 2, "{:?}", got.files);
            assert!(
                got.warnings
                    .iter()
                    .any(|w| w.contains("same.jsonl: the same file as")),
                "{:?}",
                got.warnings
            );
        }
        let got = read_records(&[root], ReadOptions::default()).unwrap();
        assert!(
            got.warnings
                .iter()
                .any(|w| w.contains("l1: a symbolic link to a folder, not followed")),
            "{:?}",
            got.warnings
        );
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn a_glob_does_not_cross_folders_with_a_single_star() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.jsonl"),
            format!("{}\n", line("fid", 1.0)),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/b.jsonl"),
            format!("{}\n", line("kid", 2.0)),
        )
        .unwrap();
        let root = dir.path().display().to_string();
        let got = read_records(&[format!("{root}/*.jsonl")], ReadOptions::default()).unwrap();
        assert_eq!(got.records.len(), 1);
        let got = read_records(&[format!("{root}/*/*.jsonl")], ReadOptions::default()).unwrap();
        assert_eq!(got.records[0].record.metric, "kid");
        let got = read_records(&[format!("{root}/**/*.jsonl")], ReadOptions::default()).unwrap();
        assert_eq!(got.records.len(), 2);
    }

    #[test]
    fn numbers_stored_as_null_are_read_as_missing_with_a_warning() {
        // What `kid` wrote for a NaN result before non-finite results were
        // refused: every report and gate on the file then failed.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let mut nan = ResultRecord::new("kid", "0.1.0", "2026-11-29T00:00:00Z".into());
        nan.value = Some(f64::NAN);
        nan.uncertainty = Some(f64::NAN);
        nan.interval = Some([f64::NAN, 1.0]);
        nan.set("kid_mean", f64::NAN).set("kid_subsets", 100.0);
        let nan = serde_json::to_string(&nan).unwrap();
        assert!(nan.contains("\"kid_mean\":null"), "{nan}");
        std::fs::write(&a, format!("{}\n{nan}\n", line("fid", 1.0))).unwrap();
        let got = read_records(&[a.display().to_string()], ReadOptions::default()).unwrap();
        assert_eq!(got.records.len(), 2);
        let kid = &got.records[1].record;
        assert_eq!(
            (kid.value, kid.uncertainty, kid.interval),
            (None, None, None)
        );
        assert_eq!(kid.number("kid_mean"), None);
        assert_eq!(kid.number("kid_subsets"), Some(100.0));
        assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
        assert!(
            got.warnings[0].ends_with(
                "a.jsonl:2: values.kid_mean, interval stored as null (a NaN or infinity, not a number): read as missing"
            ),
            "{}",
            got.warnings[0]
        );
    }
}
