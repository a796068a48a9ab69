//! Sample images for `geneval report`'s HTML page: a grid of thumbnails per
//! image side the records name, and `nn`'s possible copies (generated |
//! nearest real) and outliers.
//!
//! `records → jobs → thumbnails within a budget → geneval_reports::Samples`:
//! - [`locate`] finds the sides and images again (the current folder, then
//!   the records file's folder); what is gone becomes a note;
//! - [`draw`] picks up to [`PER_SIDE`] images of a side by a seeded hash of
//!   their names, the same names in every run;
//! - [`thumbnail`] decodes through geneval's decoder, shrinks to
//!   [`thumbnail::LONG_SIDE`] pixels and encodes a JPEG;
//! - the page holds at most [`PAGE_BUDGET_BYTES`] of `data:` URIs: each
//!   section may spend an equal share of what is left, so a report of many
//!   sides shows fewer thumbnails per side (and says so) instead of
//!   growing without bound.
//!
//! A side shown by several records (the real set of every checkpoint) is
//! shown once, with the records that use it.

pub mod draw;
pub mod locate;
pub mod thumbnail;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use geneval_reports::report::{SampleKind, SampleSection, Samples, Thumbnail, Tile};
use geneval_reports::{InputRecord, ResultRecord, SourcedRecord};
use rayon::prelude::*;

/// Thumbnails drawn per image side.
pub const PER_SIDE: usize = 32;

/// The most bytes of embedded images (`data:` URIs) one page holds: 5 MB,
/// which opens instantly and passes as a mail attachment or CI artefact.
/// At 2–4 kB per thumbnail that is well over a thousand thumbnails.
pub const PAGE_BUDGET_BYTES: usize = 5_000_000;

/// How many `used by` lines a side lists before `and N more`.
const USED_BY_SHOWN: usize = 6;

/// How many unreadable images a note names before `and N more`.
const FAILURES_NAMED: usize = 3;

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleOptions {
    /// Thumbnails per image side.
    pub per_side: usize,
    /// The page's budget of embedded bytes.
    pub budget_bytes: usize,
    /// A thumbnail's long side in pixels.
    pub long_side: u32,
    /// The draw's seed.
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            per_side: PER_SIDE,
            budget_bytes: PAGE_BUDGET_BYTES,
            long_side: thumbnail::LONG_SIDE,
            seed: draw::SEED,
        }
    }
}

/// One image to show: its name as the record gives it, and where it was
/// found (or why not).
#[derive(Debug, Clone)]
struct Wanted {
    name: String,
    found: Result<PathBuf, &'static str>,
}

/// One tile to fill: its images, caption and display position.
#[derive(Debug, Clone)]
struct TileSpec {
    images: Vec<Wanted>,
    caption: String,
    position: usize,
}

/// A section to fill: the tiles in the order the budget keeps them (a
/// grid's lowest draw ranks first), and its notes so far.
#[derive(Debug)]
struct Job {
    kind: SampleKind,
    title: String,
    used_by: Vec<String>,
    tiles: Vec<TileSpec>,
    notes: Vec<String>,
    /// What the section is when nothing could be kept for lack of budget.
    what: &'static str,
}

/// `fid · model=a · step=1000 (runs.jsonl:3)`.
fn describe(record: &SourcedRecord) -> String {
    let mut parts = vec![record.record.metric.clone()];
    parts.extend(record.record.labels.iter().map(|(k, v)| format!("{k}={v}")));
    format!("{} ({})", parts.join(" · "), record.source)
}

