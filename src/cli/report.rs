//! `geneval report` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result records: JSONL/JSON files, folders, glob patterns.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Write the report here [default: Markdown on stdout].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format [default: from --output's extension (.md, .csv, .json,
    /// .html), else md].
    #[arg(long, value_name = "FORMAT", value_parser = ["md", "csv", "json", "html"])]
    pub format: Option<String>,
    /// The report's title.
    #[arg(long, default_value = "geneval report", value_name = "TITLE")]
    pub title: String,
    /// The label whose values name the rows (`--label model=ours`).
    #[arg(long = "by", default_value = "model", value_name = "LABEL")]
    pub by: String,
    /// Skip records of unknown schema versions (with a warning) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Show numbers from different feature networks, preprocessing modes or
    /// perplexity settings in one column (with a warning) instead of refusing.
    #[arg(long)]
    pub allow_mixed: bool,
    /// Also write every chart as a PNG into this folder.
    #[arg(long, value_name = "DIR")]
    pub png_dir: Option<PathBuf>,
    /// Leave sample images out of the HTML report (by default it embeds a
    /// seeded draw of thumbnails per image side and `nn`'s copies and
    /// outliers, at most 5 MB of images per page).
    #[arg(long)]
    pub no_images: bool,
    /// Thumbnails per image side in the HTML report.
    #[arg(
        long,
        default_value_t = 32,
        value_name = "N",
        conflicts_with = "no_images"
    )]
    pub samples: usize,
}
