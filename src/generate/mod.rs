//! The reference image generator and the FID paper's disturbances.
//!
//! `render(options, i)` draws image `i` of a set of procedural RGB images in
//! `classes` classes (see [`render`] for what a class looks like). Each image
//! is a pure function of `(seed, index, size, classes)`: randomness comes
//! from counter-based splitmix64 streams keyed by those, and the drawing
//! uses only IEEE arithmetic (geneval's own `sin`, `exp`, … rather than the
//! platform's), so the files are byte-identical on every machine and for
//! every thread count. [`write_set`] renders a set in parallel, applies
//! [`Disturbance`]s and writes numbered PNG or JPEG files and `labels.csv`;
//! [`disturb_folder`] disturbs an existing folder.

mod disturb;
pub(crate) mod math;
mod render;
mod rng;

pub use disturb::{apply, contaminated, Disturbance, DisturbanceError, DisturbanceKind};
pub use render::{render_contaminant, FAMILY_NAMES, SHAPE_FAMILIES};

use crate::fs::WriteError;
use crate::images::decode::{decode_file, DecodeOptions};
use crate::images::discover::{discover, DiscoverOptions};
use crate::images::ImageError;
use image::RgbImage;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// The JPEG quality of generated JPEG files.
pub const JPEG_QUALITY: u8 = 90;
/// The smallest and largest image side.
pub const SIZE_RANGE: (u32, u32) = (8, 4096);

/// The file format of generated images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageFormat {
    /// Lossless PNG (the `image` crate's encoder at its defaults).
    #[default]
    Png,
    /// JPEG through libjpeg (the `mozjpeg` crate) with libjpeg-turbo's
    /// baseline settings, quality [`JPEG_QUALITY`], 4:2:0 chroma.
    Jpeg,
}

impl ImageFormat {
    /// The file extension (and the name on the command line).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
        })
    }
}

impl FromStr for ImageFormat {
    type Err = GenerateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Self::Png),
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            _ => Err(GenerateError::InvalidOptions {
                reason: format!("unknown image format '{s}': use png or jpeg"),
            }),
        }
    }
}

/// Another name of [`ImageFormat`].
pub type OutputFormat = ImageFormat;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Number of images.
    pub n: usize,
    /// Side of the square images, pixels.
    pub size: u32,
    /// The seed: everything random derives from it.
    pub seed: u64,
    /// Number of classes.
    pub classes: usize,
    /// Only classes `0..k` appear (mode dropping); `None` for all.
    pub keep_classes: Option<usize>,
    /// File format.
    pub format: ImageFormat,
    /// Disturbances applied in order to every image.
    pub disturbances: Vec<Disturbance>,
    /// Exact copies of another set's images put in place of some images.
    pub copies: Option<Copies>,
}

/// Copies of a "training" set planted in a generated set (`--copies F
/// --copies-of SEED`): a fraction of the images is replaced, after every
/// disturbance, by images of the set `geneval generate` draws with the same
/// arguments and seed `of_seed`, undisturbed. This is what a memorising
/// model produces, and what `geneval nn` must find (the `contamination`
/// disturbance instead plants images of *another* distribution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Copies {
    /// The fraction replaced, in `[0, 0.75]`; picked as [`contaminated`]
    /// picks (a lower fraction's copies are a subset of a higher one's).
    pub fraction: f64,
    /// The seed of the set copied from.
    pub of_seed: u64,
}

/// Where [`Copies`] draws from: `0x636f70` = "cop".
const COPIES_PURPOSE: u64 = 0x636f_7069_6573_0000;

/// The index, in the set of seed `copies.of_seed`, of the image that image
/// `index` is a copy of; `None` when it is not a copy. The source is a
/// uniform draw over the `n` images of that set.
pub fn copy_source(options: &GenerateOptions, index: usize) -> Option<usize> {
    let copies = options.copies?;
    if !disturb::picked(options.seed, index, copies.fraction, COPIES_PURPOSE) {
        return None;
    }
    let mut draw = rng::Rng::new(options.seed, index as u64, COPIES_PURPOSE);
    Some(draw.below(options.n as u64) as usize)
}

/// The options of the set [`Copies`] copies from: the same set, drawn with
/// `of_seed`, with neither disturbances nor copies.
fn copied_set(options: &GenerateOptions, of_seed: u64) -> GenerateOptions {
    GenerateOptions {
        seed: of_seed,
        disturbances: Vec::new(),
        copies: None,
        ..options.clone()
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            n: 1000,
            size: 64,
            seed: 0,
            classes: 10,
            keep_classes: None,
            format: ImageFormat::Png,
            disturbances: Vec::new(),
            copies: None,
        }
    }
}

