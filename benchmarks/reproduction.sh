#!/usr/bin/env bash
# The Fashion-MNIST reproduction of the paper's claims (issue 7): run the comparison, the rho ablation and the 2-D toy,
# then write the tables and figures into docs/reproduction.md (between the GENERATED markers of this mode; the
# hand-written text around them is kept) and docs/figures/.
#
#   benchmarks/reproduction.sh cpu    # one seed, fewer epochs, 2 CPU cores (about 35 minutes on an idle machine)
#   benchmarks/reproduction.sh gpu    # 3 seeds at the GPU profiles' size (one H200)
#
# Environment:
#   SPLINEBENCH   the command to call (default: .venv/bin/splinebench, else splinebench on PATH)
#   STORE         results store (default: splinebench-runs/repro-<mode>/store.sqlite, started afresh)
#   FMNIST_DIR    folder with the four Fashion-MNIST IDX files (default: Debian's /usr/share/datasets/fashion-mnist)
#   CPU_TEST_SIZE test images the CPU version evaluates on (default 5000; 0 = the full 10,000)
#   SKIP          space-separated steps to skip: vgg rho preresnet toy report
#   REPRO_SET     extra dotted overrides for the Fashion-MNIST runs, space-separated (e.g. "train.epochs=30")
#   KEEP_STORE    set to keep an existing store (add runs to it) instead of starting afresh
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-cpu}"
case "$MODE" in cpu|gpu) ;; *) echo "usage: $0 cpu|gpu" >&2; exit 2 ;; esac
if [ -n "${SPLINEBENCH:-}" ]; then SB=($SPLINEBENCH); elif [ -x .venv/bin/splinebench ]; then SB=(.venv/bin/splinebench);
else SB=(splinebench); fi
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
STORE="${STORE:-splinebench-runs/repro-$MODE/store.sqlite}"
FMNIST_DIR="${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}"
SKIP=" ${SKIP:-} "
LOG_DIR="$(dirname "$STORE")"
mkdir -p "$LOG_DIR"
if [ -z "${KEEP_STORE:-}" ]; then rm -f "$STORE" "$STORE-wal" "$STORE-shm" "$LOG_DIR/timings.txt"; fi

stamp() { date '+%H:%M:%S'; }
step() { echo "== $(stamp) $*" | tee -a "$LOG_DIR/timings.txt"; }
skip() { [[ "$SKIP" == *" $1 "* ]]; }

# The CPU version evaluates on a seeded subset of the test split: 10,000 test images per epoch would cost more than the
# training itself. The training files are the real ones (linked); the subset is written once, next to the store.
DATA_ROOT="$FMNIST_DIR"
if [ "$MODE" = cpu ] && [ "${CPU_TEST_SIZE:-5000}" != 0 ]; then
  DATA_ROOT="$LOG_DIR/fashion-mnist-test${CPU_TEST_SIZE:-5000}"
  "$PY" - "$FMNIST_DIR" "$DATA_ROOT" "${CPU_TEST_SIZE:-5000}" <<'EOF'
import sys
from pathlib import Path

import numpy as np

from splinebench.data.fashion_mnist import locate_fashion_mnist
from splinebench.data.idx import read_idx, write_idx

source, target, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
files = locate_fashion_mnist(source)
target.mkdir(parents=True, exist_ok=True)
for key in ("train_images", "train_labels"):
    link = target / files[key].name
    if not link.exists():
        link.symlink_to(files[key].resolve())
keep = np.sort(np.random.default_rng(0).choice(10_000, size=size, replace=False))
write_idx(target / "t10k-images-idx3-ubyte", read_idx(files["test_images"])[keep])
write_idx(target / "t10k-labels-idx1-ubyte", read_idx(files["test_labels"])[keep])
print(f"test subset: {size} of 10,000 images (seed 0) in {target}")
EOF
fi

if [ "$MODE" = cpu ]; then VGG=profiles/repro-fmnist-vgg-cpu.toml; RESNET=profiles/repro-fmnist-preresnet-cpu.toml
else VGG=profiles/repro-fmnist-vgg.toml; RESNET=profiles/repro-fmnist-preresnet.toml; fi
DATA=(--set "data.root=$DATA_ROOT")
for override in ${REPRO_SET:-}; do DATA+=(--set "$override"); done

# rho ablation (Fig. 7): five spline entries on one dense run, each with its own rho.
RHO_PRUNERS='['
for rho in 0.01 0.05 0.1 0.2 0.4; do
  RHO_PRUNERS+="{name=\"spline\", ticket=\"final\", label=\"spline-rho$rho\", options={scope=\"layerwise\", rho=$rho}},"
done
RHO_PRUNERS="${RHO_PRUNERS%,}]"
RHO=(--set "name=$(basename "$VGG" .toml)-rho" --set "prune.pruners=$RHO_PRUNERS" --set "seeds=[0]")
if [ "$MODE" = cpu ]; then RHO+=(--set "prune.ratios=[0.5, 0.7]"); fi

# Cheapest first, the PreResNet last: stopping that run (kill its pid) still leaves a report of the others.
skip toy || { step "run profiles/toy-2d.toml"; "${SB[@]}" run profiles/toy-2d.toml --store "$STORE" || true; }
skip vgg || { step "run $VGG"; "${SB[@]}" run "$VGG" --store "$STORE" "${DATA[@]}" || true; }
skip rho || { step "run rho ablation on $VGG"; "${SB[@]}" run "$VGG" --store "$STORE" "${DATA[@]}" "${RHO[@]}" || true; }
skip preresnet || { step "run $RESNET"; "${SB[@]}" run "$RESNET" --store "$STORE" "${DATA[@]}" || true; }
step "runs done"

skip report && exit 0
RUNS=$("$PY" -c "
from splinebench.store import StoreReader
print(' '.join(r.id for r in StoreReader('$STORE').runs() if r.status == 'finished'))")
step "report on: $RUNS"
# shellcheck disable=SC2086
"${SB[@]}" report $RUNS --store "$STORE" --format md --figures --out docs --name "reproduction-$MODE"
"${SB[@]}" report $RUNS --store "$STORE" --format json --out "$LOG_DIR" --name report
"${SB[@]}" report $RUNS --store "$STORE" --format csv --out "$LOG_DIR" --name report

# Splice the generated tables into docs/reproduction.md between this mode's markers (the rest of the file is kept).
"$PY" - "docs/reproduction-$MODE.md" docs/reproduction.md "$MODE" "$LOG_DIR/timings.txt" "$*" <<'EOF'
import sys
from pathlib import Path

generated, target, mode, timings = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
begin, end = f"<!-- BEGIN GENERATED {mode} -->", f"<!-- END GENERATED {mode} -->"
body = "\n".join([
    begin, "",
    f"Generated by `benchmarks/reproduction.sh {mode}`. Step times (wall clock):", "", "```",
    timings.read_text().strip() if timings.is_file() else "(no timings)", "```", "",
    generated.read_text(), end,
])
text = target.read_text() if target.is_file() else "# Reproduction on Fashion-MNIST\n\n"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    text = head + body + rest.split(end, 1)[1]
else:
    text = text.rstrip() + "\n\n" + body + "\n"
target.write_text(text)
generated.unlink()
print(f"updated {target}")
EOF
step "report written"
