//! Image files to RGB u8, as Pillow's `Image.open(path).convert("RGB")`
//! gives them (what pytorch-fid, clean-fid and torch-fidelity all do).
//!
//! What Pillow does, and what we do to match it:
//! - The format comes from the content, not the extension.
//! - Grayscale (`L`, 1-bit `1`) is repeated into R, G and B; alpha (`LA`,
//!   `RGBA`, palette transparency) is dropped, never composited.
//! - Palette images are looked up in their palette.
//! - 16-bit grayscale (PNG, TIFF: `I;16`; PGM: `I`) converts by *clipping*
//!   at 255, so most 16-bit values become 255; 16-bit RGB, RGBA and LA PNGs
//!   open as 8-bit modes through the `;16B` unpackers, which keep the high
//!   byte (`v >> 8`). Both are reproduced here.
//! - EXIF orientation is ignored (Pillow's `open` does not rotate).
//! - More than `2 × Image.MAX_IMAGE_PIXELS` (178,956,970) pixels is refused as
//!   a decompression bomb; the limit is configurable.
//! - Truncated files are errors (Pillow's `LOAD_TRUNCATED_IMAGES` is off).
//!
//! PNG (8/16-bit, 1-bit, palette with transparency), BMP, PPM/PGM (8/16-bit),
//! TIFF (8/16-bit), WebP (lossless and lossy) and GIF (first frame, with a
//! transparent index) decode through the `image` crate to exactly Pillow 13's
//! values (tested on `tests/fixtures/images`; lossy WebP also on ten 427×640
//! images). JPEG goes through libjpeg-turbo's decoder, as in Pillow (see
//! `jpeg.rs` beside this file), and is exact too: baseline and progressive;
//! 4:4:4, 4:2:2, 4:2:0, 4:4:0 and 4:1:1; grayscale, RGB, CMYK and YCCK;
//! restart markers. A JPEG that ends before its last row is refused, as
//! Pillow refuses it.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use rayon::prelude::*;

use super::jpeg;
use super::ImageError;
use crate::fs::read::ReadError;

/// Pillow's `Image.MAX_IMAGE_PIXELS`: over this Pillow warns.
pub const PILLOW_MAX_IMAGE_PIXELS: u64 = 89_478_485;

/// Our default limit: Pillow raises `DecompressionBombError` over twice its
/// `MAX_IMAGE_PIXELS`, so geneval refuses exactly what Pillow refuses.
pub const DEFAULT_MAX_PIXELS: u64 = 2 * PILLOW_MAX_IMAGE_PIXELS;

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (width × height).
    pub max_pixels: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// Bytes per pixel allowed in an image file: every format decoded here
/// stores at most 8 (16-bit RGBA, uncompressed); 16 leaves room for row
/// filters, padding and metadata.
const MAX_FILE_BYTES_PER_PIXEL: u64 = 16;

/// The largest image file read at `max_pixels`: 16 bytes per pixel plus
/// 64 MiB of headers (2.9 GB at the default limit). A longer file is no image
/// under the limit; the cap is what stops a file that never ends, where
/// reading it whole would fill memory.
pub fn max_file_bytes(max_pixels: u64) -> u64 {
    max_pixels
        .saturating_mul(MAX_FILE_BYTES_PER_PIXEL)
        .saturating_add(64 << 20)
}

/// Decode the image file at `path` to RGB u8.
///
/// Only regular files are read (a FIFO would block, a device never end),
/// and at most [`max_file_bytes`] of them. A member of an archive listed in
/// this process is read in place ([`super::archive`]).
pub fn decode_file(path: &Path, options: &DecodeOptions) -> Result<RgbImage, ImageError> {
    if let Some(member) = super::archive::decode_member(path, options) {
        return member;
    }
    let bytes = read_image_file(path, options)?;
    decode_bytes(&bytes, path, options)
}

