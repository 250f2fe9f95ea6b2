#!/usr/bin/env bash
# What a lent GPU machine runs (from the repository root, with build-device/bundle.tar.xz from
# scripts/device-bundle.sh):
# the card, then the GPU tests (the CUDA runtime, our kernels against the CPU ops), one line per test binary,
# then a short table. Everything it prints goes into the issue note.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
tar -C "${work}" -xJf build-device/bundle.tar.xz || exit 2
bundle="${work}/bundle"
export LD_LIBRARY_PATH="${bundle}/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not available"
"${bundle}/bin/ringtrain" version
results=()
for test in "${bundle}/bin/core_cuda_runtime_test" "${bundle}/bin/ops_cuda_kernels_test"; do
  output=$("${test}" 2>&1)
  status=$?
  echo "${output}" | grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|Failure|Expected|Which|error" | head -60
  passed=$(grep -c "^\[       OK \]" <<<"${output}")
  failed=$(grep -c "^\[  FAILED  \] .* ([0-9]* ms)$" <<<"${output}")
  skipped=$(grep -c "^\[  SKIPPED \] .* ([0-9]* ms)$" <<<"${output}")
  results+=("$(basename "${test}") ${passed} ${failed} ${skipped} ${status}")
done
printf '\n%-28s %6s %6s %7s %4s\n' test passed failed skipped rc
for row in "${results[@]}"; do
  # shellcheck disable=SC2086
  printf '%-28s %6s %6s %7s %4s\n' ${row}
done
