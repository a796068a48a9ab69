#!/usr/bin/env bash
# Regenerates the statistics in reference-stats/: each is `geneval generate`
# (the bundled reference generator) then `geneval stats`, with a .toml
# beside it recording the exact commands, geneval's version and commit, the
# model and its id, the preprocessing mode and the file's SHA-256.
#
#   bash reference-stats/make.sh            # every file
#   bash reference-stats/make.sh NAME...    # only these (names without .npz)
#
# Needs what scripts/geneval needs (Rust, python3 with pip). Deterministic:
# the generator is byte-identical everywhere; the features go through ONNX
# Runtime on the CPU, so a rerun on another CPU may differ in the last bits.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | images | size
sets=(
    "geneval-shapes10_seed0-n500_pytorch-fid_builtin_64|500|64"
    "geneval-shapes10_seed0-n10000_pytorch-fid_builtin_64|10000|64"
    "geneval-shapes10_seed0-n10000_pytorch-fid_builtin_256|10000|256"
)

want=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${sets[@]}"; do
    IFS='|' read -r name n size <<<"$entry"
    if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
        continue
    fi
    echo "== $name" >&2
    images="$work/$name"
    generate=(generate "$images" --n "$n" --size "$size" --seed 0 --classes 10 --format png)
    stats=(stats "$images" -o "reference-stats/$name.npz" --model builtin --mode pytorch-fid)
    scripts/geneval "${generate[@]}" --quiet >/dev/null
    scripts/geneval "${stats[@]}" --quiet --json >"$work/record.json"
    python3 - "$name" "$work/record.json" "geneval ${generate[*]/#$images/IMAGES}" "geneval ${stats[*]/#$images/IMAGES}" <<'PY'
import datetime, hashlib, json, subprocess, sys
name, record_path, generate, stats = sys.argv[1:]
record = json.load(open(record_path))
npz = f"reference-stats/{name}.npz"
sha = hashlib.sha256(open(npz, "rb").read()).hexdigest()
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
s = record["settings"]
fields = {
    "name": name,
    "dataset": "geneval's reference generator: 10 procedural classes, seed 0, PNG",
    "generate_command": generate,
    "stats_command": stats,
    "images": int(record["inputs"][0]["count"]),
    "dims": int(record["inputs"][0]["dim"]),
    "model": s["model"],
    "model_id": s["model_id"],
    "mode": s["mode"],
    "input_size": s["input_size"],
    "geneval_version": record["geneval_version"],
    "geneval_commit": commit,
    "onnxruntime": "1.31.1 (CPU)",
    "npz_sha256": sha,
    "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "note": "built-in network: compare your runs with it, not with published FID",
}
with open(f"reference-stats/{name}.toml", "w") as f:
    for key, value in fields.items():
        f.write(f"{key} = {json.dumps(value)}\n")
PY
done
