//! JPEG to RGB u8 through libjpeg-turbo's decoder (the `mozjpeg` crate), so
//! that every value equals Pillow's `Image.open(path).convert("RGB")`.
//!
//! Pillow decodes JPEG with libjpeg-turbo at its defaults (ISLOW IDCT, fancy
//! upsampling, no draft mode) and asks it for:
//! - 1 component: grayscale, which `convert` repeats into R, G and B;
//! - 3 components: RGB (libjpeg converts YCbCr, or copies Adobe-RGB data);
//! - 4 components: CMYK as stored (libjpeg converts YCCK to CMYK), which
//!   Pillow always reads as Adobe-inverted (`CMYK;I`) and `convert` turns
//!   into RGB with its `cmyk2rgb` (reproduced in [`cmyk_to_rgb`]).
//!
//! Other component counts Pillow refuses to open. Markers (EXIF orientation,
//! ICC profiles) are not read: Pillow's `convert` ignores them too.
//!
//! Truncation follows Pillow with `LOAD_TRUNCATED_IMAGES` off. Pillow feeds
//! libjpeg a suspending source and raises "image file is truncated" when
//! libjpeg asks for more data before the last row is out. Here the source
//! records when libjpeg asks for data past the end, and the file is refused
//! if that happened before the last row. Data missing only after the last
//! row (such as an absent end-of-image marker on some grayscale files) is
//! accepted, as Pillow accepts it.
//!
//! libjpeg's fatal errors unwind (the `mozjpeg` crate's error manager resumes
//! a panic payload without calling the panic hook, so nothing is printed) and
//! are caught here. Its warnings ("corrupt JPEG data") are silent and the
//! image it decoded is kept, as in Pillow.

use std::any::Any;
use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use image::RgbImage;
use mozjpeg::decompress::DecompressStarted;
use mozjpeg::{ColorSpace, ColorSpaceExt, Decompress};

use super::decode::DecodeOptions;
use super::ImageError;

/// Whether Pillow's JPEG plugin claims these bytes (its `_accept`).
pub(crate) fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Decode a JPEG held in memory; `path` only names it in errors.
pub(crate) fn decode_jpeg(
    bytes: &[u8],
    path: &Path,
    options: &DecodeOptions,
) -> Result<RgbImage, ImageError> {
    let ran_out = Cell::new(false);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        decode_unguarded(bytes, &ran_out, options.max_pixels)
    }));
    let failure = match outcome {
        Ok(Ok(image)) => return Ok(image),
        Ok(Err(failure)) => failure,
        // Past the end libjpeg reads a fake end-of-image marker; whatever it
        // then gives up on follows from the truncation.
        Err(_) if ran_out.get() => Failure::Truncated,
        Err(payload) => Failure::from_libjpeg(panic_message(payload.as_ref())),
    };
    Err(failure.into_error(path))
}

/// Why a JPEG did not decode, before the path is attached.
#[derive(Debug)]
enum Failure {
    /// libjpeg needed data past the end of the file before the last row.
    Truncated,
    /// A component count Pillow does not open (it opens 1, 3 and 4).
    Components(usize),
    /// A process or precision this build of libjpeg does not decode
    /// (arithmetic coding, lossless, 12-bit).
    Unsupported(String),
    /// libjpeg's fatal error message.
    Corrupt(String),
    /// The header's size is over the pixel limit.
    TooManyPixels { width: u32, height: u32, limit: u64 },
}

impl Failure {
    fn from_libjpeg(message: String) -> Self {
        let message = message
            .strip_prefix("libjpeg fatal error: ")
            .map(str::to_string)
            .unwrap_or(message);
        if message.starts_with("Unsupported") || message.starts_with("Sorry") {
            Self::Unsupported(message)
        } else {
            Self::Corrupt(message)
        }
    }

    fn into_error(self, path: &Path) -> ImageError {
        let path = path.to_path_buf();
        match self {
            Self::Truncated => ImageError::BadImage {
                path,
                reason: "truncated JPEG: the data ends before the last row \
                         (Pillow refuses it too, unless LOAD_TRUNCATED_IMAGES is set)"
                    .to_string(),
            },
            Self::Components(n) => ImageError::NotAnImage {
                path,
                reason: format!("a JPEG with {n} components, which Pillow does not open"),
            },
            Self::Unsupported(message) => ImageError::NotAnImage {
                path,
                reason: format!("a JPEG variant geneval does not decode: {message}"),
            },
            Self::Corrupt(message) => ImageError::BadImage {
                path,
                reason: format!("corrupt JPEG: {message}"),
            },
            Self::TooManyPixels {
                width,
                height,
                limit,
            } => ImageError::TooManyPixels {
                path,
                width,
                height,
                pixels: u64::from(width) * u64::from(height),
                limit,
            },
        }
    }
}

