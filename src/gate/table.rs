//! The human summary: a table of the rules and a closing verdict line.

use super::evaluate::{RuleResult, Verdict};
use super::number::num;

/// How many rules passed, failed and were skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Passed rules.
    pub passed: usize,
    /// Failed rules.
    pub failed: usize,
    /// Skipped (optional) rules.
    pub skipped: usize,
}

impl Tally {
    /// Counts the results.
    pub fn of(results: &[RuleResult]) -> Tally {
        let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
        Tally {
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            skipped: count(Verdict::Skipped),
        }
    }

    /// All rules.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// The table's lines, columns padded to their widest cell.
pub fn render(results: &[RuleResult]) -> Vec<String> {
    let mut rows = vec![["#", "rule", "value", "limit", "verdict", "detail"].map(String::from)];
    for r in results {
        rows.push([
            r.rule.to_string(),
            r.name.clone(),
            r.value.map_or_else(|| "-".to_owned(), num),
            r.limit.clone(),
            r.verdict.label().to_owned(),
            r.detail(),
        ]);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == columns {
                    line.push_str(cell);
                } else {
                    let pad = widths[c] - cell.chars().count();
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// `gate passed: 3 of 3 rules passed` / `gate FAILED: 1 of 3 rules failed
/// (1 passed, 1 skipped)`.
pub fn verdict_line(tally: Tally) -> String {
    let rules = |n: usize| if n == 1 { "rule" } else { "rules" };
    let skipped = if tally.skipped > 0 {
        format!(", {} skipped", tally.skipped)
    } else {
        String::new()
    };
    if tally.failed == 0 {
        format!(
            "gate passed: {} of {} {} passed{skipped}",
            tally.passed,
            tally.total(),
            rules(tally.total())
        )
    } else {
        format!(
            "gate FAILED: {} of {} {} failed ({} passed{skipped})",
            tally.failed,
            tally.total(),
            rules(tally.total()),
            tally.passed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testutil::results_for;

    #[test]
    fn table_and_verdict() {
        let results = results_for(
            "[[rule]]\nmetric = \"fid\"\nmax = 25\n\
             [[rule]]\nmetric = \"fid\"\nmin = 1\n\
             [[rule]]\nmetric = \"is\"\nmin = 1\noptional = true\n",
        );
        let lines = render(&results);
        assert_eq!(lines[0], "#  rule  value  limit  verdict  detail");
        assert_eq!(lines[1], "1  fid   27.3   <= 25  FAIL     27.3 > 25");
        assert_eq!(lines[2], "2  fid   27.3   >= 1   pass     27.3 >= 1");
        assert!(lines[3].starts_with("3  is    -      >= 1   skipped  optional rule skipped"));
        let tally = Tally::of(&results);
        assert_eq!(
            verdict_line(tally),
            "gate FAILED: 1 of 3 rules failed (1 passed, 1 skipped)"
        );
        let all = Tally {
            passed: 1,
            failed: 0,
            skipped: 0,
        };
        assert_eq!(verdict_line(all), "gate passed: 1 of 1 rule passed");
    }
}
