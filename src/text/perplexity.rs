//! Perplexity: negative log-likelihood sums over tokens, and the numbers
//! derived from them.
//!
//! Log-softmax is taken in f64 from the model's f32 logits and summed in f64.

use ndarray::ArrayView1;
use serde::Serialize;

use super::{LmSession, TextError};

/// A negative log-likelihood sum with the counts that normalise it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Perplexity {
    /// Tokens scored (each predicted from the tokens before it).
    pub tokens: u64,
    /// Σ −ln p(token | context) over the scored tokens, in nats.
    pub nll_sum: f64,
    /// UTF-8 bytes of the text.
    pub bytes: u64,
    /// Words of the text, as [`count_words`].
    pub words: u64,
}

impl Perplexity {
    /// exp(nll_sum / tokens).
    pub fn perplexity(&self) -> f64 {
        (self.nll_sum / self.tokens as f64).exp()
    }

    /// nll_sum / (bytes · ln 2), lm-evaluation-harness's `bits_per_byte`.
    pub fn bits_per_byte(&self) -> f64 {
        self.nll_sum / (self.bytes as f64 * std::f64::consts::LN_2)
    }

    /// exp(nll_sum / words), lm-evaluation-harness's `word_perplexity`.
    pub fn word_perplexity(&self) -> f64 {
        (self.nll_sum / self.words as f64).exp()
    }
}

/// Words as lm-evaluation-harness counts them: `len(re.split(r"\s+", text))`
/// (so leading or trailing whitespace adds an empty word, as in Python).
pub fn count_words(text: &str) -> u64 {
    // Python's `\s` on str: Unicode whitespace plus the separators U+001C..U+001F.
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let mut words = 1;
    let mut in_space = false;
    for c in text.chars() {
        let space = is_space(c);
        if space && !in_space {
            words += 1;
        }
        in_space = space;
    }
    words
}

/// `bytes` as text; an error naming `source_name` and the offset of the first
/// invalid byte when they are not UTF-8, or when they are empty.
pub fn text_from_bytes<'a>(bytes: &'a [u8], source_name: &str) -> Result<&'a str, TextError> {
    let text = std::str::from_utf8(bytes).map_err(|e| TextError::NotUtf8 {
        source_name: source_name.to_owned(),
        offset: e.valid_up_to(),
    })?;
    if text.is_empty() {
        return Err(TextError::TooShort {
            what: source_name.to_owned(),
            tokens: 0,
            needed: 2,
        });
    }
    Ok(text)
}

/// −ln softmax(logits)[target], in f64.
fn token_nll(logits: ArrayView1<'_, f32>, target: usize) -> f64 {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    max + sum.ln() - logits[target] as f64
}

fn check_ids(ids: &[u32], vocab: usize, lm: &LmSession) -> Result<(), TextError> {
    match ids.iter().find(|&&id| id as usize >= vocab) {
        Some(&id) => Err(TextError::VocabMismatch {
            path: lm.path().to_owned(),
            tokenizer_vocab: id as usize + 1,
            model_vocab: vocab,
        }),
        None => Ok(()),
    }
}

/// Sliding-window settings of the transformers guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Windows {
    /// Tokens per window (the model's context, at most).
    pub max_length: usize,
    /// How far each window moves.
    pub stride: usize,
}