/// The name an image is drawn by: its path relative to the side's root.
fn draw_key(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The grid job of one side.
fn side_job(
    input: &InputRecord,
    found: &Result<locate::FoundSide, String>,
    options: &SampleOptions,
) -> Job {
    let mut job = Job {
        kind: SampleKind::Grid,
        title: input.path.clone(),
        used_by: Vec::new(),
        tiles: Vec::new(),
        notes: Vec::new(),
        what: "images",
    };
    match found {
        Err(message) => job.notes.push(message.clone()),
        Ok(side) => {
            let keys: Vec<String> = side
                .images
                .iter()
                .map(|p| draw_key(p, &side.root))
                .collect();
            let drawn = draw::draw(&keys, options.per_side, options.seed);
            job.tiles = drawn
                .into_iter()
                .map(|i| TileSpec {
                    images: vec![Wanted {
                        name: side.images[i].display().to_string(),
                        found: Ok(side.images[i].clone()),
                    }],
                    caption: keys[i].clone(),
                    position: i,
                })
                .collect();
            job.notes.push(format!(
                "{} of {} images, drawn by a seeded hash of their names",
                job.tiles.len(),
                side.images.len()
            ));
            if let Some(count) = input.count {
                if count != side.images.len() as u64 {
                    job.notes.push(format!(
                        "{} holds {} images now; the record measured {count}: the side changed since",
                        side.side.display(),
                        side.images.len()
                    ));
                }
            }
        }
    }
    job
}

/// One entry of `nn`'s `possible_copies` or `outliers`.
struct Pair {
    fake: String,
    real: String,
    distance: Option<f64>,
    ratio: Option<f64>,
}

fn pairs(record: &ResultRecord, key: &str) -> Vec<Pair> {
    let Some(entries) = record.settings.get(key).and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            Some(Pair {
                fake: e.get("fake")?.as_str()?.to_owned(),
                real: e.get("real")?.as_str()?.to_owned(),
                distance: e.get("distance").and_then(|d| d.as_f64()),
                ratio: e.get("ratio_to_real_neighbour").and_then(|d| d.as_f64()),
            })
        })
        .collect()
}

/// An image `nn` names, if its side is images and it is found.
fn wanted(name: &str, side_is_images: bool, bases: &[PathBuf]) -> Wanted {
    Wanted {
        name: name.to_owned(),
        found: if side_is_images {
            locate::find_image(name, bases).ok_or("not found")
        } else {
            Err("features, no image")
        },
    }
}

fn file_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// ` · cosine 0.123` for a pair's recorded distance; empty when none.
fn distance_caption(distance: &str, value: Option<f64>) -> String {
    value.map_or_else(String::new, |d| {
        format!(
            " · {distance} {}",
            geneval_reports::format::significant(d, 3)
        )
    })
}

/// The copies and outliers sections of an `nn` (`authpct`) record.
fn nn_jobs(record: &SourcedRecord, bases: &[PathBuf]) -> Vec<Job> {
    let r = &record.record;
    let is_images = |i: usize| r.inputs.get(i).is_some_and(|input| input.kind == "images");
    let (real_side, fake_side) = (
        r.inputs.first().map_or("real", |i| i.path.as_str()),
        r.inputs.get(1).map_or("generated", |i| i.path.as_str()),
    );
    let distance = r
        .settings
        .get("distance")
        .and_then(|d| d.as_str())
        .unwrap_or("euclidean");
    let used_by = vec![describe(record)];
    let mut jobs = Vec::new();

    let copies = pairs(r, "possible_copies");
    let mut job = Job {
        kind: SampleKind::Copies,
        title: format!("Possible copies: {fake_side} (generated | nearest real in {real_side})"),
        used_by: used_by.clone(),
        tiles: Vec::new(),
        notes: Vec::new(),
        what: "pairs",
    };
    for (position, pair) in copies.iter().enumerate() {
        let mut caption = format!("{} ~ {}", file_name(&pair.fake), file_name(&pair.real));
        caption.push_str(&distance_caption(distance, pair.distance));
        if let Some(ratio) = pair.ratio {
            caption.push_str(&format!(
                " · {} of its neighbour",
                geneval_reports::format::significant(ratio, 2)
            ));
        }
        job.tiles.push(TileSpec {
            images: vec![
                wanted(&pair.fake, is_images(1), bases),
                wanted(&pair.real, is_images(0), bases),
            ],
            caption,
            position,
        });
    }
    let found = r.number("copies").map_or(copies.len(), |c| c as usize);
    job.notes.push(match (found, r.settings.get("copy_ratio")) {
        (0, Some(ratio)) => format!("no possible copies: no generated image is closer to a real one than {ratio} of that real image's own nearest real neighbour"),
        (0, None) => "no possible copies".to_owned(),
        (n, _) if n > copies.len() => format!("{n} possible copies; the record lists the closest {} (nn --top)", copies.len()),
        (n, _) => format!("{n} possible copies, closest first"),
    });
    jobs.push(job);

    let outliers = pairs(r, "outliers");
    if !outliers.is_empty() {
        let mut job = Job {
            kind: SampleKind::Outliers,
            title: format!("Outliers: {fake_side} (farthest from every real image)"),
            used_by,
            tiles: Vec::new(),
            notes: vec![format!(
                "{} generated images farthest from their nearest real image, farthest first",
                outliers.len()
            )],
            what: "outliers",
        };
        for (position, pair) in outliers.iter().enumerate() {
            let caption =
                file_name(&pair.fake).to_owned() + &distance_caption(distance, pair.distance);
            job.tiles.push(TileSpec {
                images: vec![wanted(&pair.fake, is_images(1), bases)],
                caption,
                position,
            });
        }
        jobs.push(job);
    }
    jobs
}

