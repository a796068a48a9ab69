//! The fuzz targets: one per parser of bytes a user (or a download) hands
//! geneval, each a `fn(&[u8]) -> Outcome` calling the library the way the
//! CLI does, plus its seeds, its allocation bound and a dictionary of tokens
//! its format is made of.
//!
//! A parser that takes a path gets the bytes in a scratch file with a
//! recognisable name (`geneval-fuzz-input.npz`), so that the check "an error
//! names the file" means what it says: the user can tell which of their
//! files is broken. In-memory parsers get that name as the name to report.

use std::cell::RefCell;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use geneval::files::npy::{read_features, read_features_native, write_matrix_f32};
use geneval::files::npz::{read_statistics, write_partial, PartialMetadata, StatisticsFile};
use geneval::images::decode::{decode_bytes, DecodeOptions};
use geneval::networks::weights::pth::{read_pth_bytes, Limits};
use geneval::text::{read_texts, ModelConfig, TextTokenizer};
use geneval_reports::render::{render, Format};
use geneval_reports::{read_records, ReadOptions, Report, ReportOptions};

/// What a target made of an input (the driver adds panics, time and memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Parsed; a short summary of what came out (for the corpus feedback).
    Accepted(String),
    /// Refused with an error that names the file; the message with the
    /// scratch path replaced by `<file>`.
    Rejected(String),
    /// A property the target asserts does not hold (an error that does not
    /// name the file, inconsistent output): a finding, like a panic.
    Violation(String),
}

/// A seed input and where it came from.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The fixture's path relative to the repository, or `generated:<what>`.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A parser under test.
pub struct Target {
    /// Its name on the command line and in `artifacts/` and `regressions/`.
    pub name: &'static str,
    /// What it calls.
    pub about: &'static str,
    /// The allocation bound, in words (`docs/fuzzing.md` has the table).
    pub bound_text: &'static str,
    /// The most bytes one input may have live at once, from its length.
    pub bound: fn(usize) -> usize,
    /// Runs the parser on one input.
    pub run: fn(&[u8]) -> Outcome,
    /// The starting corpus.
    pub seeds: fn() -> Vec<Seed>,
    /// Whether the format is a zip archive whose members are worth mutating
    /// one by one (otherwise nearly every mutation dies in the CRC check).
    pub zip: bool,
    /// Tokens of the format, inserted and overwritten by the mutator.
    pub dictionary: &'static [&'static [u8]],
}

const MIB: usize = 1 << 20;

/// Deflate's largest expansion (258 bytes from 2 bits, about 1032:1): what
/// a compressed member may honestly grow to.
const DEFLATE_RATIO: usize = 1032;

/// The pixel limit the image targets decode with: 4 Mpx (2048 × 2048), so
/// that the bound below is small enough to catch buffers sized from headers.
pub const IMAGE_MAX_PIXELS: u64 = 1 << 22;

/// The `.pth` limits the targets read with: 4 Mi float32 values (16 MiB) and
/// 64 MiB per storage, far below the defaults (4 GiB) so that honouring them
/// is visible within the bound.
pub fn pth_limits() -> Limits {
    Limits {
        max_elements: 1 << 22,
        max_storage_bytes: 64 << 20,
        ..Limits::default()
    }
}

fn linear(len: usize) -> usize {
    64 * MIB + 16 * len
}

fn inflating(len: usize) -> usize {
    64 * MIB + 2 * DEFLATE_RATIO * len
}

fn pth_bound(len: usize) -> usize {
    inflating(len) + 8 * (1 << 22)
}

fn image_bound(len: usize) -> usize {
    linear(len) + 16 * IMAGE_MAX_PIXELS as usize
}

fn text_bound(len: usize) -> usize {
    64 * MIB + 64 * len
}

/// Every target, in the order `run` takes them.
pub fn all() -> &'static [Target] {
    &TARGETS
}

