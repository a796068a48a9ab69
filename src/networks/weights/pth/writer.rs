//! Writing a state dict the way `torch.save(state_dict, path)` does (zip
//! format, pickle protocol 2, float32 storages), so tests can make a
//! pytorch-fid-format file without torch. `torch.load` reads the result.

use std::io::{Seek, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::PthError;
use crate::networks::weights::state_dict::StateDict;

/// torch's record alignment (`.storage_alignment`).
const ALIGNMENT: u16 = 64;

/// Writes `dict` to `path` in torch's zip format, atomically (a temporary file
/// in the same folder, renamed). The archive's folder is the file stem, as
/// `torch.save` names it.
pub fn write_state_dict(dict: &StateDict, path: &Path) -> Result<(), PthError> {
    let error = |reason: String| PthError::Write {
        path: path.to_owned(),
        reason,
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .unwrap_or("archive");
    let tmp = tempfile::NamedTempFile::new_in(folder).map_err(|e| error(e.to_string()))?;
    let file = write_zip(dict, std::io::BufWriter::new(tmp), name).map_err(error)?;
    let tmp = file.into_inner().map_err(|e| error(e.to_string()))?;
    tmp.as_file().sync_all().map_err(|e| error(e.to_string()))?;
    tmp.persist(path).map_err(|e| error(e.to_string()))?;
    Ok(())
}

/// Writes `dict` in torch's zip format to `writer`, with its records under
/// `archive_name/`; returns the writer.
pub fn write_state_dict_zip<W: Write + Seek>(
    dict: &StateDict,
    writer: W,
    archive_name: &str,
) -> Result<W, PthError> {
    write_zip(dict, writer, archive_name).map_err(|reason| PthError::Write {
        path: archive_name.into(),
        reason,
    })
}

fn write_zip<W: Write + Seek>(dict: &StateDict, writer: W, name: &str) -> Result<W, String> {
    for (key, t) in dict {
        if t.shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s)) != Some(t.data.len()) {
            return Err(format!(
                "tensor `{key}` has {} values for shape {:?}",
                t.data.len(),
                t.shape
            ));
        }
    }
    let mut zip = ZipWriter::new(writer);
    let options = |size: usize| {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .with_alignment(ALIGNMENT)
            .large_file(size as u64 >= u32::MAX as u64)
    };
    let add = |zip: &mut ZipWriter<W>,
               record: &str,
               parts: &mut dyn Iterator<Item = Vec<u8>>,
               size: usize| {
        zip.start_file(format!("{name}/{record}"), options(size))
            .map_err(|e| e.to_string())?;
        for part in parts {
            zip.write_all(&part).map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    };
    let pkl = data_pkl(dict);
    add(
        &mut zip,
        "data.pkl",
        &mut std::iter::once(pkl.clone()),
        pkl.len(),
    )?;
    add(
        &mut zip,
        ".format_version",
        &mut std::iter::once(b"1".to_vec()),
        1,
    )?;
    add(
        &mut zip,
        ".storage_alignment",
        &mut std::iter::once(b"64".to_vec()),
        2,
    )?;
    add(
        &mut zip,
        "byteorder",
        &mut std::iter::once(b"little".to_vec()),
        6,
    )?;
    for (i, t) in dict.values().enumerate() {
        // In chunks, so a large tensor is not copied whole.
        let mut chunks = t
            .data
            .chunks(1 << 16)
            .map(|c| c.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>());
        add(
            &mut zip,
            &format!("data/{i}"),
            &mut chunks,
            t.data.len() * 4,
        )?;
    }
    add(
        &mut zip,
        "version",
        &mut std::iter::once(b"3\n".to_vec()),
        2,
    )?;
    zip.finish().map_err(|e| e.to_string())
}

/// The pickle `torch.save` writes for an `OrderedDict` of float32 tensors
/// (protocol 2, memoized globals; storage keys `"0"`, `"1"`, ... in name order).
fn data_pkl(dict: &StateDict) -> Vec<u8> {
    let mut p = Pickler::default();
    p.out.extend([0x80, 2]);
    p.global(b"collections\nOrderedDict\n", 0);
    p.out.extend([b')', b'R', b'(']);
    for (i, (key, t)) in dict.iter().enumerate() {
        p.unicode(key);
        p.global(b"torch._utils\n_rebuild_tensor_v2\n", 1);
        p.out.extend([b'(', b'(']);
        p.unicode("storage");
        p.global(b"torch\nFloatStorage\n", 2);
        p.unicode(&i.to_string());
        p.unicode("cpu");
        p.int(t.data.len());
        p.out.extend([b't', b'Q']);
        p.int(0);
        p.tuple(&t.shape);
        p.tuple(&contiguous_strides(&t.shape));
        p.out.push(0x89); // requires_grad=False
        p.global(b"collections\nOrderedDict\n", 0); // backward hooks: OrderedDict()
        p.out.extend([b')', b'R', b't', b'R']);
    }
    p.out.extend([b'u', b'.']);
    p.out
}

/// torch's strides of a contiguous tensor (sizes 0 count as 1).
fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1].max(1);
    }
    strides
}

