//! The report as one self-contained HTML file: inline CSS, the charts
//! inline as SVG, no script, no external URL (no fonts, no CDN, no images
//! by URL), so it opens the same offline, in a mail attachment or in CI
//! artefacts. Everything that comes from records (labels, paths, commands,
//! metric names) is escaped. Sample thumbnails, when the caller added any,
//! are JPEGs inside the page as `data:` URIs, which load no file and make
//! no request; their CSS is written only when there are some, so pages
//! without images are unchanged.

use base64::Engine as _;

use crate::charts::Chart;
use crate::report::samples::DATA_URI_PREFIX;
use crate::report::{
    format_number, format_uncertainty, Cell, Measure, Report, SampleKind, Samples, Table,
    Thumbnail, Verdict,
};

/// Chart size in SVG pixels (scaled to the page by CSS).
const CHART_SIZE: (u32, u32) = (640, 400);

/// Text safe in HTML content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = r#"
:root {
  --bg: #f5f6f8; --card: #ffffff; --ink: #1c2128; --muted: #5d6673; --line: #e3e6eb;
  --zebra: #f8f9fb; --accent: #2f5bd3; --best: #e3f4e8; --best-ink: #14632f;
  --warn-bg: #fff7e0; --warn-line: #e0a800; --fail: #b42318; --fail-bg: #fde8e7;
  --pass: #14632f; --pass-bg: #e3f4e8; --info: #5d6673; --info-bg: #eef0f3;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  font-size: 15px; line-height: 1.5;
}
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.86em; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header.top { background: var(--card); border-bottom: 1px solid var(--line); padding: 28px 0 20px; margin-bottom: 28px; }
header.top h1 { margin: 0 0 6px; font-size: 1.75rem; font-weight: 650; letter-spacing: -0.01em; }
.meta { margin: 0; color: var(--muted); font-size: 0.92rem; }
.meta span + span::before { content: "·"; margin: 0 0.5em; color: #a3aab4; }
section { margin: 0 0 32px; }
h2 { font-size: 1.2rem; font-weight: 650; margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
.card .label { color: var(--muted); font-size: 0.9rem; font-weight: 600; }
.card .label .arrow { color: var(--accent); }
.card .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; margin: 4px 0 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .value .pm { font-size: 0.95rem; font-weight: 500; color: var(--muted); }
.card .who { font-size: 0.88rem; color: var(--muted); overflow-wrap: anywhere; }
.card .who b { color: var(--ink); font-weight: 600; }
.card.fail { border-color: #f3b8b3; background: var(--fail-bg); }
.card.pass { border-color: #b7dfc3; background: var(--pass-bg); }
ul.summary { margin: 16px 0 0; padding-left: 20px; color: var(--muted); }
ul.summary li { margin: 2px 0; }
.warnings { background: var(--warn-bg); border: 1px solid #f1d58a; border-left: 4px solid var(--warn-line); border-radius: 8px; padding: 12px 16px; }
.warnings h2 { font-size: 1rem; margin: 0 0 6px; }
.warnings ul { margin: 0; padding-left: 20px; }
.warnings li { margin: 3px 0; overflow-wrap: anywhere; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 20px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 0.85rem; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); white-space: nowrap; }
th .arrow { color: var(--accent); font-size: 0.95rem; }
tbody tr:nth-child(even) { background: var(--zebra); }
tbody tr:hover { background: #eef2fb; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.num .pm { color: var(--muted); font-size: 0.9em; }
td.best { background: var(--best); color: var(--best-ink); font-weight: 650; }
td.best .pm { color: var(--best-ink); }
td .note { display: block; font-size: 0.75rem; color: var(--muted); font-weight: 400; white-space: normal; }
td.label { font-weight: 600; white-space: nowrap; }
td.short { white-space: nowrap; }
.notes { margin: 10px 0 0; color: var(--muted); font-size: 0.85rem; }
.notes p { margin: 3px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.78rem; font-weight: 650; letter-spacing: 0.02em; }
.badge.pass { background: var(--pass-bg); color: var(--pass); }
.badge.fail { background: var(--fail-bg); color: var(--fail); }
.badge.info { background: var(--info-bg); color: var(--info); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; margin-top: 16px; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.25fr); gap: 16px; align-items: start; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 12px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 6px; }
.omitted { color: var(--muted); font-style: italic; padding: 24px; text-align: center; border: 1px dashed var(--line); border-radius: 8px; }
details.provenance { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 12px 20px; }
details.provenance summary { cursor: pointer; font-weight: 650; font-size: 1.05rem; }
details.provenance table { margin-top: 12px; font-size: 0.85rem; }
details.provenance td { white-space: nowrap; }
details.provenance td.cmd { white-space: normal; min-width: 380px; }
details.provenance td.cmd code { overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: 0.8rem; padding: 8px 0 40px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
@media (max-width: 640px) { .charts { grid-template-columns: 1fr; } .wrap { padding: 0 14px; } }
@media print { body { background: #fff; } .card, .panel, figure, details.provenance { box-shadow: none; } details.provenance { display: block; } }
"#;

/// The CSS of the sample thumbnails, added only to pages that have some.
const SAMPLES_STYLE: &str = r#"
.samples .panel + .panel { margin-top: 16px; }
.samples h3 { font-size: 1rem; margin: 0 0 4px; overflow-wrap: anywhere; }
.samples .used { color: var(--muted); font-size: 0.82rem; margin: 0 0 10px; overflow-wrap: anywhere; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { margin: 0; padding: 4px; border: 1px solid var(--line); border-radius: 6px; background: var(--zebra); }
.tile .imgs { display: flex; gap: 3px; }
.tile img, .tile .gone { display: block; width: 96px; height: 96px; object-fit: contain; background: #fff; image-rendering: auto; }
.tile .gone { display: flex; align-items: center; justify-content: center; text-align: center; font-size: 0.7rem; color: var(--fail); border: 1px dashed #f3b8b3; overflow: hidden; }
.tile figcaption { margin-top: 3px; font-size: 0.72rem; max-width: 195px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tile.pair figcaption { max-width: 198px; }
"#;

fn measure_html(m: &Measure) -> String {
    let mut out = escape(&format_number(m.value));
    if let Some(u) = m.uncertainty {
        out.push_str(&format!(
            "<span class=\"pm\"> ± {}</span>",
            escape(&format_uncertainty(u))
        ));
    }
    if let Some([low, high]) = m.interval {
        out.push_str(&format!(
            "<span class=\"pm\"> [{}, {}]</span>",
            escape(&format_number(low)),
            escape(&format_number(high))
        ));
    }
    if let Some(note) = &m.note {
        out.push_str(&format!("<span class=\"note\">{}</span>", escape(note)));
    }
    out
}

fn verdict_html(v: Verdict) -> String {
    let class = match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Info => "info",
    };
    format!("<span class=\"badge {class}\">{}</span>", v.label())
}

/// The table and its notes in a panel.
fn table_panel(out: &mut String, table: &Table) {
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            table.columns[i].direction.is_some()
                || table
                    .rows
                    .iter()
                    .any(|r| r.get(i).and_then(Cell::measure).is_some())
        })
        .collect();
    out.push_str("<div class=\"panel\"><div class=\"scroll\"><table>\n<thead><tr>");
    for (column, numeric) in table.columns.iter().zip(&numeric) {
        let class = if *numeric { " class=\"num\"" } else { "" };
        match column.direction {
            Some(d) => out.push_str(&format!(
                "<th{class} title=\"{}\">{} <span class=\"arrow\">{}</span></th>",
                d.describe(),
                escape(&column.title),
                d.arrow()
            )),
            None => out.push_str(&format!("<th{class}>{}</th>", escape(&column.title))),
        }
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            match cell {
                Cell::Number(m) => {
                    let class = if m.best { "num best" } else { "num" };
                    let title = if m.best { " title=\"best\"" } else { "" };
                    out.push_str(&format!(
                        "<td class=\"{class}\"{title}>{}</td>",
                        measure_html(m)
                    ));
                }
                Cell::Verdict { verdict } => {
                    out.push_str(&format!("<td>{}</td>", verdict_html(*verdict)))
                }
                Cell::Text { text } => {
                    let class = if i == 0 {
                        " class=\"label\""
                    } else if text.chars().count() <= 32 {
                        " class=\"short\""
                    } else {
                        ""
                    };
                    out.push_str(&format!("<td{class}>{}</td>", escape(text)));
                }
                Cell::Empty => out.push_str("<td class=\"num\">–</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if !table.notes.is_empty() {
        out.push_str("<div class=\"notes\">");
        for note in &table.notes {
            out.push_str(&format!("<p>{}</p>", escape(note)));
        }
        out.push_str("</div>");
    }
    out.push_str("</div>\n");
}

/// Whether a table fits in half the page width: few columns, no intervals.
fn is_narrow(table: &Table) -> bool {
    table.columns.len() <= 3
        && !table
            .rows
            .iter()
            .flatten()
            .any(|c| c.measure().is_some_and(|m| m.interval.is_some()))
}

/// A table with its charts: side by side for a narrow table by step and its
/// one line chart, else the charts in a grid under the table.
fn table_section(out: &mut String, table: &Table, charts: &[(String, Chart)]) {
    out.push_str(&format!("<section>\n<h2>{}</h2>\n", escape(&table.title)));
    let own: Vec<&(String, Chart)> = table.charts.iter().filter_map(|&i| charts.get(i)).collect();
    if own.len() == 1 && table.key.starts_with("steps:") && is_narrow(table) {
        out.push_str("<div class=\"pair\">\n");
        table_panel(out, table);
        chart_html(out, &own[0].0, &own[0].1);
        out.push_str("</div>\n");
    } else {
        table_panel(out, table);
        if !own.is_empty() {
            out.push_str("<div class=\"charts\">\n");
            for (caption, chart) in own {
                chart_html(out, caption, chart);
            }
            out.push_str("</div>\n");
        }
    }
    out.push_str("</section>\n");
}

/// An SVG document made fit to sit inside HTML: no XML declaration, no
/// namespace URL (inline SVG in HTML needs none).
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..]
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
}

fn chart_html(out: &mut String, caption: &str, chart: &Chart) {
    out.push_str("<figure>");
    match chart.to_svg(CHART_SIZE.0, CHART_SIZE.1) {
        Ok(svg) => {
            out.push_str(&inline_svg(&svg).replacen(
                "<svg",
                &format!("<svg role=\"img\" aria-label=\"{}\"", escape(chart.title())),
                1,
            ));
        }
        Err(e) => out.push_str(&format!(
            "<div class=\"omitted\">chart omitted: {}</div>",
            escape(&e.to_string())
        )),
    }
    out.push_str(&format!(
        "<figcaption>{}</figcaption></figure>\n",
        escape(caption)
    ));
}

/// Summary cards: the best value per metric, and each self-check's outcome.
fn cards(out: &mut String, report: &Report) {
    let mut cards = Vec::new();
    for h in &report.headlines {
        let (arrow, title) = h
            .column
            .direction
            .map_or(("", ""), |d| (d.arrow(), d.describe()));
        let mut value = escape(&format_number(h.measure.value));
        if let Some(u) = h.measure.uncertainty {
            value.push_str(&format!(
                "<span class=\"pm\"> ± {}</span>",
                escape(&format_uncertainty(u))
            ));
        }
        let who = if h.of > 1 {
            format!("<b>{}</b> · best of {}", escape(&h.group), h.of)
        } else {
            format!("<b>{}</b>", escape(&h.group))
        };
        cards.push(format!(
            "<div class=\"card\" title=\"{title}\"><div class=\"label\">{} <span class=\"arrow\">{arrow}</span></div><div class=\"value\">{value}</div><div class=\"who\">{who}</div></div>\n",
            escape(&h.column.title)
        ));
    }
    for table in report
        .tables
        .iter()
        .filter(|t| t.key.starts_with("selfcheck-checks"))
    {
        let verdicts: Vec<Verdict> = table
            .rows
            .iter()
            .flatten()
            .filter_map(|c| match c {
                Cell::Verdict { verdict } => Some(*verdict),
                _ => None,
            })
            .collect();
        let held = verdicts.iter().filter(|v| **v == Verdict::Pass).count();
        let failed = verdicts.iter().filter(|v| **v == Verdict::Fail).count();
        let (class, word) = if failed == 0 {
            ("pass", "passed")
        } else {
            ("fail", "FAILED")
        };
        cards.push(format!(
            "<div class=\"card {class}\"><div class=\"label\">Self-check</div><div class=\"value\">{word}</div><div class=\"who\">{held} of {} checks held{}</div></div>\n",
            verdicts.len(),
            if failed > 0 { format!(", <b>{failed} required failed</b>") } else { String::new() }
        ));
    }
    if !cards.is_empty() {
        out.push_str("<div class=\"cards\">\n");
        for card in cards {
            out.push_str(&card);
        }
        out.push_str("</div>\n");
    }
}

/// One thumbnail: the JPEG as a `data:` URI, or a placeholder saying why
/// it is not there.
fn thumbnail_html(out: &mut String, thumb: &Thumbnail) {
    match thumb {
        Thumbnail::Jpeg {
            name,
            width,
            height,
            bytes,
        } => out.push_str(&format!(
            "<img src=\"{DATA_URI_PREFIX}{}\" width=\"{width}\" height=\"{height}\" alt=\"{name}\" title=\"{name}\">",
            base64::engine::general_purpose::STANDARD.encode(bytes),
            name = escape(name),
        )),
        Thumbnail::Missing { name, reason } => out.push_str(&format!(
            "<div class=\"gone\" title=\"{}: {}\">{}</div>",
            escape(name),
            escape(reason),
            escape(reason)
        )),
    }
}

/// The sample images: one panel per section, a note on the budget.
fn samples_html(out: &mut String, samples: &Samples) {
    if samples.is_empty() {
        return;
    }
    out.push_str("<section class=\"samples\">\n<h2>Sample images</h2>\n");
    if !samples.notes.is_empty() {
        out.push_str("<div class=\"notes\">");
        for note in &samples.notes {
            out.push_str(&format!("<p>{}</p>", escape(note)));
        }
        out.push_str("</div>\n");
    }
    for section in &samples.sections {
        out.push_str(&format!(
            "<div class=\"panel\"><h3>{}</h3>",
            escape(&section.title)
        ));
        if !section.used_by.is_empty() {
            out.push_str(&format!(
                "<p class=\"used\">{}</p>",
                escape(&section.used_by.join("; "))
            ));
        }
        let class = match section.kind {
            SampleKind::Copies => "tile pair",
            SampleKind::Grid | SampleKind::Outliers => "tile",
        };
        out.push_str("<div class=\"thumbs\">\n");
        for tile in &section.tiles {
            out.push_str(&format!("<figure class=\"{class}\"><div class=\"imgs\">"));
            for thumb in &tile.images {
                thumbnail_html(out, thumb);
            }
            out.push_str(&format!(
                "</div><figcaption title=\"{0}\">{0}</figcaption></figure>\n",
                escape(&tile.caption)
            ));
        }
        out.push_str("</div>");
        if !section.notes.is_empty() {
            out.push_str("<div class=\"notes\">");
            for note in &section.notes {
                out.push_str(&format!("<p>{}</p>", escape(note)));
            }
            out.push_str("</div>");
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

/// The report as one self-contained HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"geneval\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&report.title)));
    if report.samples.is_empty() {
        out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    } else {
        out.push_str(&format!(
            "<style>{STYLE}{SAMPLES_STYLE}</style>\n</head>\n<body>\n"
        ));
    }

    out.push_str(&format!(
        "<header class=\"top\"><div class=\"wrap\">\n<h1>{}</h1>\n<p class=\"meta\">",
        escape(&report.title)
    ));
    if !report.generated_at.is_empty() {
        out.push_str(&format!(
            "<span>Generated <time datetime=\"{0}\">{0}</time></span>",
            escape(&report.generated_at)
        ));
    }
    out.push_str(&format!(
        "<span>{} record{}</span><span>rows by label <code>{}</code></span></p>\n</div></header>\n",
        report.record_count,
        if report.record_count == 1 { "" } else { "s" },
        escape(&report.group_by)
    ));
    out.push_str("<main class=\"wrap\">\n");

    if !report.warnings.is_empty() {
        out.push_str("<section class=\"warnings\" role=\"note\"><h2>⚠ Warnings</h2><ul>\n");
        for w in &report.warnings {
            out.push_str(&format!("<li>{}</li>\n", escape(w)));
        }
        out.push_str("</ul></section>\n");
    }

    out.push_str("<section>\n");
    cards(&mut out, report);
    if !report.summary.is_empty() {
        out.push_str("<ul class=\"summary\">\n");
        for line in &report.summary {
            out.push_str(&format!("<li>{}</li>\n", escape(line)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");

    for table in &report.tables {
        table_section(&mut out, table, &report.charts);
    }
    // Charts no table claims.
    let claimed: Vec<usize> = report
        .tables
        .iter()
        .flat_map(|t| t.charts.iter().copied())
        .collect();
    let loose: Vec<&(String, Chart)> = report
        .charts
        .iter()
        .enumerate()
        .filter(|(i, _)| !claimed.contains(i))
        .map(|(_, c)| c)
        .collect();
    if !loose.is_empty() {
        out.push_str("<section>\n<h2>Charts</h2>\n<div class=\"charts\">\n");
        for (caption, chart) in loose {
            chart_html(&mut out, caption, chart);
        }
        out.push_str("</div>\n</section>\n");
    }

    samples_html(&mut out, &report.samples);

    out.push_str(&format!(
        "<section><details class=\"provenance\"><summary>Provenance ({} record{})</summary>\n<div class=\"scroll\"><table>\n",
        report.provenance.len(),
        if report.provenance.len() == 1 { "" } else { "s" }
    ));
    out.push_str("<thead><tr><th>source</th><th>metric</th><th>row</th><th>command</th><th>network / LM</th><th>mode</th><th>geneval</th><th>started</th></tr></thead>\n<tbody>\n");
    for p in &report.provenance {
        let opt = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
        out.push_str(&format!(
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"cmd\"><code>{}</code></td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&p.source),
            escape(&p.metric),
            escape(&p.group),
            opt(&p.command),
            opt(&p.model),
            opt(&p.mode),
            escape(&p.geneval_version),
            escape(&p.started_at),
        ));
    }
    out.push_str("</tbody></table></div></details></section>\n");
    out.push_str("</main>\n<footer class=\"wrap\">Made by <code>geneval report</code> from result records (schema <code>geneval.result/v1</code>). Numbers are comparable only within one feature network and preprocessing mode.</footer>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script> it's"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s"
        );
        assert_eq!(escape("plain ± text"), "plain ± text");
    }

    #[test]
    fn samples_are_data_uris_with_escaped_names_and_placeholders() {
        use crate::report::{SampleSection, Tile};
        let mut report = crate::render::tests::sample_report();
        let plain = render(&report);
        assert!(!plain.contains(".thumbs"), "no sample CSS without samples");
        report.samples = Samples {
            sections: vec![SampleSection {
                kind: SampleKind::Copies,
                title: "possible copies: fake/ vs <real>/".into(),
                used_by: vec!["authpct · model=a".into()],
                tiles: vec![Tile {
                    images: vec![
                        Thumbnail::Jpeg {
                            name: "fake/\"x\".png".into(),
                            width: 2,
                            height: 1,
                            bytes: vec![0xff, 0xd8, 0xff],
                        },
                        Thumbnail::Missing {
                            name: "real/<y>.png".into(),
                            reason: "not found".into(),
                        },
                    ],
                    caption: "distance 0.1".into(),
                }],
                notes: vec!["1 image not found".into()],
            }],
            notes: vec!["budget 5 MB".into()],
            budget_bytes: 5_000_000,
        };
        let page = render(&report);
        assert!(page.contains(".thumbs"));
        assert!(page.contains(
            "<img src=\"data:image/jpeg;base64,/9j/\" width=\"2\" height=\"1\" alt=\"fake/&quot;x&quot;.png\""
        ));
        assert!(page.contains("title=\"real/&lt;y&gt;.png: not found\""));
        assert!(page.contains("possible copies: fake/ vs &lt;real&gt;/"));
        assert!(page.contains("<p>budget 5 MB</p>") && page.contains("<p>1 image not found</p>"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert_eq!(page.matches("<img").count(), 1);
    }

    #[test]
    fn inline_svg_drops_the_declaration_and_namespace_url() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"2\" height=\"2\" viewBox=\"0 0 2 2\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>";
        let inline = inline_svg(svg);
        assert!(inline.starts_with("<svg width"));
        assert!(!inline.contains("http"));
    }
}