/// The sections to fill, in record order; each side once.
fn jobs(records: &[SourcedRecord], options: &SampleOptions) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut side_jobs: HashMap<String, usize> = HashMap::new();
    let mut found_sides: HashMap<(String, Vec<PathBuf>), String> = HashMap::new();
    for record in records {
        let bases = locate::bases(locate::records_file(&record.source).as_deref());
        for input in record.record.inputs.iter().filter(|i| i.kind == "images") {
            let lookup = (input.path.clone(), bases.clone());
            let key = match found_sides.get(&lookup) {
                Some(key) => key.clone(),
                None => {
                    let found = locate::find_side(&input.path, &bases);
                    // One section per side however it is spelled.
                    let key = match &found {
                        Ok(side) => {
                            let text = side.side.display().to_string();
                            let plain = text.trim_start_matches('@');
                            let canonical = std::fs::canonicalize(plain)
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|_| plain.to_owned());
                            format!(
                                "{}{canonical}",
                                if text.starts_with('@') { "@" } else { "" }
                            )
                        }
                        Err(_) => format!("missing:{}", input.path),
                    };
                    if !side_jobs.contains_key(&key) {
                        side_jobs.insert(key.clone(), jobs.len());
                        jobs.push(side_job(input, &found, options));
                    }
                    found_sides.insert(lookup, key.clone());
                    key
                }
            };
            let used_by = &mut jobs[side_jobs[&key]].used_by;
            let line = describe(record);
            if !used_by.contains(&line) {
                used_by.push(line);
            }
        }
        if record.record.metric == "authpct" {
            jobs.extend(nn_jobs(record, &bases));
        }
    }
    for job in &mut jobs {
        if job.used_by.len() > USED_BY_SHOWN {
            let more = job.used_by.len() - USED_BY_SHOWN;
            job.used_by.truncate(USED_BY_SHOWN);
            job.used_by.push(format!("and {more} more records"));
        }
    }
    jobs
}

/// A tile made: its thumbnails and the failures to report.
fn make_tile(spec: &TileSpec, long_side: u32) -> (Tile, Vec<String>) {
    let mut failures = Vec::new();
    let images = spec
        .images
        .iter()
        .map(|w| match &w.found {
            Err(reason) => {
                failures.push(format!("{}: {reason}", w.name));
                Thumbnail::Missing {
                    name: w.name.clone(),
                    reason: (*reason).to_owned(),
                }
            }
            Ok(path) => match thumbnail::thumbnail(path, long_side) {
                Ok(jpeg) => Thumbnail::Jpeg {
                    name: w.name.clone(),
                    width: jpeg.width,
                    height: jpeg.height,
                    bytes: jpeg.bytes,
                },
                Err(e) => {
                    failures.push(e.to_string());
                    Thumbnail::Missing {
                        name: w.name.clone(),
                        reason: e.short().to_owned(),
                    }
                }
            },
        })
        .collect();
    (
        Tile {
            images,
            caption: spec.caption.clone(),
        },
        failures,
    )
}