#[derive(Default)]
struct Pickler {
    out: Vec<u8>,
    memo: [bool; 3],
}

impl Pickler {
    /// GLOBAL the first time (then BINPUT `slot`), BINGET after.
    fn global(&mut self, text: &[u8], slot: u8) {
        if self.memo[usize::from(slot)] {
            self.out.extend([b'h', slot]);
        } else {
            self.out.push(b'c');
            self.out.extend(text);
            self.out.extend([b'q', slot]);
            self.memo[usize::from(slot)] = true;
        }
    }

    fn unicode(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend(s.as_bytes());
    }

    fn int(&mut self, v: usize) {
        if v < 0x100 {
            self.out.extend([b'K', v as u8]);
        } else if v < 0x1_0000 {
            self.out.push(b'M');
            self.out.extend((v as u16).to_le_bytes());
        } else if v < 0x8000_0000 {
            self.out.push(b'J');
            self.out.extend((v as i32).to_le_bytes());
        } else {
            // LONG1: little-endian two's complement, as short as Python writes it.
            let bytes = (v as u64).to_le_bytes();
            let mut n = 8 - (v as u64).leading_zeros() as usize / 8;
            if bytes[n - 1] & 0x80 != 0 {
                n += 1;
            }
            self.out.extend([0x8a, n as u8]);
            self.out.extend(&bytes[..n.min(8)]);
            if n == 9 {
                self.out.push(0);
            }
        }
    }

    fn tuple(&mut self, items: &[usize]) {
        match items.len() {
            0 => self.out.push(b')'),
            n @ 1..=3 => {
                items.iter().for_each(|&v| self.int(v));
                self.out.push(0x84 + n as u8);
            }
            _ => {
                self.out.push(b'(');
                items.iter().for_each(|&v| self.int(v));
                self.out.push(b't');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_torchs() {
        assert_eq!(contiguous_strides(&[]), Vec::<usize>::new());
        assert_eq!(contiguous_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(contiguous_strides(&[2, 0, 4]), vec![4, 4, 1]);
    }

    #[test]
    fn ints_are_encoded_as_python_does() {
        let enc = |v: usize| {
            let mut p = Pickler::default();
            p.int(v);
            p.out
        };
        assert_eq!(enc(6), vec![b'K', 6]);
        assert_eq!(enc(300), vec![b'M', 0x2c, 0x01]);
        assert_eq!(enc(70000), [&[b'J'][..], &70000i32.to_le_bytes()].concat());
        // pickle.dumps(2**31, 2) == b'\x80\x02\x8a\x05\x00\x00\x00\x80\x00.'
        assert_eq!(enc(1 << 31), vec![0x8a, 5, 0, 0, 0, 0x80, 0]);
        // pickle.dumps(2**32, 2) == b'\x80\x02\x8a\x05\x00\x00\x00\x00\x01.'
        assert_eq!(enc(1 << 32), vec![0x8a, 5, 0, 0, 0, 0, 1]);
        let max = enc(u64::MAX as usize);
        assert_eq!(
            max,
            vec![0x8a, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]
        );
    }
}
