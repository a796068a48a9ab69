#!/usr/bin/env python3
"""The full path with pytorch-fid's network, checked and timed against
`python -m pytorch_fid` on the same weights, images and machine.

    "$(scripts/dev-venv)/bin/python" scripts/bench_fid.py [--images 200] [--size 256]

Dev only (torch, pytorch-fid); CI never runs it. The official weights cannot
be downloaded here, so the seeded stand-in weights of
tests/fixtures/inception/generate.py (the official file's exact layout) are
used:
1. torch.save writes them as a .pth (torch's own zip format);
2. `geneval models import` (with GENEVAL_FID_INCEPTION_SHA256 set to that
   file's hash, in a private cache) converts it to ONNX;
3. the same file is put where pytorch-fid's `load_state_dict_from_url`
   looks (TORCH_HOME/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth),
   so the unmodified `python -m pytorch_fid` uses it;
4. both compute FID of two folders of PNG images (and `--dims 768`);
   the numbers are compared and the wall times printed as Markdown.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_extract import write_images  # noqa: E402  (same images as the extraction benchmark)


def load_fixture_module():
    path = os.path.join("tests", "fixtures", "inception", "generate.py")
    spec = importlib.util.spec_from_file_location("inception_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(args, env):
    t = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{args[:3]} failed:\n{proc.stderr}")
    return wall, proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200, help="images per folder")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "geneval-bench-fid"))
    args = parser.parse_args()

    import torch

    fixture = load_fixture_module()
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    real = write_images(os.path.join(work, f"real_{args.size}_{args.images}"), args.images, args.size, 11)
    fake = write_images(os.path.join(work, f"fake_{args.size}_{args.images}"), args.images, args.size, 12)

    torch_home = os.path.join(work, "torch_home")
    checkpoints = os.path.join(torch_home, "hub", "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    pth = os.path.join(checkpoints, "pt_inception-2015-12-05-6726825d.pth")
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in fixture.seeded_state_dict(fixture.SEED).items()}
    torch.save(state, pth)
    sha = subprocess.run(["sha256sum", pth], capture_output=True, text=True, check=True).stdout.split()[0]

    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], check=True)
    binary = os.path.abspath("target/release/geneval")
    env = dict(os.environ, GENEVAL_CACHE_DIR=os.path.join(work, "geneval_cache"), GENEVAL_FID_INCEPTION_SHA256=sha, GENEVAL_OFFLINE="1")
    lib = os.path.expanduser(f"~/.cache/geneval/onnxruntime/1.31.1/cpu/libonnxruntime.so.1.31.1")
    env["ORT_DYLIB_PATH"] = lib
    t_import, out = timed([binary, "models", "import", pth, "--json", "-q"], env)

    rows = []
    results = {}
    for dims in [2048, 768]:
        t_ours, out = timed([binary, "fid", real, fake, "--dims", str(dims), "--batch-size", str(args.batch), "--json", "-q"], env)
        record = json.loads(out)
        torch_env = dict(os.environ, TORCH_HOME=torch_home)
        t_ref, out_ref = timed([sys.executable, "-m", "pytorch_fid", real, fake, "--dims", str(dims), "--batch-size", str(args.batch), "--device", "cpu", "--num-workers", "2"], torch_env)
        ref = float(out_ref.strip().split()[-1])
        ours = record["value"]
        results[dims] = (ours, ref)
        n = 2 * args.images
        v = record["values"]
        rows.append((dims, n, n / t_ours, n / t_ref, t_ours, t_ref, ours, ref, v))

    print(f"\nseeded weights {sha[:16]}…, torch.save → geneval models import ({t_import:.1f} s)")
    print(f"{args.images} + {args.images} PNG images of {args.size}x{args.size}, batch {args.batch}, CPU, torch {torch.__version__}\n")
    print("| --dims | images | geneval fid (images/s) | python -m pytorch_fid (images/s) | speed-up | geneval FID | pytorch-fid FID | rel. diff |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dims, n, ours_ips, ref_ips, t_ours, t_ref, ours, ref, v in rows:
        print(f"| {dims} | {n} | {ours_ips:.1f} ({t_ours:.1f} s) | {ref_ips:.1f} ({t_ref:.1f} s) | {ours_ips / ref_ips:.2f}x | {ours:.6f} | {ref:.6f} | {abs(ours - ref) / abs(ref):.1e} |")
    for dims, n, *_rest, v in rows:
        print(f"geneval --dims {dims} stages: decode {v['decode_cpu_s']:.2f} CPU s, preprocess {v['preprocess_cpu_s']:.2f} CPU s, inference {v['inference_s']:.2f} s, extraction wall {v['extraction_wall_s']:.2f} s")


if __name__ == "__main__":
    main()
