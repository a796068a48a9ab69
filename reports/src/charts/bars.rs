//! Bar charts: one bar per label with error bars, and grouped bars (one
//! group per category, one coloured bar per model).

use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Canvas, Drawn, Rect};
use super::layout::{self, Frame, FrameSpec, Key, LegendEntry};
use super::scale::{format_value, Span};
use super::style::{self, size, space};
use super::{BarChart, GroupedBarChart};

/// The y span of bars: always from zero, with room above (and below, for
/// negative bars) for the value labels.
fn bar_span(values: impl IntoIterator<Item = f64>) -> Option<Span> {
    let span = Span::of(values)?.including(0.0);
    if span.width() == 0.0 {
        // All bars are zero.
        return Some(Span { lo: 0.0, hi: 1.0 });
    }
    let below = if span.lo < 0.0 { 0.12 } else { 0.0 };
    let above = if span.hi > 0.0 { 0.12 } else { 0.0 };
    Some(span.padded(below, above))
}

/// The finite error of a bar, as a non-negative number.
fn bar_error(bar: &super::Bar) -> Option<f64> {
    bar.error
        .map(f64::abs)
        .filter(|e| *e > 0.0 && (bar.value - e).is_finite() && (bar.value + e).is_finite())
}

fn bar_chart_span(chart: &BarChart) -> Option<Span> {
    bar_span(
        chart
            .bars
            .iter()
            .filter(|b| b.value.is_finite())
            .flat_map(|b| {
                let e = bar_error(b).unwrap_or(0.0);
                [b.value - e, b.value + e]
            }),
    )
}

/// The finite values of a grouped chart, as (category, group, value).
fn grouped_values(chart: &GroupedBarChart) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
    chart
        .groups
        .iter()
        .enumerate()
        .flat_map(move |(g, (_, values))| {
            values
                .iter()
                .take(chart.categories.len())
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(move |(c, v)| (c, g, *v))
        })
}

/// Whether a bar chart has anything to draw.
pub(super) fn bar_has_data(chart: &BarChart) -> bool {
    bar_chart_span(chart).is_some()
}

/// Whether a grouped bar chart has anything to draw.
pub(super) fn grouped_has_data(chart: &GroupedBarChart) -> bool {
    grouped_values(chart).next().is_some()
}

/// How the category labels under the bars are set.
#[derive(Debug, Clone, Copy)]
enum Labels {
    /// Horizontal, on this many lines (1 or 2: long names wrap once at a
    /// `-`, `_`, space or `/`, then are cut with "…").
    Flat(usize),
    /// Reading upwards, at most this many device pixels long: for slots too
    /// narrow for horizontal names.
    Up(i32),
}

/// Characters after which a long label may wrap.
const BREAKS: &[char] = &[' ', '-', '_', '/', '.', ':', ',', '|'];

/// `text` on at most two lines of `max_width` device pixels.
fn wrap<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    text: &str,
    max_width: i32,
    max_lines: usize,
) -> Drawn<Vec<String>> {
    if canvas.text_width(text, size::TICK)? <= max_width || max_lines < 2 {
        return Ok(vec![canvas.fit(text, size::TICK, max_width)?]);
    }
    // The longest head ending at a break that fits on the first line.
    let mut best = None;
    for (i, c) in text.char_indices() {
        if !BREAKS.contains(&c) {
            continue;
        }
        let end = i + c.len_utf8();
        let head = text[..end].trim_end();
        if head.is_empty() || end == text.len() {
            continue;
        }
        if canvas.text_width(head, size::TICK)? > max_width {
            break;
        }
        best = Some((head, &text[end..]));
    }
    match best {
        Some((head, tail)) => Ok(vec![
            head.to_owned(),
            canvas.fit(tail.trim_start(), size::TICK, max_width)?,
        ]),
        None => Ok(vec![canvas.fit(text, size::TICK, max_width)?]),
    }
}

/// Device pixels left for a label in a slot `slot` pixels wide.
fn label_room<DB: DrawingBackend>(canvas: &Canvas<DB>, slot: f64) -> i32 {
    slot as i32 - canvas.px(space::GAP)
}

/// Chooses how to set `labels` in slots of about `slot` device pixels.
fn plan_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    labels: &[String],
    slot: f64,
) -> Drawn<Labels> {
    let room = label_room(canvas, slot);
    if room >= canvas.px(44.0) {
        let mut lines = 1;
        for label in labels {
            lines = lines.max(wrap(canvas, label, room, 2)?.len());
        }
        return Ok(Labels::Flat(lines));
    }
    let mut longest = 0;
    for label in labels {
        longest = longest.max(canvas.text_width(label, size::TICK)?);
    }
    let cap = canvas.px(160.0).min(canvas.bounds().height() * 7 / 20);
    Ok(Labels::Up(longest.min(cap)))
}