/// The target called `name`.
pub fn by_name(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

static TARGETS: [Target; 17] = [
    Target {
        name: "npy",
        about: "features .npy: files::npy::read_features_native and read_features (file)",
        bound_text: "64 MiB + 16 × len",
        bound: linear,
        run: npy,
        seeds: npy_seeds,
        zip: false,
        dictionary: NPY_TOKENS,
    },
    Target {
        name: "npz",
        about: "statistics .npz (zip of .npy): files::npz::read_statistics (file)",
        bound_text: "64 MiB + 2 × 1032 × len (deflate's largest ratio)",
        bound: inflating,
        run: npz,
        seeds: npz_seeds,
        zip: true,
        dictionary: NPZ_TOKENS,
    },
    Target {
        name: "npz_partial",
        about: "partial statistics (.npz with JSON metadata, count, mean, comoment): read_statistics",
        bound_text: "64 MiB + 2 × 1032 × len",
        bound: inflating,
        run: npz,
        seeds: partial_seeds,
        zip: true,
        dictionary: PARTIAL_TOKENS,
    },
    Target {
        name: "pth_zip",
        about: "torch zip .pth (pickle machine, records): networks::weights::pth::read_pth_bytes, limits of pth_limits()",
        bound_text: "64 MiB + 2 × 1032 × len + 32 MiB (8 × max_elements)",
        bound: pth_bound,
        run: pth,
        seeds: pth_zip_seeds,
        zip: true,
        dictionary: PICKLE_TOKENS,
    },
    Target {
        name: "pth_legacy",
        about: "legacy .pth stream (pickles + raw storages): networks::weights::pth::read_pth_bytes",
        bound_text: "64 MiB + 2 × 1032 × len + 32 MiB",
        bound: pth_bound,
        run: pth,
        seeds: pth_legacy_seeds,
        zip: false,
        dictionary: PICKLE_TOKENS,
    },
    Target {
        name: "image_png",
        about: "PNG through images::decode::decode_bytes (max_pixels 4 Mpx)",
        bound_text: "64 MiB + 16 × len + 64 MiB (16 × max_pixels)",
        bound: image_bound,
        run: image,
        seeds: png_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_jpeg",
        about: "JPEG through decode_bytes (mozjpeg / libjpeg-turbo)",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: jpeg_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_tiff",
        about: "TIFF through decode_bytes",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: tiff_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_webp",
        about: "WebP (lossy, lossless, alpha) through decode_bytes",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: webp_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_gif",
        about: "GIF through decode_bytes",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: gif_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_bmp",
        about: "BMP through decode_bytes",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: bmp_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "image_pnm",
        about: "PBM/PGM/PPM/PAM through decode_bytes",
        bound_text: "64 MiB + 16 × len + 64 MiB",
        bound: image_bound,
        run: image,
        seeds: pnm_seeds,
        zip: false,
        dictionary: IMAGE_TOKENS,
    },
    Target {
        name: "tokenizer",
        about: "tokenizer.json: text::tokenizer::TextTokenizer::from_file, then encode a fixed text",
        bound_text: "64 MiB + 64 × len",
        bound: text_bound,
        run: tokenizer,
        seeds: tokenizer_seeds,
        zip: false,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "config_json",
        about: "a language model's config.json: text::config::ModelConfig::from_file",
        bound_text: "64 MiB + 16 × len",
        bound: linear,
        run: config_json,
        seeds: config_seeds,
        zip: false,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "texts_jsonl",
        about: "texts as JSONL records: text::input::read_texts(.jsonl, \"text\")",
        bound_text: "64 MiB + 16 × len",
        bound: linear,
        run: texts_jsonl,
        seeds: texts_seeds,
        zip: false,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "records",
        about: "result records JSONL: geneval_reports::read_records, then Report::from_records and the Markdown/CSV/JSON renderers",
        bound_text: "64 MiB + 64 × len",
        bound: text_bound,
        run: records,
        seeds: records_seeds,
        zip: false,
        dictionary: RECORD_TOKENS,
    },
    Target {
        name: "gate_toml",
        about: "the gate's TOML: gate::config::load",
        bound_text: "64 MiB + 16 × len",
        bound: linear,
        run: gate_toml,
        seeds: gate_seeds,
        zip: false,
        dictionary: TOML_TOKENS,
    },
];

// ---------------------------------------------------------------------------
// Scratch files and the error check

thread_local! {
    /// One scratch folder per thread (tests run targets on several threads).
    static SCRATCH: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// Writes `bytes` to the scratch file `name` and runs `f` on its path.
fn with_file(name: &str, bytes: &[u8], f: impl FnOnce(&Path) -> Outcome) -> Outcome {
    let path = SCRATCH.with(|cell| -> std::io::Result<PathBuf> {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(scratch_dir()?);
        }
        let dir = slot
            .as_ref()
            .map(|d| d.path().to_owned())
            .unwrap_or_default();
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    });
    match path {
        Ok(path) => f(&path),
        Err(e) => Outcome::Violation(format!("driver: cannot write the scratch file {name}: {e}")),
    }
}

/// A folder in memory when the machine has one: on ext4, rewriting a file
/// from its start flushes it to disk on close (`auto_da_alloc`), which made
/// the disk, not the parser, the bottleneck (~400 inputs/s).
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let mut builder = tempfile::Builder::new();
    builder.prefix("geneval-fuzz");
    if shm.is_dir() {
        if let Ok(dir) = builder.tempdir_in(shm) {
            return Ok(dir);
        }
    }
    builder.tempdir()
}

