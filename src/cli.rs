//! Command-line definitions (clap derive) and nothing else: every command's
//! behaviour lives in `commands/`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fréchet distance (FID) between two sides: statistics .npz or features .npy.
    Fid(FidArgs),
    /// Inception Score of logits (N x classes .npy), as torch-fidelity.
    Is(IsArgs),
    /// Kernel Inception Distance between two feature sets, as torch-fidelity.
    Kid(KidArgs),
    /// Precision, recall, density and coverage (Naeem et al.) and improved precision/recall.
    Prdc(PrdcArgs),
    /// Mean and covariance of features, written as pytorch-fid statistics.
    Stats(StatsArgs),
    /// Merge partial statistics exactly into one statistics file.
    Merge(MergeArgs),
    /// Run every metric on built-in synthetic features (no download needed).
    Demo(DemoArgs),
    /// Show which ONNX Runtime library geneval finds and what it can do.
    Doctor(DoctorArgs),
}

/// `geneval fid`
#[derive(Debug, Args)]
pub struct FidArgs {
    /// First side (e.g. the real data): .npz statistics or .npy features.
    pub a: PathBuf,
    /// Second side (e.g. the generated data).
    pub b: PathBuf,
}

/// `geneval is`
#[derive(Debug, Args)]
pub struct IsArgs {
    /// Logits, N x classes (.npy). For FID Inception use the logits without the fc bias.
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
}

/// `geneval kid`
#[derive(Debug, Args)]
pub struct KidArgs {
    /// Features of the first set (.npy).
    pub a: PathBuf,
    /// Features of the second set (.npy).
    pub b: PathBuf,
    /// Number of random subsets.
    #[arg(long, default_value_t = 100)]
    pub subsets: usize,
    /// Samples per subset [default: min(N_a, N_b, 1000)].
    #[arg(long)]
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
}

/// `geneval prdc`
#[derive(Debug, Args)]
pub struct PrdcArgs {
    /// Features of the real set (.npy).
    pub real: PathBuf,
    /// Features of the generated set (.npy).
    pub fake: PathBuf,
    /// Neighbours for precision/recall/density/coverage (Naeem et al.).
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Neighbours for improved precision/recall (Kynkäänniemi et al.).
    #[arg(long, default_value_t = 3)]
    pub pr_k: usize,
}

/// `geneval stats`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Features (.npy, N x D).
    pub features: PathBuf,
    /// Output statistics file (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write mergeable partial statistics instead of pytorch-fid's mu/sigma.
    #[arg(long)]
    pub partial: bool,
    /// Name of the feature layer, recorded in partial statistics so that
    /// `merge` refuses to mix layers.
    #[arg(long, default_value = "unknown")]
    pub feature: String,
    /// Identifier of the model that made the features (e.g. its SHA-256),
    /// recorded in partial statistics so that `merge` refuses to mix models.
    #[arg(long, default_value = "unknown")]
    pub model_id: String,
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
    /// Folder for the demo's features and statistics.
    #[arg(long, default_value = "geneval-demo")]
    pub out: PathBuf,
    /// Samples per set.
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
}

/// `geneval doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The ONNX Runtime library to check (libonnxruntime.so.*) instead of
    /// searching ORT_DYLIB_PATH, the cache and the Python package.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}
