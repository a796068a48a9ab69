//! Pillow's `Image.resize(size, resample=BICUBIC)` on an 8-bit RGB image, to
//! the byte: what torchvision's `Resize(…, BICUBIC)` does to a PIL image
//! (dgm-eval's DINOv2 path) and what CMMD's `_center_crop_and_resize` does.
//!
//! Unlike clean-fid's float resize ([`super::pil_bicubic`]), the uint8 path
//! requantises: Pillow (`libImaging/Resample.c`) computes the cubic
//! (a = −0.5) coefficients in f64, widens the support by the downscale
//! factor (antialiasing), normalises each output pixel's taps to sum 1,
//! turns them into fixed point with 22 fractional bits (rounded away from
//! zero), accumulates `u8 × i32` in an `i32` starting at ½, and clips the
//! shifted sum to `0..=255` — after each pass, so the intermediate image is
//! uint8 too and the order of the passes shows in the result (see
//! [`resize`]). A pass whose size does not change is skipped, as Pillow
//! skips it. The arithmetic below is that, step by step; the SHA-256 of
//! Pillow 13's own resized pixels in `tests/fixtures/vit/expected.json`
//! checks it byte for byte.

use super::RgbView;

/// Fractional bits of Pillow's 8-bit fixed-point coefficients
/// (`PRECISION_BITS = 32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;

/// Pillow's bicubic filter (`a = −0.5`), support 2.
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// One output pixel's taps: the first input index and fixed-point weights.
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for a
/// full-image box `0..in_size`.
fn taps(in_size: usize, out_size: usize) -> Vec<Taps> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = 2.0 * filter_scale;
    let inverse = 1.0 / filter_scale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // Pillow rounds by adding 0.5 and truncating toward zero (C cast).
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (xmin..xmax)
                .map(|x| bicubic((x as f64 - center + 0.5) * inverse))
                .collect();
            let total: f64 = raw.iter().sum();
            let unit = f64::from(1u32 << PRECISION_BITS);
            let weights = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    if w < 0.0 {
                        (-0.5 + w * unit) as i32
                    } else {
                        (0.5 + w * unit) as i32
                    }
                })
                .collect();
            Taps {
                first: xmin,
                weights,
            }
        })
        .collect()
}

/// Pillow's `clip8`: the accumulator shifted back to a byte, clipped.
fn clip8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The half that starts every accumulator (rounding to nearest).
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Resizes interleaved RGB `src` (`width × height`) to `out_w × out_h` with
/// Pillow's 8-bit bicubic, returning interleaved RGB bytes.
///
/// The order of the two passes matters (the intermediate image is
/// requantised): Pillow 13 (`ImagingResampleInner` in `Resample.c`) runs the
/// vertical pass first when the height shrinks by more than twice as many
/// pixels as the width does, the horizontal pass first otherwise.
pub(crate) fn resize(src: RgbView<'_>, out_w: usize, out_h: usize) -> Vec<u8> {
    let (in_w, in_h) = (src.width() as usize, src.height() as usize);
    let (shrink_w, shrink_h) = (in_w as i64 - out_w as i64, in_h as i64 - out_h as i64);
    let vertical_first = shrink_h > 0 && shrink_h > 2 * shrink_w;
    let pixels = src.pixels();
    if vertical_first {
        let mid = vertical(pixels, in_w, in_h, out_h);
        horizontal(&mid, in_w, out_h, out_w)
    } else {
        let mid = horizontal(pixels, in_w, in_h, out_w);
        vertical(&mid, out_w, in_h, out_h)
    }
}