/// Device pixels the labels need under the plot.
fn labels_height<DB: DrawingBackend>(canvas: &Canvas<DB>, labels: Labels) -> i32 {
    let gap = canvas.px(space::GAP);
    gap + match labels {
        Labels::Flat(lines) => canvas.line_height(size::TICK) * lines as i32,
        Labels::Up(length) => length,
    }
}

/// Draws `labels` centred under `plot` in `slots` equal slots.
fn draw_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    labels: &[String],
    plot: Rect,
    plan: Labels,
) -> Drawn {
    let slot = f64::from(plot.width()) / labels.len() as f64;
    let top = plot.y1 + canvas.px(space::GAP);
    for (i, label) in labels.iter().enumerate() {
        let cx = slot_center(plot, slot, i);
        match plan {
            Labels::Flat(lines) => {
                let lines = wrap(canvas, label, label_room(canvas, slot), lines)?;
                for (k, line) in lines.iter().enumerate() {
                    canvas.text(
                        line,
                        (cx, top + k as i32 * canvas.line_height(size::TICK)),
                        size::TICK,
                        style::TEXT_MUTED,
                        (HPos::Center, VPos::Top),
                    )?;
                }
            }
            Labels::Up(length) => {
                let label = canvas.fit(label, size::TICK, length)?;
                // Anchored at its end, just under the axis, reading upwards.
                canvas.text_up(
                    &label,
                    (cx, top),
                    size::TICK,
                    style::TEXT_MUTED,
                    HPos::Right,
                )?;
            }
        }
    }
    Ok(())
}

/// The centre of slot `i`.
fn slot_center(plot: Rect, slot: f64, i: usize) -> i32 {
    (f64::from(plot.x0) + slot * (i as f64 + 0.5)).round() as i32
}

/// Lays out the frame with room for category labels under the plot.
fn frame_with_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    title: &str,
    y_label: &str,
    y_span: Span,
    labels: &[String],
    legend: &[LegendEntry],
) -> Drawn<(Frame, Labels)> {
    // The slot width before the frame is known: the chart less margins, a
    // typical y axis and the legend.
    let bounds = canvas.bounds();
    let mut guess = bounds.width() - canvas.px(2.0 * space::MARGIN + 70.0);
    if !legend.is_empty() {
        let mut widest = 0;
        for entry in legend {
            widest = widest.max(canvas.text_width(&entry.name, size::LEGEND)?);
        }
        guess -= (widest + canvas.px(46.0)).min(bounds.width() / 4 + canvas.px(16.0));
    }
    let plan = plan_labels(
        canvas,
        labels,
        f64::from(guess) / labels.len().max(1) as f64,
    )?;
    let frame = layout::draw(
        canvas,
        &FrameSpec {
            title,
            y_label,
            y_span,
            bottom: labels_height(canvas, plan),
            legend,
        },
    )?;
    Ok((frame, plan))
}

/// The zero line (when bars go below zero) and the axes.
fn draw_zero_and_axes<DB: DrawingBackend>(canvas: &Canvas<DB>, frame: &Frame, span: Span) -> Drawn {
    frame.draw_axes(canvas)?;
    if span.lo < 0.0 {
        let p = frame.plot;
        canvas.hline(p.x0, p.x1, frame.y.px(0.0), 1.0, style::ZERO)?;
    }
    Ok(())
}

/// A value label just beyond the end of a bar (above it, or below a
/// negative one).
fn draw_value<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    text: &str,
    x: i32,
    end: i32,
    negative: bool,
    color: plotters::style::RGBColor,
) -> Drawn {
    let gap = canvas.px(4.0);
    let (y, v) = if negative {
        (end + gap, VPos::Top)
    } else {
        (end - gap, VPos::Bottom)
    };
    canvas.text(text, (x, y), size::VALUE, color, (HPos::Center, v))
}