/// The decoding proper; libjpeg's fatal errors unwind out of it.
fn decode_unguarded(
    bytes: &[u8],
    ran_out: &Cell<bool>,
    max_pixels: u64,
) -> Result<RgbImage, Failure> {
    let io_failure = |error: io::Error| {
        if ran_out.get() {
            Failure::Truncated
        } else {
            Failure::Corrupt(error.to_string())
        }
    };
    let source = EndRecordingReader {
        rest: bytes,
        ran_out,
    };
    // Reads the header (markers up to the first scan).
    let decompress = Decompress::builder()
        .from_reader(source)
        .map_err(io_failure)?;
    let components = decompress.components().len();
    if !matches!(components, 1 | 3 | 4) {
        return Err(Failure::Components(components));
    }
    let (width, height) = decompress.size();
    let (width, height) = (
        u32::try_from(width).unwrap_or(u32::MAX),
        u32::try_from(height).unwrap_or(u32::MAX),
    );
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Failure::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    let mut started = match components {
        1 => decompress.grayscale(),
        3 => decompress.rgb(),
        _ => decompress.to_colorspace(ColorSpace::JCS_CMYK),
    }
    .map_err(io_failure)?;
    let samples = read_rows(&mut started, ran_out).map_err(|e| match e {
        RowsError::Io(error) => io_failure(error),
        RowsError::Truncated => Failure::Truncated,
        RowsError::NoMemory(bytes) => {
            Failure::Corrupt(format!("no memory for its {bytes} bytes of pixels"))
        }
    })?;
    // Reads on to the end-of-image marker: running out of data here is fine
    // (Pillow stops at that point with the image complete), a fatal error is not.
    started.finish().map_err(io_failure)?;
    let rgb = match components {
        1 => samples.iter().flat_map(|&v| [v; 3]).collect(),
        3 => samples,
        _ => cmyk_to_rgb(&samples),
    };
    // The sizes come from libjpeg, which filled exactly width × height pixels.
    RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Failure::Corrupt("libjpeg returned fewer rows than the header says".into()))
}

/// Scanlines decoded per call before the end of the data is looked for.
/// libjpeg works in rows of MCUs (8 or 16 scanlines), so a batch of 16
/// never splits one.
const ROWS_PER_BATCH: usize = 16;

enum RowsError {
    Io(io::Error),
    Truncated,
    NoMemory(usize),
}

/// Every scanline, in batches: a file that ends early is refused at the
/// first batch decoded after its data ran out. Past the end libjpeg reads a
/// fake end marker and would go on to write every remaining row gray, so a
/// 633-byte file declaring 13000 × 13000 pixels took 0.5 GB and a second
/// before it was found truncated. The pixel buffer is reserved, not written,
/// up front: only the rows decoded become resident.
fn read_rows<R: BufRead>(
    started: &mut DecompressStarted<R>,
    ran_out: &Cell<bool>,
) -> Result<Vec<u8>, RowsError> {
    // Past the end already (a progressive file reads every scan first).
    if ran_out.get() {
        return Err(RowsError::Truncated);
    }
    let row_len = started.width() * started.color_space().num_components();
    let total = row_len * started.height();
    let mut samples = Vec::new();
    samples
        .try_reserve_exact(total)
        .map_err(|_| RowsError::NoMemory(total))?;
    let mut batch = vec![0u8; row_len * ROWS_PER_BATCH.min(started.height().max(1))];
    while samples.len() < total {
        let rows = ((total - samples.len()) / row_len).min(ROWS_PER_BATCH);
        let batch = &mut batch[..rows * row_len];
        started.read_scanlines_into(batch).map_err(RowsError::Io)?;
        if ran_out.get() {
            return Err(RowsError::Truncated);
        }
        samples.extend_from_slice(batch);
    }
    Ok(samples)
}

