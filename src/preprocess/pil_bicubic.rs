//! Antialiased bicubic resize of float data, as Pillow's `Image.resize(size,
//! resample=BICUBIC)` computes it on mode "F" images: clean-fid's "clean" mode
//! (`cleanfid.resize.make_resizer("PIL", quantize_after=False, "bicubic")`) resizes each
//! channel as a float32 image that way and then clips to `[0, 255]`, with no
//! requantisation to uint8.
//!
//! Pillow's `Resample.c` uses the cubic kernel with a = -0.5, support widened by the
//! downscale factor (antialiasing), coefficients normalised in f64, a horizontal pass
//! then a vertical pass, f64 accumulation and an f32 intermediate. `fast_image_resize`
//! 6 with `ResizeAlg::Convolution(FilterType::CatmullRom)` (Catmull-Rom is the a = -0.5
//! cubic) on `F32` pixels follows the same steps (measured bit-exact against Pillow, see
//! `../shared/NOTES.md` and the fixtures in `tests/fixtures/preprocess/`). The three
//! channels go through one `F32x3` resize: each channel's arithmetic is that of a
//! single-channel image.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::F32x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use super::{PreprocessError, RgbView};

/// Resizes `src` (bytes as floats 0..=255) to `out_w` x `out_h`, clips to `[0, 255]` as
/// clean-fid does, and writes CHW planes into `out` (`3 * out_h * out_w` floats), not
/// yet normalised.
pub(crate) fn resize_into(
    src: RgbView<'_>,
    out_w: usize,
    out_h: usize,
    out: &mut [f32],
) -> Result<(), PreprocessError> {
    let input: Vec<F32x3> = src
        .pixels()
        .chunks_exact(3)
        .map(|p| F32x3::new([f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]))
        .collect();
    let src_image = TypedImageRef::new(src.width(), src.height(), &input)
        .map_err(|e| PreprocessError::Resize(e.to_string()))?;
    let mut dst_image = TypedImage::<F32x3>::new(out_w as u32, out_h as u32);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize_typed(&src_image, &mut dst_image, &options)
        .map_err(|e| PreprocessError::Resize(e.to_string()))?;
    let plane_len = out_w * out_h;
    let (r, rest) = out.split_at_mut(plane_len);
    let (g, b) = rest.split_at_mut(plane_len);
    for (i, p) in dst_image.pixels().iter().enumerate() {
        r[i] = p.0[0].clamp(0.0, 255.0);
        g[i] = p.0[1].clamp(0.0, 255.0);
        b[i] = p.0[2].clamp(0.0, 255.0);
    }
    Ok(())
}