/// Removes this thread's scratch folder (the driver calls it before exiting;
/// other threads' folders go with the threads).
pub fn remove_scratch() {
    SCRATCH.with(|cell| cell.borrow_mut().take());
}

/// `Rejected` when the error names the file, `Violation` otherwise.
fn rejected(error: &dyn Display, path: &Path) -> Outcome {
    let message = error.to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !message.contains(&name) {
        return Outcome::Violation(format!(
            "the error does not name the file {name}: {message}"
        ));
    }
    Outcome::Rejected(message.replace(&path.display().to_string(), "<file>"))
}

// ---------------------------------------------------------------------------
// The targets

fn npy(bytes: &[u8]) -> Outcome {
    with_file("geneval-fuzz-input.npy", bytes, |path| {
        let native = match read_features_native(path) {
            Ok(f) => f,
            Err(e) => return rejected(&e, path),
        };
        let (rows, dim) = native.dim();
        let kind = match native {
            geneval::files::npy::Features::F32(_) => "f32",
            geneval::files::npy::Features::F64(_) => "f64",
        };
        drop(native);
        match read_features(path) {
            Ok(a) if a.dim() != (rows, dim) => Outcome::Violation(format!(
                "read_features gives {:?}, read_features_native {:?}",
                a.dim(),
                (rows, dim)
            )),
            Ok(_) => Outcome::Accepted(format!("{kind} finite")),
            Err(e) => match rejected(&e, path) {
                Outcome::Rejected(m) => Outcome::Accepted(format!("{kind} then {m}")),
                other => other,
            },
        }
    })
}

fn npz(bytes: &[u8]) -> Outcome {
    with_file(
        "geneval-fuzz-input.npz",
        bytes,
        |path| match read_statistics(path) {
            Ok(file) => {
                let kind = match &file {
                    StatisticsFile::Gaussian(_) => "gaussian",
                    StatisticsFile::Partial(..) => "partial",
                };
                match file.gaussian(path) {
                    Ok(_) => Outcome::Accepted(kind.into()),
                    Err(e) => match rejected(&e, path) {
                        Outcome::Rejected(m) => Outcome::Accepted(format!("{kind}, {m}")),
                        other => other,
                    },
                }
            }
            Err(e) => rejected(&e, path),
        },
    )
}

