//! GitHub Actions workflow commands for the rules' results: `::error` for
//! failed rules, `::notice` for passed and skipped ones.
//!
//! Escaping as GitHub documents it (and as `@actions/core` does): in the
//! message `%` → `%25`, `\r` → `%0D`, `\n` → `%0A`; in a property value also
//! `:` → `%3A` and `,` → `%2C`. Then every other control character (ESC and
//! the rest of C0 and C1, DEL), the Unicode line and paragraph separators
//! and the bidirectional overrides are written as `\u{1b}`-style escapes by
//! [`printable`], as in the summary table: rule names come from the config
//! and records, and an escape sequence inside an `::error` line would drive
//! the terminal of whoever reads the log, a bidi override would make the
//! line read as something else.

use super::evaluate::{RuleResult, Verdict};
use super::table::printable;

/// The annotations' title.
pub const TITLE: &str = "geneval gate";

/// Escapes a command's message.
pub fn escape_data(text: &str) -> String {
    // GitHub's escapes first (they leave no control character behind for
    // `printable` to see), then `printable`, whose escapes hold no `%`.
    let github = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    printable(&github).into_owned()
}

/// Escapes a property value (`title=…`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line.
pub fn command(kind: &str, title: &str, message: &str) -> String {
    format!(
        "::{kind} title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// One line per rule: `::error title=geneval gate::fid 27.3 > 25 (rule 1)`.
pub fn annotations(results: &[RuleResult]) -> Vec<String> {
    results
        .iter()
        .map(|r| {
            let kind = match r.verdict {
                Verdict::Fail => "error",
                Verdict::Pass | Verdict::Skipped => "notice",
            };
            let message = match r.verdict {
                Verdict::Skipped => format!("{} skipped (rule {})", r.name, r.rule),
                _ => format!("{} (rule {})", r.summary(), r.rule),
            };
            command(kind, TITLE, &message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testutil::results_for;

    #[test]
    fn escapes_as_github_documents() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
        assert_eq!(escape_property("a: b, c%\n"), "a%3A b%2C c%25%0A");
        assert_eq!(
            command("error", "t:1,2", "50%\nline"),
            "::error title=t%3A1%2C2::50%25%0Aline"
        );
    }

    #[test]
    fn errors_for_failed_rules_and_notices_for_the_others() {
        let results = results_for(
            "[[rule]]\nmetric = \"fid\"\nmax = 25\n\
             [[rule]]\nmetric = \"fid\"\nmin = 1\n\
             [[rule]]\nname = \"50% of\\nIS\"\nmetric = \"is\"\nmin = 1\noptional = true\n",
        );
        assert_eq!(
            annotations(&results),
            [
                "::error title=geneval gate::fid 27.3 > 25 (rule 1)",
                "::notice title=geneval gate::fid 27.3 >= 1 (rule 2)",
                "::notice title=geneval gate::50%25 of%0AIS skipped (rule 3)",
            ]
        );
    }

    #[test]
    fn control_characters_and_bidi_overrides_never_reach_the_log() {
        // Was: only `%`, `\r` and `\n` were escaped, so an ESC sequence or a
        // right-to-left override in a rule name reached stdout inside
        // `::error` lines.
        let hostile = "fid\u{1b}[2J\u{7}\u{7f}\u{85}\u{9b}\u{2028}\u{2029}\u{202e}\u{2066}\0\tx";
        let line = command("error", hostile, &format!("{hostile}\n::add-mask::x"));
        assert_eq!(
            line,
            "::error title=fid\\u{1b}[2J\\u{7}\\u{7f}\\u{85}\\u{9b}\\u{2028}\\u{2029}\\u{202e}\\u{2066}\\u{0}\\tx\
             ::fid\\u{1b}[2J\\u{7}\\u{7f}\\u{85}\\u{9b}\\u{2028}\\u{2029}\\u{202e}\\u{2066}\\u{0}\\tx%0A::add-mask::x"
        );
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        // GitHub's own escapes are kept for what it documents.
        assert_eq!(escape_data("50%\r\n"), "50%25%0D%0A");
        assert_eq!(escape_property("\u{1b}:,"), "\\u{1b}%3A%2C");
    }
}
