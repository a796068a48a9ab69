//! A borrowed view of a decoded RGB u8 image (HWC, rows top to bottom), the form
//! `input::decode` produces and PIL's `np.asarray(img.convert("RGB"))` holds.

use super::PreprocessError;

/// Borrowed RGB u8 pixels, interleaved (`[r, g, b, r, g, b, ...]`), row-major.
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    pixels: &'a [u8],
    width: u32,
    height: u32,
}

impl<'a> RgbView<'a> {
    /// Checks that `pixels` holds exactly `width * height * 3` bytes and that
    /// neither side is zero.
    pub fn new(pixels: &'a [u8], width: u32, height: u32) -> Result<Self, PreprocessError> {
        if width == 0 || height == 0 {
            return Err(PreprocessError::EmptyImage { width, height });
        }
        let expected = width as usize * height as usize * 3;
        if pixels.len() != expected {
            return Err(PreprocessError::PixelBufferLength {
                width,
                height,
                expected,
                actual: pixels.len(),
            });
        }
        Ok(RgbView {
            pixels,
            width,
            height,
        })
    }

    /// Interleaved pixels, `height * width * 3` bytes.
    pub fn pixels(&self) -> &'a [u8] {
        self.pixels
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
}

impl<'a> TryFrom<&'a image::RgbImage> for RgbView<'a> {
    type Error = PreprocessError;

    fn try_from(img: &'a image::RgbImage) -> Result<Self, Self::Error> {
        RgbView::new(img.as_raw(), img.width(), img.height())
    }
}
