//! What every chart has around its data: background, title, y axis with
//! grid and labels, axis titles, and the legend in its own column at the
//! right, where it never hides data.

use plotters::backend::DrawingBackend;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::RGBColor;

use super::canvas::{Canvas, Drawn, Rect};
use super::scale::{ticks, Linear, Span, Ticks};
use super::style::{self, size, space, Marker};

/// One legend line.
#[derive(Debug, Clone)]
pub(super) struct LegendEntry {
    pub name: String,
    pub color: RGBColor,
    pub key: Key,
}

/// What stands before a legend entry's name.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    /// A short line with the series' marker.
    Line(Marker),
    /// A filled square, as the bars.
    Swatch,
}

/// The regions of a chart, decided before anything but the background and
/// title is drawn.
pub(super) struct Frame {
    /// The data area.
    pub plot: Rect,
    /// The y axis' map from data to pixels.
    pub y: Linear,
    legend_left: i32,
}

/// What a chart asks of its frame.
pub(super) struct FrameSpec<'t> {
    pub title: &'t str,
    pub y_label: &'t str,
    pub y_span: Span,
    /// Device pixels needed under the plot (x tick labels, x title).
    pub bottom: i32,
    pub legend: &'t [LegendEntry],
}

/// The widest a legend column may be: a quarter of the chart, at least
/// 100 CSS pixels.
fn legend_max_width<DB: DrawingBackend>(canvas: &Canvas<DB>) -> i32 {
    (canvas.bounds().width() / 4).max(canvas.px(100.0))
}

/// The width of the key drawn before a legend name.
fn key_width<DB: DrawingBackend>(canvas: &Canvas<DB>) -> i32 {
    canvas.px(24.0)
}

/// The legend column's width, 0 without entries.
fn legend_width<DB: DrawingBackend>(canvas: &Canvas<DB>, entries: &[LegendEntry]) -> Drawn<i32> {
    if entries.is_empty() {
        return Ok(0);
    }
    let mut widest = 0;
    for entry in entries {
        widest = widest.max(canvas.text_width(&entry.name, size::LEGEND)?);
    }
    let chrome = key_width(canvas) + canvas.px(space::GAP);
    Ok((widest + chrome).min(legend_max_width(canvas)))
}

/// The ticks of a y axis `height` device pixels tall: about one per 40 CSS
/// pixels.
fn y_ticks<DB: DrawingBackend>(canvas: &Canvas<DB>, span: Span, height: i32) -> Ticks {
    let count = (f64::from(height) / f64::from(canvas.px(40.0))).floor() as usize;
    ticks(span, count.clamp(3, 11), 0.0)
}

/// Paints the background and title, lays out plot, y axis and legend, and
/// draws the y axis (grid, tick labels, title) and legend. The chart then
/// draws its x axis and data into `plot`.
pub(super) fn draw<DB: DrawingBackend>(canvas: &Canvas<DB>, spec: &FrameSpec) -> Drawn<Frame> {
    let bounds = canvas.bounds();
    canvas.fill(
        (bounds.x0, bounds.y0),
        (bounds.x1, bounds.y1),
        style::BACKGROUND,
    )?;
    let margin = canvas.px(space::MARGIN);
    let gap = canvas.px(space::GAP);

    // Title, centred over the whole chart.
    let mut top = margin;
    if !spec.title.is_empty() {
        let title = canvas.fit(spec.title, size::TITLE, bounds.width() - 2 * margin)?;
        canvas.text(
            &title,
            (bounds.width() / 2, top),
            size::TITLE,
            style::TEXT,
            (HPos::Center, VPos::Top),
        )?;
        top += canvas.line_height(size::TITLE) + canvas.px(10.0);
    } else {
        top += canvas.px(6.0);
    }

    // Legend column at the right.
    let legend_w = legend_width(canvas, spec.legend)?;
    let right = if legend_w > 0 {
        bounds.x1 - margin - legend_w - canvas.px(16.0)
    } else {
        bounds.x1 - margin
    };
    let legend_left = bounds.x1 - margin - legend_w;

    // y axis: ticks first (their labels set the left edge).
    let bottom = bounds.y1 - margin - spec.bottom;
    let y_ticks = y_ticks(canvas, spec.y_span, bottom - top);
    let mut tick_w = 0;
    for label in &y_ticks.labels {
        tick_w = tick_w.max(canvas.text_width(label, size::TICK)?);
    }
    let y_title_h = if spec.y_label.is_empty() {
        0
    } else {
        canvas.line_height(size::AXIS_TITLE) + gap
    };
    let left = margin + y_title_h + tick_w + gap;
    let plot = Rect {
        x0: left,
        y0: top,
        x1: right,
        y1: bottom,
    };
    if plot.width() < canvas.px(40.0) || plot.height() < canvas.px(40.0) {
        return Err(format!(
            "{}×{} pixels leave no room for the plot beside its labels; draw it larger",
            bounds.width(),
            bounds.height()
        ));
    }
    let y = Linear::new(spec.y_span, plot.y1 - 1, plot.y0);

    // Grid and tick labels.
    for (value, label) in y_ticks.values.iter().zip(&y_ticks.labels) {
        let py = y.px(*value);
        canvas.hline(plot.x0, plot.x1, py, 1.0, style::GRID)?;
        canvas.text(
            label,
            (plot.x0 - gap, py),
            size::TICK,
            style::TEXT_MUTED,
            (HPos::Right, VPos::Center),
        )?;
    }
    if !spec.y_label.is_empty() {
        let label = canvas.fit(spec.y_label, size::AXIS_TITLE, plot.height())?;
        canvas.text_up(
            &label,
            (
                margin + canvas.line_height(size::AXIS_TITLE) / 2,
                (plot.y0 + plot.y1) / 2,
            ),
            size::AXIS_TITLE,
            style::TEXT,
            HPos::Center,
        )?;
    }

    let frame = Frame {
        plot,
        y,
        legend_left,
    };
    frame.draw_legend(canvas, spec.legend)?;
    Ok(frame)
}

