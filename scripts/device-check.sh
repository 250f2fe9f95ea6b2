#!/usr/bin/env bash
# What a lent GPU machine runs (from the repository root, with build-device/bundle.tar.xz from
# scripts/device-bundle.sh): the card and the commit the bundle was built from; the GPU tests (the CUDA runtime
# and graphs, our kernels and cuDNN/cuBLAS against the CPU ops, every layer's gradients against finite
# differences on the GPU, the dataset on the GPU, training on the GPU against eager steps and the CPU, layer
# timing, the NCCL communicator at world size 1), one line per test binary; ringtrain's bench (graph, eager,
# non-deterministic convolutions, each layer alone) and PyTorch eager's on the same card, same model and
# batch; experiment 9 trained on the GPU for 3 epochs, then again stopped after 1 epoch and resumed to 3 (the
# same metrics expected); a memory check of replayed steps; then a summary table. Everything it prints goes into the
# issue note, and the full log into $OUT/device-check.log (with the tests' outputs in gpu-tests.txt and the
# training's epochs.csv) where $OUT is set.
# Every step has a time limit and all of them one deadline (RINGTRAIN_DEVICE_SECONDS, default 420 s): a step
# that would start past it is skipped, so one that hangs cannot cost the table.
# RINGTRAIN_DEVICE_EPOCHS overrides the 3 epochs; RINGTRAIN_DEVICE_STEPS the 900 timed bench steps.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
deadline=${RINGTRAIN_DEVICE_SECONDS:-420}
steps=${RINGTRAIN_DEVICE_STEPS:-900}
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
if [[ -n "${OUT:-}" && -d "${OUT}" ]]; then
  log="${OUT}/device-check.log"
  exec > >(tee "${log}") 2>&1
  tee_pid=$!
fi

# Runs a command for at most `limit` seconds, or less where the deadline is nearer; skips it when under 15 s
# are left. Usage: limited LIMIT COMMAND...
limited() {
  local limit=$1 left=$((deadline - SECONDS))
  shift
  if ((left < 15)); then
    echo "device-check: skipped (deadline of ${deadline} s reached): $*" >&2
    return 124
  fi
  ((limit > left)) && limit=${left}
  timeout -k 5 "${limit}" "$@"
}

# GNU tar needs the xz program for -J; where a machine lacks it, Python's tarfile reads the archive itself.
if command -v xz >/dev/null; then
  tar -C "${work}" -xJf build-device/bundle.tar.xz || exit 2
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
    build-device/bundle.tar.xz "${work}" || exit 2
fi
bundle="${work}/bundle"
echo "bundle: $(cat "${bundle}/STAMP" 2>/dev/null || echo "no STAMP (made before stamps)")"
system_libraries="${LD_LIBRARY_PATH:-}"
export LD_LIBRARY_PATH="${bundle}/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
# Open MPI without mpirun (a singleton that starts no daemon), its components from the bundle.
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_mca_base_component_path="${bundle}/openmpi-components"
export PMIX_MCA_mca_base_component_path="${bundle}/pmix-components" OMPI_MCA_btl=self,vader
# Built with glibc 2.36 (Debian 12): where this machine's C library is older, the binaries run under the
# bundle's own loader and C runtime (RINGTRAIN_BUNDLED_LIBC=1 forces that, to try it anywhere).
# cuDNN and NCCL are expected under /usr/local/cuda; where they are missing, PyTorch's copies (its wheels'
# nvidia/*/lib folders) are tried after them.
launch=()
started=$(limited 30 "${bundle}/bin/ringtrain" version 2>&1)
if [[ "${started}" == *"cannot open shared object file"* ]]; then
  grep "cannot open" <<<"${started}" | head -2
  torch_libraries=$(LD_LIBRARY_PATH="${system_libraries}" limited 60 python3 -c 'import glob, importlib.util, os
dirs = []
for name in ("torch", "nvidia"):
    spec = importlib.util.find_spec(name)
    for base in (spec.submodule_search_locations or []) if spec else []:
        dirs += [os.path.join(base, "lib")] + glob.glob(os.path.join(base, "*", "lib"))
print(":".join(d for d in dirs if os.path.isdir(d)))' 2>/dev/null)
  echo "device-check: adding PyTorch's libraries: ${torch_libraries:-none found}"
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH}${torch_libraries:+:${torch_libraries}}"
  started=$(limited 30 "${bundle}/bin/ringtrain" version 2>&1)
