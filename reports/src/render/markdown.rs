//! The report as Markdown: the tables (best values in bold, ↓/↑ in the
//! metric headers, notes under each), the charts listed by caption (they
//! are drawn in the HTML report), warnings and provenance.

use crate::report::{Cell, Report, Table};

/// Text safe inside a Markdown table cell: `|` escaped, `<` and `>` as
/// entities (no raw HTML), newlines as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

/// A code span holding `text` (longer fences when it contains backticks).
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn cell(cell: &Cell) -> String {
    match cell {
        Cell::Number(m) => {
            let text = escape(&m.display());
            let mut out = if m.best { format!("**{text}**") } else { text };
            if let Some(note) = &m.note {
                out.push_str(&format!(" ({})", escape(note)));
            }
            out
        }
        Cell::Verdict { verdict } => match verdict.label() {
            "FAIL" => "**FAIL**".to_owned(),
            other => other.to_owned(),
        },
        other => escape(&other.display()),
    }
}

fn table(out: &mut String, table: &Table) {
    out.push_str(&format!("## {}\n\n", escape(&table.title)));
    let headers: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.direction {
            Some(d) => format!("{} {}", escape(&c.title), d.arrow()),
            None => escape(&c.title),
        })
        .collect();
    out.push_str(&format!("| {} |\n", headers.join(" | ")));
    let aligns: Vec<&str> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let numeric = c.direction.is_some()
                || table
                    .rows
                    .iter()
                    .any(|r| r.get(i).and_then(Cell::measure).is_some());
            if numeric {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", aligns.join(" | ")));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(cell).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    for note in &table.notes {
        out.push_str(&format!("{}\n\n", escape(note)));
    }
}

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = format!("# {}\n\n", escape(&report.title));
    let mut meta = Vec::new();
    if !report.generated_at.is_empty() {
        meta.push(format!("Generated {}", escape(&report.generated_at)));
    }
    meta.push(format!(
        "{} record{}",
        report.record_count,
        if report.record_count == 1 { "" } else { "s" }
    ));
    meta.push(format!("rows by label {}", code(&report.group_by)));
    out.push_str(&format!("{}\n\n", meta.join(" · ")));
    // The inputs first, then the best per metric, then the rest.
    let (first, rest) = report.summary.split_at(report.summary.len().min(1));
    let lines = first
        .iter()
        .cloned()
        .chain(report.headlines.iter().map(|h| h.describe()))
        .chain(rest.iter().cloned());
    let mut any = false;
    for line in lines {
        out.push_str(&format!("- {}\n", escape(&line)));
        any = true;
    }
    if any {
        out.push('\n');
    }
    if !report.warnings.is_empty() {
        out.push_str("## Warnings\n\n");
        for w in &report.warnings {
            out.push_str(&format!("- {}\n", escape(w)));
        }
        out.push('\n');
    }
    for t in &report.tables {
        table(&mut out, t);
    }
    if !report.charts.is_empty() {
        out.push_str("## Charts\n\nDrawn in the HTML report (`--format html`; `--png-dir DIR` writes them as PNG):\n\n");
        for (caption, _) in &report.charts {
            out.push_str(&format!("- {}\n", escape(caption)));
        }
        out.push('\n');
    }
    out.push_str("## Provenance\n\n");
    out.push_str("| source | metric | row | command | network / LM | mode | geneval | started |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for p in &report.provenance {
        let opt = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            escape(&p.source),
            escape(&p.metric),
            escape(&p.group),
            p.command.as_deref().map(code).unwrap_or_default(),
            opt(&p.model),
            opt(&p.mode),
            escape(&p.geneval_version),
            escape(&p.started_at),
        ));
    }
    out
}
