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
        limits.max_pickle_bytes,
    )?;
    let pickled =
        pickle::unpickle(&pkl, 0, limits).map_err(|e| pickle_error(path, &pkl_name, e))?;
    build(path, &pickled, limits, PthFormat::Zip, |storage| {
        let name = format!("{prefix}/data/{}", storage.key);
        // The pickle says how many bytes the storage has; torch writes its
        // record at exactly that size. A record declared (or inflating)
        // longer is read no further than that: a 1 MB file whose deflated
        // `data/0` inflates to 1 GiB must not make us hold 1 GiB.
        let declared = storage.nbytes().unwrap_or(u64::MAX);
        let record = read_record(
            &mut archive,
            &name,
            path,
            bytes.len(),
            limits.max_storage_bytes.min(declared),
        );
        match record {
            Err(PthError::LimitExceeded { what, .. }) if declared < limits.max_storage_bytes => {
                Err(PthError::StorageSize {
                    path: path.to_owned(),
                    storage: storage.key.to_string(),
                    reason: format!(
                        "{what} is longer than the {declared} bytes its {} {} elements need",
                        storage.numel,
                        storage.dtype.name()
                    ),
                })
            }
            other => other.map(Cow::Owned),
        }
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
    if out.len() as u64 > max {
        return Err(PthError::LimitExceeded {
            path: path.to_owned(),
            what: format!("record `{name}` (more than {max} bytes once inflated)"),
            limit: max,
        });
    }
    if out.len() as u64 != size {
        return Err(zip_error(format!(
            "holds {} bytes, its header says {size}",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{read_pth_bytes, write_state_dict_zip, Limits, PthError};
    use crate::networks::weights::state_dict::{StateDict, TensorF32};
    use std::io::{Cursor, Read, Write};
    use std::path::Path;
    use zip::write::SimpleFileOptions;

    /// A one-tensor state dict (`w`: 6 float32) in torch's zip format, with
    /// `extra` zero bytes appended to the record named `target`, deflated.
    fn with_padding(target: &str, extra: usize) -> Vec<u8> {
        let mut dict = StateDict::new();
        dict.insert("w".into(), TensorF32::new(vec![6], vec![1.0; 6]).unwrap());
        let plain = write_state_dict_zip(&dict, Cursor::new(Vec::new()), "m")
            .unwrap()
            .into_inner();
        let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..archive.len() {
            let mut record = archive.by_index(i).unwrap();
            let name = record.name().to_owned();
            let mut data = Vec::new();
            record.read_to_end(&mut data).unwrap();
            let method = if name == target {
                data.resize(data.len() + extra, 0);
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = SimpleFileOptions::default().compression_method(method);
            out.start_file(name.as_str(), options).unwrap();
            out.write_all(&data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_deflated_storage_bomb_is_read_no_further_than_the_pickle_declares() {
        // Was: a 1 MB file whose `data/0` inflated to 1 GiB held 1.06 GB.
        let bytes = with_padding("m/data/0", 16 << 20);
        assert!(bytes.len() < 1 << 16, "{} bytes", bytes.len());
        let started = std::time::Instant::now();
        let error = read_pth_bytes(&bytes, Path::new("bomb.pth"), &Limits::default()).unwrap_err();
        assert!(
            started.elapsed().as_secs_f64() < 0.5,
            "{:?}",
            started.elapsed()
        );
        match &error {
            PthError::StorageSize {
                storage, reason, ..
            } => {
                assert_eq!(storage, "0");
                assert!(
                    reason.contains("24 bytes its 6 float32 elements need"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("bomb.pth"), "{error}");
        // The same record at its declared size reads.
        let fine = with_padding("m/data/0", 0);
        let contents = read_pth_bytes(&fine, Path::new("ok.pth"), &Limits::default()).unwrap();
        assert_eq!(contents.tensors["w"].data, [1.0; 6]);
    }

    #[test]
    fn a_deflated_pickle_bomb_stops_at_the_pickle_limit() {
        let bytes = with_padding("m/data.pkl", 16 << 20);
        let limits = Limits {
            max_pickle_bytes: 1 << 20,
            ..Limits::default()
        };
        let error = read_pth_bytes(&bytes, Path::new("pkl.pth"), &limits).unwrap_err();
        assert!(
            matches!(error, PthError::LimitExceeded { limit, .. } if limit == 1 << 20),
            "{error:?}"
        );
        assert!(error.to_string().contains("data.pkl"), "{error}");
    }
}
