//! Deterministic mutations of byte strings (the same seed gives the same
//! inputs), the ones that find bugs in parsers of lengths and headers:
//! bit flips, interesting bytes and integers in both byte orders, chunk
//! insertion/deletion/duplication, splicing, format tokens, huge numbers in
//! ASCII (npy headers, JSON, TOML) and truncation. Zip archives (`.npz`,
//! torch `.pth`) can also be mutated member by member and rezipped, so that
//! the mutation reaches the member's parser instead of the zip CRC check.

use std::io::{Cursor, Read, Write};

/// splitmix64: small, fast, and the same sequence on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_f00d_0000_0001)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A length in `1..=max`, small ones likelier (most bugs need few bytes).
    fn len(&mut self, max: usize) -> usize {
        let max = max.max(1);
        let cap = match self.below(3) {
            0 => 4,
            1 => 32,
            _ => max,
        }
        .min(max);
        1 + self.below(cap)
    }
}

const INTERESTING_BYTES: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x40, 0xfe];

const INTERESTING_U64: [u64; 14] = [
    0,
    1,
    u64::MAX, // -1
    0x7f,
    0xff,
    0x7fff,
    0xffff,
    0x8000_0000,
    0x7fff_ffff,
    0xffff_ffff,
    0x1_0000_0000,
    0x8000_0000_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x0010_0000_0000,
];

const HUGE_NUMBERS: [&str; 22] = [
    "0",
    "1",
    "-1",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "1e308",
    "1e309",
    "-0",
    "0.5",
    "NaN",
    "-9223372036854775809",
];

/// A mutation of `input`: 1, 2, 4 or 8 stacked edits; `other` is another
/// corpus entry for splicing; at most `max_len` bytes come out.
pub fn mutate(
    rng: &mut Rng,
    input: &[u8],
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) -> Vec<u8> {
    let mut data = input.to_vec();
    let rounds = 1 << rng.below(4);
    for _ in 0..rounds {
        mutate_once(rng, &mut data, other, dictionary);
    }
    data.truncate(max_len);
    data
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
    if data.is_empty() {
        let len = rng.len(16);
        data.extend((0..len).map(|_| rng.next_u64() as u8));
        return;
    }
    let n = data.len();
    match rng.below(15) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let bit = rng.below(n * 8);
                data[bit / 8] ^= 1 << (bit % 8);
            }
        }
        1 => data[rng.below(n)] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())],
        2 => data[rng.below(n)] = rng.next_u64() as u8,
        3 | 4 => {
            let width = [2usize, 4, 8][rng.below(3)];
            let mut value = INTERESTING_U64[rng.below(INTERESTING_U64.len())];
            if rng.one_in(4) {
                value = value.wrapping_neg();
            }
            let bytes = if rng.one_in(2) {
                value.to_le_bytes()[..width].to_vec()
            } else {
                value.to_be_bytes()[8 - width..].to_vec()
            };
            overwrite(data, rng.below(n), &bytes);
        }
        5 => {
            // Small arithmetic on a little- or big-endian field.
            let width = [1usize, 2, 4][rng.below(3)];
            let at = rng.below(n);
            if at + width <= n {
                let delta = 1 + rng.below(35) as u32;
                let mut field = [0u8; 4];
                field[..width].copy_from_slice(&data[at..at + width]);
                let big = rng.one_in(2);
                if big {
                    field[..width].reverse();
                }
                let mut v = u32::from_le_bytes(field);
                v = if rng.one_in(2) {
                    v.wrapping_add(delta)
                } else {
                    v.wrapping_sub(delta)
                };
                let mut out = v.to_le_bytes();
                if big {
                    out[..width].reverse();
                }
                data[at..at + width].copy_from_slice(&out[..width]);
            }
        }
        6 => {
            let len = rng.len(64);
            let at = rng.below(n + 1);
            let chunk: Vec<u8> = if rng.one_in(2) {
                vec![rng.next_u64() as u8; len]
            } else {
                (0..len).map(|_| rng.next_u64() as u8).collect()
            };
            data.splice(at..at, chunk);
        }
        7 => {
            let len = rng.len(n);
            let at = rng.below(n - len + 1);
            data.drain(at..at + len);
        }
        8 => {
            // Duplicate a chunk somewhere (repeated records, members, opcodes).
            let len = rng.len(n.min(256));
            let from = rng.below(n - len + 1);
            let chunk = data[from..from + len].to_vec();
            let at = rng.below(n + 1);
            data.splice(at..at, chunk);
        }
        9 => {
            let len = rng.len(n);
            let from = rng.below(n - len + 1);
            let chunk = data[from..from + len].to_vec();
            overwrite(data, rng.below(n), &chunk);
        }
        10 => {
            // Splice: a prefix of this input, a suffix of another.
            if !other.is_empty() {
                let cut = rng.below(n + 1);
                let from = rng.below(other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
        }
        11 => digits(rng, data),
        12 | 13 => {
            if !dictionary.is_empty() {
                let token = dictionary[rng.below(dictionary.len())];
                let at = rng.below(n + 1);
                if rng.one_in(2) {
                    data.splice(at..at, token.iter().copied());
                } else {
                    overwrite(data, at.min(n - 1), token);
                }
            }
        }
        _ => data.truncate(rng.below(n)),
    }
}

