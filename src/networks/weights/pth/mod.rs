//! Reading PyTorch `.pth` state dicts without Python, safely; and writing them
//! (for tests that need a pytorch-fid-format file without torch).
//!
//! # Formats
//!
//! Both formats `torch.save` writes are read:
//!
//! - **zip** (torch ≥ 1.6, the default): a STORED zip archive whose entries
//!   share a prefix (`<name>/`): `data.pkl` (the pickled object), `data/<key>`
//!   (one raw little-endian record per storage), `version`, and from torch 2.x
//!   `byteorder`, `.format_version`, `.storage_alignment`,
//!   `.data/serialization_id`. Records are read through the zip reader (any
//!   alignment, STORED or deflated, CRC-checked).
//! - **legacy** (`_use_new_zipfile_serialization=False`, torch < 1.6): pickles
//!   in a row: the magic number `0x1950a86a20f9469cfc6c`, the protocol version
//!   1001, a `sys_info` dict, the object, the list of storage keys; then per
//!   key an u64 element count and the raw bytes.
//!
//! The pickled object must be a dict (`OrderedDict`) of name → tensor, as
//! `model.state_dict()` makes. Tensors are persistent-id storages rebuilt by
//! `torch._utils._rebuild_tensor_v2` (also `_rebuild_tensor`,
//! `_rebuild_tensor_v3`, `_rebuild_parameter[_with_state]`); torch 2.x pickles
//! a state dict with protocol 2 using `PROTO, GLOBAL, BINPUT/BINGET,
//! EMPTY_TUPLE, REDUCE, MARK, BINUNICODE, TUPLE/TUPLE1/TUPLE2, BINPERSID,
//! BININT1/BININT2/BININT/LONG1, NEWFALSE/NEWTRUE, SETITEMS, EMPTY_DICT,
//! SETITEM, BUILD, STOP` and, with `pickle_protocol=4`, `FRAME, MEMOIZE,
//! SHORT_BINUNICODE, STACK_GLOBAL`.
//!
//! # Safety
//!
//! The unpickler (`pickle.rs`) is a closed stack machine: it imports nothing
//! and calls nothing, accepts only the globals above plus the
//! `torch.*Storage` classes, `torch.storage.UntypedStorage` and `torch.<dtype>`
//! objects, and refuses anything else with [`PthError::ForbiddenGlobal`]
//! (naming it) before it could be called; `INST`, `OBJ`, `NEWOBJ`, `EXT*` and
//! protocol 0 text opcodes give [`PthError::UnsupportedOpcode`]. `BUILD` is
//! accepted only on a dict (the `_metadata` attribute of a state dict) and
//! ignored. Every length, offset, shape and stride is checked against the
//! input and the storage; [`Limits`] caps the float32 values produced (a
//! stride-0 view could otherwise ask for terabytes), storage sizes, pickle
//! nesting and memo size. No input panics.
//!
//! # Tensors
//!
//! Values come out C-contiguous, honouring shape, stride and storage offset
//! (views, transposes, storages shared between tensors, stride 0). float64
//! is rounded to float32 (nearest-even, as numpy's `astype(np.float32)`);
//! float16 and bfloat16 widen exactly; a `torch._neg_view`'s neg bit is
//! applied. Every other dtype (int64 `num_batches_tracked`, int, bool,
//! complex, float8) is left out of the [`StateDict`] and listed in
//! [`PthContents::skipped`]; callers that need a tensor find it missing.

mod error;
mod legacy;
mod pickle;
pub(crate) mod tensor;
mod writer;
mod zip_format;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use error::PthError;
pub use writer::{write_state_dict, write_state_dict_zip};

use super::state_dict::{StateDict, TensorF32};
use pickle::{PickleError, Pickled, Value};
use tensor::{StorageRef, TensorRef, ViewError};

