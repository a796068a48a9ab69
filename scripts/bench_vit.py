#!/usr/bin/env python3
"""FD_DINOv2's and CMMD's networks: geneval vs the reference paths, images/s.

Run from the repository root with the dev venv, after building geneval:

    cargo build && "$(scripts/dev-venv)/bin/python" scripts/bench_vit.py [--images 32]

What it does (dev only; CI never runs it):
1. Writes --images deterministic 256 x 256 PNGs (smooth random images).
2. Builds full-size ViT-L/14 weights in the official layouts with random
   values (speed does not depend on them): the DINOv2 hub layout via timm's
   VisionTransformer (+ mask_token) saved with torch.save, and CLIP
   ViT-L/14@336's tower and projection via transformers saved as
   .safetensors; imports both into a private geneval cache
   (`geneval models import`, which also times the conversion to ONNX).
3. Times `geneval features --model dinov2-vitl14` and `--model
   clip-vit-l14-336` on the folder (CPU, ONNX Runtime, default threads and
   batch), reading images/s from the record.
4. Times the reference paths on the same files and weights, torch on the
   CPU with as many threads as cores, batch 8, preprocessing included:
   dgm-eval's transform + the hub model (timm modules, the hub's position
   interpolation), CMMD's crop/resize + transformers' CLIP tower.
5. Checks that both give the same features (max difference relative to
   their scale) and prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/fixtures/vit"))
import generate as ref  # noqa: E402  (the reference paths, one definition)


def write_images(folder, n, seed=0):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        small = rng.randint(0, 256, size=(32, 32, 3)).astype(np.uint8)
        Image.fromarray(small).resize((256, 256), Image.BICUBIC).save(folder / f"{i:05d}.png")
    return sorted(folder.iterdir())


def large_dinov2():
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    model = VisionTransformer(img_size=518, patch_size=14, embed_dim=1024, depth=24, num_heads=16,
                              mlp_ratio=4, qkv_bias=True, init_values=1.0, num_classes=0,
                              global_pool="token").eval()
    state = dict(model.state_dict())
    state["mask_token"] = torch.zeros(1, 1024)
    return model, state


def large_clip():
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                              num_attention_heads=16, image_size=336, patch_size=14, projection_dim=768,
                              hidden_act="quick_gelu", layer_norm_eps=1e-5)
    return CLIPVisionModelWithProjection(config).eval()


def geneval(binary, env, args):
    out = subprocess.run([binary, *args, "--json", "-q"], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"geneval {args}: {out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def reference_rate(forward, inputs, files, batch):
    start = time.perf_counter()
    rows = []
    with torch.no_grad():
        for i in range(0, len(files), batch):
            x = torch.stack([inputs(f) for f in files[i:i + batch]])
            rows.append(forward(x))
    elapsed = time.perf_counter() - start
    return len(files) / elapsed, torch.cat(rows).numpy()


def relative_to_scale(got, want):
    return float(np.abs(got - want).max() / np.abs(want).max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    binary = str((target / "debug" / "geneval").resolve())
    torch.set_num_threads(os.cpu_count())
    work = Path(tempfile.mkdtemp(prefix="geneval-bench-vit-"))
    files = write_images(work / "images", args.images)
    # A private model cache; ONNX Runtime from the usual one (scripts/install-onnxruntime).
    real_cache = Path(os.environ.get("GENEVAL_CACHE_DIR", Path.home() / ".cache/geneval"))
    ort = os.environ.get("ORT_DYLIB_PATH") or str(
        next((real_cache / "onnxruntime").glob("*/cpu/libonnxruntime.so.*")))
    env = dict(os.environ, GENEVAL_CACHE_DIR=str(work / "cache"), GENEVAL_OFFLINE="1", ORT_DYLIB_PATH=ort)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    rows = []

    dinov2, state = large_dinov2()
    torch.save(state, work / "dinov2_vitl14_pretrain.pth")
    del state
    clip = large_clip()
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(work / "model.safetensors"))

    for name, weights, forward, inputs in [
        ("dinov2-vitl14", "dinov2_vitl14_pretrain.pth", lambda x: ref.dinov2_forward(dinov2, x), ref.dgm_eval_input),
        ("clip-vit-l14-336", "model.safetensors",
         lambda x: (lambda e: e / torch.linalg.norm(e, dim=-1, keepdim=True))(clip(pixel_values=x).image_embeds),
         ref.cmmd_input),
    ]:
        start = time.perf_counter()
        geneval(binary, env, ["models", "import", "--name", name, str(work / weights)])
        convert_s = time.perf_counter() - start
        record = geneval(binary, env, ["features", str(work / "images"), "-o", str(work / f"{name}.npy"),
                                       "--model", name])
        ours = record["values"]["images_per_s"]
        theirs, want = reference_rate(forward, inputs, files, args.batch)
        got = np.load(work / f"{name}.npy")
        rows.append({"network": name, "geneval_images_per_s": ours, "reference_images_per_s": theirs,
                     "speedup": ours / theirs, "import_and_convert_s": convert_s,
                     "max_diff_of_scale": relative_to_scale(got, want)})
        print(json.dumps(rows[-1]), file=sys.stderr)

    print(f"\nMachine: {cpu}, {os.cpu_count()} cores; torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"ONNX Runtime via geneval; {args.images} PNG images of 256 x 256.\n")
    print("| network | geneval images/s | reference images/s | geneval / reference | import + ONNX conversion | features differ by |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['network']} | {r['geneval_images_per_s']:.2f} | {r['reference_images_per_s']:.2f} | "
              f"{r['speedup']:.2f}x | {r['import_and_convert_s']:.0f} s | {r['max_diff_of_scale']:.1e} of scale |")


if __name__ == "__main__":
    main()
