//! The gate's TOML file, parsed into typed structs (unknown keys are errors)
//! and checked for rules that could never be judged.
//!
//! ```toml
//! records = ["results.jsonl"]     # files, folders, globs; relative to this file
//!
//! [[rule]]
//! metric = "fid"                  # the record's metric
//! value = "fid"                   # optional: a key of the record's values [default: its value]
//! max = 25.0                      # and/or min
//! where = { model = "ours" }      # optional label filter
//!
//! [[rule]]
//! metric = "fid"
//! baseline = "baseline.jsonl"     # latest matching record there
//! max_increase_percent = 2.0      # or max_increase; max_decrease(_percent) for higher-is-better
//! noise_aware = true              # must also exceed sigmas * sqrt(u_new² + u_base²)
//! sigmas = 2.0
//! optional = true                 # skipped when no record matches
//! allow_mixed = true              # a baseline measured differently: warn, not refuse
//!
//! [[run]]
//! args = ["fid", "real/", "fake/", "--model", "builtin"]
//! label = { model = "ours" }
//! ```
//!
//! A `[[run]]` is checked here, when the file is loaded, by [`allow::check`]:
//! only metric commands (fid, is, kid, prdc, ppl), no `--ort-lib`,
//! `--output` or `--record`, models inside the config's folder.

use super::allow;
use super::error::GateError;
use super::table::printable;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Labels as `KEY = VALUE` (text, integers and booleans; numbers become text).
pub type Labels = BTreeMap<String, String>;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Where the records are (files, folders, globs), relative to the config.
    #[serde(default)]
    pub records: Vec<String>,
    /// The rules, in order (`[[rule]]`).
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// Commands to run first (`[[run]]`).
    #[serde(default, rename = "run")]
    pub runs: Vec<RunSpec>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name for tables and annotations [default: the metric and labels].
    pub name: Option<String>,
    /// The record's metric: `fid`, `kid`, `is`, `prdc`, `ppl`, ….
    pub metric: String,
    /// The number to judge: a key of the record's `values` (`kid_mean`,
    /// `precision`), or `value` [default: the record's headline value].
    pub value: Option<String>,
    /// Only records with these labels.
    #[serde(rename = "where", default, deserialize_with = "labels")]
    pub filter: Labels,
    /// Fails when the number is above.
    pub max: Option<f64>,
    /// Fails when the number is below.
    pub min: Option<f64>,
    /// Records holding the baseline (the latest match is used), relative to the config.
    pub baseline: Option<String>,
    /// Labels of the baseline record [default: `where`].
    #[serde(default, deserialize_with = "optional_labels")]
    pub baseline_where: Option<Labels>,
    /// Fails when the number rose by more than this over the baseline.
    pub max_increase: Option<f64>,
    /// Fails when the number rose by more than this percentage of the baseline.
    pub max_increase_percent: Option<f64>,
    /// Fails when the number fell by more than this under the baseline.
    pub max_decrease: Option<f64>,
    /// Fails when the number fell by more than this percentage of the baseline.
    pub max_decrease_percent: Option<f64>,
    /// A regression must also exceed `sigmas * sqrt(u_new² + u_base²)`.
    #[serde(default)]
    pub noise_aware: bool,
    /// The `k` of the noise-aware test [default: 2].
    pub sigmas: Option<f64>,
    /// Skip the rule, instead of failing with an error, when no record matches.
    #[serde(default)]
    pub optional: bool,
    /// Judge against a baseline measured differently (another feature
    /// network, preprocessing mode or perplexity window) with a warning,
    /// instead of refusing as `geneval report` does without `--allow-mixed`.
    #[serde(default)]
    pub allow_mixed: bool,
}

/// The default `sigmas` of a noise-aware rule.
pub const DEFAULT_SIGMAS: f64 = 2.0;

