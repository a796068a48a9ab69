//! The metric tables and charts: the mixing check (one comparability rule,
//! `compare::comparability`), the models × metrics table, step tables, bars.

use super::*;

impl Builder<'_> {
    /// Refuses (or, when allowed, notes) metric columns whose records
    /// differ in what makes numbers incomparable. Returns, for a mixed
    /// metric, each record's note (`network · mode`).
    pub(super) fn check_mixing(
        &mut self,
        records: &[SourcedRecord],
        rows: &[Row],
    ) -> Result<HashMap<(String, usize), String>, ReportError> {
        // metric -> what -> distinct (value, first source), in order.
        let mut seen: Seen = Vec::new();
        for (r, row) in records.iter().zip(rows) {
            for Number { metric, .. } in &row.numbers {
                let index = match seen.iter().position(|(m, _)| m == metric) {
                    Some(i) => i,
                    None => {
                        seen.push((metric.clone(), Vec::new()));
                        seen.len() - 1
                    }
                };
                for (what, value) in comparability(metric, &r.record) {
                    let Some(value) = value else { continue };
                    let whats = &mut seen[index].1;
                    let w = match whats.iter().position(|(x, _)| *x == what) {
                        Some(i) => i,
                        None => {
                            whats.push((what, Vec::new()));
                            whats.len() - 1
                        }
                    };
                    let values = &mut whats[w].1;
                    if !values.iter().any(|(v, _)| *v == value) {
                        values.push((value, r.source.clone()));
                    }
                }
            }
        }
        let mut notes = HashMap::new();
        for (metric, whats) in &seen {
            let mixed: Vec<&(&str, Vec<(String, String)>)> = whats
                .iter()
                .filter(|(_, values)| values.len() > 1)
                .collect();
            let Some((what, values)) = mixed.first() else {
                continue;
            };
            if !self.options.allow_mixed {
                return Err(ReportError::Mixed(Box::new(Mixing {
                    metric: metric_title(metric),
                    what: (*what).to_owned(),
                    first: values[0].0.clone(),
                    first_source: values[0].1.clone(),
                    second: values[1].0.clone(),
                    second_source: values[1].1.clone(),
                })));
            }
            for (what, values) in &mixed {
                let listed: Vec<String> = values
                    .iter()
                    .map(|(v, source)| format!("`{v}` ({source})"))
                    .collect();
                self.warnings.push(format!(
                    "the {} column mixes {what}: {}; shown side by side as asked (--allow-mixed), but these numbers are not comparable",
                    metric_title(metric),
                    listed.join(", ")
                ));
            }
            for (i, (r, row)) in records.iter().zip(rows).enumerate() {
                if row.numbers.iter().any(|n| n.metric == *metric) {
                    let parts: Vec<String> = comparability(metric, &r.record)
                        .into_iter()
                        .filter_map(|(_, v)| v)
                        .collect();
                    let note = if parts.is_empty() {
                        "network and mode unknown".to_owned()
                    } else {
                        parts.join(" · ")
                    };
                    notes.insert((metric.clone(), i), note);
                }
            }
        }
        Ok(notes)
    }

    /// The models × metrics table, the steps tables and the metric charts.
    pub(super) fn metric_tables(
        &mut self,
        records: &[SourcedRecord],
        rows: &[Row],
    ) -> Result<(), ReportError> {
        let notes = self.check_mixing(records, rows)?;
        let mut measurements = Vec::new();
        // (group, metric, step) -> the records behind it, with their intervals.
        let mut origin: Origins = HashMap::new();
        for (i, (r, row)) in records.iter().zip(rows).enumerate() {
            for Number {
                metric,
                value,
                uncertainty,
                interval,
            } in &row.numbers
            {
                if !value.is_finite() {
                    self.warnings
                        .push(format!("{}: {metric} is {value}; left out", r.source));
                    continue;
                }
                measurements.push(Measurement {
                    group: row.group.clone(),
                    metric: metric.clone(),
                    step: row.step,
                    value: *value,
                    uncertainty: uncertainty.filter(|u| u.is_finite()),
                    started_at: r.record.started_at.clone(),
                });
                origin
                    .entry((row.group.clone(), metric.clone(), step_key(row.step)))
                    .or_default()
                    .push((i, *interval));
            }
        }
        if measurements.is_empty() {
            return Ok(());
        }
        let stats = aggregate_runs(&measurements_frame(&measurements)?)?;
        let mut groups: Vec<&str> = Vec::new();
        for m in &measurements {
            if !groups.contains(&m.group.as_str()) {
                groups.push(&m.group);
            }
        }
        let mut metrics: Vec<&str> = Vec::new();
        for m in &measurements {
            if !metrics.contains(&m.metric.as_str()) {
                metrics.push(&m.metric);
            }
        }
        metrics.sort_by_key(|m| metric_rank(m));

        let measure = |s: &RunStats| {
            let from = &origin[&(s.group.clone(), s.metric.clone(), step_key(s.step))];
            let mut notes_here: Vec<String> = Vec::new();
            for (i, _) in from {
                if let Some(note) = notes.get(&(s.metric.clone(), *i)) {
                    if !notes_here.contains(note) {
                        notes_here.push(note.clone());
                    }
                }
            }
            if s.runs > 1 {
                notes_here.insert(0, format!("mean ± std of {} runs", s.runs));
            }
            Measure {
                value: s.mean,
                uncertainty: if s.runs > 1 { s.std } else { s.uncertainty },
                interval: if s.runs == 1 { from[0].1 } else { None },
                runs: s.runs,
                best: false,
                note: (!notes_here.is_empty()).then(|| notes_here.join("; ")),
            }
        };

        // The models × metrics table, at each model's latest step.
        let stepped = stats.iter().any(|s| s.step.is_some());
        let latest_step = |group: &str| {
            stats
                .iter()
                .filter(|s| s.group == group)
                .filter_map(|s| s.step)
                .fold(None, |acc: Option<f64>, s| {
                    Some(acc.map_or(s, |a| a.max(s)))
                })
        };
        let pick = |group: &str, metric: &str| -> Option<&RunStats> {
            let of = || {
                stats
                    .iter()
                    .filter(|s| s.group == group && s.metric == metric)
            };
            of().filter(|s| s.step.is_some())
                .max_by(|a, b| {
                    a.step
                        .partial_cmp(&b.step)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .or_else(|| of().find(|s| s.step.is_none()))
        };
        let mut columns = vec![Column::text(
            &self.options.group_by_label,
            &self.options.group_by_label,
        )];
        if stepped {
            columns.push(Column::text("step", "step"));
        }
        let first_metric = columns.len();
        columns.extend(metrics.iter().map(|m| Column::metric(m)));
        let mut table_rows = Vec::new();
        for group in &groups {
            let group_step = latest_step(group);
            let mut row = vec![Cell::text(*group)];
            if stepped {
                row.push(group_step.map_or(Cell::Empty, |s| Cell::text(format_step(s))));
            }
            for metric in &metrics {
                row.push(match pick(group, metric) {
                    Some(s) => {
                        let mut m = measure(s);
                        if let Some(step) = s.step.filter(|step| Some(*step) != group_step) {
                            let at = format!("at step {}", format_step(step));
                            m.note = Some(m.note.map_or(at.clone(), |n| format!("{at}; {n}")));
                        }
                        Cell::Number(m)
                    }
                    None => Cell::Empty,
                });
            }
            table_rows.push(row);
        }
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            if let Some(direction) = column.direction {
                mark_best(table_rows.iter_mut().map(|row| &mut row[c]), direction);
            }
        }
        let mut table_notes = vec![
            "Cells: value ± the record's own uncertainty (IS: std over splits; KID: std over subsets), or mean ± std (ddof 1) over repeated runs; [low, high]: a bootstrap interval.".to_owned(),
            "↓ lower is better, ↑ higher is better; the best per column is marked.".to_owned(),
        ];
        if stepped {
            table_notes.push(
                "Each row at its latest step; every step is in the tables by step below."
                    .to_owned(),
            );
        }
        // Headlines: the best per metric column.
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            let Some(direction) = column.direction else {
                continue;
            };
            let filled: Vec<(usize, &Measure)> = table_rows
                .iter()
                .enumerate()
                .filter_map(|(r, row)| row[c].measure().map(|m| (r, m)))
                .collect();
            let best = filled.iter().map(|(_, m)| m.value).reduce(|a, b| {
                if direction.better(b, a) {
                    b
                } else {
                    a
                }
            });
            if let Some(best) = best {
                let winners: Vec<&(usize, &Measure)> =
                    filled.iter().filter(|(_, m)| m.value == best).collect();
                let group = winners
                    .iter()
                    .map(|(r, _)| groups[*r])
                    .collect::<Vec<_>>()
                    .join(", ");
                self.headlines.push(Headline {
                    column: column.clone(),
                    group,
                    measure: winners[0].1.clone(),
                    of: filled.len(),
                });
            }
        }
        let by_title = match self.options.group_by_label.as_str() {
            "model" => "Models".to_owned(),
            other => format!("By {other}"),
        };
        self.tables.push(Table {
            key: "models".into(),
            title: format!("{by_title} × metrics"),
            columns: columns.clone(),
            rows: table_rows.clone(),
            notes: table_notes,
            charts: Vec::new(),
        });
        let models_table = self.tables.len() - 1;

        // By step: a table and a line chart per metric.
        for metric in &metrics {
            let of_metric: Vec<&RunStats> = stats
                .iter()
                .filter(|s| s.metric == *metric && s.step.is_some())
                .collect();
            let mut steps: Vec<f64> = of_metric.iter().filter_map(|s| s.step).collect();
            steps.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            steps.dedup();
            // One step is all in the models table already.
            if steps.len() < 2 {
                continue;
            }
            let step_groups: Vec<&str> = groups
                .iter()
                .copied()
                .filter(|g| of_metric.iter().any(|s| s.group == *g))
                .collect();
            let column = Column::metric(metric);
            let mut step_columns = vec![Column::text("step", "step")];
            step_columns.extend(step_groups.iter().map(|g| Column {
                key: (*g).to_owned(),
                title: (*g).to_owned(),
                direction: column.direction,
            }));
            let mut step_rows = Vec::new();
            for step in &steps {
                let mut row = vec![Cell::text(format_step(*step))];
                for group in &step_groups {
                    row.push(
                        of_metric
                            .iter()
                            .find(|s| s.group == *group && s.step == Some(*step))
                            .map_or(Cell::Empty, |s| Cell::Number(measure(s))),
                    );
                }
                if let Some(direction) = column.direction {
                    mark_best(row.iter_mut().skip(1), direction);
                }
                step_rows.push(row);
            }
            let direction_note = column.direction.map(|d| {
                format!(
                    "{} {}; the best per step is marked.",
                    metric_title(metric),
                    d.describe()
                )
            });
            self.tables.push(Table {
                key: format!("steps:{metric}"),
                title: format!("{} by step", metric_title(metric)),
                columns: step_columns,
                rows: step_rows,
                notes: direction_note.into_iter().collect(),
                charts: vec![self.charts.len()],
            });
            {
                let series = step_groups
                    .iter()
                    .map(|group| {
                        let mut points: Vec<(f64, f64, f64)> = of_metric
                            .iter()
                            .filter(|s| s.group == *group)
                            .map(|s| {
                                let m = measure(s);
                                (
                                    s.step.unwrap_or_default(),
                                    m.value,
                                    m.uncertainty.unwrap_or(0.0),
                                )
                            })
                            .collect();
                        points.sort_by(|a, b| {
                            a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal)
                        });
                        let has_errors = points.iter().any(|p| p.2 > 0.0);
                        Series {
                            name: (*group).to_owned(),
                            points: points.iter().map(|p| (p.0, p.1)).collect(),
                            errors: has_errors.then(|| points.iter().map(|p| p.2).collect()),
                        }
                    })
                    .collect();
                self.charts.push((
                    format!(
                        "{} over training steps, one line per {}{}; error bars: ± uncertainty.",
                        metric_title(metric),
                        self.options.group_by_label,
                        column
                            .direction
                            .map(|d| format!(" ({})", d.describe()))
                            .unwrap_or_default()
                    ),
                    Chart::Line(LineChart {
                        title: format!("{} over steps", metric_title(metric)),
                        x_label: "step".into(),
                        y_label: y_label(metric),
                        series,
                    }),
                ));
            }
        }

        // Bars per metric over groups; PRDC as grouped bars.
        for (c, column) in columns.iter().enumerate().skip(first_metric) {
            if PRDC.contains(&column.key.as_str()) {
                continue;
            }
            let bars: Vec<Bar> = table_rows
                .iter()
                .zip(&groups)
                .filter_map(|(row, group)| {
                    row[c].measure().map(|m| Bar {
                        label: (*group).to_owned(),
                        value: m.value,
                        error: m.uncertainty,
                    })
                })
                .collect();
            if bars.len() < 2 {
                continue;
            }
            self.tables[models_table].charts.push(self.charts.len());
            self.charts.push((
                format!(
                    "{} per {}{}{}; error bars: ± uncertainty.",
                    column.title,
                    self.options.group_by_label,
                    if stepped { " at its latest step" } else { "" },
                    column
                        .direction
                        .map(|d| format!(" ({})", d.describe()))
                        .unwrap_or_default()
                ),
                Chart::Bar(BarChart {
                    title: format!("{} per {}", column.title, self.options.group_by_label),
                    y_label: y_label(&column.key),
                    bars,
                }),
            ));
        }
        let prdc_columns: Vec<(usize, &Column)> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| PRDC.contains(&c.key.as_str()))
            .collect();
        if !prdc_columns.is_empty() {
            let chart_groups: Vec<(String, Vec<f64>)> = table_rows
                .iter()
                .zip(&groups)
                .filter(|(row, _)| {
                    prdc_columns
                        .iter()
                        .any(|(c, _)| row[*c].measure().is_some())
                })
                .map(|(row, group)| {
                    (
                        (*group).to_owned(),
                        prdc_columns
                            .iter()
                            .map(|(c, _)| row[*c].measure().map_or(f64::NAN, |m| m.value))
                            .collect(),
                    )
                })
                .collect();
            self.tables[models_table].charts.push(self.charts.len());
            self.charts.push((
                format!(
                    "Precision, recall, density and coverage per {} (all higher is better; density can exceed 1).",
                    self.options.group_by_label
                ),
                Chart::GroupedBar(GroupedBarChart {
                    title: "Precision, recall, density, coverage".into(),
                    y_label: "value".into(),
                    categories: prdc_columns.iter().map(|(_, c)| c.title.clone()).collect(),
                    groups: chart_groups,
                }),
            ));
        }
        Ok(())
    }
}

pub(super) fn y_label(metric: &str) -> String {
    match Direction::of(metric) {
        Some(d) => format!("{} {}", metric_title(metric), d.arrow()),
        None => metric_title(metric),
    }
}
