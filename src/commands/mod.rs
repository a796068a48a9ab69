//! One module per subcommand: each turns parsed arguments into library calls
//! and returns a result record; `main` prints it.

pub mod cache;
pub mod demo;
pub mod disturb;
pub mod doctor;
pub mod eval;
pub mod features;
pub mod fid;
pub mod gate;
pub mod generate;
pub mod html_report;
pub mod is;
pub mod kid;
pub mod merge;
pub mod models;
pub mod nn;
pub mod ppl;
pub mod prdc;
pub mod report;
pub mod selfcheck;
pub mod stats;

use crate::record::ResultRecord;

/// What a command hands back to `main`: its record and the human summary.
pub struct Outcome {
    /// The machine-readable record (`--json`).
    pub record: ResultRecord,
    /// Further records of the same run (`eval` writes one per metric):
    /// appended with the first, and printed with it as JSON Lines.
    pub extra: Vec<ResultRecord>,
    /// The human-readable lines for stdout.
    pub summary: Vec<String>,
}
