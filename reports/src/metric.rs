//! The one table of known metrics: key, name for people, direction, column
//! order and comparability family.
//!
//! The report (column order, titles, the best cell), the gate (the warning
//! about a tolerance in the unusual direction) and the self-check (its set
//! columns) all read it, so a metric is described once.

use serde::Serialize;

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (FID, FD_DINOv2, CMMD, KID, perplexity, bits per byte).
    Lower,
    /// Higher is better (IS, precision, recall, density, coverage).
    Higher,
    /// Closer to 0 is better: a signed test statistic whose both tails are
    /// failures (C_T: ≪ 0 copying, ≫ 0 underfitting).
    Zero,
}

impl Direction {
    /// The direction of a metric or value key by name (any case), if known.
    pub fn of(metric: &str) -> Option<Direction> {
        Metric::find(&metric.to_ascii_lowercase()).map(|m| m.direction)
    }

    /// `↓`, `↑` or `→0`.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Lower => "↓",
            Direction::Higher => "↑",
            Direction::Zero => "→0",
        }
    }

    /// `lower is better`, `higher is better` or `closer to 0 is better`.
    pub fn describe(self) -> &'static str {
        match self {
            Direction::Lower => "lower is better",
            Direction::Higher => "higher is better",
            Direction::Zero => "closer to 0 is better",
        }
    }

    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Lower => a < b,
            Direction::Higher => a > b,
            Direction::Zero => a.abs() < b.abs(),
        }
    }
}

/// What decides whether two numbers of a metric may be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A feature-space metric (FID, FD_DINOv2, CMMD, KID, IS, PRDC): the
    /// feature network and the preprocessing mode must agree.
    Features,
    /// A language-model metric (perplexity, bits per byte): the perplexity
    /// mode and the window settings must agree; the model is what is
    /// compared.
    LanguageModel,
}

/// One known metric or value key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// The key in records (`fid`, `mean_perplexity`, …).
    pub key: &'static str,
    /// The name people read (`FID`, `perplexity`).
    pub title: &'static str,
    /// Which way is better.
    pub direction: Direction,
    /// What makes two numbers of it incomparable.
    pub family: Family,
    /// Whether it is a column of the report's models table (the table's
    /// order is the column order).
    pub column: bool,
}

const fn m(
    key: &'static str,
    title: &'static str,
    direction: Direction,
    family: Family,
    column: bool,
) -> Metric {
    Metric {
        key,
        title,
        direction,
        family,
        column,
    }
}

use Direction::{Higher, Lower, Zero};
use Family::{Features, LanguageModel};

/// Every known metric and value key; the report's columns come first, in
/// their order.
pub const METRICS: [Metric; 22] = [
    m("fid", "FID", Lower, Features, true),
    m("fd_dinov2", "FD_DINOv2", Lower, Features, true),
    m("cmmd", "CMMD", Lower, Features, true),
    m("kid", "KID", Lower, Features, true),
    m("is", "IS", Higher, Features, true),
    m("precision", "precision", Higher, Features, true),
    m("recall", "recall", Higher, Features, true),
    m("density", "density", Higher, Features, true),
    m("coverage", "coverage", Higher, Features, true),
    m("ppl", "perplexity", Lower, LanguageModel, true),
    m("bits_per_byte", "bits per byte", Lower, LanguageModel, true),
    m("kid_mean", "kid mean", Lower, Features, false),
    m("is_mean", "is mean", Higher, Features, false),
    m(
        "improved_precision",
        "improved precision",
        Higher,
        Features,
        false,
    ),
    m(
        "improved_recall",
        "improved recall",
        Higher,
        Features,
        false,
    ),
    m("perplexity", "perplexity", Lower, LanguageModel, false),
    m(
        "mean_perplexity",
        "mean perplexity",
        Lower,
        LanguageModel,
        false,
    ),
    m(
        "word_perplexity",
        "word perplexity",
        Lower,
        LanguageModel,
        false,
    ),
    m("authpct", "AuthPct", Higher, Features, false),
    m("c_t", "C_T", Zero, Features, false),
    m("nll", "nll", Lower, LanguageModel, false),
    m("loss", "loss", Lower, LanguageModel, false),
];

