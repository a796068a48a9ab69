//! Command-line definitions (clap derive) and nothing else: every command's
//! behaviour lives in `commands/`.

mod gate;
mod report;

pub use gate::GateArgs;
pub use report::ReportArgs;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::backend::Device;
use crate::preprocess::ResizeMode;

/// Evaluate generative models with the numbers of the reference tools.
#[derive(Debug, Parser)]
#[command(name = "geneval", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print one JSON result record on stdout instead of the human summary.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress or warnings on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Also append the result record as one line to this JSONL file (for
    /// `geneval report` and `geneval gate`).
    #[arg(long, global = true, value_name = "FILE.jsonl")]
    pub record: Option<PathBuf>,
    /// A label stored in the record, KEY=VALUE (repeatable): `--label
    /// model=ours --label step=20000`.
    #[arg(long = "label", global = true, value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// The most KID subsets `--subsets` accepts. torch-fidelity's default is
/// 100 and the spread of KID settles long before 100000; each subset costs
/// three m×m kernel products (m = 1000: ~6 GFLOP at 2048 dimensions), so
/// more would run for days. The bound is checked while parsing, before a
/// count like 2^64−1 can reach code that sizes anything by it.
pub const MAX_KID_SUBSETS: usize = 100_000;

/// The most bootstrap replicates `fid --bootstrap` accepts: each one is a
/// covariance and an eigendecomposition (~4 s at 2048 dimensions), and a
/// 95% interval is stable with a few thousand.
pub const MAX_BOOTSTRAP_REPLICATES: usize = 100_000;

/// A whole number in `min..=max`, parsed wide enough that 2^64 and beyond
/// are reported as too large rather than as "not a number".
fn count_in(text: &str, min: usize, max: usize, what: &str) -> Result<usize, String> {
    let value: u128 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number of {what}"))?;
    if value < min as u128 {
        return Err(format!("at least {min} {what} needed, got {value}"));
    }
    if value > max as u128 {
        return Err(format!(
            "{value} {what} is more than the maximum of {max} (hint: the default is far below it; see --help)"
        ));
    }
    Ok(value as usize)
}

fn parse_kid_subsets(text: &str) -> Result<usize, String> {
    count_in(text, 1, MAX_KID_SUBSETS, "subsets")
}

/// At least 2 (the unbiased MMD² divides by m − 1); the upper bound is the
/// sample count, checked once the features are read.
fn parse_kid_subset_size(text: &str) -> Result<usize, String> {
    count_in(text, 2, usize::MAX, "samples per subset")
}

fn parse_bootstrap_replicates(text: &str) -> Result<usize, String> {
    count_in(text, 2, MAX_BOOTSTRAP_REPLICATES, "bootstrap replicates")
}

/// A level strictly between 0 and 1, checked before any image is read.
fn parse_level(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(level) if level > 0.0 && level < 1.0 => Ok(level),
        _ => Err(format!(
            "`{text}` is not a level between 0 and 1 (exclusive), e.g. 0.95"
        )),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fréchet distance (FID) between two sides: image folders, statistics .npz or features .npy.
    Fid(FidArgs),
    /// Inception Score of images or of logits (N x classes .npy), as torch-fidelity.
    Is(IsArgs),
    /// Kernel Inception Distance between two sides (images or features), as torch-fidelity.
    Kid(KidArgs),
    /// Precision, recall, density and coverage (Naeem et al.) and improved precision/recall.
    Prdc(PrdcArgs),
    /// Mean and covariance of images' features, written as pytorch-fid statistics.
    Stats(StatsArgs),
    /// Features (and logits) of a folder of images, written as .npy.
    Features(FeaturesArgs),
    /// Merge partial statistics exactly into one statistics file.
    Merge(MergeArgs),
    /// Generate images, run every metric on them and a short self-check (no download needed).
    Demo(DemoArgs),
    /// Show which ONNX Runtime library geneval finds and what it can do.
    Doctor(DoctorArgs),
    /// Write a deterministic reference image set (procedural classes), optionally disturbed.
    Generate(GenerateArgs),
    /// Apply one of the FID paper's disturbances to a folder of images.
    Disturb(DisturbArgs),
    /// Check that every metric moves the right way under the FID paper's disturbances.
    Selfcheck(SelfcheckArgs),
    /// The models geneval can fetch (pytorch-fid's FID Inception) and its cache.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Perplexity of text under an ONNX causal language model, as transformers computes it.
    Ppl(PplArgs),
    /// Tables, charts and a self-contained HTML report from result records.
    Report(ReportArgs),
    /// Quality gate for CI: rules and regressions over result records; exit 1 when one fails.
    Gate(GateArgs),
}

