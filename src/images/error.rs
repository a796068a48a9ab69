//! Errors of finding and decoding a side's images, each naming the file (or
//! the list line) and what to do about it.

use std::path::PathBuf;

use crate::fs::read::ReadError;

/// Image errors; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file or folder could not be read as a regular file.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// An image file is larger than any image under the pixel limit can be.
    #[error("{path} is larger than {limit} bytes, more than any image of at most {max_pixels} pixels needs")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The byte limit in force.
        limit: u64,
        /// The pixel limit it is derived from.
        max_pixels: u64,
    },
    /// A folder of images holds no files at all.
    #[error("{path} is an empty folder")]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A folder holds files, but none with an image extension.
    #[error(
        "{path} has no images: none of its {other_files} files ends in .{accepted} (case-insensitive){}{}",
        if *subfolders > 0 { format!("; it has {subfolders} subfolders, not searched without --recursive") } else { String::new() },
        if *special_files > 0 { format!("; {special_files} entries are devices, FIFOs or sockets (or links to them), which are never read") } else { String::new() }
    )]
    NoImages {
        /// The folder.
        path: PathBuf,
        /// How many files it has with other extensions.
        other_files: usize,
        /// Subfolders not searched (0 when searching recursively).
        subfolders: usize,
        /// Devices, FIFOs and sockets skipped.
        special_files: usize,
        /// The accepted extensions, joined by ", .".
        accepted: String,
    },
    /// A list file (`@list.txt`) names no images.
    #[error("{path} lists no images (blank lines and # comments are ignored)")]
    EmptyList {
        /// The list file.
        path: PathBuf,
    },
    /// An entry of a list file does not exist or is not a file.
    #[error("{list}:{line}: {path} {reason}")]
    BadListEntry {
        /// The list file.
        list: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The entry, resolved against the list's folder.
        path: PathBuf,
        /// "does not exist" or "is not a file".
        reason: &'static str,
    },
    /// An image file has no bytes.
    #[error("{path} is empty (0 bytes)")]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A file's content is not an image format geneval decodes.
    #[error("{path} is not an image geneval can read ({reason})")]
    NotAnImage {
        /// The file.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// An image is truncated or corrupt.
    #[error("cannot decode image {path}: {reason}")]
    BadImage {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        reason: String,
    },
    /// An archive side (tar shards, a pixel array, their pattern) cannot be
    /// read as one.
    #[error("{path}: {reason}")]
    BadArchive {
        /// The archive or pattern.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An image has more pixels than the decompression-bomb limit.
    #[error("{path} is {width}x{height} = {pixels} pixels, over the limit of {limit} pixels")]
    TooManyPixels {
        /// The file.
        path: PathBuf,
        /// Width the header claims.
        width: u32,
        /// Height the header claims.
        height: u32,
        /// width × height.
        pixels: u64,
        /// The limit in force.
        limit: u64,
    },
}

impl ImageError {
    /// What the user can do about it, printed after the error as `hint:`.
    pub(crate) fn hint_text(&self) -> Option<&'static str> {
        match self {
            Self::Read(e) => Some(e.hint_text()),
            Self::FileTooLarge { .. } => Some(
                "the file is not an image under the pixel limit; remove it, or pass --skip-bad to go on without it",
            ),
            Self::EmptyFolder { .. } => Some("put images in the folder, or point at the folder that has them"),
            Self::NoImages { subfolders, .. } if *subfolders > 0 => {
                Some("pass --recursive to search subfolders, or point at the folder that holds the images")
            }
            Self::NoImages { .. } => Some(
                "images must end in .bmp, .jpg, .jpeg, .pgm, .png, .ppm, .tif, .tiff or .webp (pytorch-fid's extensions); other files are ignored",
            ),
            Self::EmptyList { .. } => Some("write one image path per line, relative to the list file's folder"),
            Self::BadListEntry { .. } => {
                Some("paths in a list file are relative to the list file's folder; fix or remove the line")
            }
            Self::EmptyFile { .. } | Self::BadImage { .. } => Some(
                "the file is truncated or corrupt: re-export or delete it, or pass --skip-bad to go on without it",
            ),
            Self::NotAnImage { .. } => Some(
                "supported: PNG, JPEG, BMP, PPM/PGM, TIFF, WebP, GIF; remove the file or pass --skip-bad",
            ),
            Self::BadArchive { .. } => Some(
                "archive sides are uncompressed tar shards of images (WebDataset layout, e.g. shard-{000000..000099}.tar) or uint8 N x H x W x 3 arrays saved by np.save / np.savez",
            ),
            Self::TooManyPixels { .. } => Some(
                "this guards against decompression bombs (Pillow refuses over 178,956,970 pixels); raise the limit only for files you trust",
            ),
        }
    }
}

impl crate::diagnostics::Hint for ImageError {
    fn hint(&self) -> Option<std::borrow::Cow<'static, str>> {
        self.hint_text().map(Into::into)
    }
}
