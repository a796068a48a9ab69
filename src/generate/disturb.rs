//! The disturbances of the FID paper (Heusel et al. 2017, "GANs trained by a
//! two time-scale update rule converge to a local Nash equilibrium",
//! appendix, experiments with disturbed CelebA images), each with a level:
//!
//! | kind | level | definition |
//! |---|---|---|
//! | `noise` | α ∈ [0, 0.75] | `(1 − α)·X + α·N`, N a per-pixel, per-channel Gaussian noise image scaled to the pixel range: `N = clamp(127.5 + 63.75·z, 0, 255)`, z ~ N(0, 1) |
//! | `blur` | σ ∈ [0, 4] pixels | convolution with a Gaussian kernel of standard deviation σ, separable, radius ⌈3σ⌉, edges clamped |
//! | `rectangles` | α ∈ [0, 0.75] | five black rectangles of α·width × α·height, centred at uniform random points, clipped to the image |
//! | `swirl` | strength ∈ [0, 4] | `skimage.transform.swirl(image, strength=α, radius=100·side/64)` (skimage's default radius of 100 pixels at the paper's 64-pixel images, scaled to the image; centre at the image centre, no rotation), bilinear sampling, edges clamped; side = (width + height)/2 |
//! | `salt-pepper` | p ∈ [0, 0.3] | each pixel is set, with probability p, to black or white (equally likely) |
//! | `contamination` | α ∈ [0, 0.75] | a fraction α of the images (by index, see [`contaminated`]) is replaced by images of another distribution ([`render_contaminant`]) |
//!
//! Every random draw is a pure function of (seed, image index, kind) and not
//! of the level, so higher levels disturb the same pixels more: the noise
//! image is the same, the rectangles grow around the same centres, the salt
//! and pepper pixels of level p are a subset of those of any higher level,
//! and the contaminated images of α are a subset of those of any higher α.
//! Level 0 is exactly the identity.

use super::math::{atan2, exp, sin_cos};
use super::render::render_contaminant;
use super::rng::{self, Rng};
use image::RgbImage;
use std::fmt;
use std::str::FromStr;

/// The kinds of disturbance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisturbanceKind {
    /// Gaussian noise mixed in with weight α.
    Noise,
    /// Gaussian blur of standard deviation σ pixels.
    Blur,
    /// Five black rectangles of α times the image's sides.
    Rectangles,
    /// skimage's swirl of the given strength.
    Swirl,
    /// Salt and pepper noise with probability p per pixel.
    SaltPepper,
    /// A fraction α of the set replaced by another distribution.
    Contamination,
}

impl DisturbanceKind {
    /// Every kind, in documentation order.
    pub const ALL: [DisturbanceKind; 6] = [
        Self::Noise,
        Self::Blur,
        Self::Rectangles,
        Self::Swirl,
        Self::SaltPepper,
        Self::Contamination,
    ];

    /// The name used in `KIND:LEVEL`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Noise => "noise",
            Self::Blur => "blur",
            Self::Rectangles => "rectangles",
            Self::Swirl => "swirl",
            Self::SaltPepper => "salt-pepper",
            Self::Contamination => "contamination",
        }
    }

    /// The allowed levels, inclusive.
    pub fn range(self) -> (f64, f64) {
        match self {
            Self::Noise | Self::Rectangles | Self::Contamination => (0.0, 0.75),
            Self::Blur | Self::Swirl => (0.0, 4.0),
            Self::SaltPepper => (0.0, 0.3),
        }
    }

    /// The levels of the FID paper's figures (the first is 0, the identity).
    pub fn paper_levels(self) -> [f64; 4] {
        match self {
            Self::Noise | Self::Rectangles | Self::Contamination => [0.0, 0.25, 0.5, 0.75],
            Self::Blur | Self::Swirl => [0.0, 1.0, 2.0, 4.0],
            Self::SaltPepper => [0.0, 0.1, 0.2, 0.3],
        }
    }

    /// Whether it acts on the set (which images) rather than on pixels.
    pub fn acts_on_set(self) -> bool {
        self == Self::Contamination
    }

    /// The stream purpose of this kind.
    fn purpose(self) -> u64 {
        0x6469_7374_7572_6200 + self as u64
    }
}

impl fmt::Display for DisturbanceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One disturbance at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disturbance {
    /// What it does.
    pub kind: DisturbanceKind,
    /// How much (see the module's table for each kind's unit and range).
    pub level: f64,
}

impl Disturbance {
    /// A disturbance, checking the level against the kind's range.
    pub fn new(kind: DisturbanceKind, level: f64) -> Result<Self, DisturbanceError> {
        let (lo, hi) = kind.range();
        if !(level >= lo && level <= hi) {
            return Err(DisturbanceError::LevelOutOfRange {
                kind,
                level: level.to_string(),
                low: lo,
                high: hi,
            });
        }
        Ok(Self { kind, level })
    }
}

