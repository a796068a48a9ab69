#!/usr/bin/env python3
"""End-to-end feature extraction: geneval vs pytorch-fid's data loading + torch.

Run from the repository root with the dev venv (torch, torchvision,
pytorch-fid, onnx, Pillow):

    "$(scripts/dev-venv)/bin/python" scripts/bench_extract.py [--images 500] [--rss-images 10000]

What it does (dev only; CI never runs it):
1. Writes deterministic PNG folders (numpy RandomState): 256x256 images for
   throughput, and 64x64 ones for the memory check.
2. Exports torchvision's Inception-v3 architecture (random weights; the FID
   weights come with issue 4) with the fc layer removed to ONNX: a model the
   size of the FID network (2048-d pool features, 299x299 input).
3. Times `geneval features` (release build, CPU) with the built-in network and
   with that Inception, reading decode / preprocess / inference times from the
   result record.
4. Times the same Inception work the way pytorch-fid runs it: its
   ImagePathDataset + DataLoader (ToTensor), bilinear resize to 299 and
   2x - 1 inside the model, torch on the CPU, and checks that both give the
   same features (max |diff| printed).
5. Measures geneval's peak RSS (/usr/bin/time) for `geneval stats` over
   --rss-images images and over a tenth of them: streaming keeps it flat.
Prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def write_images(folder, n, size, seed):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    # Smooth random images (low-frequency noise upsampled) so PNG sizes and
    # decode times are realistic rather than those of white noise.
    for i in range(n):
        path = os.path.join(folder, f"{i:05d}.png")
        if os.path.exists(path):
            continue
        small = rng.randint(0, 256, size=(size // 8, size // 8, 3)).astype(np.uint8)
        img = Image.fromarray(small).resize((size, size), Image.BICUBIC)
        img.save(path)
    return folder


def export_inception(path, calibration_images):
    import torch
    import torchvision
    from PIL import Image

    torch.manual_seed(0)
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True)
    model.fc = torch.nn.Identity()
    # Random weights with batch norm at mean 0 / variance 1 make activations
    # grow layer after layer; calibrate the running statistics on real input
    # (cumulative averages over 32 images) so features have a sane scale.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, 32, 8):
            batch = [torch.from_numpy(np.array(Image.open(p).convert("RGB").resize((299, 299)))).permute(2, 0, 1).float() / 127.5 - 1 for p in calibration_images[i : i + 8]]
            model(torch.stack(batch))
    model.eval()
    x = torch.zeros(1, 3, 299, 299)
    torch.onnx.export(
        model,
        x,
        path,
        input_names=["x"],
        output_names=["pool"],
        dynamic_axes={"x": {0: "N"}, "pool": {0: "N"}},
        opset_version=17,
        dynamo=False,
    )
    return model


def geneval_features(binary, folder, model, out, batch):
    args = [binary, "features", folder, "-o", out, "--model", model, "--batch-size", str(batch), "--json", "-q"]
    t = time.perf_counter()
    proc = subprocess.run(args, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    return wall, json.loads(proc.stdout)


def pytorch_fid_features(model, files, batch, workers):
    """pytorch-fid 0.3's get_activations, with the torchvision net in place of
    its FIDInceptionV3 (same resize and normalisation, done in the wrapper)."""
    import torch
    import torch.nn.functional as F
    from pytorch_fid.fid_score import get_activations

    class Wrapper(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            x = 2 * x - 1
            return [self.net(x)[:, :, None, None]]

    wrapped = Wrapper(model).eval()
    t = time.perf_counter()
    feats = get_activations(files, wrapped, batch_size=batch, dims=2048, device="cpu", num_workers=workers)
    return time.perf_counter() - t, feats


def peak_rss_mib(args):
    proc = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", proc.stderr).group(1)
    return kb / 1024, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rss-images", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--skip-rss", action="store_true", help="skip the peak-RSS runs")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "geneval-bench-extract"))
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], check=True)
    binary = os.path.abspath("target/release/geneval")
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    big = write_images(os.path.join(work, f"png256_{args.images}"), args.images, 256, 1)
    small_all = write_images(os.path.join(work, f"png64_{args.rss_images}"), args.rss_images, 64, 2)
    tenth = os.path.join(work, "png64_tenth.txt")
    files = sorted(os.listdir(small_all))[: max(1, args.rss_images // 10)]
    with open(tenth, "w") as f:
        f.writelines(os.path.join(small_all, name) + "\n" for name in files)

    onnx_path = os.path.join(work, "inception_v3_random.onnx")
    pngs = sorted(os.path.join(big, n) for n in os.listdir(big))
    model = export_inception(onnx_path, pngs)

    import torch

    rows = []
    for label, model_arg in [("built-in network (128x128 input, 256-d)", "builtin"), ("Inception-v3 size (299x299, 2048-d)", onnx_path)]:
        wall, record = geneval_features(binary, big, model_arg, os.path.join(work, "f.npy"), args.batch)
        v = record["values"]
        rows.append((label, "geneval", v["images"] / wall, v["decode_cpu_s"], v["preprocess_cpu_s"], v["inference_s"], wall))
        print(label, json.dumps(v), file=sys.stderr)

    torch.set_num_threads(os.cpu_count())
    for workers in [0, 2]:
        t, feats = pytorch_fid_features(model, pngs, args.batch, workers)
        rows.append(("Inception-v3 size (299x299, 2048-d)", f"pytorch-fid loading + torch (num_workers={workers})", len(pngs) / t, None, None, None, t))
    ours = np.load(os.path.join(work, "f.npy"))
    diff = float(np.abs(ours - feats).max() / np.abs(feats).max())

    stats = lambda side: [binary, "stats", side, "-o", os.path.join(work, "s.npz"), "--model", "builtin", "-q"]
    if args.skip_rss:
        rss_all = rss_tenth = (float("nan"), "-")
    else:
        rss_all = peak_rss_mib(stats(small_all))
        rss_tenth = peak_rss_mib(stats("@" + tenth))

    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}")
    print(f"{args.images} PNG images of 256x256, batch {args.batch}, CPU\n")
    print("| model | tool | images/s | decode (CPU s) | preprocess (CPU s) | inference (s) | wall (s) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    fmt = lambda x: "—" if x is None else f"{x:.2f}"
    for label, tool, ips, dec, pre, inf, wall in rows:
        print(f"| {label} | {tool} | {ips:.1f} | {fmt(dec)} | {fmt(pre)} | {fmt(inf)} | {wall:.1f} |")
    print(f"\nInception-size features, geneval vs pytorch-fid pipeline: max |diff| / max |feature| = {diff:.2e}")
    print(f"\nPeak RSS of `geneval stats --model builtin` over 64x64 PNGs:")
    print(f"| images | peak RSS (MiB) | wall |")
    print(f"|---:|---:|---:|")
    print(f"| {len(files)} | {rss_tenth[0]:.0f} | {rss_tenth[1]} |")
    print(f"| {args.rss_images} | {rss_all[0]:.0f} | {rss_all[1]} |")


if __name__ == "__main__":
    main()
