#!/usr/bin/env python3
"""Export a Hugging Face causal language model to the ONNX folder that
`geneval ppl --model OUT_DIR` reads.

    python scripts/export_hf_lm.py MODEL OUT_DIR [--opset 17] [--check]

MODEL is a Hugging Face hub id (e.g. `gpt2`, downloaded into the usual
Hugging Face cache) or a local folder saved with `save_pretrained`, loadable
with `AutoModelForCausalLM` and `AutoTokenizer` (fast tokenizer). OUT_DIR
receives:

- `model.onnx`: the model in float32, eager attention, no KV cache
  (use_cache=False), exported with torch.onnx.export's legacy tracer
  (dynamo=False). Inputs: int64 `input_ids` [batch, sequence] and int64
  `attention_mask` [batch, sequence] (1 = token, 0 = padding); output:
  `logits` [batch, sequence, vocab]. Batch and sequence axes are dynamic.
  Models over 2 GB keep their weights in one `model.onnx.data` file next to
  it (ONNX external data; keep the two together). geneval loads model.onnx
  from its path, so ONNX Runtime finds that file beside it.
- `tokenizer.json`: the fast tokenizer (`backend_tokenizer.save`).
- `config.json`: the model's config (`n_positions` /
  `max_position_embeddings` give geneval the context, `bos_token_id` the
  start token).

Correct for padded batches: the model is wrapped so that the graph builds the
4-D additive causal + padding mask (and a sliding-window mask for the layers
that use one) from the 2-D `attention_mask` itself, with explicit
position_ids 0..T-1 (transformers' default without a cache). transformers 5's
own mask code traces to the shapes of the example input, so it is bypassed:
GPT-2, Llama and most transformers 5 decoders (Mistral, Qwen2, Gemma, Phi...)
pass a prepared 4-D mask through unchanged (models with per-layer attention
types get a {"full_attention", "sliding_attention"} dict of them). Before
exporting, the wrapper is compared with the plain torch model (its own 2-D
mask handling) on a right-padded and a left-padded batch of two texts; the
script stops if they differ (a model family this approach does not fit: use
optimum, below).

`--check`: after the export, run the ONNX file with ONNX Runtime on a
right-padded batch of 2 texts (also left-padded, and each text alone with
batch 1) and compare its logits with torch's (the plain model with the 2-D
mask) on the non-padded positions; prints the max absolute differences and
fails at 1e-3 or more.

Requirements: a Python with torch, transformers (5.x; written against 5.24)
and onnx, plus onnxruntime for --check. None of this is part of geneval's
runtime (geneval only needs ONNX Runtime's shared library); in geneval's dev
setup `"$(scripts/dev-venv)/bin/python" scripts/export_hf_lm.py ...` works.

Tested (tiny random models, transformers 5.24, torch 2.15): GPT-2, Llama,
Mistral (sliding window) and Qwen2 (full and sliding layers), with --check
and against transformers' perplexity. Limitations: float32 only (no
fp16/quantization); no KV cache (geneval does not need one to score text);
models whose attention does not take a prepared 4-D additive mask (ALiBi
models such as Bloom, chunked attention, encoder-decoders) are not supported:
the pre-export comparison or the attention-type check is there to stop them
rather than write a wrong model.

Alternative: Hugging Face optimum exports such folders too,

    pip install optimum[exporters]     # recent releases: pip install optimum-onnx
    optimum-cli export onnx --model MODEL --task text-generation OUT_DIR

(`text-generation` gives a model without KV cache, `text-generation-with-past`
one with `past_key_values.*` inputs, which geneval also accepts and feeds
empty.) That route was not tested with this script's setup (transformers 5).
"""

import argparse
import os
import shutil
import sys
import tempfile
import warnings