pub(super) fn draw_bars<DB: DrawingBackend>(chart: &BarChart, canvas: &Canvas<DB>) -> Drawn {
    let Some(span) = bar_chart_span(chart) else {
        return Err("no finite values".to_owned());
    };
    let labels: Vec<String> = chart.bars.iter().map(|b| b.label.clone()).collect();
    let (frame, plan) =
        frame_with_labels(canvas, &chart.title, &chart.y_label, span, &labels, &[])?;
    let plot = frame.plot;
    let y = frame.y;
    let slot = f64::from(plot.width()) / chart.bars.len() as f64;
    let half = (slot * 0.3).min(f64::from(canvas.px(40.0))).max(1.0) as i32;
    let color = style::series_color(0);
    let zero = y.px(0.0);

    for (i, bar) in chart.bars.iter().enumerate() {
        if bar.value.is_finite() {
            let cx = slot_center(plot, slot, i);
            let top = y.px(bar.value);
            // Positive bars end just above the zero row, negative just below.
            let base = if bar.value >= 0.0 { zero } else { zero + 1 };
            canvas.fill((cx - half, top), (cx + half, base), color)?;
        }
    }
    draw_zero_and_axes(canvas, &frame, span)?;

    let texts: Vec<String> = chart.bars.iter().map(|b| format_value(b.value)).collect();
    let mut values_fit = true;
    for text in &texts {
        values_fit &= canvas.text_width(text, size::VALUE)? <= slot as i32 - canvas.px(4.0);
    }
    for (i, bar) in chart.bars.iter().enumerate() {
        let cx = slot_center(plot, slot, i);
        if !bar.value.is_finite() {
            draw_value(canvas, "n/a", cx, zero, false, style::TEXT_FAINT)?;
            continue;
        }
        let negative = bar.value < 0.0;
        let mut end = y.px(bar.value);
        if let Some(e) = bar_error(bar) {
            let (hi, lo) = (y.px(bar.value + e), y.px(bar.value - e));
            canvas.error_bar(cx, hi, lo, space::CAP, style::TEXT)?;
            end = if negative { lo } else { hi };
        }
        if values_fit {
            draw_value(canvas, &texts[i], cx, end, negative, style::TEXT_MUTED)?;
        }
    }
    draw_labels(canvas, &labels, plot, plan)
}

pub(super) fn draw_grouped<DB: DrawingBackend>(
    chart: &GroupedBarChart,
    canvas: &Canvas<DB>,
) -> Drawn {
    let Some(span) = bar_span(grouped_values(chart).map(|(_, _, v)| v)) else {
        return Err("no finite values".to_owned());
    };
    let legend: Vec<LegendEntry> = chart
        .groups
        .iter()
        .enumerate()
        .map(|(g, (name, _))| LegendEntry {
            name: if name.is_empty() {
                format!("group {}", g + 1)
            } else {
                name.clone()
            },
            color: style::series_color(g),
            key: Key::Swatch,
        })
        .collect();
    let (frame, plan) = frame_with_labels(
        canvas,
        &chart.title,
        &chart.y_label,
        span,
        &chart.categories,
        &legend,
    )?;
    let plot = frame.plot;
    let y = frame.y;
    let slot = f64::from(plot.width()) / chart.categories.len() as f64;
    let groups = chart.groups.len().max(1) as f64;
    let group_width = slot * 0.8;
    let bar = group_width / groups;
    // A hairline of background between neighbours, when bars are wide enough.
    let inset = if bar >= f64::from(canvas.px(8.0)) {
        canvas.px(1.0)
    } else {
        0
    };
    let zero = y.px(0.0);
    let bar_left = |c: usize, g: usize| -> f64 {
        f64::from(slot_center(plot, slot, c)) - group_width / 2.0 + bar * g as f64
    };

    for (c, g, v) in grouped_values(chart) {
        let x0 = bar_left(c, g).round() as i32;
        let x1 = (bar_left(c, g) + bar).round() as i32 - inset;
        let base = if v >= 0.0 { zero } else { zero + 1 };
        canvas.fill(
            (x0, y.px(v)),
            (x1.max(x0 + 1), base),
            style::series_color(g),
        )?;
    }
    draw_zero_and_axes(canvas, &frame, span)?;

    let mut values_fit = true;
    for (_, _, v) in grouped_values(chart) {
        values_fit &= canvas.text_width(&format_value(v), size::VALUE)? <= bar as i32;
    }
    if values_fit {
        for (c, g, v) in grouped_values(chart) {
            let cx = (bar_left(c, g) + bar / 2.0).round() as i32;
            let text = format_value(v);
            draw_value(canvas, &text, cx, y.px(v), v < 0.0, style::TEXT_MUTED)?;
        }
    }
    draw_labels(canvas, &chart.categories, plot, plan)
}
