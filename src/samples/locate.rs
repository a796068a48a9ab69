//! Where the images a record names are now.
//!
//! Records keep paths as the measuring command was given them, so a
//! relative path is relative to the folder that command ran in, which the
//! record does not say. The report looks in two places, in order: the
//! current folder (reports are usually made where the runs were), then the
//! folder of the records file (a results folder moved with its images, or
//! records written by `geneval gate`, whose runs start in the config's
//! folder). An absolute path is looked up as it is. Whatever is not found
//! becomes a note in the page, never an error.

use std::path::{Path, PathBuf};

use crate::images::archive;
use crate::images::discover::{discover, list_file_path, DiscoverOptions};
use crate::images::ImageError;

/// The folders a relative path is tried against, in order: the current
/// folder (as `""`, so found paths stay as short as the record's), then the
/// records file's folder when it differs.
pub fn bases(records_file: Option<&Path>) -> Vec<PathBuf> {
    let mut bases = vec![PathBuf::new()];
    if let Some(folder) = records_file.and_then(Path::parent) {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        let same = match (std::fs::canonicalize(folder), std::env::current_dir()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            bases.push(folder.to_owned());
        }
    }
    bases
}

/// The records file of a record's `source` (`path:line`).
pub fn records_file(source: &str) -> Option<PathBuf> {
    match source.rsplit_once(':') {
        Some((path, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
            Some(PathBuf::from(path))
        }
        _ if !source.is_empty() => Some(PathBuf::from(source)),
        _ => None,
    }
}

/// `recorded` under `base`, keeping a list file's `@`.
fn under(base: &Path, recorded: &str) -> PathBuf {
    match recorded.strip_prefix('@') {
        Some(list) if Path::new(list).is_relative() => {
            let mut joined = std::ffi::OsString::from("@");
            joined.push(base.join(list));
            PathBuf::from(joined)
        }
        Some(_) => PathBuf::from(recorded),
        None => base.join(recorded),
    }
}

/// A side found again: where, and its images in list order.
#[derive(Debug)]
pub struct FoundSide {
    /// The side as found (`@` kept for a list file).
    pub side: PathBuf,
    /// Its images, sorted as the measuring command listed them.
    pub images: Vec<PathBuf>,
    /// The folder image paths are made relative to for the draw: the
    /// folder itself, a list file's folder, an archive's folder.
    pub root: PathBuf,
}

/// Lists the side a record names, looking under each of `bases`; `Err`
/// says why not, with every place looked in. Folders are listed as the
/// metric commands list them without `--recursive`: records do not say
/// whether it was given, and searching subfolders on a guess would let a
/// record naming `/` walk the whole file system. A side measured with
/// `--recursive` whose top level has no images gets a note instead.
pub fn find_side(recorded: &str, bases: &[PathBuf]) -> Result<FoundSide, String> {
    let mut tried = Vec::new();
    let mut first_error: Option<ImageError> = None;
    let absolute = Path::new(recorded.trim_start_matches('@')).is_absolute();
    for base in bases.iter().take(if absolute { 1 } else { bases.len() }) {
        let side = under(base, recorded);
        match discover(&side, DiscoverOptions { recursive: false }) {
            Ok(images) => {
                let root = match list_file_path(&side) {
                    Some(list) => list.parent().map(Path::to_owned).unwrap_or_default(),
                    None if archive::is_archive_side(&side) => {
                        side.parent().map(Path::to_owned).unwrap_or_default()
                    }
                    None => side.clone(),
                };
                return Ok(FoundSide { side, images, root });
            }
            Err(e) => {
                tried.push(display_place(&side));
                first_error.get_or_insert(e);
            }
        }
    }
    let error = match first_error {
        Some(e @ ImageError::NoImages { subfolders, .. }) if subfolders > 0 => {
            format!("{e} (a side measured with --recursive: the report does not search subfolders)")
        }
        Some(e) => e.to_string(),
        None => String::new(),
    };
    Err(format!(
        "images of `{recorded}` not found (looked at {}): moved or deleted since the record was written? ({error})",
        tried.join(", ")
    ))
}

/// A path for a note: absolute when it can be made so, to say where the
/// report looked.
fn display_place(path: &Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix('@') {
        Some(list) => format!("@{}", absolute(Path::new(list)).display()),
        None => absolute(path).display().to_string(),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// One image a record names (`nn`'s copies and outliers), under the first
/// of `bases` where it exists as a file or as a member of an archive
/// listed in this process; `None` when it is nowhere.
pub fn find_image(recorded: &str, bases: &[PathBuf]) -> Option<PathBuf> {
    let absolute = Path::new(recorded).is_absolute();
    bases
        .iter()
        .take(if absolute { 1 } else { bases.len() })
        .map(|base| base.join(recorded))
        .find(|p| p.is_file() || archive::member_stat(p).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_file_of_a_source() {
        assert_eq!(
            records_file("results/runs.jsonl:12"),
            Some(PathBuf::from("results/runs.jsonl"))
        );
        assert_eq!(
            records_file("C:/x/r.json"),
            Some(PathBuf::from("C:/x/r.json"))
        );
        assert_eq!(records_file(""), None);
    }

    #[test]
    fn a_side_is_found_beside_the_records_when_not_in_the_current_folder() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("geneval-samples-test-side");
        std::fs::create_dir(&images).unwrap();
        let png = image::RgbImage::new(2, 2);
        png.save(images.join("a.png")).unwrap();
        let bases = bases(Some(&dir.path().join("runs.jsonl")));
        assert_eq!(bases.len(), 2);
        let found = find_side("geneval-samples-test-side", &bases).unwrap();
        assert_eq!(found.images, vec![images.join("a.png")]);
        assert_eq!(found.root, images);
        assert_eq!(
            find_image("geneval-samples-test-side/a.png", &bases),
            Some(images.join("a.png"))
        );
        assert_eq!(find_image("geneval-samples-test-side/b.png", &bases), None);
        // A list file, relative to the records' folder too.
        std::fs::write(
            dir.path().join("list.txt"),
            "geneval-samples-test-side/a.png\n",
        )
        .unwrap();
        let listed = find_side("@list.txt", &bases).unwrap();
        assert_eq!(listed.images, vec![images.join("a.png")]);
        assert_eq!(listed.root, dir.path());
    }

    #[test]
    fn subfolders_are_not_searched_on_a_guess() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("side/sub");
        std::fs::create_dir_all(&nested).unwrap();
        image::RgbImage::new(2, 2)
            .save(nested.join("a.png"))
            .unwrap();
        let side = dir.path().join("side");
        let message = find_side(&side.display().to_string(), &bases(None)).unwrap_err();
        assert!(message.contains("does not search subfolders"), "{message}");
    }

    #[test]
    fn a_missing_side_is_a_message_naming_where_it_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let bases = bases(Some(&dir.path().join("runs.jsonl")));
        let message = find_side("gone-geneval-side", &bases).unwrap_err();
        assert!(
            message.contains("`gone-geneval-side` not found"),
            "{message}"
        );
        assert!(
            message.contains(&dir.path().join("gone-geneval-side").display().to_string()),
            "{message}"
        );
    }
}
