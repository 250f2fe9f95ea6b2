#!/usr/bin/env bash
# Measures ringtrain and PyTorch (eager, CPU) training experiment 9 at batch 64 in one sitting, each at thread
# counts 1 and 2 on real MNIST batches, and prints a table and the ratio of the best of each.
# Needs build/ringtrain, the MNIST files and Debian's python3-torch. Usage: scripts/bench-compare.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"
data="${RINGTRAIN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/ringtrain/mnist}"
python=/usr/bin/python3
[[ -x ${python} ]] || python=python3

value() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | tail -n 1; }

printf '%-10s %-8s %12s %12s\n' framework threads img_per_s ms_per_step
best_ringtrain=0
best_torch=0
for threads in 1 2; do
  line=$(build/ringtrain bench --config experiments/09_batch_norm.ini --steps "${steps}" --threads "${threads}" \
           --data "${data}" | grep "^bench img_per_s=")
  rate=$(value img_per_s <<<"${line}")
  printf '%-10s %-8s %12s %12s\n' ringtrain "${threads}" "${rate}" "$(value ms_per_step <<<"${line}")"
  best_ringtrain=$(awk -v a="${best_ringtrain}" -v b="${rate}" 'BEGIN { print (b > a ? b : a) }')
  line=$("${python}" scripts/bench_pytorch.py --steps "${steps}" --threads "${threads}" --data "${data}" | tail -n 1)
  rate=$(value img_per_s <<<"${line}")
  printf '%-10s %-8s %12s %12s\n' pytorch "${threads}" "${rate}" "$(value ms_per_step <<<"${line}")"
  best_torch=$(awk -v a="${best_torch}" -v b="${rate}" 'BEGIN { print (b > a ? b : a) }')
done
awk -v a="${best_ringtrain}" -v b="${best_torch}" \
  'BEGIN { printf "best ringtrain %.1f img/s, best pytorch %.1f img/s, ratio %.2fx\n", a, b, a / b }'