fn pth(bytes: &[u8]) -> Outcome {
    let name = Path::new("geneval-fuzz-input.pth");
    match read_pth_bytes(bytes, name, &pth_limits()) {
        Ok(contents) => {
            let values: usize = contents.tensors.values().map(|t| t.len()).sum();
            if values as u64 > pth_limits().max_elements {
                return Outcome::Violation(format!(
                    "{values} values read, over the limit of {}",
                    pth_limits().max_elements
                ));
            }
            Outcome::Accepted(format!(
                "{:?} {} skipped",
                contents.format,
                if contents.skipped.is_empty() {
                    "none"
                } else {
                    "some"
                }
            ))
        }
        Err(e) => rejected(&e, name),
    }
}

fn image(bytes: &[u8]) -> Outcome {
    let name = Path::new("geneval-fuzz-input.img");
    let options = DecodeOptions {
        max_pixels: IMAGE_MAX_PIXELS,
    };
    match decode_bytes(bytes, name, &options) {
        Ok(image) => {
            let (w, h) = image.dimensions();
            if u64::from(w) * u64::from(h) > IMAGE_MAX_PIXELS {
                return Outcome::Violation(format!("{w}x{h} decoded over the pixel limit"));
            }
            if image.as_raw().len() != w as usize * h as usize * 3 {
                return Outcome::Violation(format!(
                    "{w}x{h} RGB with {} bytes",
                    image.as_raw().len()
                ));
            }
            Outcome::Accepted("rgb".into())
        }
        Err(e) => rejected(&e, name),
    }
}

/// Tokenized after loading: a tokenizer that loads but panics or hangs on
/// the first text is as broken as one that does not load.
const SAMPLE_TEXT: &str = "Hello world! Ünïcödé, 1234 tabs\tand  spaces <|endoftext|> 日本語";

fn tokenizer(bytes: &[u8]) -> Outcome {
    with_file("geneval-fuzz-tokenizer.json", bytes, |path| {
        let tok = match TextTokenizer::from_file(path) {
            Ok(t) => t,
            Err(e) => return rejected(&e, path),
        };
        let _ = tok.vocab_size();
        let _ = tok.token_to_id("<|endoftext|>");
        let plain = tok.encode(SAMPLE_TEXT, 0);
        let special = tok.encode_with_special_tokens(SAMPLE_TEXT, 0);
        match (plain, special) {
            (Ok(a), Ok(b)) => Outcome::Accepted(format!(
                "encodes {}",
                if a.is_empty() || b.is_empty() {
                    "empty"
                } else {
                    "ids"
                }
            )),
            // Encoding errors name the text, not the file: fine here.
            (Err(e), _) | (_, Err(e)) => Outcome::Accepted(format!("loads, encode: {e}")),
        }
    })
}

fn config_json(bytes: &[u8]) -> Outcome {
    with_file(
        "geneval-fuzz-config.json",
        bytes,
        |path| match ModelConfig::from_file(path) {
            Ok(c) => Outcome::Accepted(format!(
                "positions {} kv {} head {} bos {}",
                c.max_positions.is_some(),
                c.kv_heads.is_some(),
                c.head_dim.is_some(),
                c.bos_token_id.is_some()
            )),
            Err(e) => rejected(&e, path),
        },
    )
}

fn texts_jsonl(bytes: &[u8]) -> Outcome {
    with_file("geneval-fuzz-texts.jsonl", bytes, |path| {
        match read_texts(path, "text") {
            Ok(texts) => Outcome::Accepted(if texts.is_empty() { "none" } else { "texts" }.into()),
            Err(e) => rejected(&e, path),
        }
    })
}

