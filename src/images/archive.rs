//! Image sides that are archives, read in place: WebDataset-style tar shards
//! (`shard-{000000..000099}.tar`, brace ranges and globs) and uint8 pixel
//! arrays (`.npy`, or `.npz` as guided-diffusion/ADM saves its samples, key
//! `arr_0`, shape `N × H × W × 3`).
//!
//! # Why
//!
//! Clusters often forbid hundreds of thousands of small files, so samples
//! are written as archives (dgm-eval PR #11). Unpacking them to disk would
//! bring the small files back; reading them whole would hold every image.
//! Instead a side's archives are indexed once when the side is listed
//! (each tar member's offset and length; a pixel array's data offset and
//! shape), and each image is read by itself at its offset while the
//! pipeline decodes in parallel, so memory stays bounded by the batch.
//!
//! # How members are named
//!
//! A member is named like a file inside a folder named as its archive:
//! `shards/shard-000003.tar/000123.png` for a tar member, and
//! `samples.npz/arr_0/000017` (`samples.npy/000017`) for image 17 of an
//! array. These paths are what records, shards, `nn` and errors show; the
//! decoder finds a member through the index registered by [`list`] in this
//! process ([`member_bytes`]).
//!
//! # Order and equivalence with a folder
//!
//! A tar's image members (pytorch-fid's extensions, any case) are sorted by
//! name as a folder's files are, and the shards follow in the order the
//! pattern gives (numeric for brace ranges, by name for globs), so a folder
//! split into name-ordered shards lists its images in the folder's order.
//! Members are decoded by the same decoder from the same bytes, and an
//! array's pixels are the RGB values that decoding a PNG of them gives, so
//! a folder, its tar shards and its pixel array give identical features.
//!
//! Only uncompressed tar files (WebDataset's format) and arrays stored
//! without compression (`np.save`, `np.savez`) can be read at an offset; a
//! gzipped tar or a `savez_compressed` archive is refused with that hint.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::UNIX_EPOCH;

use image::RgbImage;

use super::decode::{decode_bytes, max_file_bytes, DecodeOptions};
use super::discover::has_image_extension;
use super::ImageError;
use crate::files::npy::read_header;

/// The most files a brace pattern may name: a typo such as
/// `{0..99999999999}` is refused before anything is allocated.
pub const MAX_PATTERN_FILES: u64 = 1_000_000;

/// What a member of a registered archive is.
#[derive(Debug)]
enum Index {
    /// Tar members by name: (data offset, length).
    Tar(HashMap<String, (u64, u64)>),
    /// A uint8 array of `count` images of `height × width × 3` at `offset`.
    Pixels {
        /// The `.npz` member's key, or `None` for an `.npy`.
        key: Option<String>,
        offset: u64,
        count: u64,
        height: u32,
        width: u32,
    },
}

#[derive(Debug)]
struct Archive {
    index: Index,
    /// The archive's modification time in ns, for the statistics cache.
    modified_ns: u128,
}

/// Archives indexed in this process, by the path their members are named
/// under.
fn registry() -> &'static Mutex<HashMap<PathBuf, Arc<Archive>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Arc<Archive>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Set once an archive is registered: ordinary files skip the lookup.
static ANY: AtomicBool = AtomicBool::new(false);

