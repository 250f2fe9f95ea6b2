#!/usr/bin/env bash
# What a lent GPU machine runs (from the repository root, with build-device/bundle.tar.xz from
# scripts/device-bundle.sh): the card; the GPU tests (the CUDA runtime and graphs, our kernels and cuDNN/cuBLAS
# against the CPU ops, every layer's gradients against finite differences on the GPU, the dataset on the GPU,
# training on the GPU against eager steps and the CPU, the NCCL communicator at world size 1), one line per
# test binary; experiment 9 trained on the GPU for 3 epochs; ringtrain's bench (graph and eager) and PyTorch
# eager's on the same card, same model and batch. Everything it prints goes into the issue note.
# RINGTRAIN_DEVICE_EPOCHS overrides the 3.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
tar -C "${work}" -xJf build-device/bundle.tar.xz || exit 2
bundle="${work}/bundle"
export LD_LIBRARY_PATH="${bundle}/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
# Open MPI without mpirun (a singleton that starts no daemon), its components from the bundle.
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_mca_base_component_path="${bundle}/openmpi-components"
export PMIX_MCA_mca_base_component_path="${bundle}/pmix-components" OMPI_MCA_btl=self,vader
# Built with glibc 2.36 (Debian 12): where this machine's C library is older, the binaries run under the
# bundle's own loader and C runtime (RINGTRAIN_BUNDLED_LIBC=1 forces that, to try it anywhere).
# cuDNN and NCCL are expected under /usr/local/cuda; where they are missing, PyTorch's copies (its wheels'
# nvidia/*/lib folders) are tried after them.
launch=()
started=$("${bundle}/bin/ringtrain" version 2>&1)
if [[ "${started}" == *"cannot open shared object file"* ]]; then
  grep "cannot open" <<<"${started}" | head -2
  torch_libraries=$(python3 -c 'import glob, importlib.util, os
dirs = []
for name in ("torch", "nvidia"):
    spec = importlib.util.find_spec(name)
    for base in (spec.submodule_search_locations or []) if spec else []:
        dirs += [os.path.join(base, "lib")] + glob.glob(os.path.join(base, "*", "lib"))
print(":".join(d for d in dirs if os.path.isdir(d)))' 2>/dev/null)
  echo "device-check: adding PyTorch's libraries: ${torch_libraries:-none found}"
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH}${torch_libraries:+:${torch_libraries}}"
  started=$("${bundle}/bin/ringtrain" version 2>&1)
fi
if [[ "${RINGTRAIN_BUNDLED_LIBC:-0}" == 1 || "${started}" == *GLIBC* ]]; then
  echo "device-check: running under the bundle's C library; this machine's: $(ldd --version 2>&1 | head -1)"
  grep GLIBC <<<"${started}" | head -2
  launch=("${bundle}"/glibc/ld-linux-x86-64.so.2 --library-path "${bundle}/glibc:${LD_LIBRARY_PATH}")
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not available"
version=$("${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" version 2>&1) ||
  ldd "${bundle}/bin/ringtrain" | grep -E "not found|cud|nccl"
echo "${version}"
# A driver older than the CUDA the bundle was built with shows as "0 GPU(s) usable (reason)": every GPU test
# would then skip, and a table of skips is not a result.
if nvidia-smi -L 2>/dev/null | grep -q "^GPU" && [[ "${version}" == *" 0 GPU(s) usable"* ]]; then
  echo "device-check: nvidia-smi lists a GPU but CUDA finds none usable (the reason is in the line above)"
fi
results=()
for test in core_cuda_runtime_test ops_cuda_kernels_test data_device_dataset_test layers_gradient_test \
  layers_gpu_trainer_test distributed_nccl_test; do
  output=$(timeout 300 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/${test}" 2>&1)
  status=$?
  echo "${output}" | grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|Failure|Expected|Which|error|measured" | head -60
  passed=$(grep -c "^\[       OK \]" <<<"${output}")
  failed=$(grep -c "^\[  FAILED  \] .* ([0-9]* ms)$" <<<"${output}")
  skipped=$(grep -c "^\[  SKIPPED \] .* ([0-9]* ms)$" <<<"${output}")
  results+=("${test} ${passed} ${failed} ${skipped} ${status}")
done
printf '\n%-28s %6s %6s %7s %4s\n' test passed failed skipped rc
for row in "${results[@]}"; do
  # shellcheck disable=SC2086
  printf '%-28s %6s %6s %7s %4s\n' ${row}
done

config="${bundle}/09_batch_norm.ini"
echo
echo "== experiment 9 on the GPU, ${RINGTRAIN_DEVICE_EPOCHS:-3} epochs, batch 64"
timeout 300 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" train --config "${config}" --data "${bundle}/mnist" --device cuda \
  --epochs "${RINGTRAIN_DEVICE_EPOCHS:-3}" --batch-size 64 --csv "${work}/epochs.csv" 2>&1 |
  tail -12
cat "${work}/epochs.csv" 2>/dev/null
echo
echo "== bench, batch 64"
timeout 120 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" bench --config "${config}" --data "${bundle}/mnist" --device cuda \
  --batch-size 64 --steps 300 --warmup 30 2>&1 | grep -E "^bench|error" | tail -5
timeout 120 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" bench --config "${config}" --data "${bundle}/mnist" --device cuda \
  --deterministic false --batch-size 64 --steps 300 --warmup 30 2>&1 | grep -E "^bench|error" | tail -5 | sed 's/^/(deterministic false) /'
timeout 120 "${launch[@]+"${launch[@]}"}" "${bundle}/bin/ringtrain" bench --config "${config}" --data "${bundle}/mnist" --device cuda \
  --cuda-graph false --batch-size 64 --steps 300 --warmup 30 2>&1 | grep -E "^bench|error" | tail -5 | sed 's/^/(cuda-graph false) /'
echo
echo "== PyTorch eager, batch 64"
timeout 180 python3 "${bundle}/bench_pytorch.py" --device cuda --data "${bundle}/mnist" --batch-size 64 \
  --steps 300 --warmup 30 2>&1 | tail -3

# Replays of recorded steps checked for invalid memory accesses (a graph over freed buffers would show here).
sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [[ -x "${sanitizer}" ]]; then
  echo
  echo "== compute-sanitizer memcheck: training steps on the GPU"
  timeout 120 "${sanitizer}" --tool memcheck --leak-check no "${launch[@]+"${launch[@]}"}" "${bundle}/bin/layers_gpu_trainer_test" \
    --gtest_filter='*StepsOnTheGpuAreFitsSteps*:*GraphReplays*' 2>&1 | grep -E "ERROR SUMMARY|Invalid|OK \]|FAILED" | head -20
fi