fn records(bytes: &[u8]) -> Outcome {
    with_file("geneval-fuzz-records.jsonl", bytes, |path| {
        let input = path.display().to_string();
        let records = match read_records(&[input], ReadOptions::default()) {
            Ok(r) => r,
            Err(e) => return rejected(&e, path),
        };
        let options = ReportOptions {
            generated_at: "2026-01-01T00:00:00Z".into(),
            ..ReportOptions::default()
        };
        // Report errors (mixed networks, …) are about the records, not the file.
        let report = match Report::from_records(&records, &options) {
            Ok(r) => r,
            Err(e) => return Outcome::Accepted(format!("read; report: {e}")),
        };
        for format in [Format::Markdown, Format::Csv, Format::Json] {
            if let Err(e) = render(&report, format) {
                return Outcome::Accepted(format!("report; {format:?}: {e}"));
            }
        }
        Outcome::Accepted("rendered".into())
    })
}

fn gate_toml(bytes: &[u8]) -> Outcome {
    with_file(
        "geneval-fuzz-gate.toml",
        bytes,
        |path| match geneval::gate::config::load(path) {
            Ok(c) => Outcome::Accepted(format!(
                "{} rules {} runs",
                c.config.rules.len().min(3),
                c.config.runs.len().min(3)
            )),
            Err(e) => rejected(&e, path),
        },
    )
}

// ---------------------------------------------------------------------------
// Seeds

/// The repository root (the driver is a development tool run from a checkout).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

/// Committed files under `dir` (recursively) whose extension is one of
/// `exts` (case-insensitive; empty = any), sorted.
fn fixtures(dir: &str, exts: &[&str]) -> Vec<Seed> {
    let root = repo_root();
    let mut paths = Vec::new();
    collect(&root.join(dir), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter(|p| {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            exts.is_empty() || exts.contains(&ext.as_str())
        })
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            Some(Seed { name, bytes })
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn generated(what: &str, bytes: Vec<u8>) -> Seed {
    Seed {
        name: format!("generated:{what}"),
        bytes,
    }
}

/// Bytes a library writer put in a scratch file (seeds made by geneval's own writers).
fn written(write: impl FnOnce(&Path) -> bool) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("seed");
    if !write(&path) {
        return None;
    }
    std::fs::read(&path).ok()
}

fn npy_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/npz", &["npy"]);
    let rows = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32 * 0.25);
    if let Some(bytes) = written(|p| write_matrix_f32(p, &rows).is_ok()) {
        seeds.push(generated("write_matrix_f32 3x4", bytes));
    }
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    let dict = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    let mut padded = dict.to_vec();
    while (10 + padded.len() + 1) % 64 != 0 {
        padded.push(b' ');
    }
    padded.push(b'\n');
    header.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    header.extend_from_slice(&padded);
    for v in [1.0f64, 0.5, -2.0, 1e-3] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    seeds.push(generated("npy v1 f8 2x2", header));
    seeds
}

fn npz_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/npz", &["npz"]);
    seeds.extend(partial_seeds());
    seeds
}

fn partial_seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (rows, dim) in [(5usize, 3usize), (1, 2)] {
        let features =
            ndarray::Array2::from_shape_fn((rows, dim), |(i, j)| ((i * 7 + j * 3) % 5) as f64);
        let Ok(moments) = geneval_metrics::Moments::from_features(features.view()) else {
            continue;
        };
        let meta = PartialMetadata::new("pool3", "fid-inception@6726825d");
        if let Some(bytes) = written(|p| write_partial(p, &moments, &meta).is_ok()) {
            seeds.push(generated(&format!("write_partial {rows}x{dim}"), bytes));
        }
    }
    seeds
}

fn pth_zip_seeds() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = fixtures("tests/fixtures/pth", &["pth"])
        .into_iter()
        .filter(|s| s.bytes.starts_with(b"PK"))
        .collect();
    let mut dict = geneval::networks::StateDict::new();
    for (name, shape) in [("conv.weight", vec![2, 1, 2, 2]), ("bn.bias", vec![2])] {
        let n = shape.iter().product::<usize>();
        let data = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
        if let Some(t) = geneval::networks::TensorF32::new(shape, data) {
            dict.insert(name.into(), t);
        }
    }
    let mut zip = std::io::Cursor::new(Vec::new());
    if geneval::networks::weights::pth::write_state_dict_zip(&dict, &mut zip, "archive").is_ok() {
        seeds.push(generated("write_state_dict_zip", zip.into_inner()));
    }
    seeds
}

