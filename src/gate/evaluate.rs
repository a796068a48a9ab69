//! One rule against the latest matching record: thresholds (`max`, `min`)
//! and regressions against a baseline record.
//!
//! A regression is the change in the bad direction: `new − base` for
//! `max_increase(_percent)` (lower is better: FID, KID, perplexity),
//! `base − new` for `max_decrease(_percent)` (higher is better: IS,
//! precision, recall, density, coverage). It fails when it exceeds the
//! allowed change (the smaller of the absolute and the percentage
//! tolerance, `|base| · p / 100`). A noise-aware rule also requires it to
//! exceed `k · sqrt(u_new² + u_base²)` (`k = sigmas`, default 2), with `u`
//! each record's uncertainty (KID std, IS std) or its interval's
//! half-width; without any uncertainty the plain rule applies, and the
//! result says so.

use super::config::{Rule, DEFAULT_SIGMAS};
use super::error::{GateError, IncomparableBaseline};
use super::number::{num, percent, plain, signed};
use super::select;
use crate::record::ResultRecord;
use geneval_reports::compare::incomparable;
use geneval_reports::SourcedRecord;
use serde::Serialize;

/// A rule's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// A check failed.
    Fail,
    /// An optional rule without a matching record.
    Skipped,
}

impl Verdict {
    /// `pass`, `FAIL`, `skipped`: as the table shows it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        }
    }
}

/// What a check tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// `max`.
    Max,
    /// `min`.
    Min,
    /// `max_increase(_percent)` against the baseline.
    Increase,
    /// `max_decrease(_percent)` against the baseline.
    Decrease,
}

/// One test of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Which.
    pub kind: CheckKind,
    /// Whether it held.
    pub passed: bool,
    /// `27.3 > 25`, `+3.1% over baseline 20.1 (allowed 2%)`.
    pub message: String,
}

/// A rule's result, as the table, annotations, JUnit and the record show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// The rule's number (1-based, in file order).
    pub rule: usize,
    /// Its display name.
    pub name: String,
    /// The metric it judges.
    pub metric: String,
    /// The number it judges (`value` or a key of `values`).
    pub value_key: String,
    /// The outcome.
    pub verdict: Verdict,
    /// The number judged.
    pub value: Option<f64>,
    /// Where the judged record is (`path:line`).
    pub source: Option<String>,
    /// `<= 25`, `in [0.5, 1]`, `baseline 20.1`.
    pub limit: String,
    /// The baseline's number.
    pub baseline: Option<f64>,
    /// Where the baseline record is.
    pub baseline_source: Option<String>,
    /// The checks, in order: max, min, increase, decrease.
    pub checks: Vec<Check>,
    /// How the verdict was reached (noise, skip reason).
    pub notes: Vec<String>,
    /// Why the verdict may mislead (baseline measured differently).
    pub warnings: Vec<String>,
}

impl RuleResult {
    fn new(index: usize, rule: &Rule) -> Self {
        RuleResult {
            rule: index,
            name: rule.display_name(),
            metric: rule.metric.clone(),
            value_key: rule.key().to_owned(),
            verdict: Verdict::Pass,
            value: None,
            source: None,
            limit: String::new(),
            baseline: None,
            baseline_source: None,
            checks: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        }
        .with_limit(rule)
    }

    fn with_limit(mut self, rule: &Rule) -> Self {
        let mut parts = Vec::new();
        match (rule.min, rule.max) {
            (Some(min), Some(max)) => parts.push(format!("in [{}, {}]", num(min), num(max))),
            (None, Some(max)) => parts.push(format!("<= {}", num(max))),
            (Some(min), None) => parts.push(format!(">= {}", num(min))),
            (None, None) => {}
        }
        if rule.baseline.is_some() {
            parts.push(match self.baseline {
                Some(b) => format!("baseline {}", num(b)),
                None => "baseline".to_owned(),
            });
        }
        self.limit = parts.join(", ");
        self
    }

    fn skipped(mut self, why: String) -> Self {
        self.verdict = Verdict::Skipped;
        self.notes.push(format!("optional rule skipped: {why}"));
        self
    }