/// `geneval ppl`.
#[derive(Debug, Args)]
pub struct PplArgs {
    /// UTF-8 text files. Corpus mode: their texts joined with a blank line
    /// ("\n\n", as transformers' perplexity guide joins a dataset). With
    /// --per-text: .jsonl files (one JSON object with a `text` field per
    /// line) or plain files (one text per line).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The ONNX causal LM: a folder (model.onnx, decoder_model_merged.onnx or
    /// decoder_model.onnx, with tokenizer.json and config.json) or an .onnx file.
    #[arg(long, value_name = "MODEL_DIR_OR_ONNX")]
    pub model: PathBuf,
    /// The Hugging Face tokenizer.json [default: next to the model].
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Tokens per window [default: the model's context from config.json, else 1024].
    /// With --per-text: truncate texts to this many tokens (start token included).
    #[arg(long, value_name = "N")]
    pub max_length: Option<usize>,
    /// How far each window moves [default: --max-length, no overlap].
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// llama.cpp's convention: non-overlapping chunks of --max-length tokens,
    /// each scoring only its second half.
    #[arg(long, conflicts_with_all = ["stride", "per_text"])]
    pub score_second_half: bool,
    /// One perplexity per text (Hugging Face evaluate's `perplexity` metric),
    /// with their mean and the perplexity over all of them.
    #[arg(long)]
    pub per_text: bool,
    /// The JSONL field holding the text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_field: String,
    /// Score each text's first token after the BOS token (evaluate's default).
    #[arg(long, overrides_with = "no_start_token")]
    pub add_start_token: bool,
    /// Score each text from its second token, without a start token.
    #[arg(long)]
    pub no_start_token: bool,
    /// The start token (default: config.json's bos_token_id, else the
    /// tokenizer's `<|endoftext|>`, `<s>`, `<bos>` or `<|begin_of_text|>`).
    #[arg(long, value_name = "TOKEN")]
    pub start_token: Option<String>,
    /// Write one JSON line per text (index, tokens, NLL, perplexity...) here.
    #[arg(long, short, value_name = "FILE.jsonl", requires = "per_text")]
    pub output: Option<PathBuf>,
    /// Windows or texts per model call [default: 1 window / 8 texts on cpu, 4 / 32 on cuda].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: Device,
    /// ONNX Runtime threads [default: its own choice].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The ONNX Runtime library (libonnxruntime.so) [default: found as `geneval doctor` shows].
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}

/// How images become features; used when a side is a folder or `@list.txt`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Feature extraction (image folders)")]
pub struct ExtractArgs {
    /// Feature model: `fid-inception` (default: pytorch-fid's network,
    /// fetched and converted once), `builtin` (geneval's own network, no
    /// download; not comparable with published numbers) or an .onnx file.
    #[arg(long, value_name = "fid-inception|builtin|PATH")]
    pub model: Option<String>,
    /// FID Inception feature layer, as pytorch-fid's --dims: 2048 (pool3),
    /// 768, 192 or 64.
    #[arg(long, value_name = "2048|768|192|64")]
    pub dims: Option<usize>,
    /// Model spec (JSON) [default: MODEL.onnx.json next to the model, if any].
    #[arg(long, value_name = "FILE")]
    pub model_spec: Option<PathBuf>,
    /// Name of the model output holding the features (overrides the spec).
    #[arg(long, value_name = "NAME")]
    pub features_output: Option<String>,
    /// Name of the model output holding class logits (overrides the spec).
    #[arg(long, value_name = "NAME")]
    pub logits_output: Option<String>,
    /// Resize and normalisation: pytorch-fid, tf (torch-fidelity) or clean (clean-fid).
    #[arg(long, default_value = "pytorch-fid", value_name = "MODE")]
    pub mode: ResizeMode,
    /// Where the model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: Device,
    /// Images per model call [default: 50 on cpu, 200 on cuda].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// ONNX Runtime threads [default: its own choice].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Skip files that cannot be decoded (listed in the result) instead of stopping.
    #[arg(long)]
    pub skip_bad: bool,
    /// Also read images in subfolders.
    #[arg(long)]
    pub recursive: bool,
    /// Refuse images with more pixels than this [default: Pillow's bomb limit, 178956970].
    #[arg(long, value_name = "PIXELS")]
    pub max_pixels: Option<u64>,
    /// The ONNX Runtime library (libonnxruntime.so.*) to load.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}

/// `geneval fid`
#[derive(Debug, Args)]
pub struct FidArgs {
    /// First side (e.g. the real data): an image folder, @list.txt, .npz statistics or .npy features.
    pub a: PathBuf,
    /// Second side (e.g. the generated data).
    pub b: PathBuf,
    /// Also redraw both sides' samples with replacement this many times and
    /// report the FID's bootstrap interval and std (one FID per replicate;
    /// needs features or images, not statistics).
    /// At most 100000.
    #[arg(long, value_name = "REPLICATES", value_parser = parse_bootstrap_replicates)]
    pub bootstrap: Option<usize>,
    /// Level of the bootstrap interval.
    #[arg(
        long,
        default_value_t = 0.95,
        value_name = "LEVEL",
        requires = "bootstrap",
        value_parser = parse_level
    )]
    pub bootstrap_level: f64,
    /// Seed of the bootstrap draws (numpy RandomState).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval is`
#[derive(Debug, Args)]
pub struct IsArgs {
    /// Images (folder or @list.txt), or logits N x classes (.npy). For FID
    /// Inception use the logits without the fc bias.
    pub logits: PathBuf,
    /// Number of splits.
    #[arg(long, default_value_t = 10)]
    pub splits: usize,
    /// Seed of the permutation of samples before splitting (numpy RandomState).
    #[arg(long, default_value_t = 2020)]
    pub seed: u32,
    /// Keep the samples in file order instead of permuting them.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval kid`
#[derive(Debug, Args)]
pub struct KidArgs {
    /// The first set: an image folder, @list.txt or features (.npy).
    pub a: PathBuf,
    /// The second set.
    pub b: PathBuf,
    /// Number of random subsets (1 to 100000).
    #[arg(long, default_value_t = 100, value_parser = parse_kid_subsets)]
    pub subsets: usize,
    /// Samples per subset, from 2 to the smaller set's size [default: min(N_a, N_b, 1000)].
    #[arg(long, value_parser = parse_kid_subset_size)]
    pub subset_size: Option<usize>,
    /// Degree of the polynomial kernel.
    #[arg(long, default_value_t = 3)]
    pub degree: u32,
    /// Kernel scale [default: 1 / dimension].
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Kernel offset.
    #[arg(long, default_value_t = 1.0)]
    pub coef0: f64,
    /// Seed of the subset draws (numpy RandomState).
    #[arg(long, default_value_t = 2020)]
    pub seed: u32,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval prdc`
#[derive(Debug, Args)]
pub struct PrdcArgs {
    /// The real set: an image folder, @list.txt or features (.npy).
    pub real: PathBuf,
    /// The generated set.
    pub fake: PathBuf,
    /// Neighbours for precision/recall/density/coverage (Naeem et al.).
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Neighbours for improved precision/recall (Kynkäänniemi et al.).
    #[arg(long, default_value_t = 3)]
    pub pr_k: usize,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Images (folder or @list.txt) or features (.npy, N x D).
    pub features: PathBuf,
    /// Output statistics file (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write mergeable partial statistics instead of pytorch-fid's mu/sigma.
    #[arg(long)]
    pub partial: bool,
    /// Name of the feature layer, recorded in partial statistics so that
    /// `merge` refuses to mix layers.
    /// [default: the model's features output for images, else "unknown"]
    #[arg(long)]
    pub feature: Option<String>,
    /// Identifier of the model that made the features (e.g. its SHA-256),
    /// recorded in partial statistics so that `merge` refuses to mix models.
    /// [default: the model's id for images, else "unknown"]
    #[arg(long)]
    pub model_id: Option<String>,
    /// Feature extraction for image sides.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval features`
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Images: a folder or @list.txt.
    pub images: PathBuf,
    /// Output features (.npy, float32, N x D, rows in file order).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the logits (.npy, N x classes), for `geneval is`.
    #[arg(long, value_name = "FILE")]
    pub logits: Option<PathBuf>,
    /// Feature extraction.
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial statistics files (.npz) written by `geneval stats --partial`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output statistics file (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the merged result as partial statistics (to merge further).
    #[arg(long)]
    pub partial: bool,
}

/// `geneval demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's images, statistics and self-check report.
    #[arg(long, default_value = "geneval-demo")]
    pub out: PathBuf,
    /// Images per set.
    #[arg(long, default_value_t = 300)]
    pub n: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Images per set in the closing self-check (0: skip it).
    #[arg(long, default_value_t = 150)]
    pub selfcheck_n: usize,
    /// Feature extraction [default model: fid-inception if cached, else builtin].
    #[command(flatten)]
    pub extract: ExtractArgs,
}

/// `geneval doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The ONNX Runtime library to check (libonnxruntime.so.*) instead of
    /// searching ORT_DYLIB_PATH, the cache and the Python package.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Also show a model's inputs, outputs and the spec geneval resolves for
    /// it (`builtin` or an .onnx file, with its MODEL.onnx.json sidecar).
    #[arg(long, value_name = "builtin|PATH")]
    pub model: Option<String>,
    /// A spec file for --model instead of its sidecar.
    #[arg(long, value_name = "FILE")]
    pub model_spec: Option<PathBuf>,
}

/// `geneval models ...`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The registered models and whether each is cached.
    List,
    /// Download a model's official weights, verify their SHA-256, convert to ONNX, cache.
    Fetch {
        /// The model's name.
        #[arg(default_value = "fid-inception")]
        name: String,
    },
    /// Import a local copy of the official weights (offline machines).
    Import {
        /// The weights file, e.g. pt_inception-2015-12-05-6726825d.pth.
        path: PathBuf,
        /// The model it is.
        #[arg(long, default_value = "fid-inception")]
        name: String,
    },
}

