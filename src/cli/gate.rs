//! `geneval gate` arguments.

use clap::Args;
use std::path::PathBuf;

/// `geneval gate`.
#[derive(Debug, Args)]
#[command(after_long_help = CONFIG_HELP)]
pub struct GateArgs {
    /// The gate's rules (TOML; see below).
    #[arg(value_name = "CONFIG.toml")]
    pub config: PathBuf,
    /// Result records to judge (files, folders, globs) instead of the
    /// config's `records`.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub records: Vec<String>,
    /// Also print GitHub Actions annotations: ::error for failed rules,
    /// ::notice for the others (on stderr with --json).
    #[arg(long)]
    pub github: bool,
    /// Write the results as JUnit XML (one testcase per rule).
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Skip records of other schema versions instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

const CONFIG_HELP: &str = "\
Exit codes: 0 every rule passed, 1 a rule failed, 2 an error (bad config, no \
such metric, unreadable records, a failed [[run]]).

Config (paths are relative to the config file):

  records = [\"results.jsonl\"]        # files, folders, globs; --records overrides

  [[rule]]
  metric = \"fid\"                     # the records' metric (fid, kid, is, prdc, ppl, ...)
  value = \"fid\"                      # optional: a key of the record's values [default: its value]
  max = 25.0                         # and/or min = ...
  where = { model = \"ours\" }         # optional: only records with these labels
  name = \"FID of ours\"               # optional: the name shown

  [[rule]]
  metric = \"kid\"
  baseline = \"baseline.jsonl\"        # the latest matching record there
  baseline_where = { model = \"main\" }  # optional [default: where]
  max_increase_percent = 2.0         # or max_increase; for higher-is-better numbers
                                     # (is, precision, recall, density, coverage):
                                     # max_decrease_percent / max_decrease
  noise_aware = true                 # a regression must also exceed
  sigmas = 2.0                       # sigmas * sqrt(u_new^2 + u_base^2)
  optional = true                    # skip, not fail, when no record matches
  allow_mixed = true                 # judge a baseline measured with another
                                     # network, mode or window (with a warning);
                                     # without it such a baseline is an error

  [[run]]                            # optional: produce a record first
  args = [\"fid\", \"real/\", \"fake/\", \"--model\", \"builtin\"]
  label = { model = \"ours\" }         # added as --label; the record is appended
                                     # to the first `records` file

Each rule judges the latest record (by started_at, then read order) with its \
metric and labels.";
