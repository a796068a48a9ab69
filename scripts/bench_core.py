#!/usr/bin/env python3
"""Side-by-side timings of geneval's statistics core and the Python references.

Run from the repository root with the dev venv (numpy, scipy, pytorch-fid,
torch-fidelity, prdc):

    "$(scripts/dev-venv)/bin/python" scripts/bench_core.py [--quick]

It writes the same data to a temporary folder, times each reference in
process (data already in memory) and each geneval command end to end (a
release build; file reading included), checks that the values agree, and
prints a Markdown table for BENCHMARKS.md. Dev only: CI never runs it.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np


def timed(fn, repeat):
    best, value = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best, value


def geneval(binary, args, repeat):
    def run():
        out = subprocess.run([binary, *args, "--json", "-q"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    return timed(run, repeat)


def features(rng, n, d=2048):
    scale = 1.0 + (np.arange(d) % 17) * 0.1
    return (rng.standard_normal((n, d)) * scale).astype(np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for checking the script")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n_moments, n_kid = (5000, 1000) if args.quick else (50_000, 10_000)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "geneval")

    import torch
    from pytorch_fid.fid_score import calculate_frechet_distance
    from torch_fidelity.metric_kid import kid_features_to_metric
    from prdc import compute_prdc

    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = features(rng, n_moments)
        big_path = os.path.join(tmp, "big.npy")
        np.save(big_path, big)
        t_ref, cov = timed(lambda: np.cov(big, rowvar=False), args.repeat)
        t_ours, rec = geneval(binary, ["stats", big_path, "-o", os.path.join(tmp, "big.npz")], args.repeat)
        ours = np.load(os.path.join(tmp, "big.npz"))["sigma"]
        err = float(np.max(np.abs(ours - cov)) / np.max(np.abs(cov)))
        rows.append((f"covariance of {n_moments}x2048 float32", "numpy np.cov(rowvar=False)", t_ref,
                     "geneval stats (reads the .npy)", t_ours, f"max rel diff {err:.1e}"))

        stats = []
        for seed in (1, 2):
            f = features(np.random.default_rng(seed), 4096).astype(np.float64)
            mu, sigma = f.mean(axis=0), np.cov(f, rowvar=False)
            path = os.path.join(tmp, f"stats{seed}.npz")
            np.savez(path, mu=mu, sigma=sigma)
            stats.append((path, mu, sigma))
        (pa, mu1, s1), (pb, mu2, s2) = stats
        t_ref, fid_ref = timed(lambda: calculate_frechet_distance(mu1, s1, mu2, s2), 1 if not args.quick else args.repeat)
        t_ours, rec = geneval(binary, ["fid", pa, pb], args.repeat)
        rows.append(("FID from two 2048-d statistics", "pytorch-fid calculate_frechet_distance (scipy sqrtm)", t_ref,
                     "geneval fid a.npz b.npz", t_ours,
                     f"{fid_ref:.10g} vs {rec['value']:.10g}"))

        a = features(np.random.default_rng(3), n_kid)
        b = features(np.random.default_rng(4), n_kid) * 1.05
        pa, pb = os.path.join(tmp, "a.npy"), os.path.join(tmp, "b.npy")
        np.save(pa, a)
        np.save(pb, b)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        kid_kwargs = dict(kid_subsets=100, kid_subset_size=min(1000, n_kid), verbose=False)
        t_ref, kid_ref = timed(lambda: kid_features_to_metric(ta, tb, **kid_kwargs), 1)
        t_ours, rec = geneval(binary, ["kid", pa, pb], 1)
        rows.append((f"KID, 100 subsets of 1000, {n_kid}x2048", "torch-fidelity kid_features_to_metric (float32 kernel)",
                     t_ref, "geneval kid (float64 kernel)", t_ours,
                     f"{kid_ref['kernel_inception_distance_mean']:.8g} vs {rec['value']:.8g}"))

        t_ref, prdc_ref = timed(lambda: compute_prdc(a, b, 5), 1)
        t_ours, rec = geneval(binary, ["prdc", pa, pb], 1)
        rows.append((f"PRDC k=5, {n_kid}x2048", "prdc.compute_prdc", t_ref,
                     "geneval prdc (also improved P/R, k=3)", t_ours,
                     f"precision {prdc_ref['precision']:.6g} vs {rec['values']['precision']:.6g}, "
                     f"coverage {prdc_ref['coverage']:.6g} vs {rec['values']['coverage']:.6g}"))

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"numpy {np.__version__}, torch {torch.__version__}; {time.strftime('%Y-%m-%d')}")
    print()
    print("| work | reference | time (s) | geneval | time (s) | speed-up | agreement |")
    print("|---|---|---:|---|---:|---:|---|")
    for work, ref, t_ref, ours, t_ours, agree in rows:
        print(f"| {work} | {ref} | {t_ref:.2f} | {ours} | {t_ours:.2f} | {t_ref / t_ours:.1f}x | {agree} |")


if __name__ == "__main__":
    sys.exit(main())
