//! torch's zip format (torch ≥ 1.6): `<name>/data.pkl` and one
//! `<name>/data/<key>` record per storage.

use std::borrow::Cow;
use std::io::{Cursor, Read};
use std::path::Path;

use zip::ZipArchive;

use super::{build, pickle, pickle_error, Limits, PthContents, PthError, PthFormat};

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// Reads a zip-format `.pth` held in `bytes`.
pub(crate) fn read(bytes: &[u8], path: &Path, limits: &Limits) -> Result<PthContents, PthError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| PthError::Zip {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    // Like torch's reader: every record sits under the first entry's folder.
    let prefix = match archive.name_for_index(0).and_then(|n| n.split_once('/')) {
        Some((prefix, _)) => prefix.to_owned(),
        None => {
            return Err(PthError::MissingRecord {
                path: path.to_owned(),
                record: "<name>/data.pkl".into(),
            })
        }
    };
    let has = |archive: &Archive, name: &str| archive.index_for_name(name).is_some();
    if has(&archive, &format!("{prefix}/constants.pkl"))
        || archive
            .file_names()
            .any(|n| n.starts_with(&format!("{prefix}/code/")))
    {
        return Err(PthError::UnsupportedFormat {
            path: path.to_owned(),
            reason: "a TorchScript archive (torch.jit.save), not a state dict".into(),
        });
    }
    let byteorder = format!("{prefix}/byteorder");
    if has(&archive, &byteorder) {
        let order = read_record(&mut archive, &byteorder, path, bytes.len(), 64)?;
        if order != b"little" {
            return Err(PthError::UnsupportedFormat {
                path: path.to_owned(),
                reason: format!(
                    "byte order `{}` (only little-endian files are read)",
                    String::from_utf8_lossy(&order)
                ),
            });
        }
    }
    let pkl_name = format!("{prefix}/data.pkl");
    let pkl = read_record(
        &mut archive,
        &pkl_name,
        path,
        bytes.len(),
        limits.max_storage_bytes,
    )?;
    let pickled =
        pickle::unpickle(&pkl, 0, limits).map_err(|e| pickle_error(path, &pkl_name, e))?;
    build(path, &pickled, limits, PthFormat::Zip, |storage| {
        let name = format!("{prefix}/data/{}", storage.key);
        read_record(
            &mut archive,
            &name,
            path,
            bytes.len(),
            limits.max_storage_bytes,
        )
        .map(Cow::Owned)
    })
}

/// A whole record, CRC-checked, of at most `max` bytes.
fn read_record(
    archive: &mut Archive,
    name: &str,
    path: &Path,
    file_len: usize,
    max: u64,
) -> Result<Vec<u8>, PthError> {
    let zip_error = |reason: String| PthError::Zip {
        path: path.to_owned(),
        reason: format!("record `{name}`: {reason}"),
    };
    let index = archive
        .index_for_name(name)
        .ok_or_else(|| PthError::MissingRecord {
            path: path.to_owned(),
            record: name.to_owned(),
        })?;
    let file = archive
        .by_index(index)
        .map_err(|e| zip_error(e.to_string()))?;
    let size = file.size();
    if size > max {
        return Err(PthError::LimitExceeded {
            path: path.to_owned(),
            what: format!("record `{name}` ({size} bytes)"),
            limit: max,
        });
    }
    if file.compression() == zip::CompressionMethod::Stored && size > file_len as u64 {
        return Err(PthError::Truncated {
            path: path.to_owned(),
            what: format!("record `{name}` declares {size} bytes, more than the whole file"),
        });
    }
    // Stored records fit in the file; a deflated one is read as it comes.
    let capacity = size.min(file_len as u64).saturating_add(1) as usize;
    let mut out = Vec::with_capacity(capacity);
    // One byte more than declared: a longer stream is an error, and reaching
    // the end of the record is what makes the zip reader check the CRC.
    file.take(size.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| zip_error(e.to_string()))?;
    if out.len() as u64 != size {
        return Err(zip_error(format!(
            "holds {} bytes, its header says {size}",
            out.len()
        )));
    }
    Ok(out)
}