fi
if [[ "${RINGTRAIN_BUNDLED_LIBC:-0}" == 1 || "${started}" == *GLIBC* ]]; then
  echo "device-check: running under the bundle's C library; this machine's: $(ldd --version 2>&1 | head -1)"
  grep GLIBC <<<"${started}" | head -2
  launch=("${bundle}"/glibc/ld-linux-x86-64.so.2 --library-path "${bundle}/glibc:${LD_LIBRARY_PATH}")
fi
card=$(limited 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null ||
  echo "nvidia-smi: not available")
echo "card: ${card}"
version=$(limited 30 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" version 2>&1) ||
  ldd "${bundle}/bin/ringtrain" | grep -E "not found|cud|nccl"
echo "${version}"
# A driver older than the CUDA the bundle was built with shows as "0 GPU(s) usable (reason)": every GPU test
# would then skip, and a table of skips is not a result.
if limited 30 nvidia-smi -L 2>/dev/null | grep -q "^GPU" && [[ "${version}" == *" 0 GPU(s) usable"* ]]; then
  echo "device-check: nvidia-smi lists a GPU but CUDA finds none usable (the reason is in the line above)"
fi

# The GPU tests: failures in full (first 40 lines of each binary's), passes only counted.
results=()
for test in core_cuda_runtime_test ops_cuda_kernels_test data_device_dataset_test layers_gradient_test \
  layers_gpu_trainer_test layers_timing_test distributed_nccl_test; do
  output=$(limited 90 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/${test}" 2>&1)
  status=$?
  # One file for all of them: the device machine returns a handful of files from $OUT, not one per test.
  [[ -n "${log:-}" ]] && printf '=== %s (rc %s)\n%s\n' "${test}" "${status}" "${output}" >>"${OUT}/gpu-tests.txt"
  echo "${output}" | grep -E "^\[  FAILED  \]|Failure|Expected|Which|Value of|error|what\(\)" | head -40
  passed=$(grep -c "^\[       OK \]" <<<"${output}")
  failed=$(grep -c "^\[  FAILED  \] .* ([0-9]* ms)$" <<<"${output}")
  skipped=$(grep -c "^\[  SKIPPED \] .* ([0-9]* ms)$" <<<"${output}")
  results+=("${test} ${passed} ${failed} ${skipped} ${status}")
done
tests_table=$(
  printf '%-28s %6s %6s %7s %4s\n' test passed failed skipped rc
  for row in "${results[@]}"; do
    # shellcheck disable=SC2086
    printf '%-28s %6s %6s %7s %4s\n' ${row}
  done
)
echo "${tests_table}"

# The last value of `name=` in the input.
value() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" | tail -n 1; }

config="${bundle}/09_batch_norm.ini"
run_bench() {
  limited 60 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" bench --config "${config}" \
    --data "${bundle}/mnist" --device cuda --batch-size 64 --steps "${steps}" --warmup 30 "$@" 2>&1 |
    grep -E "^bench|error" | tail -6
}
echo
echo "== ringtrain bench, experiment 9, batch 64, ${steps} steps after 30"
bench_graph=$(run_bench)
echo "${bench_graph}"
bench_fast=$(run_bench --deterministic false)
echo "${bench_fast}" | sed 's/^/(deterministic false) /'
bench_eager=$(run_bench --cuda-graph false)
echo "${bench_eager}" | sed 's/^/(cuda-graph false) /'
echo
echo "== ringtrain bench --per-layer: each layer's forward and backward recorded and replayed alone"
per_layer=$(limited 60 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" bench --config "${config}" \
  --data "${bundle}/mnist" --device cuda --batch-size 64 --steps 300 --warmup 30 --per-layer 2>&1 |
  grep -E "^bench (layer|img_per_s)|error" | sed 's/^bench //')
echo "${per_layer}"
echo
echo "== PyTorch eager, same model, batch 64"
torch_output=$(LD_LIBRARY_PATH="${system_libraries}" limited 120 python3 "${bundle}/bench_pytorch.py" \
  --device cuda --data "${bundle}/mnist" --batch-size 64 --steps "${steps}" --warmup 30 2>&1)
echo "${torch_output}" | grep -E "^torch|^bench|Error|error" | tail -4

echo
epochs=${RINGTRAIN_DEVICE_EPOCHS:-3}
echo "== experiment 9 on the GPU, ${epochs} epochs, batch 64"
limited 150 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" train --config "${config}" \
  --data "${bundle}/mnist" --device cuda --epochs "${epochs}" --batch-size 64 --csv "${work}/epochs.csv" 2>&1 |
  tail -12
cat "${work}/epochs.csv" 2>/dev/null
[[ -n "${log:-}" ]] && cp "${work}/epochs.csv" "${OUT}/" 2>/dev/null

# A GPU run stopped after its first epoch and resumed from its checkpoint must end where the uninterrupted
# run above ended. It reads the GPU's sums every 100 steps, as that run without a run directory did (the sums
# read at other intervals add in another order).
echo
echo "== resume on the GPU: 1 epoch, then --resume auto to ${epochs}, against the uninterrupted run"
resumed_run=()
for epochs_now in 1 "${epochs}"; do
  resumed_run+=("$(limited 100 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" train --config "${config}" \
    --data "${bundle}/mnist" --device cuda --epochs "${epochs_now}" --batch-size 64 --run-dir "${work}/resumed" \
    --resume auto --log-every 100 --csv "${work}/resumed.csv" 2>&1 | tail -3)")
done
printf '%s\n' "${resumed_run[@]}"
resume_verdict="resume on the GPU: no result"
if [[ -f "${work}/resumed.csv" && -f "${work}/epochs.csv" ]]; then
  if [[ "$(tail -n 1 "${work}/resumed.csv" | cut -d, -f1-6)" == "$(tail -n 1 "${work}/epochs.csv" | cut -d, -f1-6)" ]]; then
    resume_verdict="resume on the GPU: last epoch's metrics equal the uninterrupted run's"
  else
    resume_verdict="resume on the GPU: DIFFERS: $(tail -n 1 "${work}/resumed.csv") vs $(tail -n 1 "${work}/epochs.csv")"
  fi
fi
echo "${resume_verdict}"

# Replays of recorded steps checked for invalid memory accesses (a graph over freed buffers would show here).
sanitizer=/usr/local/cuda/bin/compute-sanitizer
[[ -x "${sanitizer}" ]] || sanitizer=$(command -v compute-sanitizer || true)
if [[ -n "${sanitizer}" ]]; then
  echo
  echo "== compute-sanitizer memcheck: recorded training steps replayed on the GPU"
  limited 120 "${sanitizer}" --tool memcheck --leak-check no "${launch[@]+"${launch[@]}"}" \
    "${bundle}/bin/layers_gpu_trainer_test" --gtest_filter='*GraphReplaysGiveTheEagerStepsBitForBit*' 2>&1 |
    grep -E "ERROR SUMMARY|Invalid|OK \]|FAILED" | head -20
fi

echo
echo "== summary ($(date -u +%FT%TZ), ${SECONDS} s): ${card}"
echo "${tests_table}"
torch_rate=$(value img_per_s <<<"${torch_output}")
printf '%-34s %10s %10s %12s %8s\n' "bench, experiment 9, batch 64" img_per_s ms_per_step "x pytorch" nodes
for row in "ringtrain graph:${bench_graph}" "ringtrain graph, fast conv:${bench_fast}" \
  "ringtrain eager:${bench_eager}" "pytorch eager:${torch_output}"; do
  name=${row%%:*}
  rate=$(value img_per_s <<<"${row#*:}")
  ratio=$(awk -v a="${rate:-0}" -v b="${torch_rate:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }')
  printf '%-34s %10s %10s %12s %8s\n' "${name}" "${rate:--}" "$(value ms_per_step <<<"${row#*:}")" "${ratio}" \
    "$(value step_graph_nodes <<<"${row#*:}")"
done
echo "per layer (graph replays, ms per pass; operations forward+backward):"
echo "${per_layer}" | sed 's/ type=[A-Za-z0-9]*//; s/share_of_step=//'
echo "${resume_verdict}"
graph_rate=$(value img_per_s <<<"${bench_graph}")
awk -v r="${graph_rate:-0}" -v g="$(value gflop_per_step <<<"${bench_graph}")" 'BEGIN {
  if (r > 0) printf "epoch of 60,000 images at the graph rate: %.3f s; arithmetic %.3g TFLOP/s\n", 60000 / r, g * r / 64 / 1000 }'
[[ -f "${work}/epochs.csv" ]] && awk -F, 'NR > 1 { total += $7; printf "epoch %d: val_accuracy %.4f, %.3f s (training and validation)\n", $1, $5, $7
  if (!reached && $5 >= 0.99) { reached = 1; printf "99.0%% validation accuracy reached after epoch %d: %.3f s of training and validation in all\n", $1, total } }
  END { if (!reached) print "99.0% validation accuracy not reached" }' "${work}/epochs.csv"
# The log's tee is a child the shell does not wait for: its last lines (this summary) are flushed before the
# script ends.
if [[ -n "${tee_pid:-}" ]]; then
  exec >&- 2>&-
  wait "${tee_pid}"
fi
