//! Perplexity: negative log-likelihood sums over tokens, and the numbers
//! derived from them.
//!
//! Log-softmax is taken in f64 from the model's f32 logits and summed in f64.

use ndarray::{ArrayView1, ArrayView3};
use rayon::prelude::*;
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

/// The NLLs of `targets` (`(row, position, token)`: the logits at
/// `position` predict `token`), in order. Rows are independent, so they are
/// spread over rayon's threads; the caller sums the returned values in
/// order, which keeps the total independent of the thread count.
fn target_nlls(logits: ArrayView3<'_, f32>, targets: &[(usize, usize, u32)]) -> Vec<f64> {
    targets
        .par_iter()
        .map(|&(row, t, token)| token_nll(logits.slice(ndarray::s![row, t, ..]), token as usize))
        .collect()
}

/// Runs one batch and returns the NLLs of `targets` (see [`target_nlls`]),
/// after checking that the logits have a column for every target id.
fn run_targets(
    lm: &mut LmSession,
    ids: &[i64],
    mask: &[i64],
    batch: usize,
    len: usize,
    targets: &[(usize, usize, u32)],
) -> Result<Vec<f64>, TextError> {
    let nlls = lm.with_logits(ids, mask, batch, len, |logits| {
        let vocab = logits.shape()[2];
        match targets.iter().find(|&&(_, _, id)| id as usize >= vocab) {
            Some(&(_, _, id)) => Err((id, vocab)),
            None => Ok(target_nlls(logits, targets)),
        }
    })?;
    nlls.map_err(|(id, vocab)| TextError::VocabMismatch {
        path: lm.path().to_owned(),
        tokenizer_vocab: id as usize + 1,
        model_vocab: vocab,
    })
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

/// One model input over a token stream: tokens `[begin, end)`, of which
/// those from `score_from` on are scored (each predicted from the tokens
/// of the span before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First token fed.
    pub begin: usize,
    /// One past the last token fed.
    pub end: usize,
    /// First token scored (> `begin`).
    pub score_from: usize,
}

impl Span {
    fn len(&self) -> usize {
        self.end - self.begin
    }
}

/// The windows of transformers' guide "Perplexity of fixed-length models"
/// over `n` tokens: `[begin, end)` with `begin` in `0, stride, 2·stride, …`
/// and `end = min(begin + max_length, n)`; a window scores the tokens from
/// `max(begin + 1, prev_end)` to `end` (labels −100 on tokens an earlier
/// window scored, and the model's label shift); the last is the window that
/// reaches the end.
pub fn guide_spans(n: usize, windows: Windows) -> Result<Vec<Span>, TextError> {
    let Windows { max_length, stride } = windows;
    if max_length < 2 || stride == 0 {
        return Err(TextError::InvalidArgument(format!(
            "max_length must be at least 2 and stride at least 1 (got {max_length}, {stride})"
        )));
    }
    if stride > max_length {
        return Err(TextError::InvalidArgument(format!(
            "stride {stride} is longer than max_length {max_length}: tokens between windows \
             would never be scored"
        )));
    }
    let mut spans = Vec::new();
    let mut prev_end = 0;
    let mut begin = 0;
    while begin < n {
        let end = (begin + max_length).min(n);
        spans.push(Span {
            begin,
            end,
            score_from: (begin + 1).max(prev_end),
        });
        prev_end = end;
        if end == n {
            break;
        }
        begin += stride;
    }
    Ok(spans)
}

/// llama.cpp's `perplexity` convention over `n` tokens: `n / n_ctx`
/// non-overlapping chunks of `n_ctx` tokens (the remainder is dropped),
/// each scoring only its second half: the logits at positions
/// `n_ctx/2 .. n_ctx−1` predict the tokens after them, so every scored
/// token has at least `n_ctx/2` tokens of context.
pub fn second_half_spans(n: usize, n_ctx: usize) -> Result<Vec<Span>, TextError> {
    if n_ctx < 4 {
        return Err(TextError::InvalidArgument(format!(
            "--score-second-half needs max_length of at least 4 (got {n_ctx})"
        )));
    }
    if n < n_ctx {
        return Err(TextError::TooShort {
            what: format!("the corpus (one chunk of {n_ctx} tokens)"),
            tokens: n,
            needed: n_ctx,
        });
    }
    Ok((0..n / n_ctx)
        .map(|c| Span {
            begin: c * n_ctx,
            end: (c + 1) * n_ctx,
            score_from: c * n_ctx + n_ctx / 2 + 1,
        })
        .collect())
}

