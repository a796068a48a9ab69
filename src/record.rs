//! The result record every metric command can print (`--json`): one JSON
//! object that says what was measured, on what, how, and with which tool, so
//! that reports and gates never need to recompute anything.
//!
//! Schema `geneval.result/v1`. Fields are only ever added within a version.

use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

pub use geneval_reports::record::{InputRecord, ModelRecord, ResultRecord, SCHEMA};

/// Starts a record; [`RecordBuilder::finish`] stamps the duration.
pub struct RecordBuilder {
    record: ResultRecord,
    started: Instant,
}

impl RecordBuilder {
    /// A record for `metric`, timed from now.
    pub fn start(metric: &str) -> Self {
        Self {
            record: ResultRecord::new(metric, env!("CARGO_PKG_VERSION"), now_rfc3339()),
            started: Instant::now(),
        }
    }

    /// The record being built.
    pub fn record(&mut self) -> &mut ResultRecord {
        &mut self.record
    }

    /// Stamps the duration and returns the record.
    pub fn finish(mut self) -> ResultRecord {
        self.record.duration_s = self.started.elapsed().as_secs_f64();
        self.record.finished_at = Some(now_rfc3339());
        self.record
    }
}

/// Now, RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Why a record cannot be written where it was asked to go.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Records are only appended to `.jsonl` files, so that a mistyped
    /// `--record` (or a gate's `records` entry) never names a file of
    /// another kind, whose last line would be taken for a record.
    #[error("{path}: records are appended only to a file ending in .jsonl")]
    NotJsonl {
        /// The path given.
        path: PathBuf,
    },
    /// `--record` names a file the command reads or writes.
    #[error("--record {path} is also `{arg}` on the command line: appending would change a file the command reads or writes")]
    SameAsArgument {
        /// The records file.
        path: PathBuf,
        /// The argument naming the same file.
        arg: String,
    },
    /// The path exists but is a folder, a device or a pipe.
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file's last line is neither a record nor the start of one, so
    /// it may not be a records file at all.
    #[error("{path}: its last line (`{start}`) is not a JSON record: not appending to what may not be a records file")]
    NotRecords {
        /// The file.
        path: PathBuf,
        /// The line's first characters.
        start: String,
    },
    /// The command computed a NaN or an infinity: a record would store it
    /// as `null`, which no reader can use.
    #[error("{metric}: the result is not a finite number ({fields})")]
    NonFinite {
        /// The record's metric.
        metric: String,
        /// `value = NaN, values.kid_mean = NaN`.
        fields: String,
    },
    /// Reading or writing the file failed.
    #[error("cannot append to {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error (in the message, so not also a source).
        error: std::io::Error,
    },
}

impl RecordError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> &'static str {
        match self {
            RecordError::NotJsonl { .. } => {
                "name the records file FILE.jsonl (`--record results.jsonl`, or a gate's first `records` entry)"
            }
            RecordError::SameAsArgument { .. } => {
                "give --record a file of its own, e.g. --record results.jsonl"
            }
            RecordError::NotAFile { .. } | RecordError::NotRecords { .. } => {
                "records go to a JSONL file that geneval created or that holds only records; choose another file"
            }
            RecordError::NonFinite { .. } => {
                "no record was written: the inputs overflow f64 arithmetic (e.g. features of magnitude 1e150 or more) or hold NaN; check how they were computed"
            }
            RecordError::Io { .. } => "check the path and its permissions",
        }
    }
}

impl crate::diagnostics::Hint for RecordError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}

/// Whether `path` ends in `.jsonl` (any case).
fn is_jsonl(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"))
}