    /// The failed checks' messages for a failure, else every check's; then
    /// the notes; `; `-separated.
    pub fn detail(&self) -> String {
        let failed = self.verdict == Verdict::Fail;
        self.checks
            .iter()
            .filter(|c| !failed || !c.passed)
            .map(|c| c.message.clone())
            .chain(self.notes.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One line for annotations and JUnit: `fid 27.3 > 25`.
    pub fn summary(&self) -> String {
        let detail = self.detail();
        if detail.is_empty() {
            format!("{} {}", self.name, self.verdict.label())
        } else {
            format!("{} {detail}", self.name)
        }
    }
}

/// A baseline: its name for messages (`the baseline base.jsonl`) and records.
#[derive(Debug, Clone, Copy)]
pub struct Baseline<'a> {
    /// For messages.
    pub name: &'a str,
    /// Its records.
    pub records: &'a [SourcedRecord],
}

/// Judges rule number `index` on `records` (and its baseline's records).
///
/// No matching record is an error, or a skipped result for an optional
/// rule; a matching record without the rule's number is always an error.
pub fn evaluate(
    index: usize,
    rule: &Rule,
    records: &[SourcedRecord],
    baseline: Option<Baseline<'_>>,
) -> Result<RuleResult, GateError> {
    let mut result = RuleResult::new(index, rule);
    let skippable = |e: &GateError| {
        rule.optional
            && matches!(
                e,
                GateError::UnknownMetric { .. } | GateError::NoLabelMatch { .. }
            )
    };
    let record = match select::latest(records, &rule.metric, &rule.filter, index, "the records") {
        Ok(record) => record,
        Err(e) if skippable(&e) => return Ok(result.skipped(e.to_string())),
        Err(e) => return Err(e),
    };
    let key = rule.key();
    let value = select::number(record, key, index)?;
    result.value = Some(value);
    result.source = Some(record.source.clone());
    if let Some(max) = rule.max {
        let passed = value <= max;
        let op = if passed { "<=" } else { ">" };
        result.checks.push(Check {
            kind: CheckKind::Max,
            passed,
            message: format!("{} {op} {}", num(value), num(max)),
        });
    }
    if let Some(min) = rule.min {
        let passed = value >= min;
        let op = if passed { ">=" } else { "<" };
        result.checks.push(Check {
            kind: CheckKind::Min,
            passed,
            message: format!("{} {op} {}", num(value), num(min)),
        });
    }
    if let Some(baseline) = baseline {
        let filter = rule.baseline_filter();
        let base =
            match select::latest(baseline.records, &rule.metric, filter, index, baseline.name) {
                Ok(base) => base,
                Err(e) if skippable(&e) => {
                    let mut skipped = result.skipped(e.to_string());
                    skipped.value = None;
                    skipped.source = None;
                    skipped.checks.clear();
                    return Ok(skipped);
                }
                Err(e) => return Err(e),
            };
        let base_value = select::number(base, key, index)?;
        result.baseline = Some(base_value);
        result.baseline_source = Some(base.source.clone());
        if let Some(d) = incomparable(&rule.metric, &record.record, &base.record) {
            if !rule.allow_mixed {
                return Err(GateError::Incomparable(Box::new(IncomparableBaseline {
                    rule: index,
                    metric: rule.metric.clone(),
                    what: d.what.to_owned(),
                    value: d.first,
                    baseline_value: d.second,
                    source_: record.source.clone(),
                    baseline_source: base.source.clone(),
                })));
            }
            result.warnings.push(format!(
                "the record and its baseline differ in {} ({} vs {}): not comparable, \
                 judged anyway as `allow_mixed = true` asks",
                d.what, d.first, d.second
            ));
        }
        if base.source == record.source {
            result.warnings.push(format!(
                "the baseline is the judged record itself ({})",
                base.source
            ));
        }
        let noise = Noise::of(rule, &record.record, &base.record, key);
        if let Some(note) = noise.note() {
            result.notes.push(note);
        }
        let sides = [
            (
                CheckKind::Increase,
                rule.max_increase,
                rule.max_increase_percent,
            ),
            (
                CheckKind::Decrease,
                rule.max_decrease,
                rule.max_decrease_percent,
            ),
        ];
        for (kind, absolute, percent) in sides {
            if absolute.is_some() || percent.is_some() {
                let tolerance = Tolerance { absolute, percent };
                result
                    .checks
                    .push(regression(kind, value, base_value, tolerance, &noise));
            }
        }
    }
    result = result.with_limit(rule);
    if result.checks.iter().any(|c| !c.passed) {
        result.verdict = Verdict::Fail;
    }
    Ok(result)
}

/// The tolerances of one direction.
#[derive(Debug, Clone, Copy)]
struct Tolerance {
    absolute: Option<f64>,
    percent: Option<f64>,
}

/// What a noise-aware rule knows about the two records' uncertainty.
#[derive(Debug, Clone, PartialEq)]
enum Noise {
    /// Not a noise-aware rule.
    Off,
    /// Neither record has an uncertainty: the plain rule applies.
    Unknown,
    /// `k · sqrt(u_new² + u_base²)`, and which side lacked an uncertainty.
    Band {
        width: f64,
        sigmas: f64,
        missing: Option<&'static str>,
    },
}

impl Noise {
    fn of(rule: &Rule, record: &ResultRecord, base: &ResultRecord, key: &str) -> Noise {
        if !rule.noise_aware {
            return Noise::Off;
        }
        let sigmas = rule.sigmas.unwrap_or(DEFAULT_SIGMAS);
        match (
            select::uncertainty(record, key),
            select::uncertainty(base, key),
        ) {
            (None, None) => Noise::Unknown,
            (new, old) => Noise::Band {
                width: sigmas * new.unwrap_or(0.0).hypot(old.unwrap_or(0.0)),
                sigmas,
                missing: match (new, old) {
                    (None, _) => Some("the record"),
                    (_, None) => Some("the baseline"),
                    _ => None,
                },
            },
        }
    }