impl GenerateOptions {
    /// Checks the sizes and counts.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |reason: String| Err(GenerateError::InvalidOptions { reason });
        if self.n == 0 {
            return invalid("--n must be at least 1".into());
        }
        if self.size < SIZE_RANGE.0 || self.size > SIZE_RANGE.1 {
            return invalid(format!(
                "--size {} is outside {}..={} pixels",
                self.size, SIZE_RANGE.0, SIZE_RANGE.1
            ));
        }
        if self.classes == 0 {
            return invalid("--classes must be at least 1".into());
        }
        if let Some(copies) = self.copies {
            if !(0.0..=0.75).contains(&copies.fraction) {
                return invalid(format!("--copies {} is outside 0..=0.75", copies.fraction));
            }
        }
        if let Some(k) = self.keep_classes {
            if k == 0 || k > self.classes {
                return invalid(format!(
                    "--keep-classes {k} must be from 1 to --classes ({})",
                    self.classes
                ));
            }
        }
        Ok(())
    }

    /// The number of classes that appear.
    pub fn classes_present(&self) -> usize {
        self.keep_classes
            .unwrap_or(self.classes)
            .clamp(1, self.classes.max(1))
    }

    /// The file name of image `index`: zero-padded to at least five digits
    /// and to the width of the largest index, so names sort in index order.
    pub fn file_name(&self, index: usize) -> String {
        let width = 5.max(self.n.saturating_sub(1).to_string().len());
        format!("{index:0width$}.{}", self.format.extension())
    }
}

/// The class of image `index`: `index mod k`, with `k` the classes present
/// (all of them, or `keep_classes`), so every set is balanced.
pub fn label_of(options: &GenerateOptions, index: usize) -> usize {
    index % options.classes_present()
}

/// Draws image `index` (undisturbed, never a contaminant).
///
/// Class `c` has a shape family (`FAMILY_NAMES[c % 10]`: disc, square,
/// triangle, stripes, ring, checker, cross, ellipse, hexagon, target) and a
/// palette (hue spaced by the golden ratio, saturation, brightness, object
/// size) that depend only on `c`. An image holds 1 to 3 objects of its class
/// at random positions, sizes (×0.75–1.3), rotations and hue jitter (±0.04),
/// anti-aliased, over a two-colour linear gradient of random direction and
/// muted random colours.
pub fn render(options: &GenerateOptions, index: usize) -> RgbImage {
    render::draw(
        options.seed,
        index as u64,
        label_of(options, index),
        options.size,
        options.size,
    )
}

/// What [`write_set`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSet {
    /// Images written.
    pub images: usize,
    /// How many of them are contaminants.
    pub contaminated: usize,
    /// How many are copies of another set ([`Copies`]).
    pub copies: usize,
    /// `labels.csv`.
    pub labels: PathBuf,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Images per second.
    pub images_per_s: f64,
}

/// What [`disturb_folder`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct DisturbedSet {
    /// Images read and written.
    pub images: usize,
    /// How many were replaced by contaminants.
    pub contaminated: usize,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Images per second.
    pub images_per_s: f64,
}

/// Why images could not be generated or disturbed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options make no sense.
    #[error("{reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },
    /// The output folder could not be created.
    #[error("cannot create the folder {path}: {source}")]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An image could not be encoded.
    #[error("cannot encode {path}: {reason}")]
    Encode {
        /// The file it was for.
        path: PathBuf,
        /// The encoder's complaint.
        reason: String,
    },
    /// Two inputs would be written to the same file.
    #[error("{first} and {second} would both be written as {output}")]
    NameClash {
        /// One input.
        first: PathBuf,
        /// The other.
        second: PathBuf,
        /// The output they share.
        output: PathBuf,
    },
    /// Reading an input image failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Writing an output failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl GenerateError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> Option<String> {
        match self {
            Self::InvalidOptions { .. } => {
                Some("see `geneval generate --help` for the valid values".into())
            }
            Self::CreateFolder { .. } => {
                Some("check that the parent folder exists and is writable".into())
            }
            Self::Encode { .. } => Some("this is a bug in geneval; please report it".into()),
            Self::NameClash { .. } => {
                Some("outputs are PNG files named by the inputs' stems; rename one input".into())
            }
            Self::Image(e) => e.hint_text().map(str::to_owned),
            Self::Write(e) => Some(e.hint_text().to_owned()),
        }
    }
}

impl crate::diagnostics::Hint for GenerateError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        self.hint_text().map(Into::into)
    }
}

/// Encodes an image as PNG or JPEG, deterministically.
pub fn encode(
    image: &RgbImage,
    format: ImageFormat,
    path: &Path,
) -> Result<Vec<u8>, GenerateError> {
    let fail = |reason: String| GenerateError::Encode {
        path: path.to_owned(),
        reason,
    };
    match format {
        ImageFormat::Png => {
            let mut bytes = Vec::new();
            image
                .write_with_encoder(image::codecs::png::PngEncoder::new(&mut bytes))
                .map_err(|e| fail(e.to_string()))?;
            Ok(bytes)
        }
        ImageFormat::Jpeg => {
            crate::images::encode_jpeg(image, f32::from(JPEG_QUALITY)).map_err(fail)
        }
    }
}

fn create_folder(path: &Path) -> Result<(), GenerateError> {
    std::fs::create_dir_all(path).map_err(|source| GenerateError::CreateFolder {
        path: path.to_owned(),
        source,
    })
}