impl Frame {
    /// The left and bottom axis lines; drawn after the data so bars meet them
    /// cleanly.
    pub fn draw_axes<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn {
        let p = self.plot;
        let t = canvas.px(1.0).max(1);
        canvas.vline(p.x0 - t, p.y0, p.y1, 1.0, style::AXIS)?;
        canvas.hline(p.x0 - t, p.x1, p.y1 - t, 1.0, style::AXIS)
    }

    /// The x axis title, centred under the plot with its baseline near the
    /// bottom margin.
    pub fn draw_x_title<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, label: &str) -> Drawn {
        if label.is_empty() {
            return Ok(());
        }
        let label = canvas.fit(label, size::AXIS_TITLE, self.plot.width())?;
        let bottom = canvas.bounds().y1 - canvas.px(space::MARGIN);
        canvas.text(
            &label,
            ((self.plot.x0 + self.plot.x1) / 2, bottom),
            size::AXIS_TITLE,
            style::TEXT,
            (HPos::Center, VPos::Bottom),
        )
    }

    fn draw_legend<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        entries: &[LegendEntry],
    ) -> Drawn {
        if entries.is_empty() {
            return Ok(());
        }
        let row = canvas.line_height(size::LEGEND) + canvas.px(5.0);
        let fits = (self.plot.height() / row).max(1) as usize;
        let (shown, hidden) = if entries.len() > fits {
            (fits - 1, entries.len() - (fits - 1))
        } else {
            (entries.len(), 0)
        };
        let key_w = key_width(canvas);
        let text_x = self.legend_left + key_w + canvas.px(space::GAP);
        let max_text = legend_max_width(canvas) - (text_x - self.legend_left);
        let mut y = self.plot.y0 + row / 2;
        for entry in &entries[..shown] {
            let (x0, x1) = (self.legend_left, self.legend_left + key_w);
            match entry.key {
                Key::Line(marker) => {
                    canvas.polyline(vec![(x0, y), (x1, y)], space::LINE, entry.color)?;
                    canvas.marker(marker, ((x0 + x1) / 2, y), space::MARKER, entry.color)?;
                }
                Key::Swatch => {
                    let h = canvas.px(6.0);
                    let cx = (x0 + x1) / 2;
                    canvas.fill((cx - h, y - h), (cx + h, y + h), entry.color)?;
                }
            }
            let name = canvas.fit(&entry.name, size::LEGEND, max_text)?;
            canvas.text(
                &name,
                (text_x, y),
                size::LEGEND,
                style::TEXT,
                (HPos::Left, VPos::Center),
            )?;
            y += row;
        }
        if hidden > 0 {
            canvas.text(
                &format!("+{hidden} more"),
                (text_x, y),
                size::LEGEND,
                style::TEXT_MUTED,
                (HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }
}
