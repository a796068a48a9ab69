//! Line charts: y against x, one coloured line with markers (and optional
//! error bars) per series.

use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Canvas, Drawn};
use super::layout::{self, FrameSpec, Key, LegendEntry};
use super::scale::{ticks, Linear, Span};
use super::style::{self, size, space};
use super::{LineChart, Series};

/// The finite points of a series, each with its finite, non-zero error.
fn points(series: &Series) -> impl Iterator<Item = Option<(f64, f64, Option<f64>)>> + '_ {
    series.points.iter().enumerate().map(|(i, &(x, y))| {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let error = series
            .errors
            .as_ref()
            .and_then(|errors| errors.get(i))
            .map(|e| e.abs())
            .filter(|e| *e > 0.0 && (y - e).is_finite() && (y + e).is_finite());
        Some((x, y, error))
    })
}

/// The data spans of x and y (y including error bars); `None` when no
/// series has a finite point.
fn spans(chart: &LineChart) -> Option<(Span, Span)> {
    let finite = || chart.series.iter().flat_map(points).flatten();
    let x = Span::of(finite().map(|(x, _, _)| x))?;
    let y = Span::of(finite().flat_map(|(_, y, e)| {
        let e = e.unwrap_or(0.0);
        [y - e, y + e]
    }))?;
    Some((x, y))
}

/// Whether the chart has anything to draw.
pub(super) fn has_data(chart: &LineChart) -> bool {
    spans(chart).is_some()
}

/// The legend name of series `i`.
fn name(series: &Series, i: usize) -> String {
    if series.name.is_empty() {
        format!("series {}", i + 1)
    } else {
        series.name.clone()
    }
}

pub(super) fn draw<DB: DrawingBackend>(chart: &LineChart, canvas: &Canvas<DB>) -> Drawn {
    let Some((x_data, y_data)) = spans(chart) else {
        return Err("no finite points".to_owned());
    };
    let x_span = x_data.opened().padded(0.04, 0.04);
    let y_span = y_data.opened().padded(0.08, 0.08);
    let integer_x = chart
        .series
        .iter()
        .flat_map(points)
        .flatten()
        .all(|(x, _, _)| x.fract() == 0.0);

    let legend: Vec<LegendEntry> = if chart.series.len() > 1 {
        chart
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                name: name(s, i),
                color: style::series_color(i),
                key: Key::Line(style::series_marker(i)),
            })
            .collect()
    } else {
        Vec::new()
    };
    let gap = canvas.px(space::GAP);
    let mut bottom = gap + canvas.line_height(size::TICK);
    if !chart.x_label.is_empty() {
        bottom += gap + canvas.line_height(size::AXIS_TITLE);
    }
    let frame = layout::draw(
        canvas,
        &FrameSpec {
            title: &chart.title,
            y_label: &chart.y_label,
            y_span,
            bottom,
            legend: &legend,
        },
    )?;
    let plot = frame.plot;
    let x = Linear::new(x_span, plot.x0, plot.x1 - 1);

    // x ticks: as many as fit with room between their labels.
    let mut count = (plot.width() / canvas.px(60.0)).clamp(2, 12) as usize;
    let x_ticks = loop {
        let t = ticks(x_span, count, if integer_x { 1.0 } else { 0.0 });
        let mut widest = 0;
        for label in &t.labels {
            widest = widest.max(canvas.text_width(label, size::TICK)?);
        }
        let needed = (widest + 3 * gap) * t.values.len() as i32;
        if needed <= plot.width() || count <= 2 {
            break t;
        }
        count -= 1;
    };
    for (value, label) in x_ticks.values.iter().zip(&x_ticks.labels) {
        let px = x.px(*value);
        canvas.vline(px, plot.y0, plot.y1, 1.0, style::GRID)?;
        canvas.text(
            label,
            (px, plot.y1 + gap),
            size::TICK,
            style::TEXT_MUTED,
            (HPos::Center, VPos::Top),
        )?;
    }
    frame.draw_axes(canvas)?;
    frame.draw_x_title(canvas, &chart.x_label)?;

    // Lines and error bars of every series first, then every marker on top.
    let y = frame.y;
    for (i, series) in chart.series.iter().enumerate() {
        let color = style::series_color(i);
        let mut run = Vec::new();
        for point in points(series).chain([None]) {
            match point {
                Some((px, py, _)) => run.push((x.px(px), y.px(py))),
                None => {
                    // A missing value breaks the line rather than bridging it.
                    if run.len() > 1 {
                        canvas.polyline(std::mem::take(&mut run), space::LINE, color)?;
                    }
                    run.clear();
                }
            }
        }
        for (px, py, error) in points(series).flatten() {
            if let Some(e) = error {
                canvas.error_bar(x.px(px), y.px(py + e), y.px(py - e), space::CAP, color)?;
            }
        }
    }
    let marker_room = (plot.width() / canvas.px(8.0)).max(1) as usize;
    for (i, series) in chart.series.iter().enumerate() {
        let finite: Vec<_> = points(series).flatten().collect();
        if finite.len() > marker_room {
            continue; // dense lines read better bare
        }
        let (color, marker) = (style::series_color(i), style::series_marker(i));
        for (px, py, _) in finite {
            canvas.marker(marker, (x.px(px), y.px(py)), space::MARKER, color)?;
        }
    }
    Ok(())
}
