//! The result record every metric command can print (`--json`): one JSON
//! object that says what was measured, on what, how, and with which tool, so
//! that reports and gates never need to recompute anything.
//!
//! Schema `geneval.result/v1`. Fields are only ever added within a version.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
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

/// Appends `record` to the JSONL file `path` (created if missing) as one
/// line written with a single `write` on a file opened for appending, so
/// concurrent writers never interleave within a line. A last line without
/// its newline is what an interrupted append leaves: it is removed first
/// (returned as a warning) so the new line starts on a line of its own.
pub fn append_record(path: &Path, record: &ResultRecord) -> std::io::Result<Option<String>> {
    use std::fs::OpenOptions;
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    let mut warning = None;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut existing = Vec::new();
        file.read_to_end(&mut existing)?;
        if existing.last() != Some(&b'\n') {
            let keep = existing
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            file.set_len(keep as u64)?;
            warning = Some(format!(
                "{}: removed an incomplete last line ({} bytes) left by an interrupted append",
                path.display(),
                existing.len() - keep
            ));
        }
    }
    file.write_all(&line)?;
    file.sync_data()?;
    Ok(warning)
}

/// SHA-256 of a file, hex; `None` if it cannot be read (the caller has
/// already read it, so this only fails on a race).
pub fn file_sha256(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
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

    #[test]
    fn record_serialises_with_schema() {
        let mut b = RecordBuilder::start("fid");
        b.record().set("fid", 1.5).value = Some(1.5);
        let json = serde_json::to_value(b.finish()).unwrap();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["values"]["fid"], 1.5);
    }
}