/// The NLL of a token stream as transformers' guide "Perplexity of
/// fixed-length models" scores it: windows `[begin, end)` with `begin` in
/// `0, stride, 2·stride, …` and `end = min(begin + max_length, n)`; a window
/// scores the tokens from `max(begin + 1, prev_end)` to `end`, each predicted
/// from the window's tokens before it (labels −100 on tokens an earlier
/// window scored, and the model's label shift); it stops at the window that
/// reaches the end. The sum is exact over tokens (the guide's own
/// `loss × (valid − 1)` differs slightly when `stride < max_length`).
///
/// `text` gives the byte and word counts.
pub fn corpus_nll(
    lm: &mut LmSession,
    ids: &[u32],
    text: &str,
    windows: Windows,
) -> Result<Perplexity, TextError> {
    let Windows { max_length, stride } = windows;
    if max_length < 2 || stride == 0 {
        return Err(TextError::InvalidArgument(format!(
            "max_length must be at least 2 and stride at least 1 (got {max_length}, {stride})"
        )));
    }
    let n = ids.len();
    if n < 2 {
        return Err(TextError::TooShort {
            what: "the corpus".into(),
            tokens: n,
            needed: 2,
        });
    }
    if let Some(vocab) = lm.declared_vocab() {
        check_ids(ids, vocab, lm)?;
    }
    let mut nll_sum = 0.0;
    let mut tokens = 0u64;
    let mut prev_end = 0;
    let mut begin = 0;
    while begin < n {
        let end = (begin + max_length).min(n);
        let len = end - begin;
        let window: Vec<i64> = ids[begin..end].iter().map(|&id| id as i64).collect();
        let logits = lm.logits(&window, &vec![1; len], 1, len)?;
        let vocab = logits.shape()[2];
        check_ids(&ids[begin..end], vocab, lm)?;
        let first = (begin + 1).max(prev_end);
        for (t, &id) in ids.iter().enumerate().take(end).skip(first) {
            let row = logits.slice(ndarray::s![0, t - 1 - begin, ..]);
            nll_sum += token_nll(row, id as usize);
            tokens += 1;
        }
        prev_end = end;
        if end == n {
            break;
        }
        begin += stride;
    }
    Ok(Perplexity {
        tokens,
        nll_sum,
        bytes: text.len() as u64,
        words: count_words(text),
    })
}

/// Settings of [`per_text_nll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerTextOptions {
    /// Prepend this id (the BOS token) so the first token is scored too
    /// (`evaluate`'s `add_start_token=True`); `None` scores from the second token.
    pub start_token: Option<u32>,
    /// Texts per model run; does not change the values.
    pub batch_size: usize,
    /// Keep at most this many tokens per sequence, start token included
    /// (`evaluate`'s `max_length`); `None` keeps all.
    pub max_length: Option<usize>,
}

/// One NLL per text, as Hugging Face `evaluate`'s `perplexity` metric: each
/// text on its own (optionally after a start token), right-padded within a
/// batch and masked, every token after the first scored.
///
/// `encoded[i]` are the ids of `texts[i]`.
pub fn per_text_nll(
    lm: &mut LmSession,
    texts: &[&str],
    encoded: &[Vec<u32>],
    options: PerTextOptions,
) -> Result<Vec<Perplexity>, TextError> {
    if options.batch_size == 0 {
        return Err(TextError::InvalidArgument(
            "batch size must be at least 1".into(),
        ));
    }
    if texts.len() != encoded.len() {
        return Err(TextError::InvalidArgument(
            "one id list per text expected".into(),
        ));
    }
    let sequences: Vec<Vec<u32>> = encoded
        .iter()
        .map(|ids| {
            let mut seq: Vec<u32> = options.start_token.into_iter().collect();
            seq.extend_from_slice(ids);
            if let Some(max) = options.max_length {
                seq.truncate(max);
            }
            seq
        })
        .collect();
    for (i, seq) in sequences.iter().enumerate() {
        if seq.len() < 2 {
            let start = usize::from(options.start_token.is_some());
            return Err(TextError::TooShort {
                what: format!("text {i}"),
                tokens: seq.len() - start.min(seq.len()),
                needed: 2 - start,
            });
        }
    }
    if let Some(vocab) = lm.declared_vocab() {
        for seq in &sequences {
            check_ids(seq, vocab, lm)?;
        }
    }
    let mut results = Vec::with_capacity(texts.len());
    for (chunk_index, chunk) in sequences.chunks(options.batch_size).enumerate() {
        let batch = chunk.len();
        let len = chunk.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = vec![0i64; batch * len];
        let mut mask = vec![0i64; batch * len];
        for (row, seq) in chunk.iter().enumerate() {
            for (t, &id) in seq.iter().enumerate() {
                ids[row * len + t] = id as i64;
                mask[row * len + t] = 1;
            }
        }
        let logits = lm.logits(&ids, &mask, batch, len)?;
        let vocab = logits.shape()[2];
        for (row, seq) in chunk.iter().enumerate() {
            check_ids(seq, vocab, lm)?;
            let mut nll_sum = 0.0;
            for (t, &id) in seq.iter().enumerate().skip(1) {
                nll_sum += token_nll(logits.slice(ndarray::s![row, t - 1, ..]), id as usize);
            }
            let text = texts[chunk_index * options.batch_size + row];
            results.push(Perplexity {
                tokens: (seq.len() - 1) as u64,
                nll_sum,
                bytes: text.len() as u64,
                words: count_words(text),
            });
        }
    }
    Ok(results)
}