/// One `[[run]]`: a geneval command line the gate runs before judging.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The arguments after `geneval` (paths relative to the config file).
    pub args: Vec<String>,
    /// Labels added to the record (`--label KEY=VALUE`).
    #[serde(default, alias = "labels", deserialize_with = "labels")]
    pub label: Labels,
}

impl Rule {
    /// The number the rule judges: `value` or a key of `values`.
    pub fn key(&self) -> &str {
        self.value.as_deref().unwrap_or("value")
    }

    /// Tables and annotations call the rule this: its `name`, else
    /// `fid`, `kid.kid_std`, `fid (model=ours)`.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let mut text = match &self.value {
            Some(key) if key != "value" && key != &self.metric => {
                format!("{}.{key}", self.metric)
            }
            _ => self.metric.clone(),
        };
        if !self.filter.is_empty() {
            text.push_str(&format!(" ({})", format_labels(&self.filter)));
        }
        text
    }

    /// The baseline's label filter.
    pub fn baseline_filter(&self) -> &Labels {
        self.baseline_where.as_ref().unwrap_or(&self.filter)
    }

    fn has_threshold(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    fn tolerances(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("max_increase", self.max_increase),
            ("max_increase_percent", self.max_increase_percent),
            ("max_decrease", self.max_decrease),
            ("max_decrease_percent", self.max_decrease_percent),
        ]
    }

    fn has_tolerance(&self) -> bool {
        self.tolerances().iter().any(|(_, t)| t.is_some())
    }
}

/// `k=v, k=v`.
pub fn format_labels(labels: &Labels) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parsed and checked config, with what the user should know about it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config.
    pub config: GateConfig,
    /// The file it came from.
    pub path: PathBuf,
    /// Suspicious but allowed settings.
    pub warnings: Vec<String>,
}

