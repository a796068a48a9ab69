#!/usr/bin/env python3
"""Corpus perplexity end to end: `geneval ppl` vs Hugging Face transformers on
the CPU, with the same model, text and windows.

Run from the repository root with the dev venv (torch, transformers,
tokenizers, onnx):

    "$(scripts/dev-venv)/bin/python" scripts/bench_ppl.py [--tokens 8192] [--repeat 1] [--gpt2-small]

Dev only; CI never runs it. What it does:
1. Builds a GPT-2 with random weights (torch.manual_seed; default 6 layers,
   8 heads, 512-d, 1024 positions, the 50257-token vocabulary; `--gpt2-small`
   for GPT-2 small's 12/12/768) and exports it to ONNX in a temporary folder
   as tests/fixtures/ppl/generate.py does (eager attention; a wrapper builds
   the 4-D additive causal + padding mask and the position ids; no past key
   values; opset 17; inputs input_ids and attention_mask, output logits;
   dynamic batch and sequence axes).
2. Writes a deterministic text (the Zen of Python and standard-library
   docstrings, repeated until it has at least --tokens tokens) under the
   fixture tokenizer tests/fixtures/ppl/tokenizer.json (byte-level BPE of
   500 tokens: its ids are valid GPT-2 ids; enough for timing).
3. Times the loop of transformers' guide "Perplexity of fixed-length models"
   (windows of max_length moving by stride, labels -100 on tokens scored
   before, `model(input_ids, labels=target)` under torch.no_grad(), torch
   threads = CPU count), model already in memory. The perplexity is the
   exact token-level one (sum of the NLL of every scored token, in float64,
   as generate.py's `exact`), computed outside the timed part.
4. Times `geneval ppl --json --quiet` (release build: built here with
   `cargo build --release`, or `--geneval PATH`) at each batch size, as a
   process (wall clock, model load included) and as reported in its record
   (`duration_s`). ONNX Runtime: `--ort-lib PATH`, else the library geneval
   finds itself (the one `scripts/install-onnxruntime` put in
   ~/.cache/geneval/onnxruntime).
Each timing is the best of --repeat runs. Prints the machine, the command
line and a Markdown table for BENCHMARKS.md. `--skip-geneval` runs only the
export and the transformers side (for checking the script).
"""
import argparse
import codecs
import copy
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(ROOT, "tests", "fixtures", "ppl", "tokenizer.json")


def zen():
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # `import this` prints the Zen
        import this
    return codecs.decode(this.s, "rot13")


def make_text(tokenizer, min_tokens):
    """The Zen and standard-library docstrings, repeated until the text has at
    least `min_tokens` tokens (deterministic for a given Python version)."""
    import argparse as m1, collections as m2, json as m3, textwrap as m4, string as m5
    import difflib as m6, functools as m7, itertools as m8, re as m9, pathlib as m10
    import subprocess as m11, unittest as m12, typing as m13, dataclasses as m14

    parts = [zen()] + [m.__doc__.strip() for m in (m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14) if m.__doc__]
    block = "\n\n".join(parts)
    text = block
    while len(tokenizer.encode(text).ids) < min_tokens:
        text += "\n\n" + block
    # Trim to whole paragraphs while keeping at least min_tokens tokens.
    paragraphs = text.split("\n\n")
    lo, hi = 1, len(paragraphs)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokenizer.encode("\n\n".join(paragraphs[:mid])).ids) >= min_tokens:
            hi = mid
        else:
            lo = mid + 1
    return "\n\n".join(paragraphs[:lo])


def build_model(args):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    layers, heads, embd = (12, 12, 768) if args.gpt2_small else (args.n_layer, args.n_head, args.n_embd)
    config = GPT2Config(n_layer=layers, n_head=heads, n_embd=embd, n_positions=args.n_positions, vocab_size=50257)
    torch.manual_seed(args.seed)
    model = GPT2LMHeadModel(config)
    model.config._attn_implementation = args.torch_attn
    model.eval()
    return model


def export_onnx(model, path):
    import torch

    model = copy.deepcopy(model)  # tracing may change the module: keep the timed one untouched
    model.config._attn_implementation = "eager"

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            # As tests/fixtures/ppl/generate.py: 4-D additive causal + padding
            # mask built from the data and explicit positions 0..T-1.
            pos = torch.cumsum(torch.ones_like(input_ids), dim=1) - 1
            causal = pos[0][None, :] <= pos[0][:, None]
            keep = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
            neg = torch.finfo(torch.float32).min
            mask4 = torch.where(keep, torch.zeros((), dtype=torch.float32), torch.full((), neg))
            return self.m(input_ids=input_ids, attention_mask=mask4, position_ids=pos, use_cache=False).logits

    dummy = torch.ones(2, 8, dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            Wrapper(model), (dummy, torch.ones_like(dummy)), path,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                          "attention_mask": {0: "batch", 1: "sequence"},
                          "logits": {0: "batch", 1: "sequence"}},
            opset_version=17, dynamo=False,
        )