/// Writes `bytes` at `at`, growing `data` when they run past its end.
fn overwrite(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let end = at + bytes.len();
    if end > data.len() {
        data.resize(end, 0);
    }
    data[at..end].copy_from_slice(bytes);
}

/// Replaces the run of ASCII digits at or after a random position with a
/// huge, negative, fractional or random number (a shape in an npy header, a
/// JSON count, a TOML threshold).
fn digits(rng: &mut Rng, data: &mut Vec<u8>) {
    let start = rng.below(data.len());
    let Some(offset) = data[start..].iter().position(u8::is_ascii_digit) else {
        return;
    };
    let begin = start + offset;
    let end = begin
        + data[begin..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let number = if rng.one_in(4) {
        let len = 1 + rng.below(40);
        (0..len)
            .map(|_| b'0' + rng.below(10) as u8)
            .collect::<Vec<u8>>()
    } else {
        HUGE_NUMBERS[rng.below(HUGE_NUMBERS.len())]
            .as_bytes()
            .to_vec()
    };
    data.splice(begin..end, number);
}

/// The members of a zip archive (name, bytes), each read up to 4 MiB; `None`
/// when the bytes are not a zip the `zip` crate reads.
pub fn unzip(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut members = Vec::with_capacity(archive.len().min(64));
    for i in 0..archive.len().min(64) {
        let file = archive.by_index(i).ok()?;
        let name = file.name().to_owned();
        let mut data = Vec::new();
        file.take(4 << 20).read_to_end(&mut data).ok()?;
        members.push((name, data));
    }
    Some(members)
}

/// A zip of `members`, stored or deflated; `None` if the writer refuses
/// (a duplicate name).
pub fn rezip(members: &[(String, Vec<u8>)], deflate: bool, align: bool) -> Option<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let mut options = SimpleFileOptions::default().compression_method(method);
    if align {
        // torch aligns its records to 64 bytes.
        options = options.with_alignment(64);
    }
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        writer.start_file(name.as_str(), options).ok()?;
        writer.write_all(data).ok()?;
    }
    writer.finish().ok().map(Cursor::into_inner)
}

/// A member-level mutation of a zip archive: one member's bytes mutated (most
/// often), or its name, or a member dropped, duplicated under a new name or
/// taken from `other`; then rezipped. `None` when `input` is not a zip.
pub fn mutate_zip(
    rng: &mut Rng,
    input: &[u8],
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) -> Option<Vec<u8>> {
    let mut members = unzip(input)?;
    if members.is_empty() {
        return None;
    }
    let i = rng.below(members.len());
    match rng.below(10) {
        0 => {
            let name = mutate(rng, members[i].0.as_bytes(), b"", dictionary, 64);
            members[i].0 = String::from_utf8_lossy(&name).into_owned();
        }
        1 if members.len() > 1 => {
            members.remove(i);
        }
        2 => {
            let copy = (format!("{}x", members[i].0), members[i].1.clone());
            members.push(copy);
        }
        3 => {
            if let Some(theirs) = unzip(other).filter(|m| !m.is_empty()) {
                let j = rng.below(theirs.len());
                members[i].1 = theirs[j].1.clone();
            }
        }
        _ => {
            let data = mutate(rng, &members[i].1, b"", dictionary, max_len);
            members[i].1 = data;
        }
    }
    let out = rezip(&members, rng.one_in(3), rng.one_in(2))?;
    (out.len() <= max_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations() {
        let _serial = crate::alloc::serial();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..200)
                .map(|_| mutate(&mut rng, b"{'shape': (3, 4), }", b"other", &[b"x"], 1024))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn mutations_stay_under_max_len_and_change_things() {
        let _serial = crate::alloc::serial();
        let mut rng = Rng::new(1);
        let input = vec![b'a'; 100];
        let mut changed = 0;
        for _ in 0..1000 {
            let out = mutate(&mut rng, &input, b"zz", &[b"TOKEN"], 120);
            assert!(out.len() <= 120);
            changed += usize::from(out != input);
        }
        assert!(
            changed > 900,
            "only {changed} of 1000 mutations changed the input"
        );
    }

    #[test]
    fn digits_become_other_numbers() {
        let _serial = crate::alloc::serial();
        let mut rng = Rng::new(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut data = b"'shape': (12, 5)".to_vec();
            digits(&mut rng, &mut data);
            seen.insert(data);
        }
        assert!(seen.len() > 20, "{seen:?}");
    }

    #[test]
    fn zip_members_are_mutated_and_rezipped() {
        let _serial = crate::alloc::serial();
        let zip = rezip(
            &[
                ("a.npy".into(), b"hello".to_vec()),
                ("b.npy".into(), b"world".to_vec()),
            ],
            true,
            false,
        )
        .expect("rezip");
        assert_eq!(unzip(&zip).expect("unzip").len(), 2);
        let mut rng = Rng::new(5);
        let mut readable = 0;
        for _ in 0..100 {
            if let Some(out) = mutate_zip(&mut rng, &zip, &zip, &[], 1 << 16) {
                readable += usize::from(unzip(&out).is_some());
            }
        }
        assert!(readable > 90, "{readable} of 100 mutated zips read back");
        assert!(mutate_zip(&mut rng, b"not a zip", b"", &[], 100).is_none());
    }
}
