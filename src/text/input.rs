//! Reading texts from files: a corpus (the whole file) or one text per
//! line / per JSONL record.

use std::path::Path;

use serde_json::Value;

use super::{text_from_bytes, TextError};

/// The most bytes of a model's `tokenizer.json` or `config.json` that are
/// read into memory. The largest tokenizers published (256k-token
/// vocabularies with their merges) are under 40 MiB and configs are a few
/// KiB; a larger file is a mistake (or `/dev/zero` behind a link), refused
/// before memory is reserved for it.
pub(super) const MODEL_FILE_LIMIT: u64 = 256 << 20;

/// A text file's bytes. Corpora are legitimately large, so there is no size
/// cap, but only regular files are read: `/dev/zero` (or a link to it named
/// `corpus.txt`) never ends and would fill memory, and opening a FIFO blocks
/// until something writes to it.
fn read(path: &Path) -> Result<Vec<u8>, TextError> {
    crate::fs::read::read_regular_limited(path, None).map_err(|e| TextError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The whole file as one text; errors when empty or not UTF-8 (with the
/// offset of the first bad byte).
pub fn read_corpus(path: &Path) -> Result<String, TextError> {
    let bytes = read(path)?;
    Ok(text_from_bytes(&bytes, &path.display().to_string())?.to_owned())
}

/// Whether a file holds JSON lines (by its extension).
pub fn is_jsonl(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
}

/// The texts of a file: `field` of each non-blank line of a `.jsonl` file,
/// or every line of any other file (blank lines are empty texts, which the
/// caller skips and counts; a final newline does not add one).
pub fn read_texts(path: &Path, field: &str) -> Result<Vec<String>, TextError> {
    let bytes = read(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| TextError::NotUtf8 {
        source_name: path.display().to_string(),
        offset: e.valid_up_to(),
    })?;
    let lines = text.lines();
    if !is_jsonl(path) {
        return Ok(lines.map(str::to_owned).collect());
    }
    let mut texts = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| TextError::BadJsonl {
            path: path.to_owned(),
            line: i + 1,
            message,
        };
        let value: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        match value.get(field) {
            Some(Value::String(s)) => texts.push(s.clone()),
            Some(other) => {
                return Err(bad(format!(
                    "`{field}` is {}, not a string",
                    match other {
                        Value::Null => "null",
                        Value::Bool(_) => "a boolean",
                        Value::Number(_) => "a number",
                        Value::Array(_) => "an array",
                        Value::Object(_) => "an object",
                        Value::String(_) => unreachable!(),
                    }
                )))
            }
            None => return Err(bad(format!("no `{field}` field"))),
        }
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jsonl_and_plain_lines() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("t.jsonl");
        std::fs::write(
            &jsonl,
            "{\"text\": \"a b\"}\n\n{\"text\": \"c\\nd\", \"x\": 1}\n",
        )
        .unwrap();
        assert_eq!(read_texts(&jsonl, "text").unwrap(), ["a b", "c\nd"]);
        let err = read_texts(&jsonl, "body").unwrap_err().to_string();
        assert!(err.contains("t.jsonl:1: no `body` field"), "{err}");
        std::fs::write(&jsonl, "{\"text\": 3}\n").unwrap();
        let err = read_texts(&jsonl, "text").unwrap_err().to_string();
        assert!(err.contains("a number"), "{err}");
        std::fs::write(&jsonl, "{\"text\": \"ok\"}\nnot json\n").unwrap();
        let err = read_texts(&jsonl, "text").unwrap_err().to_string();
        assert!(err.contains("t.jsonl:2:"), "{err}");
        let plain = dir.path().join("t.txt");
        std::fs::write(&plain, "one\r\n\ntwo\n").unwrap();
        assert_eq!(read_texts(&plain, "text").unwrap(), ["one", "", "two"]);
        std::fs::write(&plain, b"ok\n\xff").unwrap();
        let err = read_texts(&plain, "text").unwrap_err().to_string();
        assert!(err.contains("offset 3"), "{err}");
        std::fs::write(&plain, b"").unwrap();
        assert!(read_corpus(&plain).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_corpus_linked_to_dev_zero_or_a_folder_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("corpus.txt");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        for err in [
            read_corpus(&zero).unwrap_err(),
            read_texts(&zero, "text").unwrap_err(),
            read_corpus(dir.path()).unwrap_err(),
        ] {
            let err = err.to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        assert!(read_corpus(&zero)
            .unwrap_err()
            .to_string()
            .contains("corpus.txt: it is a device"));
    }
}