/// Refuses a records file that is not `.jsonl`, is not a regular file, or
/// is the same file (by inode, else by resolved path) as any argument of
/// the command line `args` (the program name excluded). Called before the
/// command runs, so that a metric is not computed only to be thrown away
/// and no input or output is ever appended to.
///
/// Every argument is compared, whatever its flag, so no command needs to
/// list its paths: an argument that is not a path cannot name the records
/// file. `--flag=value` and `@list` spellings are compared by their value;
/// `--record`'s own value and `--label` values are skipped.
pub fn check_record_path(path: &Path, args: &[OsString]) -> Result<(), RecordError> {
    if !is_jsonl(path) {
        return Err(RecordError::NotJsonl {
            path: path.to_owned(),
        });
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(RecordError::NotAFile {
                path: path.to_owned(),
            });
        }
    }
    let mut skip_next = false;
    for arg in args {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let text = arg.to_string_lossy();
        if text == "--record" || text == "--label" {
            skip_next = true;
            continue;
        }
        if text.starts_with("--record=") || text.starts_with("--label=") {
            continue;
        }
        let value = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => value,
            _ => text.as_ref(),
        };
        let mut candidates = vec![value];
        if let Some(list) = value.strip_prefix('@') {
            candidates.push(list);
        }
        for candidate in candidates {
            if !candidate.is_empty() && crate::fs::same_file(path, Path::new(candidate)) {
                return Err(RecordError::SameAsArgument {
                    path: path.to_owned(),
                    arg: text.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Refuses a record holding a NaN or an infinity. JSON has no such
/// numbers (serde writes `null`), so such a record could never be read
/// back as a number, and a silent `NaN ± NaN` is not a result; this is
/// checked once for every command, where the record is finished.
pub fn check_finite(record: &ResultRecord) -> Result<(), RecordError> {
    let mut bad = Vec::new();
    let mut check = |name: String, v: f64| {
        if !v.is_finite() {
            bad.push(format!("{name} = {v}"));
        }
    };
    if let Some(v) = record.value {
        check("value".into(), v);
    }
    if let Some(v) = record.uncertainty {
        check("uncertainty".into(), v);
    }
    if let Some([low, high]) = record.interval {
        check("interval low".into(), low);
        check("interval high".into(), high);
    }
    for (key, &v) in &record.values {
        check(format!("values.{key}"), v);
    }
    check("duration_s".into(), record.duration_s);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(RecordError::NonFinite {
            metric: record.metric.clone(),
            fields: bad.join(", "),
        })
    }
}

/// The longest last line [`append_record`] reads back to decide what to
/// do with it (a per-text `ppl` record with 100 000 items is ~10 MB).
const MAX_LAST_LINE: u64 = 64 << 20;

/// The bytes after the file's last newline (empty when it ends with one),
/// read backwards so that a long records file is not read whole; `None`
/// when that line is longer than [`MAX_LAST_LINE`].
fn last_line(file: &mut std::fs::File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{Seek, SeekFrom};
    let mut tail: Vec<u8> = Vec::new();
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(64 << 10);
        let mut chunk = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            chunk.drain(..=i);
            chunk.extend_from_slice(&tail);
            return Ok(Some(chunk));
        }
        chunk.extend_from_slice(&tail);
        tail = chunk;
        if tail.len() as u64 > MAX_LAST_LINE {
            return Ok(None);
        }
        end = start;
    }
    Ok(Some(tail))
}

/// Appends `record` to the JSONL file `path` (created if missing) as one
/// line written with a single `write` on a file opened for appending, so
/// concurrent writers never interleave within a line.
///
/// A last line without its newline is looked at first:
/// - a complete JSON value (a record written by hand or by another tool)
///   is kept, and the new line starts with the missing newline;
/// - the unparsable start of a JSON object is what an interrupted append
///   leaves: it is removed (returned as a warning) so that the file reads
///   cleanly again;
/// - anything else means the file may not be a records file: refused,
///   nothing written.
///
/// Only `.jsonl` files are appended to, never a folder, device or pipe.
pub fn append_record(path: &Path, record: &ResultRecord) -> Result<Option<String>, RecordError> {
    use std::fs::OpenOptions;
    let io = |error: std::io::Error| RecordError::Io {
        path: path.to_owned(),
        error,
    };
    if !is_jsonl(path) {
        return Err(RecordError::NotJsonl {
            path: path.to_owned(),
        });
    }
    let mut line = serde_json::to_vec(record).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    let existed = std::fs::symlink_metadata(path).is_ok();
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(RecordError::NotAFile {
                path: path.to_owned(),
            });
        }
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(RecordError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mut warning = None;
    let len = meta.len();
    if len > 0 {
        let not_records = |tail: &[u8]| RecordError::NotRecords {
            path: path.to_owned(),
            start: String::from_utf8_lossy(&tail[..tail.len().min(40)]).into_owned(),
        };
        let Some(tail) = last_line(&mut file, len).map_err(io)? else {
            return Err(RecordError::NotRecords {
                path: path.to_owned(),
                start: format!("a line longer than {} MiB", MAX_LAST_LINE >> 20),
            });
        };
        if !tail.is_empty() {
            if serde_json::from_slice::<serde_json::Value>(&tail).is_ok() {
                line.insert(0, b'\n');
            } else if tail.trim_ascii_start().first() == Some(&b'{') {
                file.set_len(len - tail.len() as u64).map_err(io)?;
                warning = Some(format!(
                    "{}: removed an incomplete last line ({} bytes) left by an interrupted append",
                    path.display(),
                    tail.len()
                ));
            } else {
                return Err(not_records(&tail));
            }
        }
    }
    file.write_all(&line).map_err(io)?;
    file.sync_data().map_err(io)?;
    if !existed {
        // The new file's directory entry, as `fs::write_atomically` does.
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        crate::fs::sync_folder(folder).map_err(io)?;
    }
    Ok(warning)
}

/// SHA-256 of a file, hex; `None` if it cannot be read (the caller has
/// already read it, so this only fails on a race).
pub fn file_sha256(path: &Path) -> Option<String> {
    crate::fs::sha256_file(path).ok()
}

/// SHA-256 of bytes already in memory, hex: the file's hash without a
/// second read (`stats` computes it beside the product, see there).
pub fn bytes_sha256(bytes: &[u8]) -> String {
    crate::networks::download::hex(&Sha256::digest(bytes))
}

/// An input record for a file.
pub fn input_record(
    path: &Path,
    kind: &str,
    count: Option<u64>,
    dim: Option<usize>,
) -> InputRecord {
    InputRecord {
        path: path.display().to_string(),
        kind: kind.to_owned(),
        count,
        dim,
        sha256: file_sha256(path),
        content_sha256: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            file_sha256(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn appends_lines_and_drops_an_interrupted_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut b = RecordBuilder::start("fid");
        b.record().value = Some(1.0);
        let record = b.finish();
        assert_eq!(append_record(&path, &record).unwrap(), None);
        assert_eq!(append_record(&path, &record).unwrap(), None);
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        // A crash in the middle of a third append.
        text.push_str("{\"schema\":\"gen");
        std::fs::write(&path, &text).unwrap();
        let warning = append_record(&path, &record).unwrap().unwrap();
        assert!(
            warning.contains("incomplete last line (14 bytes)"),
            "{warning}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        for line in text.lines() {
            let back: ResultRecord = serde_json::from_str(line).unwrap();
            assert_eq!(back.value, Some(1.0));
        }
    }

    fn fid_record(value: f64) -> ResultRecord {
        let mut b = RecordBuilder::start("fid");
        b.record().value = Some(value);
        b.finish()
    }

    #[test]
    fn a_valid_last_record_without_its_newline_is_kept_and_a_newline_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let first = serde_json::to_string(&fid_record(1.0)).unwrap();
        std::fs::write(&path, &first).unwrap();
        assert_eq!(append_record(&path, &fid_record(2.0)).unwrap(), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{first}\n{}\n", text.lines().nth(1).unwrap()));
        let values: Vec<Option<f64>> = text
            .lines()
            .map(|l| serde_json::from_str::<ResultRecord>(l).unwrap().value)
            .collect();
        assert_eq!(values, [Some(1.0), Some(2.0)]);
    }

    #[test]
    fn a_long_last_line_is_read_back_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut long = fid_record(1.0);
        long.warnings.push("x".repeat(200_000));
        let long = serde_json::to_string(&long).unwrap();
        let first = serde_json::to_string(&fid_record(0.5)).unwrap();
        std::fs::write(&path, format!("{first}\n{long}")).unwrap();
        assert_eq!(append_record(&path, &fid_record(2.0)).unwrap(), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(text.lines().nth(1).unwrap(), long);
        // The same long line cut short is an interrupted append.
        std::fs::write(&path, format!("{first}\n{}", &long[..150_000])).unwrap();
        let warning = append_record(&path, &fid_record(2.0)).unwrap().unwrap();
        assert!(warning.contains("(150000 bytes)"), "{warning}");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn files_that_are_not_jsonl_records_are_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let record = fid_record(1.0);
        // A .npy (no final newline), a notes file, a gate's `../notes.txt`.
        for name in ["victim.npy", "notes.txt", "r.json"] {
            let path = dir.path().join(name);
            let bytes = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}\nlast line".to_vec();
            std::fs::write(&path, &bytes).unwrap();
            let err = append_record(&path, &record).unwrap_err();
            assert!(matches!(err, RecordError::NotJsonl { .. }), "{err}");
            assert!(err.hint_text().contains(".jsonl"));
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
        }
        // A .jsonl whose last line is not the start of a record.
        let path = dir.path().join("notes.jsonl");
        std::fs::write(&path, "{\"a\": 1}\nmy notes, not JSON").unwrap();
        let err = append_record(&path, &record).unwrap_err();
        assert!(matches!(err, RecordError::NotRecords { .. }), "{err}");
        assert!(err.to_string().contains("`my notes, not JSON`"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\": 1}\nmy notes, not JSON"
        );
        // A folder named like a records file.
        let folder = dir.path().join("runs.jsonl");
        std::fs::create_dir(&folder).unwrap();
        let err = append_record(&folder, &record).unwrap_err();
        assert!(matches!(err, RecordError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn record_path_naming_an_argument_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.jsonl");
        std::fs::write(&victim, b"features").unwrap();
        let hard = dir.path().join("hard.jsonl");
        std::fs::hard_link(&victim, &hard).unwrap();
        let v = victim.display().to_string();
        let args = |list: &[&str]| -> Vec<OsString> { list.iter().map(OsString::from).collect() };
        for spelling in [
            vec!["fid", &v, "b.npy"],
            vec!["merge", "a.npz", &format!("--output={v}")],
            vec!["fid", &format!("@{v}"), "b"],
        ] {
            let err = check_record_path(&hard, &args(&spelling)).unwrap_err();
            assert!(matches!(err, RecordError::SameAsArgument { .. }), "{err}");
        }
        // An output that does not exist yet.
        let new = dir.path().join("out.jsonl");
        let n = new.display().to_string();
        let sub = format!("{}/./out.jsonl", dir.path().display());
        let err = check_record_path(&new, &args(&["ppl", "m", "t", "--output", &sub])).unwrap_err();
        assert!(err.to_string().contains("is also"), "{err}");
        // Its own value and labels are not inputs; other files are fine.
        let label = format!("note={n}");
        check_record_path(
            &new,
            &args(&[
                "fid",
                "a.npy",
                "--record",
                &n,
                "--label",
                &label,
                &format!("--record={n}"),
            ]),
        )
        .unwrap();
        let err = check_record_path(&dir.path().join("r.npz"), &args(&["fid"])).unwrap_err();
        assert!(matches!(err, RecordError::NotJsonl { .. }), "{err}");
    }

    #[test]
    fn non_finite_results_are_refused_naming_the_numbers() {
        let mut record = fid_record(1.0);
        check_finite(&record).unwrap();
        record.metric = "kid".into();
        record.value = Some(f64::NAN);
        record.uncertainty = Some(f64::INFINITY);
        record.set("kid_mean", f64::NAN).set("kid_subsets", 100.0);
        let err = check_finite(&record).unwrap_err().to_string();
        assert_eq!(
            err,
            "kid: the result is not a finite number (value = NaN, uncertainty = inf, values.kid_mean = NaN)"
        );
    }

    #[test]
    fn record_serialises_with_schema() {
        let mut b = RecordBuilder::start("fid");
        b.record().set("fid", 1.5).value = Some(1.5);
        let json = serde_json::to_value(b.finish()).unwrap();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["values"]["fid"], 1.5);
    }
}
