#!/usr/bin/env bash
# Reproduction v2 on the CPU (issue 18): three seeds, run as sweeps, in two parts of under an hour each on 2 idle
# cores (benchmarks/repro_v2_estimate.py: part 1 about 55 min, part 2 about 52 min; on a shared machine longer).
#
#   benchmarks/reproduction_v2.sh part1           # Table 1 and Table 2 shapes (profiles/repro-v2-fmnist-vgg-cpu.toml)
#   benchmarks/reproduction_v2.sh part2           # PCA dimension + FA ablation, 20-epoch retraining (repro-v2-ablation-cpu)
#   benchmarks/reproduction_v2.sh resume SWEEP_ID # an interrupted part goes on where it stopped (nothing trained twice)
#   benchmarks/reproduction_v2.sh report          # tables of every v2 sweep in the store (md, csv, json), and the
#                                                 # runs exported as docs/data/repro-v2-cpu.json.gz
#
# Each part prints its sweep id first (also in $LOG_DIR/sweeps.txt). Run a part in the background with
#   nohup benchmarks/reproduction_v2.sh part1 > splinebench-runs/repro-v2/part1.log 2>&1 &
# Environment: SPLINEBENCH (command), STORE (default splinebench-runs/repro-v2/store.sqlite, kept between parts),
# FMNIST_DIR (default /usr/share/datasets/fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${SPLINEBENCH:-}" ]; then SB=($SPLINEBENCH); elif [ -x .venv/bin/splinebench ]; then SB=(.venv/bin/splinebench);
else SB=(splinebench); fi
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
STORE="${STORE:-splinebench-runs/repro-v2/store.sqlite}"
FMNIST_DIR="${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}"
LOG_DIR="$(dirname "$STORE")"
mkdir -p "$LOG_DIR"

part() {
  local profile="$1"
  local started
  started=$(date +%s)
  "${SB[@]}" sweep "$profile" --store "$STORE" --set "data.root=$FMNIST_DIR"
  echo "$profile: $(( ($(date +%s) - started) / 60 )) min" | tee -a "$LOG_DIR/timings.txt"
}

case "${1:-}" in
  part1) part profiles/repro-v2-fmnist-vgg-cpu.toml ;;
  part2) part profiles/repro-v2-ablation-cpu.toml ;;
  resume)
    [ -n "${2:-}" ] || { echo "usage: $0 resume SWEEP_ID" >&2; exit 2; }
    "${SB[@]}" sweep --resume "$2" --store "$STORE" ;;
  report)
    # every sweep of a v2 profile in the store; report pools each grid point's seeds (also across sweeps)
    mapfile -t SWEEPS < <("$PY" - "$STORE" <<'EOF'
import sys
from splinebench.store import StoreReader
reader = StoreReader(sys.argv[1])
seen = []
for row in reader.runs():
    if row.sweep_id and row.name.startswith("repro-v2-") and row.sweep_id not in seen:
        seen.append(row.sweep_id)
print("\n".join(seen))
EOF
)
    [ "${#SWEEPS[@]}" -gt 0 ] && [ -n "${SWEEPS[0]}" ] || { echo "no v2 sweep in $STORE" >&2; exit 2; }
    for fmt in md csv json; do
      "${SB[@]}" report "${SWEEPS[@]}" --store "$STORE" --format "$fmt" --out "$LOG_DIR" --name report-v2
    done
    # the results bundle the doc's numbers must regenerate from (`splinebench export`, branch determinism)
    if "${SB[@]}" export --help > /dev/null 2>&1; then
      mapfile -t RUNS < <("$PY" - "$STORE" "${SWEEPS[@]}" <<'EOF'
import sys
from splinebench.store import StoreReader
sweeps = set(sys.argv[2:])
print("\n".join(sorted(row.id for row in StoreReader(sys.argv[1]).runs() if row.sweep_id in sweeps)))
EOF
)
      mkdir -p docs/data
      "${SB[@]}" export "${RUNS[@]}" --store "$STORE" --out docs/data/repro-v2-cpu.json.gz
      "${SB[@]}" report "${SWEEPS[@]}" --store docs/data/repro-v2-cpu.json.gz --format md --out "$LOG_DIR" \
        --name report-v2-from-bundle
    else
      echo "no 'splinebench export' here: export the runs of ${SWEEPS[*]} once it is on main" >&2
    fi ;;
  *) echo "usage: $0 part1|part2|resume SWEEP_ID|report" >&2; exit 2 ;;
esac
