//! Fuzzing geneval's parsers of untrusted bytes on stable Rust.
//!
//! Every file a user, a download or another tool hands geneval goes through
//! one of the parsers in [`targets`]: feature `.npy`, statistics `.npz` and
//! partial statistics, PyTorch `.pth` (zip and legacy, the pickle machine),
//! images (PNG, JPEG, TIFF, WebP, GIF, BMP, PNM), `tokenizer.json` and
//! `config.json`, JSONL texts and result records, and the gate's TOML. Each
//! must refuse bad bytes with an error naming the file, never panic, abort
//! or hang, and never allocate more than a bound stated per target.
//!
//! [`driver`] checks exactly that, input by input, with a counting global
//! allocator ([`alloc`]) and deterministic mutations ([`mutate`]); the
//! `geneval-fuzz` binary runs it (`scripts/fuzz`). Why a hand-written
//! driver and not cargo-fuzz, AFL or bolero: `docs/fuzzing.md`.

pub mod alloc;
pub mod driver;
pub mod mutate;
pub mod targets;

pub use driver::{execute, Failure};
pub use targets::{Outcome, Target};

/// Every binary and test linking this crate counts its allocations.
#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

#[cfg(test)]
mod tests;
