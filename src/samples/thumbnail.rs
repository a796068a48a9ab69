//! One image file → a small JPEG for the page.
//!
//! Decoding goes through geneval's own decoder ([`crate::images::decode`]):
//! the same files, limits and errors as the metric commands, so a file that
//! a metric skipped or refused gives the same message here, and a bad file
//! becomes a placeholder with a note rather than an abort. Shrinking is an
//! antialiased Catmull-Rom resize (`fast_image_resize`, already used by the
//! preprocessing), never an enlargement; encoding is libjpeg's (`mozjpeg`,
//! already used to decode and to generate JPEG sets), baseline, fixed
//! settings, so the same image gives the same bytes on every run.

use std::path::Path;

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::U8x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::images::decode::{decode_file, DecodeOptions};
use crate::images::ImageError;

/// The long side of a thumbnail in pixels: big enough to tell a face, a
/// digit or a texture apart, small enough for hundreds per page (a 96 px
/// JPEG of a generated image is 2–4 kB).
pub const LONG_SIDE: u32 = 96;

/// libjpeg quality of the thumbnails: artefacts stay below what 96 px
/// shows, at about half the bytes of quality 90.
pub const JPEG_QUALITY: f32 = 75.0;

/// The largest image decoded for a thumbnail (4096 × 4096): the report
/// decodes images in parallel, and a thumbnail needs no more.
pub const MAX_PIXELS: u64 = 1 << 24;

/// Why an image gave no thumbnail.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The decoder refused the file (missing, not an image, truncated, too
    /// large).
    #[error(transparent)]
    Decode(#[from] ImageError),
    /// Resizing failed (an empty image).
    #[error("cannot shrink {path}: {reason}")]
    Resize {
        /// The file.
        path: std::path::PathBuf,
        /// The resizer's message.
        reason: String,
    },
    /// libjpeg refused to encode.
    #[error("cannot encode a thumbnail of {path}: {reason}")]
    Encode {
        /// The file.
        path: std::path::PathBuf,
        /// libjpeg's message.
        reason: String,
    },
}

impl ThumbnailError {
    /// A word or two for the placeholder in the grid.
    pub fn short(&self) -> &'static str {
        match self {
            ThumbnailError::Decode(ImageError::Read(_)) => "unreadable",
            ThumbnailError::Decode(_) => "not decodable",
            ThumbnailError::Resize { .. } | ThumbnailError::Encode { .. } => "no thumbnail",
        }
    }
}

/// A thumbnail's JPEG bytes and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jpeg {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The JPEG file.
    pub bytes: Vec<u8>,
}

/// The size of an image `width × height` shrunk to `long_side` on its long
/// side (never enlarged, never below 1 pixel).
pub fn fit(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= long_side {
        return (width, height);
    }
    let scale = |v: u32| {
        ((u64::from(v) * u64::from(long_side) + u64::from(long) / 2) / u64::from(long)).max(1)
            as u32
    };
    (scale(width), scale(height))
}

/// `image` shrunk to at most `long_side` pixels on its long side.
pub fn shrink(image: &RgbImage, long_side: u32, path: &Path) -> Result<RgbImage, ThumbnailError> {
    let (w, h) = fit(image.width(), image.height(), long_side);
    if (w, h) == image.dimensions() {
        return Ok(image.clone());
    }
    let fail = |e: &dyn std::fmt::Display| ThumbnailError::Resize {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let pixels: Vec<U8x3> = image
        .as_raw()
        .chunks_exact(3)
        .map(|p| U8x3::new([p[0], p[1], p[2]]))
        .collect();
    let src = TypedImageRef::new(image.width(), image.height(), &pixels).map_err(|e| fail(&e))?;
    let mut dst = TypedImage::<U8x3>::new(w, h);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize_typed(&src, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    let raw: Vec<u8> = dst.pixels().iter().flat_map(|p| p.0).collect();
    RgbImage::from_raw(w, h, raw).ok_or_else(|| fail(&"the resized buffer has the wrong size"))
}

/// `image` as a baseline JPEG at [`JPEG_QUALITY`].
pub fn encode_jpeg(image: &RgbImage, path: &Path) -> Result<Vec<u8>, ThumbnailError> {
    crate::images::encode_jpeg(image, JPEG_QUALITY).map_err(|reason| ThumbnailError::Encode {
        path: path.to_owned(),
        reason,
    })
}

/// The thumbnail of the image file at `path`: decoded as the metric
/// commands decode it (at most [`MAX_PIXELS`]), shrunk to `long_side`,
/// encoded as JPEG.
pub fn thumbnail(path: &Path, long_side: u32) -> Result<Jpeg, ThumbnailError> {
    let image = decode_file(
        path,
        &DecodeOptions {
            max_pixels: MAX_PIXELS,
        },
    )?;
    let small = shrink(&image, long_side, path)?;
    let bytes = encode_jpeg(&small, path)?;
    Ok(Jpeg {
        width: small.width(),
        height: small.height(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_fit_the_long_side_and_are_never_enlarged() {
        assert_eq!(fit(256, 256, 96), (96, 96));
        assert_eq!(fit(640, 427, 96), (96, 64));
        assert_eq!(fit(100, 3000, 96), (3, 96));
        assert_eq!(fit(5000, 1, 96), (96, 1));
        assert_eq!(fit(32, 32, 96), (32, 32));
    }

    #[test]
    fn a_thumbnail_is_a_small_deterministic_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let image = RgbImage::from_fn(200, 100, |x, y| image::Rgb([x as u8, y as u8, 128]));
        image.save(&path).unwrap();
        let jpeg = thumbnail(&path, 96).unwrap();
        assert_eq!((jpeg.width, jpeg.height), (96, 48));
        assert_eq!(&jpeg.bytes[..3], &[0xff, 0xd8, 0xff]);
        assert!(jpeg.bytes.len() < 4000, "{} bytes", jpeg.bytes.len());
        assert_eq!(jpeg, thumbnail(&path, 96).unwrap());
    }

    #[test]
    fn a_bad_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let error = thumbnail(&path, 96).unwrap_err();
        assert_eq!(error.short(), "not decodable");
        assert!(error.to_string().contains("bad.png"), "{error}");
        let missing = thumbnail(&dir.path().join("gone.png"), 96).unwrap_err();
        assert_eq!(missing.short(), "unreadable");
    }
}