fn pth_legacy_seeds() -> Vec<Seed> {
    // geneval writes only the zip format; the legacy streams are torch's.
    fixtures("tests/fixtures/pth", &["pth"])
        .into_iter()
        .filter(|s| !s.bytes.starts_with(b"PK"))
        .collect()
}

fn images(exts: &[&str]) -> Vec<Seed> {
    fixtures("tests/fixtures/images/files", exts)
}

fn png_seeds() -> Vec<Seed> {
    images(&["png"])
}

fn jpeg_seeds() -> Vec<Seed> {
    images(&["jpg", "jpeg"])
}

fn tiff_seeds() -> Vec<Seed> {
    images(&["tif", "tiff"])
}

fn webp_seeds() -> Vec<Seed> {
    images(&["webp"])
}

fn gif_seeds() -> Vec<Seed> {
    images(&["gif"])
}

fn bmp_seeds() -> Vec<Seed> {
    images(&["bmp"])
}

fn pnm_seeds() -> Vec<Seed> {
    let mut seeds = images(&["pgm", "ppm", "pbm", "pnm", "pam"]);
    seeds.push(generated(
        "pbm P1",
        b"P1\n# c\n4 2\n0 1 0 1\n1 0 1 0\n".to_vec(),
    ));
    seeds.push(generated("pbm P4", b"P4\n9 2\n\xa5\x80\x5a\x00".to_vec()));
    seeds.push(generated(
        "ppm P3",
        b"P3\n2 1\n255\n255 0 0 0 255 0\n".to_vec(),
    ));
    seeds.push(generated(
        "pam RGB_ALPHA",
        b"P7\nWIDTH 2\nHEIGHT 1\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n\x01\x02\x03\x04\x05\x06\x07\x08".to_vec(),
    ));
    seeds
}

fn tokenizer_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/ppl", &["json"]);
    seeds.retain(|s| s.name.ends_with("tokenizer.json"));
    seeds.push(generated(
        "wordlevel",
        br#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1,"world":2},"unk_token":"[UNK]"}}"#.to_vec(),
    ));
    seeds
}

fn config_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/ppl", &["json"]);
    seeds.retain(|s| s.name.ends_with("config.json"));
    seeds.push(generated(
        "llama config",
        br#"{"max_position_embeddings":4096,"num_attention_heads":32,"num_key_value_heads":8,"hidden_size":4096,"bos_token_id":1}"#.to_vec(),
    ));
    seeds
}

fn texts_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/ppl", &["jsonl"]);
    seeds.push(generated(
        "texts",
        b"{\"text\": \"a b\"}\n\n{\"text\": \"c\\nd\\u00e9\", \"x\": [1, {\"y\": null}]}\n"
            .to_vec(),
    ));
    seeds
}

fn records_seeds() -> Vec<Seed> {
    fixtures("tests/fixtures/gate", &["jsonl"])
}

fn gate_seeds() -> Vec<Seed> {
    let mut seeds = fixtures("tests/fixtures/gate", &["toml"]);
    seeds.push(generated(
        "gate with run",
        b"records = [\"r.jsonl\", \"runs/**/*.jsonl\"]\n\n[[rule]]\nname = \"kid\"\nmetric = \"kid\"\nvalue = \"kid_mean\"\nmax = 0.01\nwhere = { model = \"ours\", step = 1000 }\n\n[[rule]]\nmetric = \"prdc\"\nvalue = \"recall\"\nbaseline = \"b.jsonl\"\nmax_decrease_percent = 5.0\nnoise_aware = true\nsigmas = 3\n\n[[run]]\nargs = [\"fid\", \"real/\", \"fake/\", \"--model\", \"builtin\"]\nlabel = { model = \"ours\" }\n".to_vec(),
    ));
    seeds
}

