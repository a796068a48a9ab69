//! Named models geneval knows how to obtain, and its cache of them.
//!
//! | name | weights | SHA-256 | builder |
//! |---|---|---|---|
//! | `fid-inception` | pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (GitHub release) | published (the file name carries its prefix) | `inception::build_onnx` |
//! | `dinov2-vitl14` | Meta's `dinov2_vitl14_pretrain.pth` (dl.fbaipublicfiles.com), what dgm-eval's torch hub model loads | not published | `vit::build_onnx` (DINOv2) |
//! | `clip-vit-l14-336` | Hugging Face `openai/clip-vit-large-patch14-336` `model.safetensors` | not published | `vit::build_onnx` (CLIP) |
//!
//! Each is downloaded over HTTPS (or imported from a local copy), verified
//! by SHA-256 where a hash is published or pinned, converted to ONNX by
//! geneval itself and cached as
//!
//! ```text
//! <cache>/models/<name>/
//!     source.pth       the verified download (`source.safetensors` for CLIP;
//!                      kept: a damaged ONNX file is rebuilt from it offline)
//!     model.onnx       what sessions load
//!     manifest.json    SHA-256 of both, the source URL, geneval's version
//! ```
//!
//! Every file is written atomically, and every use re-hashes `model.onnx`
//! against the manifest (~0.2 s for 95 MB): a damaged entry is rebuilt, never
//! silently used. A download or import is staged in a temporary file and
//! converted from there; only weights that converted replace the entry, so
//! a failed one leaves the cache as it was. Timeouts and the sweep of
//! files left by killed downloads are in [`super::download`].
//!
//! Where no SHA-256 is published (Meta's and Hugging Face's files), the
//! first weights fetched or imported are kept with their hash in the
//! manifest, `models fetch|import` print it, and every record's model id
//! (`name@sha256:…`) carries it, so two results from different files never
//! compare as equal. `--sha256` or `<PREFIX>_SHA256` pins the hash; a
//! different file is then refused.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::backend::runtime::cache_root;
use crate::networks::download::{self, hex, Downloaded};
use crate::networks::{inception, vit, weights::pth, weights::safetensors};
use crate::preprocess::ResizeMode;

/// The file format of a model's published weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// A PyTorch state dict (`.pth`), read by the restricted pickle reader.
    Pth,
    /// A Hugging Face `.safetensors` file.
    Safetensors,
}

impl WeightsFormat {
    /// The cache's name for the kept source file.
    pub fn source_file(self) -> &'static str {
        match self {
            WeightsFormat::Pth => "source.pth",
            WeightsFormat::Safetensors => "source.safetensors",
        }
    }
}

/// Which builder turns the weights into a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// pytorch-fid's FID Inception ([`inception::build_onnx`]).
    Inception,
    /// A DINOv2 or CLIP ViT ([`vit::build_onnx`]).
    Vit(vit::Family),
}

/// A model geneval can fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelEntry {
    /// The name on the command line.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Where the official file lives.
    pub url: &'static str,
    /// The official file's name, for messages.
    pub file_name: &'static str,
    /// SHA-256 of the official file, where it is published. Where it is
    /// not (`None`), the first weights fetched or imported are used, their
    /// hash is printed and is part of every record's model id, and
    /// `--sha256` or [`ModelEntry::sha256_env`] pins the expected hash.
    pub sha256: Option<&'static str>,
    /// The official file's size in bytes (approximate where `sha256` is
    /// not published), for messages and the size limit.
    pub size: u64,
    /// The weights' format.
    pub format: WeightsFormat,
    /// The graph builder.
    pub network: Network,
    /// The preprocessing of the reference tool whose numbers it reproduces.
    pub mode: ResizeMode,
    /// The output holding the features.
    pub features: &'static str,
    /// The output holding class logits, if it has a classifier.
    pub logits: Option<&'static str>,
    /// Prefix of the environment variables `<PREFIX>_URL` (a mirror) and
    /// `<PREFIX>_SHA256` (pin, or accept other weights).
    pub env_prefix: &'static str,
}

impl ModelEntry {
    /// `<PREFIX>_SHA256`: accept weights with this SHA-256 instead of the
    /// official one (a pin where none is published; tests; retrained
    /// networks, whose results then say they are not the reference's).
    pub fn sha256_env(&self) -> String {
        format!("{}_SHA256", self.env_prefix)
    }

