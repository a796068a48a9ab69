//! The human summary: a table of the rules and a closing verdict line.
//!
//! Every cell is passed through [`printable`]: rule names, labels and
//! details come from the config and from records, and stdout is read by
//! terminals and CI runners, where a newline followed by `::add-mask::`
//! would be a workflow command and an escape sequence would drive the
//! terminal.

use super::evaluate::{RuleResult, Verdict};
use super::number::num;
use std::borrow::Cow;
use std::fmt::Write;

/// `text` with control characters (C0, DEL, C1), Unicode line and paragraph
/// separators and bidirectional overrides written as escapes (`\n`, `\t`,
/// `\u{1b}`), so that one value stays on one line and shows as what it is.
/// Backslashes are left alone: the escapes are for reading, not for parsing.
pub fn printable(text: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hostile(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

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
            printable(&r.name).into_owned(),
            r.value.map_or_else(|| "-".to_owned(), num),
            printable(&r.limit).into_owned(),
            r.verdict.label().to_owned(),
            printable(&r.detail()).into_owned(),
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

    #[test]
    fn rule_names_with_control_characters_cannot_forge_workflow_commands() {
        let results = results_for(
            "[[rule]]\nname = \"x\\n::add-mask::y\\r\\n::error::z\\u001b[2J\\u2028w\\u202e\"\n\
             metric = \"fid\"\nmax = 25\n\
             [[rule]]\nmetric = \"fid\"\nwhere = { \"k\\n::warning::\" = \"v\\u0085::x\" }\n\
             max = 1\noptional = true\n",
        );
        let lines = render(&results);
        let text = lines.join("\n");
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::")),
            "{text}"
        );
        assert!(
            !text.contains(['\r', '\u{1b}', '\u{2028}', '\u{202e}', '\u{85}']),
            "{text}"
        );
        assert!(
            lines[1].contains("x\\n::add-mask::y\\r\\n::error::z\\u{1b}[2J\\u{2028}w\\u{202e}"),
            "{text}"
        );
        assert!(lines[2].contains("k\\n::warning::=v\\u{85}::x"), "{text}");
        assert_eq!(printable("plain \\n text"), "plain \\n text");
        assert!(matches!(printable("fid (model=ours)"), Cow::Borrowed(_)));
    }
}
