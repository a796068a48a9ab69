//! `geneval cache` subcommands.

use clap::Subcommand;

fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 7days or 12h: {e}"))
}

/// `geneval cache ...`: the statistics cache (`<cache>/stats`).
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// The cached sides, most recently used first.
    List,
    /// The cache's size.
    Du,
    /// Remove entries: all, or those unused for longer than --older-than.
    Clear {
        /// Keep entries used more recently than this (e.g. 7days, 12h).
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: Option<std::time::Duration>,
    },
}
