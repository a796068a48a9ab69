//! Errors of reading and writing geneval's inputs and outputs, each naming
//! the file and what to do about it.

use std::path::PathBuf;

/// Why an input file could not be used (or an output not written).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An `.npz` file is not a readable zip archive (truncated, or another format).
    #[error("{path} is not a readable .npz archive ({reason})")]
    NotNpz {
        /// The file.
        path: PathBuf,
        /// The zip reader's complaint.
        reason: String,
    },
    /// A required array is missing from an `.npz` file.
    #[error("{path} has no array named '{key}' (it has: {present})")]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The missing array's name.
        key: String,
        /// The arrays the file does have.
        present: String,
    },
    /// An array could not be parsed (bad header, unsupported dtype, short data).
    #[error("{path}: array '{key}' cannot be read: {reason}")]
    BadArray {
        /// The file.
        path: PathBuf,
        /// The array's name (the file name for a plain `.npy`).
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// An array's header declares more data than the file (or `.npz` member)
    /// holds: refused before memory is reserved for it.
    #[error(
        "{path}: array '{key}' declares shape {shape:?} of {descr} ({}), but only {present} bytes follow its header",
        match declared { Some(n) => format!("{n} bytes"), None => "more than 2^64 bytes".to_owned() }
    )]
    DeclaredTooLarge {
        /// The file.
        path: PathBuf,
        /// The array's name (the file name for a plain `.npy`).
        key: String,
        /// The shape the header declares.
        shape: Vec<usize>,
        /// The dtype descriptor (`<f8`).
        descr: String,
        /// Bytes the shape needs (`None`: over 2^64).
        declared: Option<u64>,
        /// Bytes present after the header.
        present: u64,
    },
    /// An array of a statistics file is larger than geneval accepts.
    #[error(
        "{path}: array '{key}' declares shape {shape:?} ({}), over the limit of {limit} bytes for one array of a statistics file",
        match declared { Some(n) => format!("{n} bytes"), None => "more than 2^64 bytes".to_owned() }
    )]
    OverLimit {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape the header declares.
        shape: Vec<usize>,
        /// Bytes the shape needs (`None`: over 2^64).
        declared: Option<u64>,
        /// The limit in force.
        limit: u64,
    },
    /// A features (or logits) matrix with no rows or no columns.
    #[error("{path}: array '{key}' has shape {shape:?}, which holds no values")]
    EmptyArray {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape found.
        shape: Vec<usize>,
    },
    /// A path that must be a regular file is a FIFO, a device, a socket or a folder.
    #[error("{path} is {kind}, not a regular file")]
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is, in words ("a FIFO (named pipe)").
        kind: &'static str,
    },
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
    /// An array has the wrong number of dimensions or the wrong shape.
    #[error("{path}: array '{key}' has shape {found:?}, expected {expected}")]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The array's name.
        key: String,
        /// The shape found.
        found: Vec<usize>,
        /// The shape expected, in words.
        expected: String,
    },
    /// The content is well-formed but its values are unusable.
    #[error("{path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The statistics core's reason (NaN, too few samples, ...).
        source: geneval_metrics::MetricsError,
    },
    /// The file's kind is not one geneval reads here.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// An output could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A folder or list file given as a side does not exist.
    #[error("{path} does not exist")]
    MissingPath {
        /// The path given.
        path: PathBuf,
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

impl InputError {
    /// What the user can do about it, printed after the error as `hint:`.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Io { .. } => Some("check that the path exists and is readable"),
            Self::NotNpz { .. } => Some(
                "the file may be truncated or not an .npz; regenerate it (np.savez, pytorch-fid --save-stats or geneval stats)",
            ),
            Self::MissingKey { .. } => Some(
                "statistics files need 'mu' and 'sigma' (pytorch-fid format) or geneval's partial-statistics arrays",
            ),
            Self::BadArray { .. } => {
                Some("arrays must be float32 or float64 .npy data written by numpy (np.save / np.savez)")
            }
            Self::WrongShape { .. } => {
                Some("features are N x D (one row per sample); statistics are mu (D) and sigma (D x D)")
            }
            Self::DeclaredTooLarge { .. } => Some(
                "the file is truncated, or its header was not written by numpy; regenerate it (np.save / np.savez)",
            ),
            Self::OverLimit { .. } => Some(
                "statistics of up to 16384 dimensions are accepted (a 2 GiB float64 sigma); a larger header is corrupt or hostile",
            ),
            Self::EmptyArray { .. } => Some(
                "features are N x D with at least one sample (N) and one dimension (D); regenerate the file",
            ),
            Self::NotARegularFile { .. } => Some(
                "give a regular file (a symbolic link to one is fine); devices, FIFOs and sockets are never read",
            ),
            Self::FileTooLarge { .. } => Some(
                "the file is not an image under the pixel limit; remove it, or pass --skip-bad to go on without it",
            ),
            Self::Invalid { .. } => Some("recompute the file from valid features"),
            Self::Unsupported { .. } => {
                Some("give a statistics .npz (mu, sigma), a partial-statistics .npz or a features .npy")
            }
            Self::Write { .. } => Some("check that the output folder exists and is writable"),
            Self::MissingPath { .. } => {
                Some("give a folder of images, a list file as @list.txt, or a statistics/features file")
            }
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
            Self::TooManyPixels { .. } => Some(
                "this guards against decompression bombs (Pillow refuses over 178,956,970 pixels); raise the limit only for files you trust",
            ),
        }
    }
}