/// Scores `spans` of the token stream `ids`, `batch_size` equal-length
/// spans per model run; `progress` is told the tokens fed after each run.
/// Returns (Σ NLL, scored tokens), summed in span order.
pub fn score_spans(
    lm: &mut LmSession,
    ids: &[u32],
    spans: &[Span],
    batch_size: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<(f64, u64), TextError> {
    if batch_size == 0 {
        return Err(TextError::InvalidArgument(
            "batch size must be at least 1".into(),
        ));
    }
    if let Some(vocab) = lm.declared_vocab() {
        check_ids(ids, vocab, lm)?;
    }
    let mut nll_sum = 0.0;
    let mut tokens = 0u64;
    let mut rest = spans;
    while let Some(first) = rest.first() {
        let len = first.len();
        let count = rest
            .iter()
            .take(batch_size)
            .take_while(|s| s.len() == len)
            .count();
        let (batch, tail) = rest.split_at(count);
        rest = tail;
        let mut input = Vec::with_capacity(count * len);
        let mut targets = Vec::new();
        for (row, span) in batch.iter().enumerate() {
            input.extend(ids[span.begin..span.end].iter().map(|&id| id as i64));
            targets.extend((span.score_from..span.end).map(|t| (row, t - 1 - span.begin, ids[t])));
        }
        let nlls = run_targets(lm, &input, &vec![1; input.len()], count, len, &targets)?;
        nll_sum += nlls.iter().sum::<f64>();
        tokens += nlls.len() as u64;
        progress((count * len) as u64);
    }
    Ok((nll_sum, tokens))
}

/// The NLL of a token stream over the windows of transformers' guide
/// "Perplexity of fixed-length models" ([`guide_spans`]), summed exactly
/// over tokens (the guide's own `loss × (valid − 1)` differs slightly when
/// `stride < max_length`). `text` gives the byte and word counts.
pub fn corpus_nll(
    lm: &mut LmSession,
    ids: &[u32],
    text: &str,
    windows: Windows,
) -> Result<Perplexity, TextError> {
    corpus_nll_with(
        lm,
        ids,
        text,
        &guide_spans_checked(ids, windows)?,
        1,
        &mut |_| {},
    )
}

fn guide_spans_checked(ids: &[u32], windows: Windows) -> Result<Vec<Span>, TextError> {
    if ids.len() < 2 {
        return Err(TextError::TooShort {
            what: "the corpus".into(),
            tokens: ids.len(),
            needed: 2,
        });
    }
    guide_spans(ids.len(), windows)
}

/// [`score_spans`] as a [`Perplexity`] of `text`.
pub fn corpus_nll_with(
    lm: &mut LmSession,
    ids: &[u32],
    text: &str,
    spans: &[Span],
    batch_size: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Perplexity, TextError> {
    let (nll_sum, tokens) = score_spans(lm, ids, spans, batch_size, progress)?;
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

/// The sequence a text is scored as: start token, ids, truncated.
pub fn per_text_sequence(ids: &[u32], options: &PerTextOptions) -> Vec<u32> {
    let mut seq: Vec<u32> = options.start_token.into_iter().collect();
    seq.extend_from_slice(ids);
    if let Some(max) = options.max_length {
        seq.truncate(max);
    }
    seq
}

/// One NLL per text, as Hugging Face `evaluate`'s `perplexity` metric: each
/// text on its own (optionally after a start token), right-padded within a
/// batch and masked, every token after the first scored. Texts are batched
/// in order of length (less padding); results come back in input order and
/// do not depend on the batch size.
///
/// `encoded[i]` are the ids of `texts[i]`; `progress` is told the tokens
/// fed (padding not counted) after each run.
pub fn per_text_nll(
    lm: &mut LmSession,
    texts: &[&str],
    encoded: &[Vec<u32>],
    options: PerTextOptions,
    progress: &mut dyn FnMut(u64),
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
        .map(|ids| per_text_sequence(ids, &options))
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
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&i| sequences[i].len());
    let mut results: Vec<Option<Perplexity>> = vec![None; texts.len()];
    for chunk in order.chunks(options.batch_size) {
        let batch = chunk.len();
        let len = chunk.iter().map(|&i| sequences[i].len()).max().unwrap_or(0);
        let mut ids = vec![0i64; batch * len];
        let mut mask = vec![0i64; batch * len];
        let mut targets = Vec::new();
        for (row, &i) in chunk.iter().enumerate() {
            for (t, &id) in sequences[i].iter().enumerate() {
                ids[row * len + t] = id as i64;
                mask[row * len + t] = 1;
                if t > 0 {
                    targets.push((row, t - 1, id));
                }
            }
        }
        let nlls = run_targets(lm, &ids, &mask, batch, len, &targets)?;
        let mut next = nlls.iter();
        for &i in chunk {
            let scored = sequences[i].len() - 1;
            let nll_sum: f64 = next.by_ref().take(scored).sum();
            results[i] = Some(Perplexity {
                tokens: scored as u64,
                nll_sum,
                bytes: texts[i].len() as u64,
                words: count_words(texts[i]),
            });
        }
        progress(chunk.iter().map(|&i| sequences[i].len() as u64).sum());
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every text is in one batch"))
        .collect())
}
