//! `--shard K/N|auto` and `--shard-count N`: one process's part of a side.

use clap::Args;

use crate::images::shard::{Shard, ShardError};

/// Which part of the side's sorted image list this process takes.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Sharding (Slurm job arrays, Kubernetes Indexed Jobs)")]
pub struct ShardArgs {
    /// This process's part of the sorted image list: K/N (K from 0), or
    /// `auto` (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, or
    /// Kubernetes' JOB_COMPLETION_INDEX of --shard-count).
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// The number of parts for `--shard auto` (a Kubernetes Job's
    /// completions; Slurm's SLURM_ARRAY_TASK_COUNT otherwise).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shard_count: Option<usize>,
}

impl ShardArgs {
    /// The shard asked for, reading the scheduler's variables for `auto`.
    pub fn resolve(&self) -> Result<Option<Shard>, ShardError> {
        match self.shard.as_deref() {
            None => Ok(None),
            Some("auto") => {
                Shard::from_scheduler(|name| std::env::var(name).ok(), self.shard_count).map(Some)
            }
            Some(text) => Shard::parse(text).map(Some),
        }
    }
}