    /// `<PREFIX>_URL`: a mirror of the official file (still verified).
    pub fn url_env(&self) -> String {
        format!("{}_URL", self.env_prefix)
    }
}

/// pytorch-fid's FID Inception weights (the TensorFlow graph of 2015-12-05).
pub const FID_INCEPTION: ModelEntry = ModelEntry {
    name: "fid-inception",
    description: "pytorch-fid's FID Inception-v3 (TF graph of 2015-12-05): pool3 2048-d, blocks 64/192/768, logits",
    url: "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    file_name: "pt_inception-2015-12-05-6726825d.pth",
    sha256: Some("6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"),
    size: 95_628_359,
    format: WeightsFormat::Pth,
    network: Network::Inception,
    mode: ResizeMode::PytorchFid,
    features: inception::POOL3,
    logits: Some(inception::LOGITS_UNBIASED),
    env_prefix: "GENEVAL_FID_INCEPTION",
};

/// Meta's DINOv2 ViT-L/14 backbone, as dgm-eval loads it from the torch hub
/// (FD_DINOv2). Meta publishes no checksum for it.
pub const DINOV2_VITL14: ModelEntry = ModelEntry {
    name: "dinov2-vitl14",
    description:
        "Meta's DINOv2 ViT-L/14 (dgm-eval's FD_DINOv2 network): class token 1024-d, at 224x224",
    url: "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth",
    file_name: "dinov2_vitl14_pretrain.pth",
    sha256: None,
    size: 1_217_586_395,
    format: WeightsFormat::Pth,
    network: Network::Vit(vit::Family::Dinov2),
    mode: ResizeMode::DgmEval,
    features: vit::FEATURES,
    logits: None,
    env_prefix: "GENEVAL_DINOV2_VITL14",
};

/// OpenAI's CLIP ViT-L/14@336px image tower and projection, from the
/// Hugging Face conversion CMMD's PyTorch ports load (CMMD).
pub const CLIP_VIT_L14_336: ModelEntry = ModelEntry {
    name: "clip-vit-l14-336",
    description:
        "OpenAI's CLIP ViT-L/14@336px image tower (CMMD's network): L2-normalised embedding 768-d",
    url: "https://huggingface.co/openai/clip-vit-large-patch14-336/resolve/main/model.safetensors",
    file_name: "model.safetensors (openai/clip-vit-large-patch14-336)",
    sha256: None,
    size: 1_711_848_436,
    format: WeightsFormat::Safetensors,
    network: Network::Vit(vit::Family::Clip),
    mode: ResizeMode::Cmmd,
    features: vit::EMBEDDING,
    logits: None,
    env_prefix: "GENEVAL_CLIP_VIT_L14_336",
};

/// Every registered model.
pub const MODELS: [ModelEntry; 3] = [FID_INCEPTION, DINOV2_VITL14, CLIP_VIT_L14_336];

/// Set to 1 to never download.
pub const OFFLINE_ENV: &str = "GENEVAL_OFFLINE";