/// `geneval generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder (created; existing images with the same names are replaced).
    pub out: PathBuf,
    /// Number of images.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Side of the square images in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Seed: the same arguments give byte-identical files on any machine.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Only the first K classes (mode dropping).
    #[arg(long, value_name = "K")]
    pub keep_classes: Option<usize>,
    /// Image format: png or jpeg.
    #[arg(long, default_value = "png")]
    pub format: String,
    /// Disturbances to apply, KIND:LEVEL (noise, blur, rectangles, swirl,
    /// salt-pepper, contamination), in order; repeatable.
    #[arg(long, value_name = "KIND:LEVEL")]
    pub disturb: Vec<String>,
}

/// `geneval disturb`
#[derive(Debug, Args)]
pub struct DisturbArgs {
    /// Folder of images to read.
    pub input: PathBuf,
    /// Folder to write (same file names, PNG).
    pub out: PathBuf,
    /// The disturbance, KIND:LEVEL.
    #[arg(value_name = "KIND:LEVEL")]
    pub disturbance: String,
    /// Seed of the disturbance's randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `geneval selfcheck`
#[derive(Debug, Args)]
pub struct SelfcheckArgs {
    /// Folder for the generated sets, results.jsonl and report.md.
    #[arg(short, long, default_value = "geneval-selfcheck")]
    pub out: PathBuf,
    /// Images per set.
    #[arg(long, default_value_t = 500)]
    pub n: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Classes of the generator.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Seed of the reference set (the clean set uses seed + 1).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Feature extraction [default model: fid-inception if cached, else builtin].
    #[command(flatten)]
    pub extract: ExtractArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_inclusively_and_name_the_bound() {
        assert_eq!(parse_kid_subsets("100000"), Ok(MAX_KID_SUBSETS));
        assert_eq!(parse_kid_subsets(" 1 "), Ok(1));
        for text in ["100001", "18446744073709551615", "99999999999999999999999"] {
            let err = parse_kid_subsets(text).unwrap_err();
            assert!(err.contains("maximum of 100000"), "{err}");
        }
        assert!(parse_kid_subsets("0").unwrap_err().contains("at least 1"));
        assert!(parse_kid_subsets("-3")
            .unwrap_err()
            .contains("whole number"));
        assert_eq!(parse_bootstrap_replicates("100000"), Ok(100000));
        assert!(parse_bootstrap_replicates("1").is_err());
        assert!(parse_bootstrap_replicates("100001").is_err());
        assert_eq!(parse_kid_subset_size("2"), Ok(2));
        assert!(parse_kid_subset_size("1").is_err());
        assert_eq!(parse_level("0.9"), Ok(0.9));
        for bad in ["0", "1", "NaN", "1.5", "x"] {
            assert!(parse_level(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