/// One horizontal pass over `height` rows: `in_w` → `out_w` columns (the
/// input itself when the width does not change, as Pillow skips the pass).
fn horizontal(pixels: &[u8], in_w: usize, height: usize, out_w: usize) -> Vec<u8> {
    if out_w == in_w {
        return pixels.to_vec();
    }
    let row_taps = taps(in_w, out_w);
    let mut out = vec![0u8; out_w * height * 3];
    for y in 0..height {
        let row = &pixels[y * in_w * 3..(y + 1) * in_w * 3];
        for (xx, t) in row_taps.iter().enumerate() {
            let mut sums = [HALF; 3];
            for (i, &w) in t.weights.iter().enumerate() {
                let p = &row[(t.first + i) * 3..(t.first + i) * 3 + 3];
                for c in 0..3 {
                    sums[c] += i32::from(p[c]) * w;
                }
            }
            let o = (y * out_w + xx) * 3;
            for c in 0..3 {
                out[o + c] = clip8(sums[c]);
            }
        }
    }
    out
}

/// One vertical pass over `width` columns: `in_h` → `out_h` rows.
fn vertical(pixels: &[u8], width: usize, in_h: usize, out_h: usize) -> Vec<u8> {
    if out_h == in_h {
        return pixels.to_vec();
    }
    let column_taps = taps(in_h, out_h);
    let mut out = vec![0u8; width * out_h * 3];
    for (yy, t) in column_taps.iter().enumerate() {
        for x in 0..width {
            let mut sums = [HALF; 3];
            for (i, &w) in t.weights.iter().enumerate() {
                let o = ((t.first + i) * width + x) * 3;
                for c in 0..3 {
                    sums[c] += i32::from(pixels[o + c]) * w;
                }
            }
            let o = (yy * width + x) * 3;
            for c in 0..3 {
                out[o + c] = clip8(sums[c]);
            }
        }
    }
    out
}

/// CMMD's `_center_crop_and_resize` before the resize: the centred square of
/// side `min(w, h)`, its corner at `((w − l) // 2, (h − l) // 2)`.
pub(crate) fn centre_square(src: RgbView<'_>) -> (Vec<u8>, u32) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let side = w.min(h);
    let (left, top) = ((w - side) / 2, (h - side) / 2);
    let mut out = Vec::with_capacity(side * side * 3);
    for y in top..top + side {
        let start = (y * w + left) * 3;
        out.extend_from_slice(&src.pixels()[start..start + side * 3]);
    }
    (out, side as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(pixels: &[u8], w: u32, h: u32) -> RgbView<'_> {
        RgbView::new(pixels, w, h).unwrap()
    }

    #[test]
    fn same_size_is_the_identity() {
        let pixels: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 37 % 256) as u8).collect();
        assert_eq!(resize(view(&pixels, 5, 4), 5, 4), pixels);
    }

    #[test]
    fn a_flat_image_stays_flat_at_any_size() {
        let pixels = vec![200u8; 7 * 3 * 3];
        for (w, h) in [(1, 1), (3, 9), (14, 6), (224, 224)] {
            let out = resize(view(&pixels, 7, 3), w, h);
            assert_eq!(out.len(), w * h * 3);
            assert!(out.iter().all(|&v| v == 200), "{w}x{h}");
        }
    }

    #[test]
    fn weights_sum_to_one_in_fixed_point_within_rounding() {
        for (input, output) in [(40, 224), (500, 224), (336, 336), (37, 16)] {
            for t in taps(input, output) {
                let sum: i64 = t.weights.iter().map(|&w| i64::from(w)).sum();
                let one = 1i64 << PRECISION_BITS;
                assert!(
                    (sum - one).abs() <= t.weights.len() as i64,
                    "{sum} vs {one}"
                );
            }
        }
    }

    #[test]
    fn the_centre_square_is_taken_as_cmmd_takes_it() {
        // 5 × 2: l = 2, left = (5 − 2) // 2 = 1, top = 0.
        let pixels: Vec<u8> = (0..5 * 2).flat_map(|i| [i as u8; 3]).collect();
        let (square, side) = centre_square(view(&pixels, 5, 2));
        assert_eq!(side, 2);
        let firsts: Vec<u8> = square.chunks(3).map(|p| p[0]).collect();
        assert_eq!(firsts, [1, 2, 6, 7]);
    }
}