impl LoadedConfig {
    /// The folder relative paths in the config start from (`""` for a
    /// config in the working folder).
    pub fn folder(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// `relative` as seen from the working folder.
    pub fn resolve(&self, relative: &str) -> String {
        let path = Path::new(relative);
        if path.is_absolute() || self.folder().as_os_str().is_empty() {
            relative.to_owned()
        } else {
            self.folder().join(path).display().to_string()
        }
    }
}

/// The most bytes of a gate config read into memory. Real configs are a few
/// KiB; a larger file is a mistake (or `/dev/zero` behind a link), refused
/// before memory is reserved for it.
pub const CONFIG_LIMIT: u64 = 16 << 20;

/// Reads, parses and checks the config file: a regular file of at most
/// [`CONFIG_LIMIT`] bytes (a FIFO named `gate.toml` would block the open, a
/// link to `/dev/zero` would fill memory).
pub fn load(path: &Path) -> Result<LoadedConfig, GateError> {
    let error = |message: String| GateError::ReadConfig {
        path: path.to_owned(),
        message,
    };
    let bytes = crate::fs::read::read_regular_limited(path, Some(CONFIG_LIMIT))
        .map_err(|e| error(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        error(format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse(&text, path)
}

/// Parses and checks the text of a config; `path` is for messages and for
/// resolving relative paths.
pub fn parse(text: &str, path: &Path) -> Result<LoadedConfig, GateError> {
    let config: GateConfig = toml::from_str(text).map_err(|e| GateError::ParseConfig {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let warnings = check(&config, folder).map_err(|message| GateError::InvalidConfig {
        path: path.to_owned(),
        message,
    })?;
    Ok(LoadedConfig {
        config,
        path: path.to_owned(),
        warnings,
    })
}

/// The config's contradictions (an error message) or its oddities
/// (warnings). `folder` is the config's: `[[run]]` model files must be in it.
/// Rule names are shown with control characters escaped: they reach
/// terminals and CI logs, where a newline could forge a workflow command.
fn check(config: &GateConfig, folder: &Path) -> Result<Vec<String>, String> {
    if config.rules.is_empty() {
        return Err("no [[rule]]: a gate needs at least one rule".into());
    }
    let mut warnings = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let at = |message: String| {
            let name = rule.display_name();
            format!("rule {} ({}): {message}", i + 1, printable(&name))
        };
        check_rule(rule).map_err(at)?;
        if let Some(warning) = direction_warning(rule) {
            warnings.push(at(warning));
        }
    }
    for (i, run) in config.runs.iter().enumerate() {
        // Refused here, before the first [[run]] starts.
        allow::check(run, folder).map_err(|m| format!("[[run]] {}: {}", i + 1, printable(&m)))?;
    }
    Ok(warnings)
}

fn check_rule(rule: &Rule) -> Result<(), String> {
    if rule.metric.trim().is_empty() {
        return Err("`metric` is empty".into());
    }
    if rule.value.as_deref().is_some_and(|v| v.trim().is_empty()) {
        return Err("`value` is empty".into());
    }
    let numbers = [
        ("max", rule.max),
        ("min", rule.min),
        ("sigmas", rule.sigmas),
    ];
    for (key, number) in numbers.iter().chain(rule.tolerances().iter()) {
        if let Some(x) = number {
            if !x.is_finite() {
                return Err(format!("`{key}` must be a finite number, not {x}"));
            }
        }
    }
    for (key, tolerance) in rule.tolerances() {
        if tolerance.is_some_and(|t| t < 0.0) {
            return Err(format!("`{key}` must not be negative"));
        }
    }
    if let (Some(min), Some(max)) = (rule.min, rule.max) {
        if min > max {
            return Err(format!("`min` ({min}) is above `max` ({max})"));
        }
    }
    match (&rule.baseline, rule.has_tolerance()) {
        (Some(_), false) => {
            return Err(
                "`baseline` needs a tolerance: max_increase_percent, max_increase, \
                 max_decrease_percent or max_decrease"
                    .into(),
            )
        }
        (None, true) => {
            let key = rule
                .tolerances()
                .iter()
                .find(|(_, t)| t.is_some())
                .map_or("", |(k, _)| *k);
            return Err(format!(
                "`{key}` needs a `baseline` (records to compare with)"
            ));
        }
        (None, false) if !rule.has_threshold() => {
            return Err(
                "a rule needs a threshold (`max`, `min`) or a `baseline` with a \
                 tolerance (`max_increase_percent`, …)"
                    .into(),
            )
        }
        _ => {}
    }
    if rule
        .baseline
        .as_deref()
        .is_some_and(|b| b.trim().is_empty())
    {
        return Err("`baseline` is empty".into());
    }
    if rule.baseline.is_none() {
        if rule.noise_aware {
            return Err("`noise_aware` needs a `baseline`".into());
        }
        if rule.baseline_where.is_some() {
            return Err("`baseline_where` needs a `baseline`".into());
        }
        if rule.allow_mixed {
            return Err("`allow_mixed` needs a `baseline`".into());
        }
    }
    if let Some(k) = rule.sigmas {
        if !rule.noise_aware {
            return Err("`sigmas` has no effect without `noise_aware = true`".into());
        }
        if k <= 0.0 {
            return Err("`sigmas` must be positive".into());
        }
    }
    Ok(())
}

fn direction_warning(rule: &Rule) -> Option<String> {
    let key = match rule.key() {
        "value" => rule.metric.as_str(),
        key => key,
    };
    let increase = rule.max_increase.is_some() || rule.max_increase_percent.is_some();
    let decrease = rule.max_decrease.is_some() || rule.max_decrease_percent.is_some();
    let direction = geneval_reports::metric::Direction::of(key);
    if direction == Some(geneval_reports::metric::Direction::Higher) && increase && !decrease {
        Some(format!(
            "higher `{key}` is better, so max_increase limits improvements; \
             did you mean max_decrease_percent / max_decrease?"
        ))
    } else if direction == Some(geneval_reports::metric::Direction::Lower) && decrease && !increase
    {
        Some(format!(
            "lower `{key}` is better, so max_decrease limits improvements; \
             did you mean max_increase_percent / max_increase?"
        ))
    } else {
        None
    }
}

/// A label value: text, an integer or a boolean (stored as text).
struct LabelValue(String);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LabelValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a label value: text, an integer or true/false \
                     (quote other numbers, e.g. \"0.5\")",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

fn labels<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Labels, D::Error> {
    let raw = BTreeMap::<String, LabelValue>::deserialize(deserializer)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
}

fn optional_labels<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Labels>, D::Error> {
    labels(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> LoadedConfig {
        parse(text, Path::new("ci/quality.toml")).unwrap()
    }

    fn parse_err(text: &str) -> String {
        let err = parse(text, Path::new("ci/quality.toml")).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("ci/quality.toml: "), "{message}");
        message
    }

    #[test]
    fn parses_the_documented_example() {
        let loaded = parse_ok(
            r#"
            records = ["results.jsonl"]
            [[rule]]
            metric = "fid"
            max = 25.0
            where = { model = "ours", step = 20000, ema = true }
            [[rule]]
            metric = "kid"
            value = "kid_mean"
            baseline = "baseline.jsonl"
            max_increase_percent = 2.0
            noise_aware = true
            sigmas = 3
            [[rule]]
            metric = "prdc"
            value = "recall"
            min = 0.5
            baseline = "/abs/base.jsonl"
            max_decrease = 0.02
            optional = true
            [[run]]
            args = ["fid", "real/", "fake/", "--model", "builtin", "--mode", "clean"]
            label = { model = "ours" }
            "#,
        );
        let c = &loaded.config;
        assert_eq!(c.records, ["results.jsonl"]);
        assert_eq!(c.rules.len(), 3);
        assert_eq!(c.rules[0].filter["step"], "20000");
        assert_eq!(c.rules[0].filter["ema"], "true");
        assert_eq!(
            c.rules[0].display_name(),
            "fid (ema=true, model=ours, step=20000)"
        );
        assert_eq!(c.rules[1].key(), "kid_mean");
        assert_eq!(c.rules[1].display_name(), "kid.kid_mean");
        assert_eq!(c.rules[1].sigmas, Some(3.0));
        assert!(c.rules[2].optional);
        assert_eq!(c.runs[0].label["model"], "ours");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.resolve("results.jsonl"), "ci/results.jsonl");
        assert_eq!(loaded.resolve("/abs/base.jsonl"), "/abs/base.jsonl");
        let here = parse("[[rule]]\nmetric = \"fid\"\nmax = 1\n", Path::new("q.toml")).unwrap();
        assert_eq!(here.resolve("r.jsonl"), "r.jsonl");
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_and_line() {
        let message = parse_err("[[rule]]\nmetric = \"fid\"\nmax = 25\nmax_increse_percent = 2\n");
        assert!(
            message.contains("unknown field `max_increse_percent`"),
            "{message}"
        );
        assert!(message.contains("line 4"), "{message}");
        let message = parse_err("recordz = []\n[[rule]]\nmetric = \"fid\"\nmax = 1\n");
        assert!(message.contains("unknown field `recordz`"), "{message}");
        let message = parse_err(
            "[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"fid\"]\nlabel = {}\nfoo = 1\n",
        );
        assert!(message.contains("unknown field `foo`"), "{message}");
    }

    #[test]
    fn bad_toml_and_wrong_types_are_errors() {
        let message = parse_err("[[rule]\nmetric = \"fid\"\n");
        assert!(message.contains("line 1"), "{message}");
        let message = parse_err("[[rule]]\nmetric = \"fid\"\nmax = \"25\"\n");
        assert!(message.contains("invalid type"), "{message}");
        let message = parse_err("[[rule]]\nmetric = \"fid\"\nmax = 1\nwhere = { lr = 0.5 }\n");
        assert!(message.contains("quote other numbers"), "{message}");
        let message = parse_err("[[rule]]\nmax = 1\n");
        assert!(message.contains("missing field `metric`"), "{message}");
    }

    #[test]
    fn rules_that_cannot_be_judged_are_errors() {
        let cases = [
            ("", "no [[rule]]"),
            ("[[rule]]\nmetric = \"fid\"\n", "rule 1 (fid): a rule needs a threshold"),
            ("[[rule]]\nmetric = \"fid\"\nbaseline = \"b.jsonl\"\n", "`baseline` needs a tolerance"),
            ("[[rule]]\nmetric = \"fid\"\nmax_increase_percent = 2\n", "`max_increase_percent` needs a `baseline`"),
            ("[[rule]]\nmetric = \"fid\"\nmin = 3\nmax = 2\n", "`min` (3) is above `max` (2)"),
            ("[[rule]]\nmetric = \"fid\"\nbaseline = \"b\"\nmax_increase = -1\n", "must not be negative"),
            ("[[rule]]\nmetric = \"fid\"\nmax = nan\n", "finite"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\nnoise_aware = true\n", "`noise_aware` needs a `baseline`"),
            ("[[rule]]\nmetric = \"fid\"\nbaseline = \"b\"\nmax_increase = 1\nsigmas = 3\n", "no effect"),
            ("[[rule]]\nmetric = \"\"\nmax = 1\n", "`metric` is empty"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = []\n", "[[run]] 1: `args` is empty"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"fid\", \"a\", \"b\", \"--json\"]\n", "adds --json --quiet itself"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"fid\", \"a\", \"b\", \"--record=x.jsonl\"]\n", "appends the record"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"gate\", \"q.toml\"]\n", "cannot run `gate`"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"--label\", \"x=1\", \"gate\", \"g.toml\"]\n", "[[run]] 1: a gate cannot run `gate`"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"doctor\", \"--ort-lib\", \"./libonnxruntime.so.1.31.0\"]\n", "`--ort-lib ./libonnxruntime.so.1.31.0` is not allowed"),
            ("[[rule]]\nmetric = \"fid\"\nmax = 1\n[[run]]\nargs = [\"fid\", \"a\", \"b\", \"--model\", \"/tmp/m.onnx\"]\n", "`--model /tmp/m.onnx` is outside the config's folder ci/"),
            ("[[rule]]\nname = \"x\\n::add-mask::y\"\nmetric = \"fid\"\n", "rule 1 (x\\n::add-mask::y): a rule needs"),
        ];
        for (text, want) in cases {
            let message = parse_err(text);
            assert!(message.contains(want), "{text:?}: {message}");
        }
    }

    #[test]
    fn any_mix_of_thresholds_and_baselines_is_fine_and_odd_directions_warn() {
        let loaded = parse_ok(
            "[[rule]]\nmetric = \"is\"\nmin = 5\nmax = 500\nbaseline = \"b\"\n\
             max_increase_percent = 50\n\
             [[rule]]\nmetric = \"fid\"\nbaseline = \"b\"\nmax_decrease = 1\nmax_increase = 1\n",
        );
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].starts_with("rule 1 (is): higher `is` is better"));
    }

    #[cfg(unix)]
    #[test]
    fn a_config_linked_to_dev_zero_or_too_large_is_refused_not_read() {
        // Was: `read_to_string` on `gate.toml -> /dev/zero` grew until memory ran out.
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("gate.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = load(&zero).unwrap_err().to_string();
        assert!(
            err.contains("gate.toml") && err.contains("a device, not a regular file"),
            "{err}"
        );
        let big = dir.path().join("big.toml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(CONFIG_LIMIT + 1)
            .unwrap();
        let err = load(&big).unwrap_err().to_string();
        assert!(err.contains("over the limit"), "{err}");
        std::fs::write(&big, b"# caf\xe9\n").unwrap();
        let err = load(&big).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