/// Caps that keep a hostile file from exhausting memory or the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Float32 values produced, all tensors together (default 2^30: 4 GiB;
    /// pytorch-fid's Inception has 23.9 million).
    pub max_elements: u64,
    /// Bytes of one storage record (default 8 GiB); a zip record is also
    /// read no further than its storage's size as the pickle declares it.
    pub max_storage_bytes: u64,
    /// Bytes of the pickle (`data.pkl`; default 64 MiB: pytorch-fid's is
    /// 30 KB), read before any storage size is known, so that a deflated
    /// `data.pkl` cannot inflate to `max_storage_bytes`.
    pub max_pickle_bytes: u64,
    /// Pickle memo entries (default 2^22).
    pub max_memo: usize,
    /// Pickle nesting: tuples inside tuples, and open MARKs (default 64;
    /// a state dict needs 3).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements: 1 << 30,
            max_storage_bytes: 8 << 30,
            max_pickle_bytes: 64 << 20,
            max_memo: 1 << 22,
            max_depth: 64,
        }
    }
}

/// Which of torch's two formats a file used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PthFormat {
    /// The zip archive of torch ≥ 1.6.
    Zip,
    /// The legacy pickle stream (`_use_new_zipfile_serialization=False`).
    Legacy,
}

/// A tensor of a dtype geneval does not convert, left out of the state dict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedTensor {
    /// Its name (`Mixed_5b.branch1x1.bn.num_batches_tracked`).
    pub name: String,
    /// torch's dtype name (`int64`).
    pub dtype: String,
    /// Its shape.
    pub shape: Vec<usize>,
}

/// Everything read from a `.pth` file.
#[derive(Debug, Clone, PartialEq)]
pub struct PthContents {
    /// The floating-point tensors, as float32.
    pub tensors: StateDict,
    /// The other tensors (integer, bool, complex, float8), by name.
    pub skipped: Vec<SkippedTensor>,
    /// The file's format.
    pub format: PthFormat,
}

/// Reads the float tensors of a `.pth` state dict with the default [`Limits`].
pub fn read_state_dict(path: &Path) -> Result<StateDict, PthError> {
    Ok(read_pth(path, &Limits::default())?.tensors)
}

/// [`read_state_dict`] from bytes already in memory; `name` is the file named in errors.
pub fn read_state_dict_bytes(bytes: &[u8], name: &Path) -> Result<StateDict, PthError> {
    Ok(read_pth_bytes(bytes, name, &Limits::default())?.tensors)
}

/// Reads a `.pth` file: its float tensors and what was skipped.
pub fn read_pth(path: &Path, limits: &Limits) -> Result<PthContents, PthError> {
    let bytes = std::fs::read(path).map_err(|source| PthError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_pth_bytes(&bytes, path, limits)
}

/// [`read_pth`] from bytes already in memory; `name` is the file named in errors.
pub fn read_pth_bytes(bytes: &[u8], name: &Path, limits: &Limits) -> Result<PthContents, PthError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        zip_format::read(bytes, name, limits)
    } else if bytes.get(257..262) == Some(b"ustar") {
        Err(PthError::UnsupportedFormat {
            path: name.to_owned(),
            reason: "a tar archive (the format of torch before 0.4)".into(),
        })
    } else {
        legacy::read(bytes, name, limits)
    }
}

/// The file's error for a failed pickle, `part` saying which one.
fn pickle_error(path: &Path, part: &str, e: PickleError) -> PthError {
    let (path, part_s) = (path.to_owned(), part.to_owned());
    match e {
        PickleError::Truncated { offset } => PthError::Truncated {
            path,
            what: format!("{part} stops at byte {offset}, before its end"),
        },
        PickleError::Malformed { offset, reason } => PthError::Pickle {
            path,
            part: part_s,
            offset,
            reason,
        },
        PickleError::Opcode { offset, opcode } => PthError::UnsupportedOpcode {
            path,
            part: part_s,
            offset,
            opcode,
            name: pickle::opcode_name(opcode),
        },
        PickleError::Global { global } => PthError::ForbiddenGlobal {
            path,
            part: part_s,
            global,
        },
        PickleError::Limit { what, limit } => PthError::LimitExceeded {
            path,
            what: format!("{what} in {part}"),
            limit,
        },
    }
}