// ---------------------------------------------------------------------------
// Dictionaries

const NPY_TOKENS: &[&[u8]] = &[
    b"\x93NUMPY\x01\x00",
    b"\x93NUMPY\x02\x00",
    b"\x93NUMPY\x03\x00",
    b"'descr'",
    b"'<f4'",
    b"'<f8'",
    b"'>f8'",
    b"'<f2'",
    b"'<i8'",
    b"'|u1'",
    b"'|b1'",
    b"'<c16'",
    b"'|O'",
    b"'<U3'",
    b"[('a', '<f8')]",
    b"'fortran_order'",
    b"True",
    b"False",
    b"'shape'",
    b"()",
    b"(0,)",
    b"(1, 0)",
    b"(0, 4294967296)",
    b"(4294967296, 4294967296)",
    b"(18446744073709551615,)",
    b"{",
    b"}",
    b",",
    b"'",
    b"\n",
];

const NPZ_TOKENS: &[&[u8]] = &[
    b"'descr'",
    b"'<f4'",
    b"'<f8'",
    b"'fortran_order'",
    b"True",
    b"'shape'",
    b"(0,)",
    b"(4294967296, 4294967296)",
    b"mu.npy",
    b"sigma.npy",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
    b"PK\x06\x07",
    b"\xff\xff\xff\xff",
];

const PARTIAL_TOKENS: &[&[u8]] = &[
    b"\"format\"",
    b"\"version\"",
    b"\"feature\"",
    b"\"model_id\"",
    b"\"geneval-partial-statistics\"",
    b"null",
    b"1e999",
    b"-1",
    b"4294967296",
    b"\"\\ud800\"",
    b"'<f8'",
    b"'|u1'",
    b"'shape'",
    b"()",
    b"(0,)",
    b"(4294967296,)",
    b"count.npy",
    b"mean.npy",
    b"comoment.npy",
    b"geneval_partial.npy",
];

const PICKLE_TOKENS: &[&[u8]] = &[
    b"\x80\x02",
    b"\x80\x04\x95",
    b"ctorch._utils\n_rebuild_tensor_v2\n",
    b"ccollections\nOrderedDict\n",
    b"ctorch\nFloatStorage\n",
    b"ctorch\nDoubleStorage\n",
    b"ctorch\nHalfStorage\n",
    b"cos\nsystem\n",
    b"\x8c\x05torch\x94",
    b"\x93",
    b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19",
    b"J\xff\xff\xff\xff",
    b"M\xff\xff",
    b"K\x00",
    b"q\x00",
    b"r\xff\xff\xff\xff",
    b"h\x00",
    b"j\xff\xff\xff\xff",
    b"X\xff\xff\xff\x7f",
    b"X\x01\x00\x00\x000",
    b"Q",
    b"R",
    b"(",
    b"t",
    b"}",
    b")",
    b"]",
    b"b",
    b"u",
    b"s",
    b".",
    b"\x85",
    b"\x86",
    b"\x87",
    b"\x88",
    b"\x89",
    b"\x94",
    b"\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"archive/data.pkl",
    b"archive/data/0",
    b"archive/version",
    b"archive/byteorder",
    b"little",
    b"big",
];