def check_onnx(model, path, ids):
    """max |logits ONNX Runtime (Python) - torch| on a short padded batch."""
    import numpy as np
    import onnxruntime as ort
    import torch

    x = torch.tensor([ids[:48], ids[48:96]])
    m = torch.ones_like(x)
    m[1, 40:] = 0
    with torch.no_grad():
        ref = model(x, attention_mask=m).logits.numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": x.numpy(), "attention_mask": m.numpy()})[0]
    return max(float(np.abs(got[0] - ref[0]).max()), float(np.abs(got[1, :40] - ref[1, :40]).max()))


def transformers_ppl(model, ids, max_length, stride):
    """The guide's loop; returns (seconds in the loop without the float64
    bookkeeping, scored tokens, exact NLL sum)."""
    import torch

    enc = torch.tensor([ids])
    seq_len = enc.size(1)
    elapsed, nll_sum, n = 0.0, 0.0, 0
    prev_end = 0
    for begin in range(0, seq_len, stride):
        t = time.perf_counter()
        end = min(begin + max_length, seq_len)
        trg_len = end - prev_end
        input_ids = enc[:, begin:end]
        target = input_ids.clone()
        target[:, :-trg_len] = -100
        with torch.no_grad():
            out = model(input_ids, labels=target)
        out.loss.item()
        elapsed += time.perf_counter() - t
        # Exact token-level NLL of the scored tokens (untimed).
        lab = target[0, 1:]
        keep = (lab != -100).nonzero()[:, 0]
        logp = torch.log_softmax(out.logits[0, :-1][keep].double(), dim=-1)
        nll_sum += -logp[torch.arange(len(keep)), lab[keep]].sum().item()
        n += len(keep)
        prev_end = end
        if end == seq_len:
            break
    return elapsed, n, nll_sum


def geneval_ppl(binary, model, text_file, max_length, stride, batch, args):
    cmd = [binary, "ppl", "--model", model, "--tokenizer", TOKENIZER, "--max-length", str(max_length),
           "--stride", str(stride), "--batch-size", str(batch), "--json", "--quiet"]
    if args.ort_lib:
        cmd += ["--ort-lib", args.ort_lib]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    cmd.append(text_file)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads(proc.stdout), cmd


