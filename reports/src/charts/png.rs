//! PNG output: the chart is drawn on an RGB buffer at a multiple of the
//! requested size (plotters' bitmap backend does not smooth lines or
//! shapes), reduced block by block for anti-aliasing, and encoded with the
//! `png` crate.

use plotters::prelude::*;

use super::canvas::{Canvas, Drawn};
use super::Chart;

/// How many times larger the chart is drawn than it is delivered: 3 (9
/// samples a pixel) for ordinary sizes, less for huge images so that the
/// buffer stays under ~200 MB.
fn supersample(width: u32, height: u32) -> u32 {
    match u64::from(width) * u64::from(height) {
        0..=2_000_000 => 3,
        2_000_001..=8_000_000 => 2,
        _ => 1,
    }
}

/// The chart as PNG bytes of `width`×`height` pixels.
pub(super) fn render(chart: &Chart, width: u32, height: u32) -> Drawn<Vec<u8>> {
    let factor = supersample(width, height);
    let (big_w, big_h) = (width * factor, height * factor);
    let mut big = vec![0u8; big_w as usize * big_h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, (big_w, big_h)).into_drawing_area();
        let canvas = Canvas::raster(&root, f64::from(factor));
        super::draw(chart, &canvas)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let rgb = reduce(&big, width, height, factor);
    encode(&rgb, width, height)
}

/// Averages each `factor`×`factor` block of `big` into one pixel.
fn reduce(big: &[u8], width: u32, height: u32, factor: u32) -> Vec<u8> {
    let (w, h, s) = (width as usize, height as usize, factor as usize);
    let big_row = w * s * 3;
    let n = (s * s) as u32;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            for channel in 0..3 {
                let mut sum = 0u32;
                for dy in 0..s {
                    let row = (y * s + dy) * big_row;
                    for dx in 0..s {
                        sum += u32::from(big[row + (x * s + dx) * 3 + channel]);
                    }
                }
                out.push(((sum + n / 2) / n) as u8);
            }
        }
    }
    out
}

/// 8-bit RGB pixels as a PNG file.
fn encode(rgb: &[u8], width: u32, height: u32) -> Drawn<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let failed = |e: png::EncodingError| format!("encoding the PNG failed: {e}");
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_averages_blocks() {
        // 6×3 big pixels → 2×1: a block with 4 of 9 pixels white, and a
        // uniform grey one.
        let mut big = vec![0u8; 6 * 3 * 3];
        for (i, px) in big.chunks_mut(3).enumerate() {
            let (x, y) = (i % 6, i / 6);
            let v = if x >= 3 {
                100
            } else if (x + y) % 2 == 0 {
                255
            } else {
                0
            };
            px.fill(v);
        }
        // (0,0), (2,0), (1,1), (0,2), (2,2) are white: 5 × 255 / 9 = 141.7.
        assert_eq!(reduce(&big, 2, 1, 3), [142, 142, 142, 100, 100, 100]);
        // Factor 1 is a copy.
        assert_eq!(reduce(&big, 6, 3, 1), big);
    }

    #[test]
    fn huge_images_are_drawn_with_fewer_samples() {
        assert_eq!(supersample(640, 400), 3);
        assert_eq!(supersample(2400, 1600), 2);
        assert_eq!(supersample(8192, 8192), 1);
    }
}
