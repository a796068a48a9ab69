//! The rules' results as JUnit XML, which CI systems show as test results:
//! one `<testsuite name="geneval gate">`, one `<testcase>` per rule, with
//! `<failure message=…>` for a failed rule and `<skipped/>` for a skipped
//! one.

use super::evaluate::{RuleResult, Verdict};

/// The suite's name.
pub const SUITE: &str = "geneval gate";

/// Escapes text for XML content and attribute values. Characters XML 1.0
/// does not allow (most control characters) become U+FFFD; in attributes,
/// tabs and line breaks are kept as character references (a parser would
/// otherwise turn them into spaces).
pub fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn attr(text: &str) -> String {
    escape(text, true)
}

/// The XML document; `time_s` is the gate's wall time, `timestamp` its
/// start (RFC 3339).
pub fn render(results: &[RuleResult], time_s: f64, timestamp: &str) -> String {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let (failures, skipped) = (count(Verdict::Fail), count(Verdict::Skipped));
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\" time=\"{time_s:.3}\">\n",
        attr(SUITE),
        results.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\" time=\"{time_s:.3}\" timestamp=\"{}\">\n",
        attr(SUITE),
        results.len(),
        attr(timestamp)
    ));
    for r in results {
        xml.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
            attr(&format!("rule {}: {}", r.rule, r.name)),
            attr(&format!("geneval.gate.{}", r.metric))
        ));
        let mut body = Vec::new();
        if let Some(source) = &r.source {
            body.push(format!("record: {source}"));
        }
        if let Some(source) = &r.baseline_source {
            body.push(format!("baseline: {source}"));
        }
        body.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
        let body = body.join("\n");
        match r.verdict {
            Verdict::Fail => {
                xml.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"geneval.gate\">{}</failure>\n    </testcase>\n",
                    attr(&r.summary()),
                    escape([r.detail(), body].join("\n").trim_end(), false),
                ));
            }
            Verdict::Skipped => {
                xml.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    attr(&r.detail())
                ));
            }
            Verdict::Pass => {
                xml.push_str(&format!(
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    escape([r.summary(), body].join("\n").trim_end(), false),
                ));
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testutil::results_for;

    /// A small well-formedness check: tags nest and close, attribute values
    /// are quoted, text and attributes hold no raw `<` and only known
    /// entities, and there is one root element.
    fn assert_well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("XML declaration");
        let check_text = |text: &str| {
            assert!(!text.contains('<'), "raw < in {text:?}");
            let mut rest = text;
            while let Some(i) = rest.find('&') {
                rest = &rest[i..];
                let end = rest.find(';').expect("unterminated entity");
                let entity = &rest[1..end];
                let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                    || entity
                        .strip_prefix('#')
                        .is_some_and(|n| n.parse::<u32>().is_ok());
                assert!(known, "unknown entity &{entity};");
                rest = &rest[end..];
            }
        };
        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut rest = body;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open]);
            rest = &rest[open + 1..];
            // A tag ends at the first '>' outside quotes.
            let mut in_quote = false;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    if c == '"' {
                        in_quote = !in_quote;
                    }
                    c == '>' && !in_quote
                })
                .map(|(i, _)| i)
                .expect("unclosed tag");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag.split_whitespace().next().unwrap().to_owned();
            // Attributes: name="value" pairs.
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs.find("=\"").expect("attribute without =\"");
                let value_end = attrs[eq + 2..].find('"').expect("unterminated value") + eq + 2;
                check_text(&attrs[eq + 2..value_end]);
                attrs = attrs[value_end + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        }
        check_text(rest);
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(roots, 1);
    }

    fn results() -> Vec<RuleResult> {
        results_for(
            "[[rule]]\nname = \"fid <ours> & \\\"theirs\\\"\\n'x'\"\nmetric = \"fid\"\nmax = 25\n\
             [[rule]]\nmetric = \"fid\"\nmin = 1\n\
             [[rule]]\nmetric = \"is\"\nmin = 1\noptional = true\n",
        )
    }

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'", false), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\ny\u{1}", false), "x\ny\u{FFFD}");
        assert_eq!(escape("x\ny\t", true), "x&#10;y&#9;");
    }

    #[test]
    fn one_testcase_per_rule_with_failure_and_skipped() {
        let xml = render(&results(), 1.25, "2026-11-29T10:00:00Z");
        assert_well_formed(&xml);
        assert!(xml.contains(
            "<testsuite name=\"geneval gate\" tests=\"3\" failures=\"1\" errors=\"0\" \
             skipped=\"1\" time=\"1.250\" timestamp=\"2026-11-29T10:00:00Z\">"
        ));
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert!(xml.contains(
            "<testcase name=\"rule 1: fid &lt;ours&gt; &amp; &quot;theirs&quot;&#10;&apos;x&apos;\" \
             classname=\"geneval.gate.fid\" time=\"0\">"
        ), "{xml}");
        assert!(
            xml.contains(
                "<failure message=\"fid &lt;ours&gt; &amp; &quot;theirs&quot;&#10;&apos;x&apos; \
             27.3 &gt; 25\" type=\"geneval.gate\">27.3 &gt; 25\nrecord: mem:1</failure>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<system-out>fid 27.3 &gt;= 1\nrecord: mem:1</system-out>"));
        assert!(xml.contains("<skipped message=\"optional rule skipped: rule 3: no `is` record"));
        assert_eq!(xml.matches("<failure").count(), 1);
    }

    #[test]
    fn the_checker_rejects_broken_xml() {
        for bad in ["<a><b></a>", "<a>x < y</a>", "<a>&nbsp;</a>", "<a x=\"1\">"] {
            let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{bad}");
            assert!(
                std::panic::catch_unwind(|| assert_well_formed(&doc)).is_err(),
                "{bad}"
            );
        }
    }
}