/// The state dict's tensors by name (a repeated name: the last one, as in Python).
fn top_level_tensors(
    path: &Path,
    pickled: &Pickled,
) -> Result<BTreeMap<String, Rc<TensorRef>>, PthError> {
    let not_sd = |reason: String| PthError::NotAStateDict {
        path: path.to_owned(),
        reason,
    };
    let Value::Dict(id) = pickled.root else {
        return Err(not_sd(format!(
            "the pickled object is a {}, not a dict of tensors",
            pickled.root.type_name()
        )));
    };
    let mut out = BTreeMap::new();
    for (key, value) in &pickled.arena.dicts[id] {
        let Value::Str(name) = key else {
            return Err(not_sd(format!(
                "a key is a {}, not a string",
                key.type_name()
            )));
        };
        match value {
            Value::Tensor(t) => {
                out.insert(name.to_string(), t.clone());
            }
            Value::Dict(_) => {
                return Err(not_sd(format!(
                    "entry '{name}' is a dict, not a tensor (a training checkpoint? its '{name}' entry may be the state dict)"
                )))
            }
            other => {
                return Err(not_sd(format!(
                    "entry '{name}' is a {}, not a tensor",
                    other.type_name()
                )))
            }
        }
    }
    Ok(out)
}

/// Turns the pickle's tensors into float32 arrays, reading each storage once
/// through `load` (which returns the storage's whole record).
fn build<'a>(
    path: &Path,
    pickled: &Pickled,
    limits: &Limits,
    format: PthFormat,
    mut load: impl FnMut(&StorageRef) -> Result<Cow<'a, [u8]>, PthError>,
) -> Result<PthContents, PthError> {
    let tensors = top_level_tensors(path, pickled)?;
    let mut by_storage: BTreeMap<Rc<str>, Vec<(&String, &Rc<TensorRef>)>> = BTreeMap::new();
    for (name, t) in &tensors {
        by_storage
            .entry(t.storage.key.clone())
            .or_default()
            .push((name, t));
    }
    let mut budget = limits.max_elements;
    let mut out = PthContents {
        tensors: StateDict::new(),
        skipped: Vec::new(),
        format,
    };
    for (key, users) in by_storage {
        let record = load(&users[0].1.storage)?;
        for (name, t) in users {
            let window = tensor::storage_window(&t.storage, &record).map_err(|reason| {
                PthError::StorageSize {
                    path: path.to_owned(),
                    storage: key.to_string(),
                    reason,
                }
            })?;
            let layout = tensor::check_layout(t, window.len()).map_err(|e| match e {
                ViewError::OutOfBounds(reason) => PthError::OutOfBounds {
                    path: path.to_owned(),
                    tensor: name.clone(),
                    reason,
                },
                ViewError::Unsupported(reason) => PthError::UnsupportedTensor {
                    path: path.to_owned(),
                    tensor: name.clone(),
                    reason,
                },
                ViewError::Limit { numel } => too_many(path, name, numel, limits),
            })?;
            if !t.dtype.is_float() {
                out.skipped.push(SkippedTensor {
                    name: name.clone(),
                    dtype: t.dtype.name().to_owned(),
                    shape: layout.shape,
                });
                continue;
            }
            let numel = layout.numel as u64;
            budget = budget
                .checked_sub(numel)
                .ok_or_else(|| too_many(path, name, numel, limits))?;
            let data = tensor::gather_f32(t, &layout, window);
            out.tensors.insert(
                name.clone(),
                TensorF32 {
                    shape: layout.shape,
                    data,
                },
            );
        }
    }
    out.skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn too_many(path: &Path, name: &str, numel: u64, limits: &Limits) -> PthError {
    let numel = if numel == u64::MAX {
        "more than 2^64".to_owned()
    } else {
        numel.to_string()
    };
    PthError::LimitExceeded {
        path: PathBuf::from(path),
        what: format!("the count of float32 values, all tensors together (tensor `{name}` alone has {numel}),"),
        limit: limits.max_elements,
    }
}
