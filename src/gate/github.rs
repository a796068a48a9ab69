//! GitHub Actions workflow commands for the rules' results: `::error` for
//! failed rules, `::notice` for passed and skipped ones.
//!
//! Escaping as GitHub documents it (and as `@actions/core` does): in the
//! message `%` → `%25`, `\r` → `%0D`, `\n` → `%0A`; in a property value also
//! `:` → `%3A` and `,` → `%2C`.

use super::evaluate::{RuleResult, Verdict};

/// The annotations' title.
pub const TITLE: &str = "geneval gate";

/// Escapes a command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
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
}
