//! Sample images shown with a report: a grid of thumbnails per image side
//! of the records, and `nn`'s possible copies (generated | nearest real) and
//! outliers. Plain data, as the rest of [`Report`](super::Report): this
//! crate knows records, not image files, so the caller (`geneval report`)
//! finds, decodes and shrinks the images and hands the JPEG bytes over;
//! the HTML renderer embeds them as `data:` URIs, the other formats leave
//! them out.

/// A JPEG embedded as a `data:` URI costs this many bytes of the page
/// before its base64 text: `data:image/jpeg;base64,`.
pub const DATA_URI_PREFIX: &str = "data:image/jpeg;base64,";

/// The bytes a JPEG of `jpeg_len` bytes takes in the page as a `data:` URI
/// (base64 with padding: 4 characters per 3 bytes, rounded up). Budgets
/// are counted in these, not in JPEG bytes, because the page is what has
/// to stay small.
pub fn embedded_len(jpeg_len: usize) -> usize {
    DATA_URI_PREFIX.len() + jpeg_len.div_ceil(3) * 4
}

/// One small image, or why it is not there.
#[derive(Debug, Clone, PartialEq)]
pub enum Thumbnail {
    /// A JPEG to embed.
    Jpeg {
        /// The image's path as the record names it (shown on hover).
        name: String,
        /// Width of the JPEG in pixels.
        width: u32,
        /// Height of the JPEG in pixels.
        height: u32,
        /// The JPEG file's bytes.
        bytes: Vec<u8>,
    },
    /// An image that could not be shown (moved, deleted, undecodable): a
    /// placeholder keeps the grid's positions, so two grids of the same
    /// file names still line up.
    Missing {
        /// The image's path as the record names it.
        name: String,
        /// Why: `not found`, the decoder's message.
        reason: String,
    },
}

impl Thumbnail {
    /// The image's path as the record names it.
    pub fn name(&self) -> &str {
        match self {
            Thumbnail::Jpeg { name, .. } | Thumbnail::Missing { name, .. } => name,
        }
    }

    /// Bytes this thumbnail adds to the page as a `data:` URI (0 for a
    /// placeholder).
    pub fn embedded_len(&self) -> usize {
        match self {
            Thumbnail::Jpeg { bytes, .. } => embedded_len(bytes.len()),
            Thumbnail::Missing { .. } => 0,
        }
    }
}

/// One cell of a section: one thumbnail (a grid, an outlier) or two (a
/// possible copy: generated, then its nearest real image), with a caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// The images, left to right.
    pub images: Vec<Thumbnail>,
    /// Under the images: a file name, a distance.
    pub caption: String,
}

/// What a section shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// A seeded draw of a side's images.
    Grid,
    /// `nn`'s possible copies: generated | nearest real, with the distance.
    Copies,
    /// `nn`'s outliers: the generated images farthest from every real one.
    Outliers,
}

/// A block of thumbnails with its title and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSection {
    /// What it shows.
    pub kind: SampleKind,
    /// `fake/`, `possible copies: fake/ vs real/`.
    pub title: String,
    /// The records it belongs to (`fid · model=a · step=1000`).
    pub used_by: Vec<String>,
    /// The tiles, in display order.
    pub tiles: Vec<Tile>,
    /// What the reader should know: images missing, fewer shown than drawn
    /// because of the budget, the folder changed since the record.
    pub notes: Vec<String>,
}

/// Every sample image of a report, and the page budget they were held to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// The sections, in record order.
    pub sections: Vec<SampleSection>,
    /// What the page says about all of them: how the draw is made, the
    /// budget, why there are none.
    pub notes: Vec<String>,
    /// The most bytes of `data:` URIs the page may hold.
    pub budget_bytes: usize,
}

impl Samples {
    /// Bytes of `data:` URIs the thumbnails add to the page.
    pub fn embedded_len(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.tiles)
            .flat_map(|t| &t.images)
            .map(Thumbnail::embedded_len)
            .sum()
    }

    /// How many thumbnails are embedded (placeholders not counted).
    pub fn thumbnail_count(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.tiles)
            .flat_map(|t| &t.images)
            .filter(|i| matches!(i, Thumbnail::Jpeg { .. }))
            .count()
    }

    /// Whether there is nothing to show, not even a note.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty() && self.notes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_length_is_the_base64_data_uri_length() {
        assert_eq!(embedded_len(0), DATA_URI_PREFIX.len());
        assert_eq!(embedded_len(1), DATA_URI_PREFIX.len() + 4);
        assert_eq!(embedded_len(3), DATA_URI_PREFIX.len() + 4);
        assert_eq!(embedded_len(4), DATA_URI_PREFIX.len() + 8);
        let thumb = Thumbnail::Jpeg {
            name: "a.png".into(),
            width: 1,
            height: 1,
            bytes: vec![0; 300],
        };
        assert_eq!(thumb.embedded_len(), DATA_URI_PREFIX.len() + 400);
        let missing = Thumbnail::Missing {
            name: "b.png".into(),
            reason: "not found".into(),
        };
        assert_eq!(missing.embedded_len(), 0);
        let samples = Samples {
            sections: vec![SampleSection {
                kind: SampleKind::Grid,
                title: "fake".into(),
                used_by: Vec::new(),
                tiles: vec![Tile {
                    images: vec![thumb, missing],
                    caption: String::new(),
                }],
                notes: Vec::new(),
            }],
            notes: Vec::new(),
            budget_bytes: 1000,
        };
        assert_eq!(samples.embedded_len(), DATA_URI_PREFIX.len() + 400);
        assert_eq!(samples.thumbnail_count(), 1);
    }
}