const IMAGE_TOKENS: &[&[u8]] = &[
    b"\x89PNG\r\n\x1a\n",
    b"IHDR",
    b"IDAT",
    b"IEND",
    b"PLTE",
    b"tRNS",
    b"acTL",
    b"fcTL",
    b"iCCP",
    b"\x00\x00\x40\x00\x00\x00\x40\x00",
    b"\xff\xd8\xff",
    b"\xff\xc0",
    b"\xff\xc1",
    b"\xff\xc2",
    b"\xff\xc3",
    b"\xff\xc9",
    b"\xff\xc4",
    b"\xff\xda",
    b"\xff\xdb",
    b"\xff\xdd",
    b"\xff\xd0",
    b"\xff\xd9",
    b"\xff\xee\x00\x0eAdobe",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"RIFF",
    b"WEBP",
    b"VP8 ",
    b"VP8L",
    b"VP8X",
    b"ALPH",
    b"ANIM",
    b"ANMF",
    b"GIF89a",
    b"GIF87a",
    b"!\xf9\x04",
    b"!\xff\x0bNETSCAPE2.0",
    b"BM",
    b"\x28\x00\x00\x00",
    b"\x7c\x00\x00\x00",
    b"P1",
    b"P4",
    b"P5",
    b"P6",
    b"P7",
    b"65535",
    b"WIDTH",
    b"HEIGHT",
    b"DEPTH",
    b"MAXVAL",
    b"TUPLTYPE",
    b"ENDHDR",
];

const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"false",
    b"1e999",
    b"-1",
    b"18446744073709551616",
    b"\"\\ud800\"",
    b"\"\\u0000\"",
    b"\"text\"",
    b"\"type\"",
    b"\"BPE\"",
    b"\"WordPiece\"",
    b"\"Unigram\"",
    b"\"WordLevel\"",
    b"\"ByteLevel\"",
    b"\"Metaspace\"",
    b"\"Split\"",
    b"\"Regex\"",
    b"\"String\"",
    b"\"Sequence\"",
    b"\"TemplateProcessing\"",
    b"\"Replace\"",
    b"\"vocab\"",
    b"\"merges\"",
    b"\"added_tokens\"",
    b"\"normalizer\"",
    b"\"pre_tokenizer\"",
    b"\"post_processor\"",
    b"\"decoder\"",
    b"\"model\"",
    b"\"pattern\"",
    b"\"(a+)+$\"",
    b"\"\\\\p{L}+\"",
    b"\"n_positions\"",
    b"\"max_position_embeddings\"",
    b"\"num_attention_heads\"",
    b"\"num_key_value_heads\"",
    b"\"hidden_size\"",
    b"\"head_dim\"",
    b"\"bos_token_id\"",
];

const RECORD_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\n",
    b"null",
    b"true",
    b"1e308",
    b"-1e308",
    b"1e999",
    b"-0.0",
    b"\"schema\"",
    b"\"geneval.result/v1\"",
    b"\"geneval.result/v2\"",
    b"\"metric\"",
    b"\"value\"",
    b"\"values\"",
    b"\"uncertainty\"",
    b"\"labels\"",
    b"\"step\"",
    b"\"model\"",
    b"\"mode\"",
    b"\"fid\"",
    b"\"kid\"",
    b"\"ppl\"",
    b"\"interval\"",
    b"\"started_at\"",
    b"\"finished_at\"",
    b"\"9999-12-31T23:59:60Z\"",
];

const TOML_TOKENS: &[&[u8]] = &[
    b"[[rule]]\n",
    b"[[run]]\n",
    b"[rule]\n",
    b"records",
    b"metric",
    b"value",
    b" = ",
    b"\"",
    b"'''",
    b"\"\"\"",
    b"max",
    b"min",
    b"baseline",
    b"max_increase",
    b"max_increase_percent",
    b"max_decrease_percent",
    b"noise_aware",
    b"sigmas",
    b"optional",
    b"where",
    b"args",
    b"label",
    b"name",
    b"{ model = \"x\" }",
    b"[\"a\", \"b\"]",
    b"nan",
    b"inf",
    b"-inf",
    b"1e400",
    b"-0.0",
    b"9223372036854775808",
    b"true",
    b"1979-05-27T07:32:00Z",
    b"\n",
    b"#",
    b"\\u0000",
];