/// Image `index` of the set as written: rendered, then each disturbance in
/// order (a contamination replaces the image by a contaminant when
/// [`contaminated`] picks it). Returns the image and whether it is a
/// contaminant.
pub fn render_disturbed(options: &GenerateOptions, index: usize) -> (RgbImage, bool) {
    let mut image = render(options, index);
    let mut contaminant = false;
    for d in &options.disturbances {
        if d.kind == DisturbanceKind::Contamination {
            if contaminated(options.seed, index, d.level) {
                image = render_contaminant(options.seed, index, options.size, options.size);
                contaminant = true;
            }
        } else {
            image = apply(&image, d, options.seed, index);
        }
    }
    (image, contaminant)
}

/// Renders, disturbs, encodes and writes the set into `out` (created if
/// needed): files [`GenerateOptions::file_name`] and `labels.csv`
/// (`file,class`, one row per image in index order; class `-1` marks a
/// contaminant). Runs on the current rayon pool; the files do not depend on
/// its size.
pub fn write_set(out: &Path, options: &GenerateOptions) -> Result<GeneratedSet, GenerateError> {
    options.validate()?;
    create_folder(out)?;
    let started = Instant::now();
    let contaminants = (0..options.n)
        .into_par_iter()
        .map(|index| -> Result<bool, GenerateError> {
            let (mut image, mut contaminant) = render_disturbed(options, index);
            if let (Some(source), Some(copies)) = (copy_source(options, index), options.copies) {
                image = render(&copied_set(options, copies.of_seed), source);
                contaminant = false;
            }
            let path = out.join(options.file_name(index));
            let bytes = encode(&image, options.format, &path)?;
            crate::fs::write_bytes_atomically(&path, &bytes)?;
            Ok(contaminant)
        })
        .collect::<Result<Vec<bool>, _>>()?;
    let mut csv = String::from("file,class\n");
    let mut copies = 0;
    for (index, &contaminant) in contaminants.iter().enumerate() {
        let class = match (copy_source(options, index), options.copies) {
            (Some(source), Some(c)) => {
                copies += 1;
                label_of(&copied_set(options, c.of_seed), source).to_string()
            }
            _ if contaminant => "-1".to_owned(),
            _ => label_of(options, index).to_string(),
        };
        csv.push_str(&format!("{},{class}\n", options.file_name(index)));
    }
    let labels = out.join("labels.csv");
    crate::fs::write_bytes_atomically(&labels, csv.as_bytes())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(GeneratedSet {
        images: options.n,
        contaminated: contaminants.iter().filter(|&&c| c).count(),
        copies,
        labels,
        seconds,
        images_per_s: options.n as f64 / seconds.max(1e-9),
    })
}

/// Reads every image of `input` (a folder or `@list.txt`, in pytorch-fid's
/// order), applies `d` with `seed` (image `i` of that order is index `i`),
/// and writes `out/<stem>.png`. A contamination replaces the picked images
/// by contaminants of the same size.
pub fn disturb_folder(
    input: &Path,
    out: &Path,
    d: &Disturbance,
    seed: u64,
) -> Result<DisturbedSet, GenerateError> {
    let files = discover(input, DiscoverOptions::default())?;
    if let (Ok(a), Ok(b)) = (input.canonicalize(), out.canonicalize()) {
        if a == b {
            return Err(GenerateError::InvalidOptions {
                reason: format!(
                    "the output folder {} is the input folder: choose another one",
                    out.display()
                ),
            });
        }
    }
    let mut targets: HashMap<PathBuf, &PathBuf> = HashMap::new();
    let mut outputs = Vec::with_capacity(files.len());
    for file in &files {
        let stem = file.file_stem().unwrap_or(file.as_os_str());
        let mut name = stem.to_owned();
        name.push(".png");
        let target = out.join(name);
        if let Some(first) = targets.insert(target.clone(), file) {
            return Err(GenerateError::NameClash {
                first: first.clone(),
                second: file.clone(),
                output: target,
            });
        }
        outputs.push(target);
    }
    create_folder(out)?;
    let started = Instant::now();
    let decode = DecodeOptions::default();
    let contaminants = files
        .par_iter()
        .zip(&outputs)
        .enumerate()
        .map(|(index, (file, target))| -> Result<bool, GenerateError> {
            let image = decode_file(file, &decode)?;
            let contaminant =
                d.kind == DisturbanceKind::Contamination && contaminated(seed, index, d.level);
            let image = apply(&image, d, seed, index);
            let bytes = encode(&image, ImageFormat::Png, target)?;
            crate::fs::write_bytes_atomically(target, &bytes)?;
            Ok(contaminant)
        })
        .collect::<Result<Vec<bool>, _>>()?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(DisturbedSet {
        images: files.len(),
        contaminated: contaminants.iter().filter(|&&c| c).count(),
        seconds,
        images_per_s: files.len() as f64 / seconds.max(1e-9),
    })
}

#[cfg(test)]
mod tests;