fn bad(path: &Path, reason: impl Into<String>) -> ImageError {
    ImageError::BadArchive {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ImageError + '_ {
    move |source| {
        crate::fs::read::ReadError::Io {
            path: path.to_owned(),
            source,
        }
        .into()
    }
}

/// Whether `side` names archives: a `.tar` file, a uint8 image array
/// (`.npy`/`.npz`), or, when no such path exists, a brace or glob pattern.
pub fn is_archive_side(side: &Path) -> bool {
    if side.is_dir() {
        return false;
    }
    if side.is_file() {
        // An image array that cannot be read at an offset is still one:
        // listing it then says why.
        return is_tar(side) || !matches!(pixel_array(side), Ok(None));
    }
    side.to_str()
        .is_some_and(|s| s.contains(['{', '*', '?', '[']))
}

fn is_tar(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// The files `side` names: itself, or its brace/glob expansion (every file
/// a brace pattern names must exist; a glob must match at least one).
pub fn expand(side: &Path) -> Result<Vec<PathBuf>, ImageError> {
    if side.exists() {
        return Ok(vec![side.to_owned()]);
    }
    let pattern = side
        .to_str()
        .ok_or_else(|| bad(side, "the pattern is not UTF-8"))?;
    let mut files = Vec::new();
    for expanded in expand_braces(pattern).map_err(|reason| bad(side, reason))? {
        if expanded.contains(['*', '?', '[']) {
            let mut matched: Vec<PathBuf> = glob::glob(&expanded)
                .map_err(|e| bad(side, format!("bad glob {expanded}: {e}")))?
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            if matched.is_empty() {
                return Err(bad(side, format!("no file matches {expanded}")));
            }
            matched.sort();
            files.extend(matched);
        } else {
            let path = PathBuf::from(&expanded);
            if !path.is_file() {
                return Err(bad(
                    side,
                    format!("{expanded} does not exist (a brace range names every shard: one is missing)"),
                ));
            }
            files.push(path);
        }
    }
    Ok(files)
}

/// Expands `{a..b}` numeric ranges (zero-padded to the first bound's width
/// when it starts with 0, as bash and WebDataset do) and `{x,y}` lists,
/// left to right.
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('{') else {
        return Ok(vec![pattern.to_owned()]);
    };
    let close = pattern[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or_else(|| format!("unclosed '{{' in {pattern}"))?;
    let (head, inner, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let choices: Vec<String> = match inner.split_once("..") {
        Some((a, b)) if !a.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) => {
            let (lo, hi): (u64, u64) = (
                a.parse().map_err(|_| format!("{a} is too large"))?,
                b.parse().map_err(|_| format!("{b} is too large"))?,
            );
            if hi < lo {
                return Err(format!("the range {{{inner}}} runs backwards"));
            }
            if hi - lo >= MAX_PATTERN_FILES {
                return Err(format!(
                    "the range {{{inner}}} names {} files, over the limit of {MAX_PATTERN_FILES}",
                    hi - lo + 1
                ));
            }
            let width = if a.starts_with('0') { a.len() } else { 0 };
            (lo..=hi).map(|i| format!("{i:0width$}")).collect()
        }
        _ => inner.split(',').map(str::to_owned).collect(),
    };
    let rests = expand_braces(tail)?;
    if (choices.len() as u64).saturating_mul(rests.len() as u64) > MAX_PATTERN_FILES {
        return Err(format!("{pattern} names over {MAX_PATTERN_FILES} files"));
    }
    let mut out = Vec::with_capacity(choices.len() * rests.len());
    for choice in &choices {
        for rest in &rests {
            out.push(format!("{head}{choice}{rest}"));
        }
    }
    Ok(out)
}

/// Lists the images of an archive side, registering each archive's index
/// so that [`member_bytes`] / [`decode_member`] can read its members.
pub fn list(side: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let mut images = Vec::new();
    for file in expand(side)? {
        let (index, names) = if is_tar(&file) {
            index_tar(&file)?
        } else {
            match pixel_array(&file)? {
                Some(index) => {
                    let Index::Pixels { key, count, .. } = &index else {
                        unreachable!("pixel_array returns pixels")
                    };
                    let names = (0..*count)
                        .map(|i| match key {
                            Some(key) => format!("{key}/{i:06}"),
                            None => format!("{i:06}"),
                        })
                        .collect();
                    (index, names)
                }
                None => {
                    return Err(bad(
                        &file,
                        "neither a .tar of images nor a uint8 N x H x W x 3 image array",
                    ))
                }
            }
        };
        if names.is_empty() {
            return Err(bad(&file, "holds no image (pytorch-fid's extensions)"));
        }
        let modified_ns = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .map_err(io_error(&file))?
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        images.extend(names.iter().map(|n| file.join(n)));
        registry()
            .lock()
            .expect("registry lock")
            .insert(file, Arc::new(Archive { index, modified_ns }));
        ANY.store(true, Ordering::Release);
    }
    Ok(images)
}

/// Indexes a tar: its regular members with an image extension, sorted by
/// name.
fn index_tar(file: &Path) -> Result<(Index, Vec<String>), ImageError> {
    let mut handle = File::open(file).map_err(io_error(file))?;
    let mut magic = [0u8; 2];
    let got = handle.read(&mut magic).map_err(io_error(file))?;
    if got == 2 && magic == [0x1f, 0x8b] {
        return Err(bad(
            file,
            "is gzip-compressed: members cannot be read at an offset",
        ));
    }
    handle.rewind().map_err(io_error(file))?;
    let mut archive = tar::Archive::new(handle);
    let mut members = HashMap::new();
    let mut names = Vec::new();
    let entries = archive
        .entries_with_seek()
        .map_err(|e| bad(file, e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| bad(file, e.to_string()))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !has_image_extension(Path::new(&name)) {
            continue;
        }
        if members
            .insert(name.clone(), (entry.raw_file_position(), entry.size()))
            .is_some()
        {
            return Err(bad(file, format!("has two members named {name}")));
        }
        names.push(name);
    }
    names.sort();
    Ok((Index::Tar(members), names))
}

/// The index of a uint8 `N × H × W × 3` array in an `.npy`, or in an
/// `.npz` (`arr_0` first, else the first such member by name); `None` when
/// the file holds no such array (statistics, features).
fn pixel_array(file: &Path) -> Result<Option<Index>, ImageError> {
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let file_len = std::fs::metadata(file).map_err(io_error(file))?.len();
    match ext.as_deref() {
        Some("npy") => {
            let mut handle = File::open(file).map_err(io_error(file))?;
            pixel_index(&mut handle, file, 0, file_len, None)
        }
        Some("npz") => {
            let handle = File::open(file).map_err(io_error(file))?;
            let Ok(mut zip) = zip::ZipArchive::new(handle) else {
                return Ok(None);
            };
            let mut keys: Vec<String> = zip
                .file_names()
                .filter(|n| n.ends_with(".npy"))
                .map(|n| n.trim_end_matches(".npy").to_owned())
                .collect();
            keys.sort_by_key(|k| (k != "arr_0", k.clone()));
            for key in keys {
                let (start, size, stored) = {
                    let member = zip
                        .by_name(&format!("{key}.npy"))
                        .map_err(|e| bad(file, e.to_string()))?;
                    (
                        member.data_start(),
                        member.size(),
                        member.compression() == zip::CompressionMethod::Stored,
                    )
                };
                let mut handle = File::open(file).map_err(io_error(file))?;
                let found = if stored {
                    pixel_index(&mut handle, file, start, size, Some(key.clone()))?
                } else {
                    let mut head = Vec::new();
                    zip.by_name(&format!("{key}.npy"))
                        .map_err(|e| bad(file, e.to_string()))?
                        .take(4096)
                        .read_to_end(&mut head)
                        .map_err(io_error(file))?;
                    if is_pixel_header(&head) {
                        return Err(bad(
                            file,
                            format!("its image array {key} is compressed (np.savez_compressed): images cannot be read at an offset"),
                        ));
                    }
                    None
                };
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn is_pixel_header(head: &[u8]) -> bool {
    read_header(head).is_ok_and(|h| {
        h.descr.trim_start_matches(['|', '<', '>', '=']) == "u1"
            && h.shape.len() == 4
            && h.shape[3] == 3
    })
}

/// Reads the `.npy` header at `start` of `handle` (a member of `len`
/// bytes); `Some` for a C-order uint8 `N × H × W × 3` array whose data fits
/// in the member.
fn pixel_index(
    handle: &mut File,
    file: &Path,
    start: u64,
    len: u64,
    key: Option<String>,
) -> Result<Option<Index>, ImageError> {
    let mut head = Vec::new();
    handle
        .seek(SeekFrom::Start(start))
        .map_err(io_error(file))?;
    handle
        .take(len.min(crate::files::npy::MAX_HEADER_BYTES as u64 + 16))
        .read_to_end(&mut head)
        .map_err(io_error(file))?;
    let Ok(header) = read_header(&head) else {
        return Ok(None);
    };
    if !is_pixel_header(&head) {
        return Ok(None);
    }
    if header.fortran_order {
        return Err(bad(
            file,
            "the image array is in Fortran order; save it in C order",
        ));
    }
    let [count, height, width, _] = header.shape[..] else {
        unreachable!("checked: 4 dimensions")
    };
    let (Ok(height), Ok(width)) = (u32::try_from(height), u32::try_from(width)) else {
        return Err(bad(file, "the images' declared size is too large"));
    };
    let declared = header.data_bytes();
    let available = len.saturating_sub(header.data_offset as u64);
    if declared.is_none_or(|d| d > available) {
        return Err(bad(
            file,
            format!(
                "declares {} bytes of pixels ({count} x {height} x {width} x 3) but holds {available}",
                declared.map_or("too many".into(), |d| d.to_string())
            ),
        ));
    }
    Ok(Some(Index::Pixels {
        key,
        offset: start + header.data_offset as u64,
        count: count as u64,
        height,
        width,
    }))
}

/// The registered archive a member path lies in, and the member's name.
fn find(path: &Path) -> Option<(PathBuf, Arc<Archive>, String)> {
    if !ANY.load(Ordering::Acquire) {
        return None;
    }
    let registry = registry().lock().expect("registry lock");
    path.ancestors().skip(1).find_map(|dir| {
        let archive = registry.get(dir)?;
        let name = path.strip_prefix(dir).ok()?.to_string_lossy().into_owned();
        Some((dir.to_owned(), Arc::clone(archive), name))
    })
}

/// A member's length and its archive's modification time (ns), which
/// stand for a file's size and mtime in the statistics cache's key; `None`
/// when `path` is no member.
pub fn member_stat(path: &Path) -> Option<(u64, u128)> {
    let (_, archive, name) = find(path)?;
    let len = match &archive.index {
        Index::Tar(members) => members.get(&name)?.1,
        Index::Pixels { height, width, .. } => u64::from(*height) * u64::from(*width) * 3,
    };
    Some((len, archive.modified_ns))
}

/// Decodes the member `path` names, or `None` when it is no member of a
/// registered archive (then it is a file).
pub fn decode_member(path: &Path, options: &DecodeOptions) -> Option<Result<RgbImage, ImageError>> {
    let (file, archive, name) = find(path)?;
    Some(match &archive.index {
        Index::Tar(members) => match members.get(&name) {
            None => Err(bad(&file, format!("has no member {name}"))),
            Some(&(offset, len)) => {
                let limit = max_file_bytes(options.max_pixels);
                if len > limit {
                    Err(ImageError::FileTooLarge {
                        path: path.to_owned(),
                        limit,
                        max_pixels: options.max_pixels,
                    })
                } else {
                    read_at(&file, offset, len)
                        .and_then(|bytes| decode_bytes(&bytes, path, options))
                }
            }
        },
        Index::Pixels {
            key,
            offset,
            count,
            height,
            width,
        } => {
            let index = name
                .strip_prefix(
                    key.as_deref()
                        .map(|k| format!("{k}/"))
                        .as_deref()
                        .unwrap_or(""),
                )
                .and_then(|i| i.parse::<u64>().ok())
                .filter(|i| i < count);
            let pixels = u64::from(*height) * u64::from(*width);
            match index {
                None => Err(bad(&file, format!("has no image {name}"))),
                Some(_) if pixels > options.max_pixels => Err(ImageError::TooManyPixels {
                    path: path.to_owned(),
                    width: *width,
                    height: *height,
                    pixels,
                    limit: options.max_pixels,
                }),
                Some(i) => read_at(&file, offset + i * pixels * 3, pixels * 3).map(|bytes| {
                    RgbImage::from_raw(*width, *height, bytes).expect("length is w x h x 3")
                }),
            }
        }
    })
}

/// The raw bytes of a member (tar members only; `None` otherwise): what
/// `--verify-inputs`-style hashing and thumbnails read.
pub fn member_bytes(path: &Path) -> Option<Result<Vec<u8>, ImageError>> {
    let (file, archive, name) = find(path)?;
    match &archive.index {
        Index::Tar(members) => Some(match members.get(&name) {
            Some(&(offset, len)) => read_at(&file, offset, len),
            None => Err(bad(&file, format!("has no member {name}"))),
        }),
        Index::Pixels { .. } => None,
    }
}

fn read_at(file: &Path, offset: u64, len: u64) -> Result<Vec<u8>, ImageError> {
    let mut handle = File::open(file).map_err(io_error(file))?;
    handle
        .seek(SeekFrom::Start(offset))
        .map_err(io_error(file))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    handle
        .take(len)
        .read_to_end(&mut bytes)
        .map_err(io_error(file))?;
    if (bytes.len() as u64) < len {
        return Err(bad(
            file,
            format!("ends {} bytes early", len - bytes.len() as u64),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_ranges_with_padding_and_lists() {
        assert_eq!(
            expand_braces("s-{000..002}.tar").unwrap(),
            ["s-000.tar", "s-001.tar", "s-002.tar"]
        );
        assert_eq!(expand_braces("{8..10}").unwrap(), ["8", "9", "10"]);
        assert_eq!(
            expand_braces("{a,b}-{0..1}").unwrap(),
            ["a-0", "a-1", "b-0", "b-1"]
        );
        assert!(expand_braces("{0..99999999999}")
            .unwrap_err()
            .contains("over the limit"));
        assert!(expand_braces("{3..1}").unwrap_err().contains("backwards"));
        assert!(expand_braces("x{1..2").unwrap_err().contains("unclosed"));
    }

    fn tar_of(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut builder = tar::Builder::new(File::create(&path).unwrap());
        for (member, bytes) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, member, *bytes).unwrap();
        }
        builder.finish().unwrap();
        path
    }

    fn png(value: u8) -> Vec<u8> {
        let image = RgbImage::from_pixel(3, 2, image::Rgb([value, 2, 3]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn tar_members_are_listed_sorted_and_decoded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_of(
            dir.path(),
            "shard-0.tar",
            &[("b.png", &png(20)), ("a.png", &png(10)), ("a.cls", b"3")],
        );
        let listed = list(&tar).unwrap();
        assert_eq!(listed, [tar.join("a.png"), tar.join("b.png")]);
        let image = decode_member(&listed[1], &DecodeOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(image.get_pixel(0, 0).0, [20, 2, 3]);
        assert_eq!(member_stat(&listed[0]).unwrap().0, png(10).len() as u64);
        assert!(decode_member(&dir.path().join("x.png"), &DecodeOptions::default()).is_none());
    }

    #[test]
    fn missing_shards_and_gzip_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        tar_of(dir.path(), "s-00.tar", &[("a.png", &png(1))]);
        let pattern = dir.path().join("s-{00..01}.tar");
        let err = list(&pattern).unwrap_err().to_string();
        assert!(err.contains("s-01.tar does not exist"), "{err}");
        let gz = dir.path().join("g.tar");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
        assert!(list(&gz).unwrap_err().to_string().contains("gzip"));
    }

    #[test]
    fn pixel_arrays_give_their_images_and_refuse_short_data() {
        use ndarray_npy::WriteNpyExt;
        let dir = tempfile::tempdir().unwrap();
        let pixels = ndarray::Array4::<u8>::from_shape_fn((3, 2, 4, 3), |(n, y, x, c)| {
            (n * 50 + y * 10 + x * 2 + c) as u8
        });
        let npy = dir.path().join("s.npy");
        pixels.write_npy(File::create(&npy).unwrap()).unwrap();
        assert!(is_archive_side(&npy));
        let listed = list(&npy).unwrap();
        assert_eq!(listed.len(), 3);
        let image = decode_member(&listed[2], &DecodeOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!((image.width(), image.height()), (4, 2));
        assert_eq!(image.get_pixel(3, 1).0, [100 + 10 + 6, 117, 118]);
        let mut bytes = std::fs::read(&npy).unwrap();
        bytes.truncate(bytes.len() - 1);
        let short = dir.path().join("short.npy");
        std::fs::write(&short, bytes).unwrap();
        let err = list(&short).unwrap_err().to_string();
        assert!(err.contains("declares 72 bytes"), "{err}");
        let features = dir.path().join("f.npy");
        ndarray::Array2::<f32>::zeros((2, 3))
            .write_npy(File::create(&features).unwrap())
            .unwrap();
        assert!(!is_archive_side(&features));
    }
}
