//! Charts drawn with plotters: SVG (text as SVG `<text>`, no font library
//! needed) and PNG (text rasterised from the DejaVu Sans file shipped in
//! `reports/fonts/`). Pure: a chart description in, bytes out, the same bytes
//! for the same chart.
//!
//! The look: white background, light grid, 13–17 px text, Okabe–Ito's
//! colour-blind-safe palette, a legend in its own column at the right.
//! Non-finite values are skipped (a gap in a line, "n/a" for a bar); a chart
//! with none left is [`ChartError::Empty`].

mod bars;
mod canvas;
mod layout;
mod line;
mod png;
mod scale;
mod style;
mod svg;
#[cfg(test)]
mod tests;

use plotters::backend::DrawingBackend;

use canvas::{Canvas, Drawn};

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry (a model, a disturbance).
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
    /// ± error per point (same length as `points`), drawn as error bars.
    pub errors: Option<Vec<f64>>,
}

/// y against x, one line per series: metric vs step per model, or the
/// selfcheck's metric vs disturbance level per disturbance.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x axis label.
    pub x_label: String,
    /// y axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Its label on the x axis (a model).
    pub label: String,
    /// Its height.
    pub value: f64,
    /// ± error (std or half the interval), drawn as an error bar.
    pub error: Option<f64>,
}

/// One bar per model, with error bars.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title above the plot.
    pub title: String,
    /// y axis label.
    pub y_label: String,
    /// The bars, in display order.
    pub bars: Vec<Bar>,
}

/// Groups of bars: one group per category (precision, recall, density,
/// coverage), one bar per model in each.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBarChart {
    /// Title above the plot.
    pub title: String,
    /// y axis label.
    pub y_label: String,
    /// The categories along x.
    pub categories: Vec<String>,
    /// (model, one value per category).
    pub groups: Vec<(String, Vec<f64>)>,
}

/// Any chart the reports draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Lines.
    Line(LineChart),
    /// Bars with error bars.
    Bar(BarChart),
    /// Grouped bars.
    GroupedBar(GroupedBarChart),
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed.
    #[error("drawing the chart `{title}` failed: {message}")]
    Draw {
        /// The chart.
        title: String,
        /// plotters' message.
        message: String,
    },
    /// Nothing to draw.
    #[error("the chart `{0}` has no finite values to draw")]
    Empty(String),
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(c) => &c.title,
            Chart::Bar(c) => &c.title,
            Chart::GroupedBar(c) => &c.title,
        }
    }

    /// The chart as a standalone SVG document of `width`×`height` pixels.
    ///
    /// Text is SVG `<text>` in the viewer's `sans-serif`; labels are laid
    /// out with DejaVu Sans' metrics, which are wider than most sans-serif
    /// faces, so they fit.
    pub fn to_svg(&self, width: u32, height: u32) -> Result<String, ChartError> {
        self.check(width, height)?;
        svg::render(self, width, height).map_err(|message| self.draw_error(message))
    }

    /// The chart as a PNG image of `width`×`height` pixels (8-bit RGB).
    pub fn to_png(&self, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
        self.check(width, height)?;
        png::render(self, width, height).map_err(|message| self.draw_error(message))
    }

    /// The largest width or height drawn.
    const MAX_SIDE: u32 = 8192;

    /// Refuses a chart with nothing finite to draw or an unusable size, and
    /// makes sure the font is registered.
    fn check(&self, width: u32, height: u32) -> Result<(), ChartError> {
        let has_data = match self {
            Chart::Line(c) => line::has_data(c),
            Chart::Bar(c) => bars::bar_has_data(c),
            Chart::GroupedBar(c) => bars::grouped_has_data(c),
        };
        if !has_data {
            return Err(ChartError::Empty(self.title().to_owned()));
        }
        if !(1..=Self::MAX_SIDE).contains(&width) || !(1..=Self::MAX_SIDE).contains(&height) {
            return Err(self.draw_error(format!(
                "{width}×{height} pixels is not a chart size: each side must be 1 to {}",
                Self::MAX_SIDE
            )));
        }
        style::ensure_font().map_err(|message| self.draw_error(message))
    }

    fn draw_error(&self, message: String) -> ChartError {
        ChartError::Draw {
            title: self.title().to_owned(),
            message,
        }
    }
}

/// Draws any chart on any plotters backend.
fn draw<DB: DrawingBackend>(chart: &Chart, canvas: &Canvas<DB>) -> Drawn {
    match chart {
        Chart::Line(c) => line::draw(c, canvas),
        Chart::Bar(c) => bars::draw_bars(c, canvas),
        Chart::GroupedBar(c) => bars::draw_grouped(c, canvas),
    }
}