/// The numbers a `prdc` record gives, one column each.
pub const PRDC: [&str; 4] = ["precision", "recall", "density", "coverage"];

/// The metrics a self-check measures for every set, in column order.
pub const SET_METRICS: [&str; 7] = [
    "fid",
    "kid",
    "is",
    "precision",
    "recall",
    "density",
    "coverage",
];

impl Metric {
    /// The entry of a key (exact spelling), if known.
    pub fn find(key: &str) -> Option<&'static Metric> {
        METRICS.iter().find(|m| m.key == key)
    }

    /// The family of a record's metric; an unknown one is a feature-space
    /// metric.
    pub fn family_of(key: &str) -> Family {
        Metric::find(key).map_or(Family::Features, |m| m.family)
    }
}

/// A metric's name for people: `FID`, `KID`, `IS`, `precision`, `perplexity`.
pub fn metric_title(metric: &str) -> String {
    match Metric::find(metric) {
        Some(m) => m.title.to_owned(),
        None => metric.replace('_', " "),
    }
}

/// Where a metric's column goes: the table's order, then others by name.
pub fn metric_rank(metric: &str) -> (usize, String) {
    let columns = METRICS.iter().filter(|m| m.column);
    let rank = columns
        .clone()
        .position(|m| m.key == metric)
        .unwrap_or(columns.count());
    (rank, metric.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_columns_come_first() {
        for (i, a) in METRICS.iter().enumerate() {
            assert!(METRICS[i + 1..].iter().all(|b| b.key != a.key), "{}", a.key);
        }
        let first_other = METRICS.iter().position(|m| !m.column).unwrap();
        assert!(METRICS[first_other..].iter().all(|m| !m.column));
        for key in SET_METRICS.iter().chain(&PRDC) {
            assert!(Metric::find(key).is_some_and(|m| m.column), "{key}");
        }
    }

    #[test]
    fn titles_ranks_and_families() {
        assert_eq!(metric_title("ppl"), "perplexity");
        assert_eq!(metric_title("kid_std"), "kid std");
        assert_eq!(metric_rank("fd_dinov2").0, 1);
        assert_eq!(metric_rank("cmmd").0, 2);
        assert_eq!(metric_rank("bits_per_byte").0, 10);
        assert_eq!(metric_rank("duration").0, 11);
        assert_eq!(metric_title("fd_dinov2"), "FD_DINOv2");
        assert_eq!(Direction::of("fd_dinov2"), Some(Direction::Lower));
        assert_eq!(Direction::of("CMMD"), Some(Direction::Lower));
        assert_eq!(Metric::family_of("cmmd"), Family::Features);
        assert_eq!(Metric::family_of("ppl"), Family::LanguageModel);
        assert_eq!(Metric::family_of("fid"), Family::Features);
        assert_eq!(Metric::family_of("unknown"), Family::Features);
        assert_eq!(Direction::of("FID"), Some(Direction::Lower));
        assert_eq!(Direction::of("nll"), Some(Direction::Lower));
    }

    /// The keys the report's old LOWER_IS_BETTER and Direction::of
    /// disagreed on: one table now gives them one direction for both.
    #[test]
    fn the_keys_that_disagreed_are_lower_is_better_everywhere() {
        for key in ["nll", "loss", "mean_perplexity", "word_perplexity", "ppl"] {
            assert_eq!(Direction::of(key), Some(Direction::Lower), "{key}");
            assert_eq!(Metric::find(key).unwrap().direction, Direction::Lower);
        }
    }

    /// C_T (nn's data-copying test) is best near 0: a copying model
    /// (≪ 0) is not better than an underfitting one (≫ 0) or a fair one.
    #[test]
    fn c_t_is_best_closest_to_zero() {
        assert_eq!(metric_title("c_t"), "C_T");
        let d = Direction::of("c_t").unwrap();
        assert_eq!(d, Direction::Zero);
        assert!(d.better(0.3, -3.5) && d.better(-0.3, 3.5) && !d.better(-4.0, 1.0));
        assert_eq!((d.arrow(), d.describe()), ("→0", "closer to 0 is better"));
        assert!(!Metric::find("c_t").unwrap().column);
    }
}
