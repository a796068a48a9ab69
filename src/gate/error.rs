//! What can stop a gate before it has a verdict (exit 2).

use super::run::DEPTH_ENV;
use super::table::printable;
use geneval_reports::ReadError;
use std::path::PathBuf;

/// Why the gate could not judge the rules.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The config file could not be read.
    #[error("cannot read the gate config {path}: {message}")]
    ReadConfig {
        /// The config file.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// The config is not valid TOML or has unknown or mistyped keys.
    #[error("{path}: {message}")]
    ParseConfig {
        /// The config file.
        path: PathBuf,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// The config parses but says something impossible.
    #[error("{path}: {message}")]
    InvalidConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the rule.
        message: String,
    },
    /// Records (or a baseline) could not be read.
    #[error("{what}")]
    Records {
        /// Which records: `reading the records`, `reading the baseline of rule 2`.
        what: String,
        /// Why.
        #[source]
        source: ReadError,
    },
    /// A rule names a metric that no record has.
    #[error("rule {rule}: no `{metric}` record in {where_} (metrics there: {})", list(.available))]
    UnknownMetric {
        /// The rule (1-based).
        rule: usize,
        /// The metric it names.
        metric: String,
        /// `the records` or `the baseline base.jsonl`.
        where_: String,
        /// The metrics the records have.
        available: Vec<String>,
    },
    /// Records of the metric exist, but none has the rule's labels.
    #[error(
        "rule {rule}: no `{metric}` record labelled {filter} in {where_} \
         (their labels: {})", list(.available)
    )]
    NoLabelMatch {
        /// The rule (1-based).
        rule: usize,
        /// The metric.
        metric: String,
        /// The label filter, `k=v, k=v`.
        filter: String,
        /// `the records` or `the baseline base.jsonl`.
        where_: String,
        /// The label sets of the metric's records.
        available: Vec<String>,
    },
    /// The record has no number of that name.
    #[error("rule {rule}: the `{metric}` record at {source_} has no number `{key}` (it has: {})", list(.available))]
    MissingValue {
        /// The rule (1-based).
        rule: usize,
        /// The metric.
        metric: String,
        /// The number asked for (`value` or a key of `values`).
        key: String,
        /// Where the record is (`path:line`).
        source_: String,
        /// The numbers it has.
        available: Vec<String>,
    },
    /// The record and its baseline were measured differently.
    #[error(transparent)]
    Incomparable(Box<IncomparableBaseline>),
    /// This gate was started by another gate's `[[run]]` (its environment
    /// says so): refused, so that gates cannot start each other without end.
    #[error("refusing to run a gate inside a gate: {DEPTH_ENV}={value} is set, so this process was started by a gate's [[run]]")]
    Nested {
        /// The variable's value.
        value: String,
    },
    /// A `[[run]]` is not a command line the gate may start.
    #[error("[[run]] {index} (`{command}`): {message}")]
    RunRefused {
        /// The run (1-based).
        index: usize,
        /// The command line.
        command: String,
        /// What is not allowed.
        message: String,
    },
    /// The geneval executable could not be started for a `[[run]]`.
    #[error("[[run]] {index} (`{command}`): cannot start {exe}: {message}")]
    RunStart {
        /// The run (1-based).
        index: usize,
        /// The command line.
        command: String,
        /// The executable.
        exe: PathBuf,
        /// The system's message.
        message: String,
    },
    /// A `[[run]]` exited with an error.
    #[error("[[run]] {index} (`{command}`) failed ({status}); its stderr:\n{}", indent(.stderr))]
    RunFailed {
        /// The run (1-based).
        index: usize,
        /// The command line.
        command: String,
        /// `exit code 2`, `killed by a signal`.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A `[[run]]` printed something that is not one result record.
    #[error("[[run]] {index} (`{command}`) did not print a result record: {message}")]
    RunOutput {
        /// The run (1-based).
        index: usize,
        /// The command line.
        command: String,
        /// What is wrong.
        message: String,
    },
}

/// A record and its baseline measured differently (another feature
/// network, preprocessing mode or perplexity window): their numbers are not
/// comparable, by the rule [`geneval_reports::compare::incomparable`]
/// states, the one `geneval report` applies to a column.
#[derive(Debug, thiserror::Error)]
#[error(
    "rule {rule}: the `{metric}` record at {source_} and its baseline at {baseline_source} \
     differ in {what} ({value} vs {baseline_value}): their numbers are not comparable"
)]
pub struct IncomparableBaseline {
    /// The rule (1-based).
    pub rule: usize,
    /// The metric.
    pub metric: String,
    /// What differs: `feature networks`, `window settings`, ….
    pub what: String,
    /// The judged record's value of it.
    pub value: String,
    /// The baseline's value of it.
    pub baseline_value: String,
    /// Where the judged record is (`path:line`).
    pub source_: String,
    /// Where the baseline record is.
    pub baseline_source: String,
}

/// Each line indented, so a child's `error:`/`hint:` lines read as quoted,
/// with control characters escaped so that no line of the child's can
/// start a workflow command or move the terminal's cursor.
fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (nothing)".to_owned();
    }
    text.lines()
        .map(|line| format!("    {}", printable(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        printable(&items.join(", ")).into_owned()
    }
}

impl GateError {
    /// What the user can do about it.
    pub(crate) fn hint_text(&self) -> String {
        match self {
            GateError::ReadConfig { .. } => "check the config path (geneval gate CONFIG.toml)".into(),
            GateError::ParseConfig { .. } | GateError::InvalidConfig { .. } => {
                "see `geneval gate --help` for the config's keys".into()
            }
            GateError::Records { source, .. } => source.hint().into(),
            GateError::UnknownMetric { .. } => "fix the rule's `metric`, produce such a record \
                (`geneval <metric> … --record FILE`), or set `optional = true` on the rule"
                .into(),
            GateError::NoLabelMatch { .. } => "fix the rule's `where` labels (records get them \
                with `--label KEY=VALUE`), or set `optional = true` on the rule"
                .into(),
            GateError::MissingValue { .. } => {
                "set the rule's `value` to one of the numbers the record has".into()
            }
            GateError::Incomparable(_) => {
                "compare with a baseline measured the same way (same network, mode and \
                 windows), or set `allow_mixed = true` on the rule to judge it anyway with a warning"
                    .into()
            }
            GateError::Nested { .. } => format!(
                "a [[run]] runs metric commands only; if you set {DEPTH_ENV} yourself, unset it"
            ),
            GateError::RunRefused { .. } => {
                "a [[run]] may run fid, is, kid, prdc or ppl, without --ort-lib, --output or \
                 --record, with model files inside the config's folder"
                    .into()
            }
            GateError::RunStart { .. } => {
                "the gate runs its own executable; check that it is still there".into()
            }
            GateError::RunFailed { .. } => {
                "run that command in the config file's folder to see the problem; \
                 paths in `args` are relative to the config file"
                    .into()
            }
            GateError::RunOutput { .. } => {
                "`args` must be a geneval metric command line (e.g. [\"fid\", \"real/\", \"fake/\"])"
                    .into()
            }
        }
    }
}

impl crate::diagnostics::Hint for GateError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        Some(self.hint_text().into())
    }
}