impl fmt::Display for Disturbance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.level)
    }
}

/// Why a `KIND:LEVEL` string is not a disturbance.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DisturbanceError {
    /// No colon.
    #[error("disturbance '{text}' is not KIND:LEVEL ({})", kinds_help())]
    NotKindLevel {
        /// The text given.
        text: String,
    },
    /// Unknown kind.
    #[error("unknown disturbance kind '{kind}' ({})", kinds_help())]
    UnknownKind {
        /// The kind given.
        kind: String,
    },
    /// The level is not a number or is out of range.
    #[error("{kind} level '{level}' must be a number from {low} to {high}")]
    LevelOutOfRange {
        /// The kind.
        kind: DisturbanceKind,
        /// The level given.
        level: String,
        /// Smallest level.
        low: f64,
        /// Largest level.
        high: f64,
    },
}

impl DisturbanceError {
    /// What to do about it.
    pub(crate) fn hint_text(&self) -> String {
        format!(
            "write KIND:LEVEL, e.g. noise:0.25 or blur:2; {}",
            kinds_help()
        )
    }
}

impl crate::diagnostics::Hint for DisturbanceError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}

/// "kinds: noise 0–0.75, blur 0–4, …".
fn kinds_help() -> String {
    let kinds: Vec<String> = DisturbanceKind::ALL
        .iter()
        .map(|k| {
            let (lo, hi) = k.range();
            format!("{k} {lo}-{hi}")
        })
        .collect();
    format!("kinds and levels: {}", kinds.join(", "))
}

impl FromStr for DisturbanceKind {
    type Err = DisturbanceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        let wanted = match wanted.as_str() {
            "salt-and-pepper" | "saltpepper" => "salt-pepper",
            "gaussian-noise" => "noise",
            "gaussian-blur" => "blur",
            "black-rectangles" => "rectangles",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| DisturbanceError::UnknownKind { kind: s.to_owned() })
    }
}

impl FromStr for Disturbance {
    type Err = DisturbanceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, level) = s
            .split_once(':')
            .ok_or_else(|| DisturbanceError::NotKindLevel { text: s.to_owned() })?;
        let kind: DisturbanceKind = kind.parse()?;
        let (low, high) = kind.range();
        let out_of_range = || DisturbanceError::LevelOutOfRange {
            kind,
            level: level.to_owned(),
            low,
            high,
        };
        let value: f64 = level.trim().parse().map_err(|_| out_of_range())?;
        Disturbance::new(kind, value).map_err(|_| out_of_range())
    }
}

/// Whether image `index` of a set is replaced by a contaminant at fraction
/// `alpha`: `frac(u + index·φ) < alpha` with φ the golden ratio's fractional
/// part and u a uniform offset drawn from the seed. Any `n` consecutive
/// indices hold `alpha·n` contaminants up to about ±1 (a low-discrepancy
/// sequence, not independent draws), and the set for a lower `alpha` is a
/// subset of the set for a higher one.
pub fn contaminated(seed: u64, index: usize, alpha: f64) -> bool {
    picked(seed, index, alpha, DisturbanceKind::Contamination.purpose())
}

/// [`contaminated`]'s low-discrepancy pick, with the offset drawn for
/// `purpose` (so two kinds of replacement pick different images).
pub(crate) fn picked(seed: u64, index: usize, alpha: f64, purpose: u64) -> bool {
    if alpha <= 0.0 {
        return false;
    }
    let offset = (rng::key(seed, 0, purpose) >> 11) as f64 / (1u64 << 53) as f64;
    // index·φ mod 1 computed exactly in 64-bit fixed point.
    const PHI_FIXED: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = (index as u64).wrapping_mul(PHI_FIXED) >> 11;
    let t = (step as f64 / (1u64 << 53) as f64 + offset) % 1.0;
    t < alpha
}

/// Applies a pixel disturbance to image `index` of a set drawn with `seed`.
/// Contamination is not a pixel disturbance: here it returns the contaminant
/// when [`contaminated`] says so, and the image unchanged otherwise.
pub fn apply(image: &RgbImage, d: &Disturbance, seed: u64, index: usize) -> RgbImage {
    if d.level <= 0.0 {
        return image.clone();
    }
    let mut rng = Rng::new(seed, index as u64, d.kind.purpose());
    match d.kind {
        DisturbanceKind::Noise => noise(image, d.level, &mut rng),
        DisturbanceKind::Blur => blur(image, d.level),
        DisturbanceKind::Rectangles => rectangles(image, d.level, &mut rng),
        DisturbanceKind::Swirl => swirl(image, d.level),
        DisturbanceKind::SaltPepper => salt_pepper(image, d.level, &mut rng),
        DisturbanceKind::Contamination => {
            if contaminated(seed, index, d.level) {
                render_contaminant(seed, index, image.width(), image.height())
            } else {
                image.clone()
            }
        }
    }
}