/// Why a model could not be made available.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No such name.
    #[error("unknown model `{0}` (known: fid-inception, dinov2-vitl14, clip-vit-l14-336)")]
    Unknown(String),
    /// No cache folder (HOME unset).
    #[error("no cache folder: set GENEVAL_CACHE_DIR or HOME")]
    NoCache,
    /// Not cached and downloading is not possible.
    #[error("{name} is not in the cache ({dir}) and cannot be downloaded: {reason}")]
    Offline {
        /// The model.
        name: String,
        /// The cache entry.
        dir: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The download failed.
    #[error("downloading {url} failed: {reason}")]
    Download {
        /// From where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The file is not the expected one.
    #[error(
        "{path}: SHA-256 is {found}, expected {expected} ({model}{}); the file was not used{deleted}",
        .received.map_or(String::new(), |n| format!(", {n} bytes received"))
    )]
    HashMismatch {
        /// The model.
        model: &'static str,
        /// The file.
        path: PathBuf,
        /// Its hash.
        found: String,
        /// The expected hash.
        expected: String,
        /// Bytes downloaded, for a download.
        received: Option<u64>,
        /// `"; the download was deleted"` where it was.
        deleted: &'static str,
    },
    /// Reading the weights or building the graph failed.
    #[error("converting {path} to ONNX failed: {message}")]
    Convert {
        /// The weights file.
        path: PathBuf,
        /// The reader's or builder's message.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A file to import is larger than any weights of this model could be.
    #[error(
        "{path} is larger than {limit} bytes: not the expected weights file; nothing was copied"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The most accepted.
        limit: u64,
    },
    /// An environment variable geneval reads has a value it cannot use.
    #[error("{name}={value:?} is not {expected}")]
    Setting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        expected: String,
    },
    /// A cache file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl ModelError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        match self {
            ModelError::Unknown(_) => "see `geneval models list`".into(),
            ModelError::NoCache => "export GENEVAL_CACHE_DIR=/some/folder".into(),
            ModelError::Offline { name, .. } => {
                let entry = entry(name).unwrap_or(FID_INCEPTION);
                format!(
                    "on a machine without internet, copy {} from one that has it ({}) and run `geneval models import --name {} PATH`; or use --model builtin (geneval's own network, not comparable with published numbers)",
                    entry.file_name, entry.url, entry.name
                )
            }
            ModelError::Download { .. } => "on a machine without internet, copy the weights file from one that has it and run `geneval models import --name NAME PATH` (names: `geneval models list`)".into(),
            ModelError::HashMismatch { model, .. } => {
                let entry = entry(model).unwrap_or(FID_INCEPTION);
                format!(
                    "get the official file again ({}); to use other weights on purpose set {} to their SHA-256 (or pass --sha256 to `geneval models`)",
                    entry.url,
                    entry.sha256_env()
                )
            }
            ModelError::Convert { hint, .. } => hint.clone(),
            ModelError::TooLarge { .. } => {
                "import the model's official weights file (sizes: `geneval models list`)".into()
            }
            ModelError::Setting { name, .. } => format!("unset {name} or correct it"),
            ModelError::Io { .. } => {
                "check that the cache folder is writable (GENEVAL_CACHE_DIR)".into()
            }
        }
    }
}

impl crate::diagnostics::Hint for ModelError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}

/// What `manifest.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The model's name.
    pub name: String,
    /// SHA-256 of `source.pth`.
    pub source_sha256: String,
    /// Whether that is the official file's hash.
    pub official: bool,
    /// Where it came from (URL or imported path).
    pub origin: String,
    /// SHA-256 of `model.onnx`.
    pub onnx_sha256: String,
    /// geneval's version that converted it.
    pub geneval_version: String,
}

/// A usable cached model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// `model.onnx`.
    pub onnx: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// What happened to get here: `cached`, `rebuilt`, `fetched`, `imported`.
    pub action: &'static str,
}

impl Installed {
    /// The id results carry: the source weights' hash.
    pub fn model_id(&self) -> String {
        format!(
            "{}@sha256:{}",
            self.manifest.name, self.manifest.source_sha256
        )
    }
}

/// Looks a name up.
pub fn entry(name: &str) -> Result<ModelEntry, ModelError> {
    MODELS
        .iter()
        .find(|m| m.name == name)
        .copied()
        .ok_or_else(|| ModelError::Unknown(name.to_owned()))
}

/// The SHA-256 accepted for `entry`: `pin` (`--sha256`), else
/// [`ModelEntry::sha256_env`], else the published one; `None` where none
/// is published or pinned (any weights are accepted, and their hash is
/// recorded).
pub fn expected_sha256(entry: &ModelEntry, pin: Option<&str>) -> Option<String> {
    pin.map(str::to_owned)
        .or_else(|| std::env::var(entry.sha256_env()).ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .or_else(|| entry.sha256.map(str::to_owned))
}

/// The download URL (the official one unless a mirror is set).
pub fn source_url(entry: &ModelEntry) -> String {
    std::env::var(entry.url_env())
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| entry.url.to_owned())
}

