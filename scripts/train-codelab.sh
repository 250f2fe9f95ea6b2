#!/usr/bin/env bash
# Trains the codelab's final model (experiment 9, batch norm) end to end on a fresh machine: installs
# packages, builds, fetches MNIST, trains 10 epochs, and writes the log and per-epoch CSV to runs/09_batch_norm/.
# Run again (with --resume auto, say), it adds to train.log, after a line with the date and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
scripts/fetch-mnist.sh
run_dir=runs/09_batch_norm
mkdir -p "${run_dir}"
train=(build/ringtrain train --config experiments/09_batch_norm.ini --run-dir "${run_dir}" --keep-best --report
  --csv "${run_dir}/metrics.csv" "$@")
# The log keeps every run's output, errors included (a refused run says why there).
printf '=== %s:%s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')" "$(printf ' %q' "${train[@]}")" >>"${run_dir}/train.log"
"${train[@]}" 2>&1 | tee -a "${run_dir}/train.log"
echo "wrote ${run_dir}/: report.html (open it in a browser), curves.png, predictions.png, train.log,"
echo "  metrics.csv, metrics.h5 and checkpoints (best.h5 and the newest three)"