/// libjpeg's CMYK output to RGB as Pillow does it: the `CMYK;I` unpacker
/// inverts every byte, then `cmyk2rgb` computes, with `nk = 255 - k`,
/// `nk - MULDIV255(c, nk)`, where `MULDIV255(a, b)` is `((t >> 8) + t) >> 8`
/// for `t = a·b + 128` (Pillow's `Convert.c`).
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    fn muldiv255(a: i32, b: i32) -> i32 {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    }
    cmyk.chunks_exact(4)
        .flat_map(|pixel| {
            let [c, m, y, k] = [!pixel[0], !pixel[1], !pixel[2], !pixel[3]].map(i32::from);
            let nk = 255 - k;
            [c, m, y].map(|v| (nk - muldiv255(v, nk)).clamp(0, 255) as u8)
        })
        .collect()
}

/// `image` as a baseline JPEG at `quality` with libjpeg's fastest defaults,
/// the same bytes on every machine (the generator's JPEG sets and the
/// report's thumbnails). libjpeg reports errors by unwinding out of its
/// error handler; they come back as the `Err` message.
pub fn encode_rgb(image: &RgbImage, quality: f32) -> Result<Vec<u8>, String> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    catch_unwind(|| -> io::Result<Vec<u8>> {
        let mut compress = mozjpeg::Compress::new(ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        compress.set_size(w, h);
        compress.set_quality(quality);
        let mut started = compress.start_compress(Vec::new())?;
        started.write_scanlines(image.as_raw())?;
        started.finish()
    })
    .map_err(|payload| panic_message(payload.as_ref()))?
    .map_err(|e| e.to_string())
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else {
        "libjpeg stopped without a message".to_string()
    }
}

/// The file's bytes as libjpeg's source, noting when libjpeg asks for more
/// than there is (the `mozjpeg` source then feeds it a fake end marker).
struct EndRecordingReader<'a> {
    rest: &'a [u8],
    ran_out: &'a Cell<bool>,
}

impl Read for EndRecordingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for EndRecordingReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.rest.is_empty() {
            self.ran_out.set(true);
        }
        Ok(self.rest)
    }

    fn consume(&mut self, amount: usize) {
        self.rest = &self.rest[amount.min(self.rest.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmyk_to_rgb_is_pillows_cmyk2rgb_after_inversion() {
        // libjpeg output (inverted CMYK) -> Pillow's RGB, checked with Pillow 13:
        // Image.frombytes("CMYK", (1, 1), bytes(255 - v for v in px)).convert("RGB")
        let cases: [([u8; 4], [u8; 3]); 6] = [
            ([255, 255, 255, 255], [255, 255, 255]),
            ([0, 0, 0, 0], [0, 0, 0]),
            ([0, 128, 255, 255], [0, 128, 255]),
            ([200, 100, 50, 128], [100, 50, 25]),
            ([17, 250, 3, 1], [0, 1, 0]),
            ([90, 180, 30, 200], [71, 141, 24]),
        ];
        for (cmyk, rgb) in cases {
            assert_eq!(cmyk_to_rgb(&cmyk), rgb, "{cmyk:?}");
        }
    }

    #[test]
    fn a_truncated_jpeg_declaring_13000_squared_stops_at_the_first_missing_rows() {
        // Was: every one of the 13000 rows was decoded (0.5 GB, 1.1 s)
        // before the truncation was noticed.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images/files/photo.jpg");
        let mut bytes = std::fs::read(path).unwrap();
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 9].copy_from_slice(&[0x32, 0xC8, 0x32, 0xC8]);
        // Without its end marker (with it, libjpeg fills the rows past the
        // data gray and Pillow accepts the image).
        assert!(bytes.ends_with(&[0xFF, 0xD9]));
        bytes.truncate(bytes.len() - 2);
        let started = std::time::Instant::now();
        let error =
            decode_jpeg(&bytes, Path::new("big.jpg"), &DecodeOptions::default()).unwrap_err();
        let elapsed = started.elapsed();
        assert!(error.to_string().contains("truncated JPEG"), "{error}");
        // A whole decode takes ~1 s even optimised; the first batches take
        // milliseconds.
        assert!(elapsed.as_secs_f64() < 0.3, "{elapsed:?}");
    }

    #[test]
    fn only_pillows_jpeg_signature_is_claimed() {
        assert!(is_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(!is_jpeg(&[0xFF, 0xD8]));
        assert!(!is_jpeg(b"\x89PNG\r\n\x1a\n"));
    }
}
