//! The self-check section: the sets, the checks and a chart per metric of
//! value against disturbance level.

use super::*;

impl Builder<'_> {
    /// The sets, checks and charts of each `selfcheck` record.
    pub(super) fn selfchecks(&mut self, records: &[SourcedRecord]) {
        let selfchecks: Vec<&SourcedRecord> = records
            .iter()
            .filter(|r| r.record.metric == "selfcheck")
            .collect();
        for (k, r) in selfchecks.iter().enumerate() {
            let record = &r.record;
            let suffix = if selfchecks.len() > 1 {
                format!(" ({})", r.source)
            } else {
                String::new()
            };
            let key_suffix = if k == 0 {
                String::new()
            } else {
                format!(":{}", k + 1)
            };
            let SelfcheckSets { sets, checks } = SelfcheckSets::from_record(record);
            let setting = |name: &str| {
                record
                    .settings
                    .get(name)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            };
            let network = record
                .model
                .as_ref()
                .map(|m| match &m.id {
                    Some(id) if *id != m.name => format!("{} ({id})", m.name),
                    _ => m.name.clone(),
                })
                .unwrap_or_else(|| "unknown network".into());
            let mut about = format!("Network {network}");
            if let Some(mode) = &record.mode {
                about.push_str(&format!(", {mode} preprocessing"));
            }
            if let (Some(n), Some(size)) = (setting("n"), setting("size")) {
                about.push_str(&format!("; {n} images of {size}×{size} per set"));
            }
            if let Some(classes) = setting("classes") {
                about.push_str(&format!(", {classes} classes"));
            }
            if let Some(seed) = record.seed {
                about.push_str(&format!(", seed {seed}"));
            }
            about.push_str(". Every set is compared with an independent reference set; the clean set (level 0) is undisturbed.");

            let mut columns = vec![
                Column::text("set", "set"),
                Column::text("disturbance", "disturbance"),
                Column::text("level", "level"),
            ];
            columns.extend(SET_METRICS.iter().map(|m| Column::metric(m)));
            let rows: Vec<Vec<Cell>> = sets
                .iter()
                .map(|set| {
                    let text = |t: &Option<String>| t.as_deref().map_or(Cell::Empty, Cell::text);
                    let mut row = vec![text(&set.set), text(&set.disturbance)];
                    row.push(
                        set.level
                            .map_or(Cell::Empty, |l| Cell::text(format_step(l))),
                    );
                    row.extend(
                        set.metrics()
                            .map(|(_, v)| v.map_or(Cell::Empty, |v| Cell::Number(Measure::new(v)))),
                    );
                    row
                })
                .collect();
            if !rows.is_empty() {
                self.tables.push(Table {
                    key: format!("selfcheck-sets{key_suffix}"),
                    title: format!("Self-check: metrics under disturbances{suffix}"),
                    columns,
                    rows,
                    notes: vec![about],
                    charts: Vec::new(),
                });
            }
            let mut counts = (0, 0, 0);
            let check_rows: Vec<Vec<Cell>> = checks
                .iter()
                .map(|c| {
                    let verdict = match (c.passed, c.required) {
                        (true, _) => Verdict::Pass,
                        (false, true) => Verdict::Fail,
                        (false, false) => Verdict::Info,
                    };
                    match verdict {
                        Verdict::Pass => counts.0 += 1,
                        Verdict::Fail => counts.1 += 1,
                        Verdict::Info => counts.2 += 1,
                    }
                    let text = |t: &Option<String>| t.as_deref().map_or(Cell::Empty, Cell::text);
                    vec![text(&c.name), Cell::Verdict { verdict }, text(&c.detail)]
                })
                .collect();
            let has_checks = !check_rows.is_empty();
            if has_checks {
                self.tables.push(Table {
                    key: format!("selfcheck-checks{key_suffix}"),
                    title: format!("Self-check: checks{suffix}"),
                    columns: vec![
                        Column::text("check", "check"),
                        Column::text("result", "result"),
                        Column::text("numbers", "numbers"),
                    ],
                    rows: check_rows,
                    notes: vec![
                        "info: a check this network is known to miss; reported, not required."
                            .into(),
                    ],
                    charts: Vec::new(),
                });
                let passed = record.passed.unwrap_or(counts.1 == 0);
                self.summary.push(format!(
                    "Self-check{suffix}: {} — {} of {} checks held, {} required failed, {} info",
                    if passed { "passed" } else { "FAILED" },
                    counts.0,
                    counts.0 + counts.1 + counts.2,
                    counts.1,
                    counts.2
                ));
                if !passed {
                    self.warnings.push(format!(
                        "{}: the self-check FAILED ({} required check{} did not hold)",
                        r.source,
                        counts.1,
                        plural(counts.1)
                    ));
                }
            }
            let first_chart = self.charts.len();
            self.selfcheck_charts(&sets, &suffix);
            // The charts go under the last table of this self-check.
            let key = if has_checks {
                "selfcheck-checks"
            } else {
                "selfcheck-sets"
            };
            if let Some(table) = self
                .tables
                .iter_mut()
                .rev()
                .find(|t| t.key == format!("{key}{key_suffix}"))
            {
                table.charts.extend(first_chart..self.charts.len());
            }
        }
    }

    /// Per metric, value against disturbance level, a line per disturbance.
    pub(super) fn selfcheck_charts(&mut self, sets: &[SetMeasure], suffix: &str) {
        let kind_of = |set: &SetMeasure| set.disturbance.clone().unwrap_or_default();
        let clean = sets.iter().find(|s| kind_of(s) == "none");
        let mut kinds: Vec<String> = Vec::new();
        for set in sets {
            let kind = kind_of(set);
            if kind != "none" && !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return;
        }
        // Density has no bound and no chart; its numbers are in the table.
        for metric in SET_METRICS.iter().filter(|m| **m != "density") {
            let value = |set: &SetMeasure| set.metric(metric);
            let series: Vec<Series> = kinds
                .iter()
                .map(|kind| {
                    let mut points: Vec<(f64, f64)> = clean
                        .and_then(value)
                        .map(|v| (0.0, v))
                        .into_iter()
                        .collect();
                    let of_kind = sets.iter().filter(|s| kind_of(s) == *kind);
                    for (i, set) in of_kind.enumerate() {
                        if let Some(v) = value(set) {
                            points.push(((i + 1) as f64, v));
                        }
                    }
                    Series {
                        name: kind.clone(),
                        points,
                        errors: None,
                    }
                })
                .collect();
            if series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            let title = metric_title(metric);
            self.charts.push((
                format!(
                    "Self-check{suffix}: {title} against disturbance strength, one line per disturbance (0 = clean set, 1–4 = its four levels in the table; {}).",
                    Direction::of(metric).map_or("", |d| d.describe())
                ),
                Chart::Line(LineChart {
                    title: format!("Self-check: {title} vs disturbance"),
                    x_label: "disturbance level (0 = clean)".into(),
                    y_label: title,
                    series,
                }),
            ));
        }
    }
}