/// [`decode_file`] and the SHA-256 of the bytes it decoded (`--verify-inputs`):
/// the file's bytes, a tar member's bytes, or a pixel array's image bytes,
/// hashed from memory, so the file is not read twice.
pub fn decode_file_with_digest(
    path: &Path,
    options: &DecodeOptions,
) -> Result<(RgbImage, [u8; 32]), ImageError> {
    use sha2::{Digest, Sha256};
    let bytes = match super::archive::member_bytes(path) {
        Some(bytes) => bytes?,
        None => {
            if let Some(member) = super::archive::decode_member(path, options) {
                // A pixel array's image: its stored bytes are the pixels.
                let image = member?;
                let digest = Sha256::digest(image.as_raw()).into();
                return Ok((image, digest));
            }
            read_image_file(path, options)?
        }
    };
    let digest = Sha256::digest(&bytes).into();
    Ok((decode_bytes(&bytes, path, options)?, digest))
}

/// The bytes of the image file `path`: a regular file, at most
/// [`max_file_bytes`].
fn read_image_file(path: &Path, options: &DecodeOptions) -> Result<Vec<u8>, ImageError> {
    use std::io::Read;
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    crate::fs::read::ensure_regular_file(path)?;
    let limit = max_file_bytes(options.max_pixels);
    let file = std::fs::File::open(path).map_err(io)?;
    let size_hint = file.metadata().map_err(io)?.len().min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ImageError::FileTooLarge {
            path: path.to_path_buf(),
            limit,
            max_pixels: options.max_pixels,
        });
    }
    Ok(bytes)
}

/// Decode an image held in memory; `path` only names it in errors.
pub fn decode_bytes(
    bytes: &[u8],
    path: &Path,
    options: &DecodeOptions,
) -> Result<RgbImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if jpeg::is_jpeg(bytes) {
        return jpeg::decode_jpeg(bytes, path, options);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::BadImage {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if reader.format().is_none() {
        return Err(ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: "unrecognised content".to_string(),
        });
    }
    if reader.format() == Some(image::ImageFormat::Tiff) {
        super::tiff::check_declared_sizes(bytes, path)?;
    }
    let mut limits = Limits::default();
    // Enough for the largest allowed image at 16-bit RGBA plus the RGB copy.
    limits.max_alloc = Some(options.max_pixels.saturating_mul(11));
    reader.limits(limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, path))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > options.max_pixels {
        return Err(ImageError::TooManyPixels {
            path: path.to_path_buf(),
            width,
            height,
            pixels,
            limit: options.max_pixels,
        });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, path))?;
    to_rgb_like_pillow(image).ok_or_else(|| ImageError::NotAnImage {
        path: path.to_path_buf(),
        reason: "floating-point pixels, which Pillow's convert('RGB') does not read either"
            .to_string(),
    })
}

fn map_image_error(error: image::ImageError, path: &Path) -> ImageError {
    let path = path.to_path_buf();
    match error {
        image::ImageError::Unsupported(e) => ImageError::NotAnImage {
            path,
            reason: e.to_string(),
        },
        image::ImageError::Limits(e) => ImageError::BadImage {
            path,
            reason: format!("over the decoder's memory limit ({e})"),
        },
        image::ImageError::IoError(e) => ImageError::BadImage {
            path,
            reason: format!("truncated or unreadable ({e})"),
        },
        other => ImageError::BadImage {
            path,
            reason: other.to_string(),
        },
    }
}

/// Pillow's `convert("RGB")` from what `image` decoded (see the module docs
/// for the 16-bit rules). `None` for floating-point images.
fn to_rgb_like_pillow(image: DynamicImage) -> Option<RgbImage> {
    let (width, height) = (image.width(), image.height());
    let from_fn = |data: Vec<u8>| RgbImage::from_raw(width, height, data);
    match image {
        DynamicImage::ImageRgb8(rgb) => Some(rgb),
        DynamicImage::ImageLuma8(gray) => {
            from_fn(gray.into_raw().iter().flat_map(|&v| [v; 3]).collect())
        }
        DynamicImage::ImageLumaA8(la) => from_fn(
            la.into_raw()
                .chunks_exact(2)
                .flat_map(|p| [p[0]; 3])
                .collect(),
        ),
        DynamicImage::ImageRgba8(rgba) => from_fn(
            rgba.into_raw()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
        ),
        // I;16 -> RGB clips at 255.
        DynamicImage::ImageLuma16(gray) => from_fn(
            gray.into_raw()
                .iter()
                .flat_map(|&v| [v.min(255) as u8; 3])
                .collect(),
        ),
        // LA;16B, RGB;16B, RGBA;16B keep the high byte.
        DynamicImage::ImageLumaA16(la) => from_fn(
            la.into_raw()
                .chunks_exact(2)
                .flat_map(|p| [(p[0] >> 8) as u8; 3])
                .collect(),
        ),
        DynamicImage::ImageRgb16(rgb) => {
            from_fn(rgb.into_raw().iter().map(|&v| (v >> 8) as u8).collect())
        }
        DynamicImage::ImageRgba16(rgba) => from_fn(
            rgba.into_raw()
                .chunks_exact(4)
                .flat_map(|p| [(p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8])
                .collect(),
        ),
        _ => None,
    }
}

/// The images decoded by [`decode_all`], in the order of the paths given.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The paths that decoded, in input order.
    pub paths: Vec<PathBuf>,
    /// Their images, one per entry of `paths`.
    pub images: Vec<RgbImage>,
    /// The files skipped with `skip_bad`, in input order, each error naming its path.
    pub skipped: Vec<ImageError>,
}