fn round_u8(v: f64) -> u8 {
    (v + 0.5).floor().clamp(0.0, 255.0) as u8
}

fn noise(image: &RgbImage, alpha: f64, rng: &mut Rng) -> RgbImage {
    let mut out = image.clone();
    for value in out.iter_mut() {
        let n = (127.5 + 63.75 * rng.normal()).clamp(0.0, 255.0);
        *value = round_u8((1.0 - alpha) * *value as f64 + alpha * n);
    }
    out
}

fn blur(image: &RgbImage, sigma: f64) -> RgbImage {
    let radius = (3.0 * sigma).ceil() as i64;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|k| exp(-((k * k) as f64) / (2.0 * sigma * sigma)))
        .collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let (w, h) = (image.width() as i64, image.height() as i64);
    let src = image.as_raw();
    // Horizontal pass into f64, vertical pass to u8.
    let mut rows = vec![0.0f64; src.len()];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0.0;
                for (j, weight) in weights.iter().enumerate() {
                    let sx = (x + j as i64 - radius).clamp(0, w - 1);
                    sum += weight * src[((y * w + sx) * 3 + c) as usize] as f64;
                }
                rows[((y * w + x) * 3 + c) as usize] = sum;
            }
        }
    }
    let mut out = RgbImage::new(image.width(), image.height());
    let dst: &mut [u8] = &mut out;
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0.0;
                for (j, weight) in weights.iter().enumerate() {
                    let sy = (y + j as i64 - radius).clamp(0, h - 1);
                    sum += weight * rows[((sy * w + x) * 3 + c) as usize];
                }
                dst[((y * w + x) * 3 + c) as usize] = round_u8(sum);
            }
        }
    }
    out
}

fn rectangles(image: &RgbImage, alpha: f64, rng: &mut Rng) -> RgbImage {
    let mut out = image.clone();
    let (w, h) = (image.width() as f64, image.height() as f64);
    let (rw, rh) = (alpha * w, alpha * h);
    for _ in 0..5 {
        let (cx, cy) = (rng.uniform() * w, rng.uniform() * h);
        let x0 = (cx - rw / 2.0).round().max(0.0) as u32;
        let x1 = ((cx + rw / 2.0).round().max(0.0) as u32).min(image.width());
        let y0 = (cy - rh / 2.0).round().max(0.0) as u32;
        let y1 = ((cy + rh / 2.0).round().max(0.0) as u32).min(image.height());
        for y in y0..y1 {
            for x in x0..x1 {
                out.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
    }
    out
}

fn swirl(image: &RgbImage, strength: f64) -> RgbImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (x0, y0) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    // skimage's radius 100 at 64 pixels, scaled; then as skimage:
    // radius = radius / 5 * log(2), theta = strength * exp(-rho / radius) + atan2.
    let radius = 100.0 / 64.0 * (w + h) as f64 / 2.0 / 5.0 * std::f64::consts::LN_2;
    let src = image.as_raw();
    let sample = |x: usize, y: usize, c: usize| src[(y * w + x) * 3 + c] as f64;
    let mut out = RgbImage::new(image.width(), image.height());
    let dst: &mut [u8] = &mut out;
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f64 - x0, y as f64 - y0);
            let rho = (dx * dx + dy * dy).sqrt();
            let theta = strength * exp(-rho / radius) + atan2(dy, dx);
            let (s, c) = sin_cos(theta);
            let sx = (x0 + rho * c).clamp(0.0, (w - 1) as f64);
            let sy = (y0 + rho * s).clamp(0.0, (h - 1) as f64);
            let (ix, iy) = (sx.floor() as usize, sy.floor() as usize);
            let (fx, fy) = (sx - ix as f64, sy - iy as f64);
            let (jx, jy) = ((ix + 1).min(w - 1), (iy + 1).min(h - 1));
            for k in 0..3 {
                let top = sample(ix, iy, k) * (1.0 - fx) + sample(jx, iy, k) * fx;
                let bottom = sample(ix, jy, k) * (1.0 - fx) + sample(jx, jy, k) * fx;
                dst[(y * w + x) * 3 + k] = round_u8(top * (1.0 - fy) + bottom * fy);
            }
        }
    }
    out
}

fn salt_pepper(image: &RgbImage, p: f64, rng: &mut Rng) -> RgbImage {
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        let u = rng.uniform();
        let white = rng.next_u64() >> 63 == 1;
        if u < p {
            pixel.0 = if white { [255; 3] } else { [0; 3] };
        }
    }
    out
}
