//! Drawing the reference images: a class-specific shape family and palette
//! on a gradient background, anti-aliased from signed distances.
//!
//! A class's look depends only on its number (never on the seed), so two
//! seeds draw two samples of the same distribution; everything that varies
//! within a class (background, how many objects, where, how large, turned how
//! far, the exact hue) is drawn from the image's own streams.

use super::math::sin_cos;
use super::rng::Rng;
use image::RgbImage;

/// Stream purposes (arbitrary distinct constants).
const BACKGROUND: u64 = 0x6267_2d62_6163_6b67;
const OBJECTS: u64 = 0x6f62_6a65_6374_7321;
const CONTAMINANT: u64 = 0x636f_6e74_616d_696e;

/// The number of shape families; classes beyond it reuse the families with
/// other palettes and sizes.
pub const SHAPE_FAMILIES: usize = 10;

/// Names of the shape families, by `class % SHAPE_FAMILIES`.
pub const FAMILY_NAMES: [&str; SHAPE_FAMILIES] = [
    "disc", "square", "triangle", "stripes", "ring", "checker", "cross", "ellipse", "hexagon",
    "target",
];

/// An RGB image in floating point, 0–1, row-major.
struct Canvas {
    width: u32,
    height: u32,
    data: Vec<[f64; 3]>,
}

impl Canvas {
    fn into_image(self) -> RgbImage {
        let mut out = RgbImage::new(self.width, self.height);
        for (pixel, value) in out.pixels_mut().zip(&self.data) {
            pixel.0 = value.map(to_u8);
        }
        out
    }
}

/// 0–1 to 0–255, rounded half up.
fn to_u8(v: f64) -> u8 {
    (v * 255.0 + 0.5).floor().clamp(0.0, 255.0) as u8
}

fn frac(x: f64) -> f64 {
    x - x.floor()
}

