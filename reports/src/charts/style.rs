//! The look shared by every chart: the font, the palette, text sizes and
//! greys.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle, RGBColor};

/// DejaVu Sans from Debian's fonts-dejavu-core (Bitstream Vera licence, see
/// `reports/fonts/LICENSE-DejaVu.txt`): plotters measures every label with it
/// (SVG and PNG) and rasterises the PNG text with it, so no system font
/// library is needed.
static DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// Registers the embedded font as plotters' `sans-serif`, once per process.
/// Must run before any text is measured or drawn.
pub(super) fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font could not be read".to_owned())
    }
}

/// Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008),
/// ordered so the first colours stay apart for every kind of colour vision;
/// yellow, weak on white, comes last. Series beyond eight cycle.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(64, 64, 64),    // near black
    RGBColor(240, 228, 66),  // yellow
];

/// The colour of series `i`.
pub(super) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The marker of series `i`. Shapes cycle too (a second cue beside colour,
/// for greyscale prints), shifted by one each time the palette wraps, so the
/// first 32 series all differ in colour or shape.
pub(super) fn series_marker(i: usize) -> Marker {
    const SHAPES: [Marker; 4] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
    ];
    SHAPES[(i + i / PALETTE.len()) % SHAPES.len()]
}

/// A point marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// Page background.
pub(super) const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
/// Title and axis titles.
pub(super) const TEXT: RGBColor = RGBColor(34, 34, 34);
/// Tick labels, legend entries, value labels.
pub(super) const TEXT_MUTED: RGBColor = RGBColor(80, 80, 80);
/// Missing values ("n/a").
pub(super) const TEXT_FAINT: RGBColor = RGBColor(150, 150, 150);
/// Grid lines.
pub(super) const GRID: RGBColor = RGBColor(230, 230, 230);
/// The left and bottom axis lines.
pub(super) const AXIS: RGBColor = RGBColor(140, 140, 140);
/// The zero line of bar charts.
pub(super) const ZERO: RGBColor = RGBColor(90, 90, 90);

/// Text sizes in CSS pixels (an SVG's `font-size`).
pub(super) mod size {
    /// The title.
    pub const TITLE: f64 = 17.0;
    /// Axis titles.
    pub const AXIS_TITLE: f64 = 14.0;
    /// Tick labels and category labels.
    pub const TICK: f64 = 13.0;
    /// Legend entries.
    pub const LEGEND: f64 = 13.0;
    /// Values written on bars.
    pub const VALUE: f64 = 12.0;
}

/// Spacing in CSS pixels.
pub(super) mod space {
    /// Around the whole chart.
    pub const MARGIN: f64 = 14.0;
    /// Between a label and what it labels.
    pub const GAP: f64 = 6.0;
    /// Line width of the data lines.
    pub const LINE: f64 = 2.0;
    /// Line width of error bars.
    pub const ERROR: f64 = 1.4;
    /// Half the width of an error bar's cap.
    pub const CAP: f64 = 4.0;
    /// Marker radius.
    pub const MARKER: f64 = 3.5;
}