CHECK_TEXTS = [
    "Beautiful is better than ugly. Explicit is better than implicit. Simple is "
    "better than complex. Complex is better than complicated.",
    "Readability counts.",
]
TOLERANCE = 1e-3


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def context_length(config):
    for name in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
        v = getattr(config, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def mask_plan(config):
    """How the model wants its prepared mask: ("tensor", window or None) for
    one 4-D mask used by every layer, or ("dict", {layer_type: window}) for
    models with per-layer attention types (they accept a dict
    {"full_attention": mask, "sliding_attention": mask})."""
    layer_types = getattr(config, "layer_types", None)
    window = getattr(config, "sliding_window", None)
    if layer_types and set(layer_types) != {"full_attention"}:
        plan = {}
        for t in sorted(set(layer_types)):
            if t == "full_attention":
                plan[t] = None
            elif t == "sliding_attention":
                if not isinstance(window, int) or window <= 0:
                    raise SystemExit(f"error: layer type {t!r} but no config.sliding_window")
                plan[t] = window
            else:
                raise SystemExit(
                    f"error: attention layer type {t!r} is not supported by this script; "
                    "try optimum-cli export onnx (see --help)"
                )
        return ("dict", plan)
    if not layer_types and isinstance(window, int) and window > 0:
        # Mistral-style: one sliding window on every layer.
        return ("tensor", window)
    return ("tensor", None)


def build_wrapper(model, plan):
    import torch

    kind, spec = plan

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            # Positions 0..T-1 from the data (not a Python int: stays dynamic).
            pos = torch.cumsum(torch.ones_like(input_ids), dim=1) - 1  # [B, T]
            p = pos[0]
            diff = p[:, None] - p[None, :]  # [T(query), T(key)]: query - key
            pad = attention_mask[:, None, None, :] > 0  # [B, 1, 1, T]
            neg = torch.full((), torch.finfo(torch.float32).min, dtype=torch.float32)
            zero = torch.zeros((), dtype=torch.float32)

            def additive(window):
                keep = diff >= 0  # key <= query
                if window is not None:
                    keep = keep & (diff < window)  # key > query - window
                return torch.where(keep[None, None, :, :] & pad, zero, neg)

            if kind == "dict":
                mask = {t: additive(w) for t, w in spec.items()}
            else:
                mask = additive(spec)
            out = self.m(input_ids=input_ids, attention_mask=mask, position_ids=pos, use_cache=False)
            return out.logits

    return Wrapper(model)


def padded_batch(tokenizer, vocab, n_ctx, side="right"):
    """int64 ids and mask of CHECK_TEXTS padded on `side` (special tokens as
    the tokenizer adds them), each row truncated to the context."""
    import torch

    rows = [tokenizer(t, add_special_tokens=True)["input_ids"] for t in CHECK_TEXTS]
    rows = [r[: min(n_ctx or 64, 64)] for r in rows]
    if len(rows[0]) == len(rows[1]):
        rows[1] = rows[1][:-1]
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    if pad_id >= vocab:
        pad_id = 0
    T = max(len(r) for r in rows)

    def pad(r, v):
        fill = [v] * (T - len(r))
        return r + fill if side == "right" else fill + r

    ids = torch.tensor([pad(r, pad_id) for r in rows], dtype=torch.int64)
    mask = torch.tensor([pad([1] * len(r), 0) for r in rows], dtype=torch.int64)
    return ids, mask


def max_diff_on_tokens(a, b, mask):
    """Max |a - b| over the positions where mask is 1."""
    import numpy as np

    keep = np.asarray(mask) > 0
    return float(np.abs(np.asarray(a, dtype=np.float64)[keep] - np.asarray(b, dtype=np.float64)[keep]).max())


def export(wrapper, onnx_path, opset, vocab):
    import torch

    # Example input: arbitrary ids, a shape that matches nothing else in the
    # model (batch 3, sequence 7), the last row padded.
    g = torch.Generator().manual_seed(0)
    dummy = torch.randint(0, max(1, min(vocab, 1000)), (3, 7), generator=g, dtype=torch.int64)
    dmask = torch.ones_like(dummy)
    dmask[2, 5:] = 0
    tmp = tempfile.mkdtemp(prefix="export_", dir=os.path.dirname(onnx_path))
    try:
        tmp_path = os.path.join(tmp, "model.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
            with torch.no_grad():
                torch.onnx.export(
                    wrapper,
                    (dummy, dmask),
                    tmp_path,
                    input_names=["input_ids", "attention_mask"],
                    output_names=["logits"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "sequence"},
                        "attention_mask": {0: "batch", 1: "sequence"},
                        "logits": {0: "batch", 1: "sequence"},
                    },
                    opset_version=opset,
                    do_constant_folding=True,
                    dynamo=False,
                )
        for f in ("model.onnx", "model.onnx.data"):
            if os.path.exists(os.path.join(os.path.dirname(onnx_path), f)):
                os.remove(os.path.join(os.path.dirname(onnx_path), f))
        if os.listdir(tmp) == ["model.onnx"]:
            shutil.move(tmp_path, onnx_path)
        else:
            # Over 2 GB: the exporter wrote one external file per tensor;
            # gather them into a single model.onnx.data next to model.onnx.
            import onnx

            log("large model: writing its weights to model.onnx.data")
            proto = onnx.load(tmp_path, load_external_data=True)
            onnx.save_model(
                proto, onnx_path, save_as_external_data=True,
                all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(
        description="Export a Hugging Face causal LM (hub id or save_pretrained folder) to an "
        "ONNX folder for `geneval ppl`: model.onnx (input_ids, attention_mask -> logits, no KV "
        "cache), tokenizer.json, config.json.",
    )
    ap.add_argument("model", metavar="MODEL", help="Hugging Face hub id or local save_pretrained folder")
    ap.add_argument("out_dir", metavar="OUT_DIR", help="output folder (created if missing; its files are overwritten)")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    ap.add_argument("--check", action="store_true",
                    help="compare ONNX Runtime's logits with torch's on a padded batch of 2 texts")
    ap.add_argument("--trust-remote-code", action="store_true",
                    help="pass trust_remote_code=True to transformers (models with their own code)")
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_grad_enabled(False)
    os.makedirs(args.out_dir, exist_ok=True)

    log(f"loading {args.model}")
    tokenizer = AutoTokenizer.from_pretrained(args.model, trust_remote_code=args.trust_remote_code)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise SystemExit(
            f"error: {type(tokenizer).__name__} has no fast (tokenizers) backend, so there is no "
            "tokenizer.json to write; geneval needs one"
        )
    model = AutoModelForCausalLM.from_pretrained(
        args.model, dtype=torch.float32, attn_implementation="eager",
        trust_remote_code=args.trust_remote_code,
    )
    model = model.float().eval()
    config = model.config
    n_ctx = context_length(config)
    vocab = config.get_text_config().vocab_size if hasattr(config, "get_text_config") else config.vocab_size

    plan = mask_plan(config)
    wrapper = build_wrapper(model, plan).eval()

    # The wrapper (prepared 4-D mask) must give the plain model's logits, on a
    # right-padded batch (geneval's layout) and on a left-padded one (which
    # tells whether the padding mask is applied at all).
    batches = {}
    for side in ("right", "left"):
        ids, mask = padded_batch(tokenizer, vocab, n_ctx, side)
        ref = model(input_ids=ids, attention_mask=mask, use_cache=False).logits.float().numpy()
        got = wrapper(ids, mask).float().numpy()
        d = max_diff_on_tokens(got, ref, mask.numpy())
        log(f"wrapper vs torch model ({side}-padded batch {tuple(ids.shape)}): max |diff| logits {d:.3g}")
        if not d < TOLERANCE:
            raise SystemExit(
                f"error: the 4-D-mask wrapper changes this model's logits (max diff {d:.3g}); its "
                "attention does not take a prepared additive mask. Use optimum-cli export onnx (see --help)."
            )
        batches[side] = (ids.numpy(), mask.numpy(), ref)

    onnx_path = os.path.join(args.out_dir, "model.onnx")
    log(f"exporting {onnx_path} (opset {args.opset})")
    export(wrapper, onnx_path, args.opset, vocab)

    backend.save(os.path.join(args.out_dir, "tokenizer.json"))
    if getattr(config, "bos_token_id", None) is None and tokenizer.bos_token_id is not None:
        config.bos_token_id = tokenizer.bos_token_id  # geneval's default start token
    config.to_json_file(os.path.join(args.out_dir, "config.json"), use_diff=False)
    log(f"wrote model.onnx, tokenizer.json, config.json in {args.out_dir} "
        f"(context {n_ctx}, bos_token_id {getattr(config, 'bos_token_id', None)})")

    if args.check:
        import numpy as np

        try:
            import onnxruntime as ort
        except ImportError:
            raise SystemExit("error: --check needs onnxruntime (pip install onnxruntime)")
        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        names = {i.name for i in sess.get_inputs()}

        def run(i, m):
            feed = {"input_ids": i, "attention_mask": m}
            return sess.run(["logits"], {k: v for k, v in feed.items() if k in names})[0]

        diffs = {}
        for side, (ids_np, mask_np, ref) in batches.items():
            diffs[side] = max_diff_on_tokens(run(ids_np, mask_np), ref, mask_np)
        ids_np, mask_np, ref = batches["right"]
        d_single = 0.0
        for r in range(ids_np.shape[0]):
            n = int(mask_np[r].sum())
            one = run(ids_np[r : r + 1, :n], mask_np[r : r + 1, :n])
            d_single = max(d_single, float(np.abs(one[0].astype(np.float64) - ref[r, :n]).max()))
        print(f"check: ONNX Runtime vs torch logits, max |diff| on non-padded positions: "
              f"right-padded batch {tuple(ids_np.shape)} {diffs['right']:.3g}, "
              f"left-padded {diffs['left']:.3g}, each text alone (batch 1) {d_single:.3g}")
        worst = max(diffs["right"], diffs["left"], d_single)
        if not worst < TOLERANCE:
            raise SystemExit(f"error: check failed: max |diff| {worst:.3g} >= {TOLERANCE}")
        print("check: OK")


if __name__ == "__main__":
    main()