/// HSV (all 0–1, hue wrapping) to RGB 0–1.
fn hsv(h: f64, s: f64, v: f64) -> [f64; 3] {
    let h = frac(h) * 6.0;
    let sector = h.floor();
    let f = h - sector;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match sector as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// What all images of a class share.
struct ClassStyle {
    family: usize,
    hue: f64,
    saturation: f64,
    value: f64,
    /// Radius of an object relative to the image side.
    radius: f64,
}

fn class_style(class: usize) -> ClassStyle {
    let c = class as f64;
    ClassStyle {
        family: class % SHAPE_FAMILIES,
        hue: frac(0.13 + c * 0.381_966_011_250_105),
        saturation: 0.6 + 0.3 * frac(0.5 + c * 0.754_877_666_246_693),
        value: 0.75 + 0.2 * frac(0.25 + c * 0.569_840_290_998_053),
        radius: 0.14 + 0.08 * frac(c * 0.618_033_988_749_895),
    }
}

fn length(x: f64, y: f64) -> f64 {
    (x * x + y * y).sqrt()
}

/// Signed distance to a box of half sides `bx`, `by`.
fn sd_box(x: f64, y: f64, bx: f64, by: f64) -> f64 {
    let (dx, dy) = (x.abs() - bx, y.abs() - by);
    length(dx.max(0.0), dy.max(0.0)) + dx.max(dy).min(0.0)
}

/// Signed distance to an equilateral triangle of circumradius-ish `r`
/// (Quilez's formula).
fn sd_triangle(x: f64, y: f64, r: f64) -> f64 {
    let k = 3f64.sqrt();
    let mut px = x.abs() - r;
    let mut py = y + r / k;
    if px + k * py > 0.0 {
        let (nx, ny) = ((px - k * py) / 2.0, (-k * px - py) / 2.0);
        px = nx;
        py = ny;
    }
    px -= px.clamp(-2.0 * r, 0.0);
    -length(px, py) * py.signum()
}

/// Signed distance to a regular hexagon of inradius `r` (Quilez's formula).
fn sd_hexagon(x: f64, y: f64, r: f64) -> f64 {
    let (kx, ky, kz) = (-0.866_025_403_784_438_6, 0.5, 0.577_350_269_189_625_8);
    let (mut px, mut py) = (x.abs(), y.abs());
    let dot = 2.0 * (kx * px + ky * py).min(0.0);
    px -= dot * kx;
    py -= dot * ky;
    px -= px.clamp(-kz * r, kz * r);
    py -= r;
    length(px, py) * py.signum()
}

/// The signed distance (image-side units) and the colour of a family at a
/// point in the object's frame; `second` is the pattern's other colour.
fn shade(
    family: usize,
    x: f64,
    y: f64,
    r: f64,
    first: [f64; 3],
    second: [f64; 3],
) -> (f64, [f64; 3]) {
    let checker = |cell: f64| (((x / cell).floor() + (y / cell).floor()) as i64).rem_euclid(2) == 0;
    match family {
        0 => (length(x, y) - r, first),
        1 => (sd_box(x, y, 0.8 * r, 0.8 * r), first),
        2 => (sd_triangle(x, y, r), first),
        3 => {
            let stripe = frac(x / (0.4 * r)) < 0.5;
            (
                sd_box(x, y, 0.85 * r, 0.85 * r),
                if stripe { first } else { second },
            )
        }
        4 => ((length(x, y) - 0.75 * r).abs() - 0.22 * r, first),
        5 => (
            sd_box(x, y, 0.85 * r, 0.85 * r),
            if checker(0.45 * r) { first } else { second },
        ),
        6 => (
            sd_box(x, y, r, 0.3 * r).min(sd_box(x, y, 0.3 * r, r)),
            first,
        ),
        7 => {
            let (a, b) = (r, 0.5 * r);
            ((length(x / a, y / b) - 1.0) * b, first)
        }
        8 => (sd_hexagon(x, y, 0.85 * r), first),
        _ => {
            let band = frac(length(x, y) / (0.34 * r)) < 0.5;
            (length(x, y) - r, if band { first } else { second })
        }
    }
}

/// The gradient background of an image.
fn background(canvas: &mut Canvas, rng: &mut Rng) {
    let pick = |rng: &mut Rng| hsv(rng.uniform(), rng.range(0.0, 0.35), rng.range(0.25, 0.85));
    let (c0, c1) = (pick(rng), pick(rng));
    let (s, c) = sin_cos(rng.range(0.0, 2.0 * std::f64::consts::PI));
    let (w, h) = (canvas.width as f64, canvas.height as f64);
    for (i, pixel) in canvas.data.iter_mut().enumerate() {
        let u = ((i % canvas.width as usize) as f64 + 0.5) / w - 0.5;
        let v = ((i / canvas.width as usize) as f64 + 0.5) / h - 0.5;
        let t = (0.5 + u * c + v * s).clamp(0.0, 1.0);
        for k in 0..3 {
            pixel[k] = c0[k] + (c1[k] - c0[k]) * t;
        }
    }
}

/// Draws image `index` of `class` at `width` × `height`.
pub(crate) fn draw(seed: u64, index: u64, class: usize, width: u32, height: u32) -> RgbImage {
    let mut canvas = Canvas {
        width,
        height,
        data: vec![[0.0; 3]; width as usize * height as usize],
    };
    background(&mut canvas, &mut Rng::new(seed, index, BACKGROUND));
    let style = class_style(class);
    let mut rng = Rng::new(seed, index, OBJECTS);
    let objects = 1 + rng.below(3);
    // Distances are in units of the shorter side.
    let side = width.min(height) as f64;
    for _ in 0..objects {
        let cx = rng.range(0.2, 0.8) * width as f64 / side;
        let cy = rng.range(0.2, 0.8) * height as f64 / side;
        let r = style.radius * rng.range(0.75, 1.3);
        let (sin, cos) = sin_cos(rng.range(0.0, 2.0 * std::f64::consts::PI));
        let hue = style.hue + rng.range(-0.04, 0.04);
        let value = (style.value + rng.range(-0.1, 0.1)).min(1.0);
        let first = hsv(hue, style.saturation, value);
        let second = hsv(hue + 0.5, style.saturation * 0.5, 1.0 - 0.6 * value);
        let reach = 1.5 * r + 2.0 / side;
        let x0 = ((cx - reach) * side).floor().max(0.0) as u32;
        let x1 = (((cx + reach) * side).ceil().max(0.0) as u32).min(width);
        let y0 = ((cy - reach) * side).floor().max(0.0) as u32;
        let y1 = (((cy + reach) * side).ceil().max(0.0) as u32).min(height);
        for py in y0..y1 {
            for px in x0..x1 {
                let dx = (px as f64 + 0.5) / side - cx;
                let dy = (py as f64 + 0.5) / side - cy;
                let (qx, qy) = (cos * dx + sin * dy, -sin * dx + cos * dy);
                let (distance, color) = shade(style.family, qx, qy, r, first, second);
                let coverage = (0.5 - distance * side).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    let pixel = &mut canvas.data[py as usize * width as usize + px as usize];
                    for k in 0..3 {
                        pixel[k] += (color[k] - pixel[k]) * coverage;
                    }
                }
            }
        }
    }
    canvas.into_image()
}

/// An image of another distribution (for contamination): smooth value noise
/// of saturated colours on a coarse random grid, with no shapes.
pub fn render_contaminant(seed: u64, index: usize, width: u32, height: u32) -> RgbImage {
    let mut rng = Rng::new(seed, index as u64, CONTAMINANT);
    let cells = 2 + rng.below(4) as usize;
    let nodes: Vec<[f64; 3]> = (0..(cells + 1) * (cells + 1))
        .map(|_| hsv(rng.uniform(), rng.range(0.5, 1.0), rng.range(0.3, 1.0)))
        .collect();
    let mut canvas = Canvas {
        width,
        height,
        data: vec![[0.0; 3]; width as usize * height as usize],
    };
    let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
    for (i, pixel) in canvas.data.iter_mut().enumerate() {
        let gx = ((i % width as usize) as f64 + 0.5) / width as f64 * cells as f64;
        let gy = ((i / width as usize) as f64 + 0.5) / height as f64 * cells as f64;
        let (ix, iy) = (gx.floor() as usize, gy.floor() as usize);
        let (tx, ty) = (smooth(gx - ix as f64), smooth(gy - iy as f64));
        let at = |x: usize, y: usize| nodes[y * (cells + 1) + x];
        let (a, b, c, d) = (
            at(ix, iy),
            at(ix + 1, iy),
            at(ix, iy + 1),
            at(ix + 1, iy + 1),
        );
        for k in 0..3 {
            let top = a[k] + (b[k] - a[k]) * tx;
            let bottom = c[k] + (d[k] - c[k]) * tx;
            pixel[k] = top + (bottom - top) * ty;
        }
    }
    canvas.into_image()
}