/// Fills a job's tiles while they fit in `share` bytes; returns the
/// section and the bytes it used.
fn fill(
    job: Job,
    share: usize,
    options: &SampleOptions,
    budget_note: &str,
) -> (SampleSection, usize) {
    let mut kept: Vec<(usize, Tile)> = Vec::new();
    let mut failures = Vec::new();
    let mut used = 0;
    let mut full = false;
    // Tiles in parallel chunks; a chunk's tiles are kept in draw order
    // while they fit, so the kept ones are the same on every run.
    let chunk = rayon::current_num_threads().clamp(2, 16);
    'chunks: for specs in job.tiles.chunks(chunk) {
        let made: Vec<(Tile, Vec<String>)> = specs
            .par_iter()
            .map(|spec| make_tile(spec, options.long_side))
            .collect();
        for (spec, (tile, mut failed)) in specs.iter().zip(made) {
            let cost: usize = tile.images.iter().map(Thumbnail::embedded_len).sum();
            if used + cost > share {
                full = true;
                break 'chunks;
            }
            used += cost;
            failures.append(&mut failed);
            kept.push((spec.position, tile));
        }
    }
    kept.sort_by_key(|(position, _)| *position);
    let mut notes = job.notes;
    if full {
        notes.push(format!(
            "{} of {} {} shown: {budget_note}",
            kept.len(),
            job.tiles.len(),
            job.what
        ));
    }
    if !failures.is_empty() {
        let named = failures
            .iter()
            .take(FAILURES_NAMED)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = failures.len().saturating_sub(FAILURES_NAMED);
        notes.push(format!(
            "{} image{} could not be shown: {named}{}",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" },
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ));
    }
    (
        SampleSection {
            kind: job.kind,
            title: job.title,
            used_by: job.used_by,
            tiles: kept.into_iter().map(|(_, tile)| tile).collect(),
            notes,
        },
        used,
    )
}

/// `5 MB`, `300 kB`, `812 B`.
fn bytes_text(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else if bytes >= 1_000 {
        format!("{:.0} kB", bytes as f64 / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// The sample images of `records`, within `options.budget_bytes`.
pub fn collect(records: &[SourcedRecord], options: &SampleOptions) -> Samples {
    let jobs = jobs(records, options);
    let mut samples = Samples {
        sections: Vec::new(),
        notes: Vec::new(),
        budget_bytes: options.budget_bytes,
    };
    if jobs.is_empty() {
        return samples;
    }
    let budget_note = format!(
        "the page's budget of {} of embedded images is shared by its {} sections",
        bytes_text(options.budget_bytes),
        jobs.len()
    );
    let mut remaining = options.budget_bytes;
    let count = jobs.len();
    for (i, job) in jobs.into_iter().enumerate() {
        let share = remaining / (count - i);
        let (section, used) = fill(job, share, options, &budget_note);
        remaining -= used;
        samples.sections.push(section);
    }
    debug_assert!(samples.embedded_len() <= options.budget_bytes);
    samples.notes.push(format!(
        "Up to {} thumbnails per image side, drawn by a seeded hash of each file's path within its side: the same names are drawn in every report, so grids of sides whose files are named alike (checkpoints) line up image for image. JPEG, at most {} px on the long side, embedded in the page: {} thumbnails, {} of the page's budget of {} (geneval report --no-images leaves them out).",
        options.per_side,
        options.long_side,
        samples.thumbnail_count(),
        bytes_text(samples.embedded_len()),
        bytes_text(options.budget_bytes),
    ));
    samples
}

#[cfg(test)]
mod tests;
