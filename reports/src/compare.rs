//! What makes two numbers of a metric incomparable: the one rule the report
//! (a column) and the gate (a record against its baseline) both apply.
//!
//! - feature-space metrics (FID, KID, IS, PRDC): the feature network (its
//!   id, else its name) and the preprocessing mode;
//! - language-model metrics (perplexity, bits per byte): the perplexity
//!   mode and the window settings (`max_length`, `stride`); the language
//!   model is what is compared.
//!
//! A value a record does not carry is unknown and differs from nothing.

use crate::metric::{Family, Metric};
use crate::record::ResultRecord;

/// What makes numbers of `metric` incomparable, for one record: (what,
/// value), `what` plural as in "would mix feature networks".
pub fn comparability(metric: &str, record: &ResultRecord) -> Vec<(&'static str, Option<String>)> {
    let setting = |name: &str| record.settings.get(name).map(|v| v.to_string());
    match Metric::family_of(metric) {
        Family::LanguageModel => {
            let windows = match (setting("max_length"), setting("stride")) {
                (None, None) => None,
                (m, s) => Some(format!(
                    "max_length={}, stride={}",
                    m.as_deref().unwrap_or("?"),
                    s.as_deref().unwrap_or("-")
                )),
            };
            vec![
                ("perplexity modes", record.mode.clone()),
                ("window settings", windows),
            ]
        }
        Family::Features => {
            let network = record
                .model
                .as_ref()
                .map(|m| m.id.clone().unwrap_or_else(|| m.name.clone()));
            vec![
                ("feature networks", network),
                ("preprocessing modes", record.mode.clone()),
            ]
        }
    }
}

/// Two values that make numbers incomparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs: `feature networks`, `preprocessing modes`,
    /// `perplexity modes`, `window settings`.
    pub what: &'static str,
    /// The first record's value.
    pub first: String,
    /// The second record's value.
    pub second: String,
}

/// The first difference that makes `first`'s and `second`'s numbers of
/// `metric` incomparable, if any.
pub fn incomparable(
    metric: &str,
    first: &ResultRecord,
    second: &ResultRecord,
) -> Option<Difference> {
    comparability(metric, first)
        .into_iter()
        .zip(comparability(metric, second))
        .find_map(|((what, a), (_, b))| match (a, b) {
            (Some(a), Some(b)) if a != b => Some(Difference {
                what,
                first: a,
                second: b,
            }),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ModelRecord;

    fn rec(metric: &str, model: &str, mode: &str) -> ResultRecord {
        let mut r = ResultRecord::new(metric, "0.1.0", "2026-01-01T00:00:00Z".into());
        r.model = Some(ModelRecord {
            name: model.into(),
            id: None,
        });
        r.mode = Some(mode.into());
        r
    }

    #[test]
    fn networks_and_modes_differ_for_features_windows_for_perplexity() {
        let a = rec("fid", "inception", "pytorch-fid");
        assert_eq!(incomparable("fid", &a, &a.clone()), None);
        let d = incomparable("fid", &a, &rec("fid", "clip", "pytorch-fid")).unwrap();
        assert_eq!(
            (d.what, d.first.as_str()),
            ("feature networks", "inception")
        );
        let d = incomparable("fid", &a, &rec("fid", "inception", "clean")).unwrap();
        assert_eq!(d.what, "preprocessing modes");
        let mut p = rec("ppl", "gpt2", "corpus");
        assert_eq!(
            incomparable("ppl", &p, &rec("ppl", "other", "corpus")),
            None
        );
        let q = p.clone();
        p.setting("max_length", 512).setting("stride", 256);
        let mut q2 = q.clone();
        q2.setting("max_length", 1024).setting("stride", 256);
        let d = incomparable("ppl", &p, &q2).unwrap();
        assert_eq!(d.what, "window settings");
        assert_eq!(d.second, "max_length=1024, stride=256");
        // Unknown on one side is no difference.
        assert_eq!(incomparable("ppl", &p, &q), None);
    }
}