/// Decode every path in parallel (rayon), keeping their order. Without
/// `skip_bad` the first failure in path order is returned; with it, failures
/// are collected in [`Decoded::skipped`] and the rest decoded.
pub fn decode_all(
    paths: &[PathBuf],
    options: &DecodeOptions,
    skip_bad: bool,
) -> Result<Decoded, ImageError> {
    let results: Vec<Result<RgbImage, ImageError>> = paths
        .par_iter()
        .map(|path| decode_file(path, options))
        .collect();
    let mut decoded = Decoded::default();
    for (path, result) in paths.iter().zip(results) {
        match result {
            Ok(image) => {
                decoded.paths.push(path.clone());
                decoded.images.push(image);
            }
            Err(error) if skip_bad => decoded.skipped.push(error),
            Err(error) => return Err(error),
        }
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;
    use ndarray_npy::ReadNpyExt;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images")
    }

    fn expected_json() -> serde_json::Value {
        let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn read_expected(rel: &str) -> Array3<u8> {
        let file = std::fs::File::open(fixtures().join(rel)).unwrap();
        Array3::<u8>::read_npy(file).unwrap()
    }

    /// (max |diff|, fraction of differing values)
    fn compare(image: &RgbImage, expected: &Array3<u8>) -> (u8, f64) {
        let (h, w, c) = expected.dim();
        assert_eq!(
            (image.height() as usize, image.width() as usize, c),
            (h, w, 3)
        );
        let expected = expected.as_standard_layout();
        let ours = image.as_raw();
        let theirs = expected.as_slice().unwrap();
        let max = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        let differing = ours.iter().zip(theirs).filter(|(a, b)| a != b).count();
        (max, differing as f64 / ours.len() as f64)
    }

    #[test]
    fn every_fixture_decodes_like_pillow() {
        let meta = expected_json();
        let files = meta["files"].as_object().unwrap();
        let mut failures = Vec::new();
        let mut checked = 0;
        for (rel, entry) in files {
            let path = fixtures().join("files").join(rel);
            let result = decode_file(&path, &DecodeOptions::default());
            if entry.get("error").is_some() {
                match result {
                    Ok(_) => {
                        failures.push(format!("{rel}: decoded, Pillow says {}", entry["error"]))
                    }
                    Err(e) => assert!(e.to_string().contains(rel.as_str()), "{e}"),
                }
                continue;
            }
            let image = match result {
                Ok(image) => image,
                Err(e) => {
                    failures.push(format!("{rel}: {e}"));
                    continue;
                }
            };
            let (max, frac) = compare(&image, &read_expected(entry["expected"].as_str().unwrap()));
            checked += 1;
            // Every file, JPEG included, must equal Pillow's values.
            assert_eq!(entry["exact"], true, "{rel}");
            if max != 0 {
                failures.push(format!(
                    "{rel}: not exact: max |diff| {max}, {frac:.4} of values differ"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(checked >= 45, "only {checked} fixtures checked");
        let jpegs = files
            .values()
            .filter(|e| e["format"] == "JPEG" && e.get("error").is_none())
            .count();
        assert!(jpegs >= 20, "only {jpegs} JPEG fixtures checked");
    }

    fn file(name: &str) -> PathBuf {
        fixtures().join("files").join(name)
    }

    #[test]
    fn broken_files_give_typed_errors_naming_the_path() {
        let options = DecodeOptions::default();
        type IsKind = fn(&ImageError) -> bool;
        let truncated: IsKind =
            |e| matches!(e, ImageError::BadImage { reason, .. } if reason.contains("truncated"));
        let cases: [(&str, IsKind); 10] = [
            ("empty.png", |e| matches!(e, ImageError::EmptyFile { .. })),
            ("empty.jpg", |e| matches!(e, ImageError::EmptyFile { .. })),
            ("truncated.png", |e| {
                matches!(e, ImageError::BadImage { .. })
            }),
            ("truncated.jpg", truncated),
            ("truncated_header.jpg", truncated),
            ("truncated_progressive.jpg", truncated),
            (
                "no_quant_table.jpg",
                |e| matches!(e, ImageError::BadImage { reason, .. } if reason.contains("Quantization table")),
            ),
            (
                "two_components.jpg",
                |e| matches!(e, ImageError::NotAnImage { reason, .. } if reason.contains("2 components")),
            ),
            ("not_an_image.png", |e| {
                matches!(e, ImageError::NotAnImage { .. })
            }),
            ("notes.txt", |e| matches!(e, ImageError::NotAnImage { .. })),
        ];
        for (name, is_expected_kind) in cases {
            let error = decode_file(&file(name), &options).unwrap_err();
            assert!(is_expected_kind(&error), "{name}: {error:?}");
            assert!(error.to_string().contains(name), "{error}");
            assert!(error.hint_text().is_some());
        }
        let missing = decode_file(&file("no_such.png"), &options).unwrap_err();
        assert!(
            matches!(missing, ImageError::Read(ReadError::Io { .. })),
            "{missing:?}"
        );
        assert!(missing.to_string().contains("no_such.png"));
    }

    #[test]
    fn pixel_limit_refuses_decompression_bombs() {
        // A header claiming 100000 x 100000 pixels: refused before any allocation.
        let error = decode_file(&file("huge_header.png"), &DecodeOptions::default()).unwrap_err();
        match &error {
            ImageError::TooManyPixels {
                width,
                height,
                pixels,
                limit,
                ..
            } => {
                assert_eq!(
                    (*width, *height, *pixels),
                    (100_000, 100_000, 10_000_000_000)
                );
                assert_eq!(*limit, 178_956_970);
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("huge_header.png"));
        // rgb.png is 17 x 13 = 221 pixels: the limit is inclusive, as Pillow's.
        let at = DecodeOptions { max_pixels: 221 };
        assert!(decode_file(&file("rgb.png"), &at).is_ok());
        let below = DecodeOptions { max_pixels: 220 };
        let error = decode_file(&file("rgb.png"), &below).unwrap_err();
        assert!(
            matches!(error, ImageError::TooManyPixels { pixels: 221, .. }),
            "{error:?}"
        );
        for jpeg in [
            "photo.jpg",
            "progressive.jpg",
            "ycck.jpg",
            "image.gif",
            "lossless.webp",
            "image.tif",
            "image.bmp",
        ] {
            let tiny = DecodeOptions { max_pixels: 10 };
            let error = decode_file(&file(jpeg), &tiny).unwrap_err();
            assert!(
                matches!(error, ImageError::TooManyPixels { .. }),
                "{jpeg}: {error:?}"
            );
        }
    }

    #[test]
    fn exif_orientation_is_ignored_like_pillow() {
        // Stored 20 wide, 8 high, orientation 6: Pillow's open does not rotate.
        for name in ["exif6.png", "exif6.jpg"] {
            let image = decode_file(&file(name), &DecodeOptions::default()).unwrap();
            assert_eq!((image.width(), image.height()), (20, 8), "{name}");
        }
    }

    #[test]
    fn jpeg_prefixes_decode_exactly_when_pillow_opens_them() {
        // Every prefix of these files: Pillow opens only those listed (a JPEG
        // cut before its last row is "truncated"; a missing end marker after
        // it is not), and each gives the full file's pixels.
        let meta = expected_json();
        let mut checked = 0;
        for (rel, entry) in meta["files"].as_object().unwrap() {
            let Some(opened) = entry.get("pillow_opens_prefixes") else {
                continue;
            };
            let opened: Vec<usize> = opened
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap() as usize)
                .collect();
            let bytes = std::fs::read(fixtures().join("files").join(rel)).unwrap();
            let expected = read_expected(entry["expected"].as_str().unwrap());
            for n in 0..=bytes.len() {
                let result = decode_bytes(&bytes[..n], Path::new(rel), &DecodeOptions::default());
                match (result, opened.contains(&n)) {
                    (Ok(image), true) => {
                        assert_eq!(compare(&image, &expected).0, 0, "{rel}[..{n}]")
                    }
                    (Err(e), false) => assert!(e.to_string().contains(rel.as_str()), "{e}"),
                    (Ok(_), false) => panic!("{rel}[..{n}] decoded; Pillow refuses it"),
                    (Err(e), true) => panic!("{rel}[..{n}]: {e}; Pillow opens it"),
                }
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} files checked");
    }

    thread_local! {
        static PANIC_HOOK_CALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[test]
    fn corrupt_jpegs_give_errors_without_panic_messages() {
        // A panic that reached the hook would print "thread ... panicked" on
        // stderr; libjpeg's errors must be caught without it. The hook is
        // chained, so other tests' panics still print.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANIC_HOOK_CALLED.with(|called| called.set(true));
            previous(info);
        }));
        let options = DecodeOptions::default();
        let mut failed = 0;
        for name in ["photo.jpg", "progressive.jpg", "ycck.jpg", "restart.jpg"] {
            let original = std::fs::read(file(name)).unwrap();
            // Flip bits in every 5th byte past the signature, one at a time:
            // headers, tables and scan data all get hit.
            for at in (3..original.len()).step_by(5) {
                let mut bytes = original.clone();
                bytes[at] ^= 0x5A;
                let label = format!("{name}@{at}");
                if let Err(e) = decode_bytes(&bytes, Path::new(&label), &options) {
                    assert!(e.to_string().contains(&label), "{e}");
                    failed += 1;
                }
            }
        }
        assert!(failed > 20, "only {failed} corrupted files were refused");
        assert!(!PANIC_HOOK_CALLED.with(|called| called.get()));
    }

    #[test]
    fn sixteen_bit_grayscale_clips_and_sixteen_bit_rgb_keeps_the_high_byte() {
        let gray = decode_file(&file("gray16.png"), &DecodeOptions::default()).unwrap();
        // first row starts 0, 1, 255, 256, 65535
        let firsts: Vec<u8> = (0..5).map(|x| gray.get_pixel(x, 0)[0]).collect();
        assert_eq!(firsts, [0, 1, 255, 255, 255]);
        let rgb = decode_file(&file("rgb16.png"), &DecodeOptions::default()).unwrap();
        // first pixel was (0, 255, 256)
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 0, 1]);
    }

    #[test]
    fn decode_all_keeps_order_and_skips_bad_files_only_when_asked() {
        let names = [
            "rgb.png",
            "truncated.png",
            "gray.png",
            "empty.png",
            "image.bmp",
        ];
        let paths: Vec<PathBuf> = names.iter().map(|n| file(n)).collect();
        let options = DecodeOptions::default();

        let error = decode_all(&paths, &options, false).unwrap_err();
        assert!(
            error.to_string().contains("truncated.png"),
            "first bad file in order: {error}"
        );

        let decoded = decode_all(&paths, &options, true).unwrap();
        assert_eq!(
            decoded.paths,
            [file("rgb.png"), file("gray.png"), file("image.bmp")]
        );
        assert_eq!(decoded.images.len(), 3);
        for (path, image) in decoded.paths.iter().zip(&decoded.images) {
            assert_eq!(image, &decode_file(path, &options).unwrap());
        }
        let skipped: Vec<String> = decoded.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(skipped.len(), 2);
        assert!(skipped[0].contains("truncated.png") && skipped[1].contains("empty.png"));

        let none = decode_all(&[], &options, false).unwrap();
        assert!(none.images.is_empty() && none.skipped.is_empty());
    }
}
