//! torch's legacy format (`_use_new_zipfile_serialization=False`, the default
//! before torch 1.6): five pickles in a row, then the storages' bytes.
//!
//! ```text
//! pickle  0x1950a86a20f9469cfc6c          magic number
//! pickle  1001                            protocol version
//! pickle  {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}
//! pickle  the object; storages are persistent ids
//!         ('storage', torch.FloatStorage, key, location, numel, view_metadata)
//! pickle  [key, ...]                      sorted storage keys
//! per key: u64 element count (little-endian), then count × element size bytes
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use super::pickle::{self, Pickled, Value};
use super::{build, pickle_error, Limits, PthContents, PthError, PthFormat};

/// `torch.serialization.MAGIC_NUMBER`, as LONG1's little-endian bytes.
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// `torch.serialization.PROTOCOL_VERSION`.
const PROTOCOL_VERSION: i64 = 1001;

/// Reads a legacy-format `.pth` held in `bytes`.
pub(crate) fn read(bytes: &[u8], path: &Path, limits: &Limits) -> Result<PthContents, PthError> {
    let not_pth = |reason: &str| PthError::NotPth {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.is_empty() {
        return Err(not_pth("the file is empty"));
    }
    // The magic pickle as torch writes it (protocol 2): PROTO 2, LONG1 10 bytes, STOP.
    let magic_pickle = [&[0x80, 0x02, 0x8a, 0x0a][..], &MAGIC, b"."].concat();
    let magic = match pickle::unpickle(bytes, 0, limits) {
        Ok(p) => p,
        Err(_) if magic_pickle.starts_with(bytes) => {
            return Err(PthError::Truncated {
                path: path.to_owned(),
                what: "the file stops inside the magic number".into(),
            })
        }
        Err(_) => {
            return Err(not_pth(
                "neither a zip archive nor a legacy torch.save stream (no pickled magic number at the start)",
            ))
        }
    };
    if !matches!(&magic.root, Value::BigInt(b) if b[..] == MAGIC) {
        return Err(not_pth(
            "the first pickle is not torch's magic number 0x1950a86a20f9469cfc6c",
        ));
    }

    let part = |name: &str| format!("the legacy stream's {name}");
    let load = |start: usize, name: &str| -> Result<Pickled, PthError> {
        pickle::unpickle(bytes, start, limits).map_err(|e| pickle_error(path, &part(name), e))
    };
    let version = load(magic.end, "protocol version")?;
    if !matches!(version.root, Value::Int(PROTOCOL_VERSION)) {
        return Err(PthError::UnsupportedFormat {
            path: path.to_owned(),
            reason: format!(
                "legacy protocol version {:?}, expected {PROTOCOL_VERSION}",
                version.root
            ),
        });
    }
    let sys_info = load(version.end, "sys_info")?;
    if let Value::Dict(id) = sys_info.root {
        let little = sys_info.arena.dicts[id]
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if &**s == "little_endian"));
        if let Some((_, Value::Bool(false))) = little {
            return Err(PthError::UnsupportedFormat {
                path: path.to_owned(),
                reason: "written on a big-endian machine".into(),
            });
        }
    }
    let object = load(sys_info.end, "object pickle")?;
    let keys = load(object.end, "storage key list")?;
    let key_list = match keys.root {
        Value::List(id) => &keys.arena.lists[id],
        ref other => {
            return Err(PthError::Pickle {
                path: path.to_owned(),
                part: part("storage key list"),
                offset: object.end,
                reason: format!("the storage key list is a {}", other.type_name()),
            })
        }
    };

    let mut records: HashMap<Rc<str>, &[u8]> = HashMap::new();
    let mut pos = keys.end;
    for key in key_list {
        let key: Rc<str> = match key {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string().into(),
            other => {
                return Err(PthError::Pickle {
                    path: path.to_owned(),
                    part: part("storage key list"),
                    offset: object.end,
                    reason: format!("a storage key is a {}", other.type_name()),
                })
            }
        };
        let size_error = |reason: String| PthError::StorageSize {
            path: path.to_owned(),
            storage: key.to_string(),
            reason,
        };
        // The element size is the storage class's (the first persistent id naming the key).
        let storage = object.storages.get(&key).ok_or_else(|| {
            size_error(
                "is in the storage list but no tensor names it (its element size is unknown)"
                    .into(),
            )
        })?;
        let count = bytes
            .get(pos..pos + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
            .ok_or_else(|| PthError::Truncated {
                path: path.to_owned(),
                what: format!("before the size of storage `{key}` (byte {pos})"),
            })?;
        if count != storage.numel {
            return Err(size_error(format!(
                "its data holds {count} elements, the pickle declared {}",
                storage.numel
            )));
        }
        let start = pos + 8;
        let remaining = bytes.len() - start;
        let nbytes = count
            .checked_mul(storage.dtype.size() as u64)
            .filter(|&n| n <= remaining as u64)
            .ok_or_else(|| PthError::Truncated {
                path: path.to_owned(),
                what: format!(
                    "storage `{key}` needs {count} {} elements, only {remaining} bytes remain",
                    storage.dtype.name()
                ),
            })? as usize;
        records.insert(key, &bytes[start..start + nbytes]);
        pos = start + nbytes;
    }

    build(path, &object, limits, PthFormat::Legacy, |storage| {
        records
            .get(&storage.key)
            .map(|r| Cow::Borrowed(*r))
            .ok_or_else(|| PthError::MissingRecord {
                path: path.to_owned(),
                record: format!("storage `{}` (not in the legacy storage list)", storage.key),
            })
    })
}