def best_of(repeat, fn):
    runs = [fn() for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def machine_info(binary, args):
    import onnxruntime
    import tokenizers
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"Machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()} "
             f"(load average at the end: {load})",
             f"torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}, "
             f"tokenizers {tokenizers.__version__}, onnxruntime (Python, export check) {onnxruntime.__version__}"]
    if binary:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
        doctor_cmd = [binary, "doctor", "--json", "-q"] + (["--ort-lib", args.ort_lib] if args.ort_lib else [])
        doctor = subprocess.run(doctor_cmd, capture_output=True, text=True)
        ort_line = "ONNX Runtime: ?"
        if doctor.returncode == 0:
            s = json.loads(doctor.stdout)["settings"]
            ort_line = f"ONNX Runtime {s.get('version')} ({s.get('library')})"
        lines.append(f"{version}, {ort_line}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=8192, help="at least this many tokens of text")
    parser.add_argument("--repeat", type=int, default=1, help="run each timing N times and keep the best")
    parser.add_argument("--settings", default="1024:1024,1024:512", help="max_length:stride pairs, comma-separated")
    parser.add_argument("--batch-sizes", default="1,4", help="geneval batch sizes, comma-separated")
    parser.add_argument("--gpt2-small", action="store_true", help="12 layers, 12 heads, 768-d (GPT-2 small)")
    parser.add_argument("--n-layer", type=int, default=6)
    parser.add_argument("--n-head", type=int, default=8)
    parser.add_argument("--n-embd", type=int, default=512)
    parser.add_argument("--n-positions", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-attn", default="sdpa", choices=["sdpa", "eager"],
                        help="attention of the timed transformers model (sdpa: transformers' default); the export is always eager")
    parser.add_argument("--geneval", metavar="PATH", help="geneval binary to time (default: build target/release/geneval)")
    parser.add_argument("--ort-lib", metavar="PATH", help="passed to geneval as --ort-lib (default: the library geneval finds)")
    parser.add_argument("--threads", type=int, help="passed to geneval as --threads (default: ONNX Runtime's choice)")
    parser.add_argument("--skip-geneval", action="store_true", help="only the export and the transformers side")
    parser.add_argument("--workdir", help="keep the model and text here (default: a temporary folder, removed)")
    args = parser.parse_args()
    settings = [tuple(int(x) for x in s.split(":")) for s in args.settings.split(",")]
    batches = [int(b) for b in args.batch_sizes.split(",")]

    binary = None
    if not args.skip_geneval:
        if args.geneval:
            binary = os.path.abspath(args.geneval)
        else:
            subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
            binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "geneval")
        if subprocess.run([binary, "ppl", "--help"], capture_output=True).returncode != 0:
            sys.exit(f"{binary} has no `ppl` command (use --skip-geneval to time the transformers side only)")

    import torch
    from tokenizers import Tokenizer

    torch.set_num_threads(os.cpu_count())
    tokenizer = Tokenizer.from_file(TOKENIZER)

    tmp = None
    if args.workdir:
        work = args.workdir
        os.makedirs(work, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="geneval-bench-ppl-")
        work = tmp.name

    text = make_text(tokenizer, args.tokens)
    text_file = os.path.join(work, "text.txt")
    with open(text_file, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    ids = tokenizer.encode(text).ids
    print(f"text: {len(text.encode('utf-8'))} bytes, {len(ids)} tokens", file=sys.stderr)

    model = build_model(args)
    cfg = model.config
    onnx_path = os.path.join(work, "gpt2_random.onnx")
    t = time.perf_counter()
    export_onnx(model, onnx_path)
    t_export = time.perf_counter() - t
    diff = check_onnx(model, onnx_path, ids)
    print(f"export: {os.path.getsize(onnx_path) / 2**20:.0f} MiB in {t_export:.1f} s; "
          f"max |logits ORT - torch| = {diff:.1e}", file=sys.stderr)

    rows = []
    for max_length, stride in settings:
        if max_length > cfg.n_positions:
            sys.exit(f"max_length {max_length} > n_positions {cfg.n_positions}")
        sec, n, nll = best_of(args.repeat, lambda: transformers_ppl(model, ids, max_length, stride))
        ref_ppl = math.exp(nll / n)
        print(f"transformers {max_length}/{stride}: {n} tokens, {sec:.1f} s, ppl {ref_ppl:.6f}", file=sys.stderr)
        rows.append((max_length, stride, f"transformers ({args.torch_attn})", "1", n, f"{sec:.2f}", n / sec, f"{n / sec:.0f}", ref_ppl, None))
        if binary is None:
            continue
        for batch in batches:
            wall, record, cmd = best_of(args.repeat, lambda: geneval_ppl(binary, onnx_path, text_file, max_length, stride, batch, args))
            v = record["values"]
            tokens, ppl, inproc = int(v["tokens"]), record["value"], record["duration_s"]
            print(f"geneval {max_length}/{stride} batch {batch}: {json.dumps(v)}, wall {wall:.2f} s, duration_s {inproc:.2f}", file=sys.stderr)
            if tokens != n:
                print(f"warning: geneval scored {tokens} tokens, transformers {n}", file=sys.stderr)
            rows.append((max_length, stride, "geneval ppl", str(batch), tokens, f"{wall:.2f} ({inproc:.2f})",
                         tokens / wall, f"{tokens / wall:.0f} ({tokens / inproc:.0f})", ppl, abs(ppl - ref_ppl) / ref_ppl))

    print()
    for line in machine_info(binary, args):
        print(line)
    print(f"Command: {shlex.join(['python', os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:])}")
    print(f"Model: GPT-2, random weights (seed {args.seed}), {cfg.n_layer} layers, {cfg.n_head} heads, {cfg.n_embd}-d, "
          f"{cfg.n_positions} positions, vocabulary {cfg.vocab_size}, {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters; "
          f"ONNX {os.path.getsize(onnx_path) / 2**20:.0f} MiB (max |logits ORT - torch| {diff:.1e})")
    print(f"Text: {len(ids)} tokens ({len(text.encode('utf-8'))} bytes) of the Zen of Python and stdlib docstrings, "
          f"tokenizer tests/fixtures/ppl/tokenizer.json; best of {args.repeat}")
    print("transformers: the guide's loop, model in memory; geneval: process wall (model load included), "
          "in parentheses its record's duration_s\n")
    print("| max_length / stride | tool | batch | scored tokens | wall (s) | tokens/s | perplexity | rel. diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for max_length, stride, tool, batch, n, wall, _tps, tps, ppl, rel in rows:
        rel_s = "—" if rel is None else f"{rel:.1e}"
        print(f"| {max_length} / {stride} | {tool} | {batch} | {n} | {wall} | {tps} | {ppl:.6f} | {rel_s} |")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