    fn note(&self) -> Option<String> {
        match self {
            Noise::Off => None,
            Noise::Unknown => Some(
                "noise_aware: neither record has an uncertainty; the plain rule applies".into(),
            ),
            Noise::Band {
                missing: Some(side),
                ..
            } => Some(format!(
                "noise_aware: {side} has no uncertainty; the other's alone is used"
            )),
            Noise::Band { missing: None, .. } => None,
        }
    }
}

fn regression(
    kind: CheckKind,
    value: f64,
    base: f64,
    tolerance: Tolerance,
    noise: &Noise,
) -> Check {
    let change = value - base;
    let worse = if kind == CheckKind::Decrease {
        -change
    } else {
        change
    };
    let mut allowed = f64::INFINITY;
    if let Some(a) = tolerance.absolute {
        allowed = allowed.min(a);
    }
    if let Some(p) = tolerance.percent {
        allowed = allowed.min(base.abs() * p / 100.0);
    }
    // A NaN change (a NaN value or baseline) is a failure.
    let exceeded = worse.is_nan() || worse > allowed;
    let relative = (base != 0.0).then(|| change / base.abs() * 100.0);
    let change_text = match (tolerance.absolute, tolerance.percent, relative) {
        (None, Some(_), Some(p)) => percent(p),
        (Some(_), Some(_), Some(p)) => format!("{} ({})", signed(change), percent(p)),
        _ => signed(change),
    };
    let relation = if change > 0.0 {
        "over"
    } else if change < 0.0 {
        "under"
    } else {
        "vs"
    };
    let allowed_text = [
        tolerance.absolute.map(plain),
        tolerance.percent.map(|p| format!("{}%", plain(p))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ");
    let direction = if kind == CheckKind::Decrease {
        " decrease"
    } else {
        ""
    };
    let mut message = format!(
        "{change_text} {relation} baseline {} (allowed {allowed_text}{direction})",
        num(base)
    );
    let mut passed = !exceeded;
    if let Noise::Band { width, sigmas, .. } = noise {
        let within = worse <= *width;
        if exceeded && within {
            passed = true;
        }
        let side = if within { "within" } else { "beyond" };
        message.push_str(&format!(
            ", {side} noise {} ({} sigma)",
            num(*width),
            plain(*sigmas)
        ));
    }
    Check {
        kind,
        passed,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::config::parse;
    use crate::gate::testutil::{record, sourced};
    use std::path::Path;

    fn rule(text: &str) -> Rule {
        let text = format!("[[rule]]\n{text}\n");
        parse(&text, Path::new("q.toml"))
            .unwrap()
            .config
            .rules
            .remove(0)
    }

    fn judge(
        rule_text: &str,
        records: Vec<ResultRecord>,
        base: Option<Vec<ResultRecord>>,
    ) -> RuleResult {
        let records = sourced(records);
        let base = base.map(|records| {
            let mut base = sourced(records);
            for r in &mut base {
                r.source = r.source.replace("mem:", "base:");
            }
            base
        });
        let baseline = base.as_deref().map(|records| Baseline {
            name: "the baseline b.jsonl",
            records,
        });
        evaluate(1, &rule(rule_text), &records, baseline).unwrap()
    }

    fn with_uncertainty(mut r: ResultRecord, u: f64) -> ResultRecord {
        r.uncertainty = Some(u);
        r
    }

    #[test]
    fn max_threshold_passes_at_and_below_and_fails_above() {
        let r = judge(
            "metric = \"fid\"\nmax = 25",
            vec![record("fid", 25.0, 1)],
            None,
        );
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(r.limit, "<= 25");
        assert_eq!(r.detail(), "25 <= 25");
        let r = judge(
            "metric = \"fid\"\nmax = 25",
            vec![record("fid", 27.3, 1)],
            None,
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.summary(), "fid 27.3 > 25");
        let r = judge(
            "metric = \"fid\"\nmax = 25",
            vec![record("fid", f64::NAN, 1)],
            None,
        );
        assert_eq!(r.verdict, Verdict::Fail, "NaN never passes");
    }

    #[test]
    fn min_threshold_and_both_bounds() {
        let mut prdc = record("prdc", 0.0, 1);
        prdc.value = None;
        prdc.values.insert("recall".into(), 0.55);
        let text = "metric = \"prdc\"\nvalue = \"recall\"\nmin = 0.6";
        let r = judge(text, vec![prdc.clone()], None);
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.summary(), "prdc.recall 0.55 < 0.6");
        let r = judge(
            "metric = \"prdc\"\nvalue = \"recall\"\nmin = 0.5\nmax = 0.9",
            vec![prdc.clone()],
            None,
        );
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(r.limit, "in [0.5, 0.9]");
        let r = judge(
            "metric = \"prdc\"\nvalue = \"recall\"\nmin = 0.1\nmax = 0.5",
            vec![prdc],
            None,
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.detail(), "0.55 > 0.5");
    }

    #[test]
    fn percent_regression_of_a_lower_is_better_metric() {
        let text = "metric = \"fid\"\nbaseline = \"b.jsonl\"\nmax_increase_percent = 2";
        let r = judge(
            text,
            vec![record("fid", 20.72, 1)],
            Some(vec![record("fid", 20.1, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.detail(), "+3.08% over baseline 20.1 (allowed 2%)");
        assert_eq!(r.limit, "baseline 20.1");
        assert_eq!(r.baseline_source.as_deref(), Some("base:1"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let r = judge(
            text,
            vec![record("fid", 20.4, 1)],
            Some(vec![record("fid", 20.1, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail());
        // An improvement always passes.
        let r = judge(
            text,
            vec![record("fid", 15.0, 1)],
            Some(vec![record("fid", 20.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(r.detail(), "-25% under baseline 20 (allowed 2%)");
    }

    #[test]
    fn absolute_regression_of_a_higher_is_better_metric() {
        let text = "metric = \"is\"\nbaseline = \"b.jsonl\"\nmax_decrease = 0.5";
        let r = judge(
            text,
            vec![record("is", 9.4, 1)],
            Some(vec![record("is", 10.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.detail(), "-0.6 under baseline 10 (allowed 0.5 decrease)");
        let r = judge(
            text,
            vec![record("is", 9.6, 1)],
            Some(vec![record("is", 10.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Pass);
        let r = judge(
            text,
            vec![record("is", 30.0, 1)],
            Some(vec![record("is", 10.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Pass, "a rise of IS is no regression");
        // Both tolerances: the tighter one decides.
        let text = "metric = \"is\"\nbaseline = \"b\"\nmax_decrease = 5\nmax_decrease_percent = 1";
        let r = judge(
            text,
            vec![record("is", 9.8, 1)],
            Some(vec![record("is", 10.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.detail(),
            "-0.2 (-2%) under baseline 10 (allowed 5 and 1% decrease)"
        );
    }

    #[test]
    fn threshold_and_baseline_in_one_rule_must_both_hold() {
        let text = "metric = \"fid\"\nmax = 25\nbaseline = \"b\"\nmax_increase = 1";
        let r = judge(
            text,
            vec![record("fid", 26.0, 1)],
            Some(vec![record("fid", 25.5, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.limit, "<= 25, baseline 25.5");
        assert_eq!(r.detail(), "26 > 25");
        assert_eq!(r.checks.len(), 2);
        assert!(r.checks[1].passed);
    }

    #[test]
    fn noise_aware_passes_within_the_combined_uncertainty_and_fails_beyond() {
        // KID 0.0110 vs 0.0100: +10%, over the 2% allowed; u = 0.0003 each,
        // so the 2-sigma band is 2 * 0.000424 = 0.000849 < 0.001: fail.
        let text =
            "metric = \"kid\"\nbaseline = \"b\"\nmax_increase_percent = 2\nnoise_aware = true";
        let base = vec![with_uncertainty(record("kid", 0.0100, 0), 0.0003)];
        let r = judge(
            text,
            vec![with_uncertainty(record("kid", 0.0110, 1), 0.0003)],
            Some(base.clone()),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.detail(),
            "+10% over baseline 0.01 (allowed 2%), beyond noise 0.000848528 (2 sigma)"
        );
        // u = 0.0005 and 0.0003: band 2 * 0.000583 = 0.00117 > 0.001: pass.
        let r = judge(
            text,
            vec![with_uncertainty(record("kid", 0.0110, 1), 0.0005)],
            Some(base.clone()),
        );
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail());
        assert!(
            r.detail().contains("within noise 0.00116619 (2 sigma)"),
            "{}",
            r.detail()
        );
        // sigmas = 1 narrows the band: fail again.
        let text1 = format!("{text}\nsigmas = 1");
        let r = judge(
            &text1,
            vec![with_uncertainty(record("kid", 0.0110, 1), 0.0005)],
            Some(base),
        );
        assert_eq!(r.verdict, Verdict::Fail);
    }

    #[test]
    fn noise_aware_without_uncertainty_says_so_and_applies_the_plain_rule() {
        let text =
            "metric = \"fid\"\nbaseline = \"b\"\nmax_increase_percent = 2\nnoise_aware = true";
        let r = judge(
            text,
            vec![record("fid", 21.0, 1)],
            Some(vec![record("fid", 20.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.notes,
            ["noise_aware: neither record has an uncertainty; the plain rule applies"]
        );
        assert!(
            r.detail().ends_with("the plain rule applies"),
            "{}",
            r.detail()
        );
        // One side's interval is enough (half-width 1.5, band 3 > +1).
        let mut new = record("fid", 21.0, 1);
        new.interval = Some([19.5, 22.5]);
        let r = judge(text, vec![new], Some(vec![record("fid", 20.0, 0)]));
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(
            r.notes,
            ["noise_aware: the baseline has no uncertainty; the other's alone is used"]
        );
    }

    #[test]
    fn judges_the_latest_record_with_the_labels_and_the_baseline_with_its_own() {
        let mut old = record("fid", 30.0, 1);
        old.labels.insert("model".into(), "ours".into());
        let mut new = record("fid", 20.0, 5);
        new.labels.insert("model".into(), "ours".into());
        let other = record("fid", 99.0, 9);
        let mut base = record("fid", 19.9, 0);
        base.labels.insert("model".into(), "main".into());
        let text = "metric = \"fid\"\nwhere = { model = \"ours\" }\nmax = 25\nbaseline = \"b\"\n\
                    max_increase = 1\nbaseline_where = { model = \"main\" }";
        let r = judge(text, vec![new, old, other], Some(vec![base]));
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail());
        assert_eq!(r.value, Some(20.0));
        assert_eq!(r.source.as_deref(), Some("mem:1"));
        assert_eq!(r.name, "fid (model=ours)");
    }

    #[test]
    fn unknown_metric_is_an_error_unless_the_rule_is_optional() {
        let records = sourced(vec![record("fid", 1.0, 1), record("kid", 1.0, 2)]);
        let err = evaluate(2, &rule("metric = \"is\"\nmin = 5"), &records, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rule 2: no `is` record in the records (metrics there: fid, kid)"
        );
        let r = evaluate(
            2,
            &rule("metric = \"is\"\nmin = 5\noptional = true"),
            &records,
            None,
        )
        .unwrap();
        assert_eq!(r.verdict, Verdict::Skipped);
        assert_eq!(r.value, None);
        assert!(r
            .detail()
            .starts_with("optional rule skipped: rule 2: no `is` record"));
        // Optional covers a baseline without the metric too.
        let text = "metric = \"fid\"\nbaseline = \"b\"\nmax_increase = 1\noptional = true";
        let r = judge(
            text,
            vec![record("fid", 1.0, 1)],
            Some(vec![record("kid", 1.0, 0)]),
        );
        assert_eq!(r.verdict, Verdict::Skipped);
        assert!(
            r.detail().contains("in the baseline b.jsonl"),
            "{}",
            r.detail()
        );
        // But a missing number is a config mistake, optional or not.
        let err = evaluate(
            1,
            &rule("metric = \"fid\"\nvalue = \"fdi\"\nmax = 1\noptional = true"),
            &records,
            None,
        )
        .unwrap_err();
        assert!(matches!(err, GateError::MissingValue { .. }), "{err}");
    }

    /// A record and a baseline one setting apart: feature network, mode,
    /// perplexity window.
    fn measured_apart() -> Vec<(&'static str, ResultRecord, ResultRecord)> {
        let features = |metric: &str, model: &str, mode: &str, second| {
            let mut r = record(metric, 20.0, second);
            r.model = Some(geneval_reports::ModelRecord {
                name: model.into(),
                id: None,
            });
            r.mode = Some(mode.into());
            r
        };
        let ppl = |max_length: u32, second| {
            let mut r = record("ppl", 20.0, second);
            r.mode = Some("corpus".into());
            r.setting("max_length", max_length).setting("stride", 256);
            r
        };
        vec![
            (
                "feature networks",
                features("fid", "fid-inception", "pytorch-fid", 1),
                features("fid", "builtin", "pytorch-fid", 0),
            ),
            (
                "preprocessing modes",
                features("kid", "fid-inception", "clean", 1),
                features("kid", "fid-inception", "pytorch-fid", 0),
            ),
            ("window settings", ppl(1024, 1), ppl(512, 0)),
        ]
    }

    fn judged(
        rule_text: &str,
        new: ResultRecord,
        base: ResultRecord,
    ) -> Result<RuleResult, GateError> {
        let records = sourced(vec![new]);
        let mut base = sourced(vec![base]);
        base[0].source = "base:1".into();
        let baseline = Baseline {
            name: "the baseline b.jsonl",
            records: &base,
        };
        evaluate(1, &rule(rule_text), &records, Some(baseline))
    }

    #[test]
    fn a_baseline_measured_differently_is_refused_unless_allowed() {
        for (what, new, base) in measured_apart() {
            let metric = new.metric.clone();
            let text = format!("metric = \"{metric}\"\nbaseline = \"b\"\nmax_increase = 1");
            let err = judged(&text, new.clone(), base.clone()).unwrap_err();
            assert!(matches!(err, GateError::Incomparable(_)), "{err}");
            assert!(err.to_string().contains(what), "{err}");
            assert!(
                err.hint_text().contains("allow_mixed"),
                "{}",
                err.hint_text()
            );

            let allowed = judged(&format!("{text}\nallow_mixed = true"), new, base).unwrap();
            assert_eq!(allowed.verdict, Verdict::Pass);
            assert_eq!(allowed.warnings.len(), 1, "{:?}", allowed.warnings);
            assert!(allowed.warnings[0].contains(what), "{:?}", allowed.warnings);
        }
    }

    /// The gate and `geneval report` apply one rule: what a report refuses
    /// to put in one column, the gate refuses to compare, and what the
    /// report accepts the gate judges without a warning.
    #[test]
    fn the_gate_refuses_what_the_report_refuses() {
        let report_of = |records: Vec<ResultRecord>| {
            let records = geneval_reports::Records {
                records: sourced(records),
                warnings: Vec::new(),
                files: Vec::new(),
            };
            geneval_reports::Report::from_records(&records, &Default::default())
        };
        for (_, new, base) in measured_apart() {
            let metric = new.metric.clone();
            let text = format!("metric = \"{metric}\"\nbaseline = \"b\"\nmax_increase = 1");
            let report = report_of(vec![new.clone(), base.clone()]);
            assert!(
                matches!(report, Err(geneval_reports::ReportError::Mixed(_))),
                "{metric}: the report accepted a mixed column"
            );
            assert!(judged(&text, new.clone(), base).is_err());

            // The same record on both sides: both accept.
            let mut same = new.clone();
            same.started_at = "2026-11-29T09:00:00Z".into();
            assert!(report_of(vec![new.clone(), same.clone()]).is_ok());
            let r = judged(&text, new, same).unwrap();
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        }
    }
}