/// `<cache>/models/<name>/`.
pub fn entry_dir(entry: &ModelEntry) -> Result<PathBuf, ModelError> {
    Ok(cache_root()
        .ok_or(ModelError::NoCache)?
        .join("models")
        .join(entry.name))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    crate::fs::sha256_file(path).map_err(|e| io_error(path, e))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    crate::fs::write_bytes_atomically(path, bytes).map_err(|e| io_error(path, e))
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The cached entry if it is complete and intact, without rebuilding.
pub fn cached(entry: &ModelEntry) -> Result<Option<Installed>, ModelError> {
    let dir = entry_dir(entry)?;
    let Some(manifest) = read_manifest(&dir) else {
        return Ok(None);
    };
    let onnx = dir.join("model.onnx");
    let pinned = expected_sha256(entry, None);
    if !onnx.is_file() || pinned.is_some_and(|hash| manifest.source_sha256 != hash) {
        return Ok(None);
    }
    if sha256_file(&onnx)? != manifest.onnx_sha256 {
        return Ok(None);
    }
    Ok(Some(Installed {
        onnx,
        manifest,
        action: "cached",
    }))
}

/// The ONNX graph and manifest for verified weights at `weights`, nothing
/// written yet; errors name `shown` (what the user gave, or the cache file).
fn convert(
    entry: &ModelEntry,
    weights: &Path,
    shown: &Path,
    source_sha256: &str,
    origin: &str,
) -> Result<(Vec<u8>, Manifest), ModelError> {
    let convert_error = |message: String, hint: &str| ModelError::Convert {
        path: shown.to_owned(),
        message,
        hint: hint.to_owned(),
    };
    let dict = match entry.format {
        WeightsFormat::Pth => pth::read_state_dict(weights)
            .map_err(|e| convert_error(e.to_string(), &e.hint_text()))?,
        WeightsFormat::Safetensors => {
            let family = match entry.network {
                Network::Vit(family) => family,
                Network::Inception => vit::Family::Clip,
            };
            safetensors::read_safetensors(weights, |key| !vit::ignored(family, key))
                .map_err(|e| {
                    convert_error(
                        e.to_string(),
                        "the file is truncated or not safetensors; get it again",
                    )
                })?
                .tensors
        }
    };
    let not_the_network = format!(
        "the file is not a state dict of {} ({})",
        entry.name, entry.file_name
    );
    let bytes = match entry.network {
        Network::Inception => inception::build_onnx(&dict)
            .map_err(|e| convert_error(e.to_string(), &not_the_network))?,
        Network::Vit(family) => vit::build_onnx(&dict, family)
            .map_err(|e| convert_error(e.to_string(), &not_the_network))?,
    };
    drop(dict);
    let manifest = Manifest {
        name: entry.name.to_owned(),
        source_sha256: source_sha256.to_owned(),
        official: entry.sha256 == Some(source_sha256),
        origin: origin.to_owned(),
        onnx_sha256: hex(&Sha256::digest(&bytes)),
        geneval_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    Ok((bytes, manifest))
}

/// Writes `model.onnx`, moves `staged` weights (if new) to `source.pth`,
/// and writes `manifest.json` last, so that an entry is only ever used
/// once all of it is in place. If a step fails, what this call put in the
/// cache is removed again: a half-installed entry would otherwise be
/// rebuilt from on every later run, or hold a file nothing refers to.
fn install(
    entry: &ModelEntry,
    dir: &Path,
    onnx_bytes: &[u8],
    manifest: Manifest,
    staged: Option<tempfile::NamedTempFile>,
) -> Result<Installed, ModelError> {
    let onnx = dir.join("model.onnx");
    let source = dir.join(entry.format.source_file());
    let manifest_path = dir.join("manifest.json");
    let placed_source = staged.is_some();
    let result = (|| {
        write_atomic(&onnx, onnx_bytes)?;
        if let Some(staged) = staged {
            staged
                .persist(&source)
                .map_err(|e| io_error(&source, e.error))?;
        }
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_error(dir, e))?;
        write_atomic(&manifest_path, &json)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&onnx);
        if placed_source {
            let _ = std::fs::remove_file(&source);
        }
        return Err(e);
    }
    Ok(Installed {
        onnx,
        manifest,
        action: "converted",
    })
}

/// The most bytes accepted for `entry`'s weights (downloaded or imported):
/// four times the official file, so other weights of the same network
/// (accepted through [`ModelEntry::sha256_env`]) fit and an endless stream
/// does not.
fn size_limit(entry: &ModelEntry) -> u64 {
    entry.size.max(1 << 20) * 4
}

/// `<cache>/models/<name>/`, created, with leftovers of killed downloads
/// and writes swept away.
fn prepared_dir(entry: &ModelEntry) -> Result<PathBuf, ModelError> {
    let dir = entry_dir(entry)?;
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    download::sweep_stale(&dir);
    Ok(dir)
}

/// Copies `path` into the cache while hashing it, checks the hash, and
/// converts it; only then does it replace the cached entry. On any error
/// the cache is left as it was.
pub fn import(entry: &ModelEntry, path: &Path, pin: Option<&str>) -> Result<Installed, ModelError> {
    let dir = prepared_dir(entry)?;
    let Downloaded {
        file: staged,
        sha256: found,
        ..
    } = download::copy_in(path, &dir, size_limit(entry))?;
    if let Some(expected) = expected_sha256(entry, pin).filter(|e| *e != found) {
        return Err(ModelError::HashMismatch {
            model: entry.name,
            path: path.to_owned(),
            found,
            expected,
            received: None,
            deleted: "",
        });
    }
    let origin = path.display().to_string();
    let (bytes, manifest) = convert(entry, staged.path(), path, &found, &origin)?;
    let mut installed = install(entry, &dir, &bytes, manifest, Some(staged))?;
    installed.action = "imported";
    Ok(installed)
}

/// Downloads the weights (progress bar on `progress`), verifies, converts;
/// only then does it replace the cached entry.
pub fn fetch(
    entry: &ModelEntry,
    pin: Option<&str>,
    progress: &dyn Fn(Option<u64>) -> indicatif::ProgressBar,
) -> Result<Installed, ModelError> {
    let url = source_url(entry);
    let dir = prepared_dir(entry)?;
    let Downloaded {
        file: staged,
        sha256: found,
        bytes: total,
    } = download::download(&url, &dir, size_limit(entry), progress)?;
    if let Some(expected) = expected_sha256(entry, pin).filter(|e| *e != found) {
        // Dropping the temp file deletes the download.
        return Err(ModelError::HashMismatch {
            model: entry.name,
            path: PathBuf::from(&url),
            found,
            expected,
            received: Some(total),
            deleted: "; the download was deleted",
        });
    }
    let (bytes, manifest) = convert(entry, staged.path(), Path::new(&url), &found, &url)?;
    let mut installed = install(entry, &dir, &bytes, manifest, Some(staged))?;
    installed.action = "fetched";
    Ok(installed)
}

/// The model ready to load: the cache if intact; rebuilt from the kept
/// `source.pth` if only the ONNX file is damaged; else downloaded (after
/// `announce`), unless offline.
pub fn ensure(
    entry: &ModelEntry,
    announce: &dyn Fn(&str),
    progress: &dyn Fn(Option<u64>) -> indicatif::ProgressBar,
) -> Result<Installed, ModelError> {
    let dir = entry_dir(entry)?;
    // Leftovers of a download killed mid-way would otherwise stay forever
    // once the entry is complete (nothing fetches into it again).
    download::sweep_stale(&dir);
    if let Some(installed) = cached(entry)? {
        return Ok(installed);
    }
    let source = dir.join(entry.format.source_file());
    // The kept source is trusted if it is what was pinned or published, or,
    // where nothing is, what the manifest recorded when it was installed.
    let expected =
        expected_sha256(entry, None).or_else(|| read_manifest(&dir).map(|m| m.source_sha256));
    let source_hash = if source.is_file() {
        Some(sha256_file(&source)?)
    } else {
        None
    };
    if let Some(expected) = expected.filter(|e| source_hash.as_ref() == Some(e)) {
        announce(&format!(
            "{}: the cached ONNX model is missing or damaged; rebuilding it from {}",
            entry.name,
            source.display()
        ));
        let origin = read_manifest(&dir).map_or_else(|| "cache".to_owned(), |m| m.origin);
        let (bytes, manifest) = convert(entry, &source, &source, &expected, &origin)?;
        let mut installed = install(entry, &dir, &bytes, manifest, None)?;
        installed.action = "rebuilt";
        return Ok(installed);
    }
    if std::env::var(OFFLINE_ENV).is_ok_and(|v| v == "1") {
        return Err(ModelError::Offline {
            name: entry.name.to_owned(),
            dir,
            reason: format!("{OFFLINE_ENV}=1"),
        });
    }
    announce(&format!(
        "{} is not cached: downloading {} ({:.0} MB) into {}",
        entry.name,
        source_url(entry),
        entry.size as f64 / 1e6,
        dir.display()
    ));
    fetch(entry, None, progress).map_err(|e| match e {
        ModelError::Download { reason, .. } => ModelError::Offline {
            name: entry.name.to_owned(),
            dir: dir.clone(),
            reason,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_hash_starts_with_the_file_names_prefix() {
        assert!(FID_INCEPTION.url.ends_with("-6726825d.pth"));
        let sha256 = FID_INCEPTION.sha256.unwrap();
        assert!(sha256.starts_with("6726825d"));
        assert_eq!(sha256.len(), 64);
        assert_eq!(entry("fid-inception").unwrap(), FID_INCEPTION);
        assert!(entry("inception")
            .unwrap_err()
            .hint_text()
            .contains("models list"));
    }
}
