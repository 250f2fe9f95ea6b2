#!/usr/bin/env bash
# Builds ringtrain for a lent GPU machine (sm_90, no -march=native: its CPU is not this one) into
# build-device/, and gathers the binaries and every shared library they need that such a machine lacks (HDF5,
# Open MPI and its run-time components, Boost, oneDNN, libpng, FreeType, ...; not libc, not the CUDA driver, not the CUDA toolkit's
# libraries, which it has under /usr/local/cuda), the MNIST files and the PyTorch comparison into
# build-device/bundle/, packed as
# build-device/bundle.tar.xz: the one path to carry (well under 64 MiB). scripts/device-check.sh unpacks and
# runs it there.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGTRAIN_CUDA=ON -DRINGTRAIN_NATIVE=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build build-device -j "$(nproc)" --target ringtrain ops_cuda_kernels_test core_cuda_runtime_test \
  data_device_dataset_test layers_gradient_test layers_gpu_trainer_test layers_timing_test distributed_nccl_test
bundle=build-device/bundle
rm -rf "${bundle}"
mkdir -p "${bundle}/bin" "${bundle}/lib" "${bundle}/glibc" "${bundle}/mnist"
# What the bundle was built from, printed first by device-check.sh.
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' with uncommitted changes'), built $(date -u +%FT%TZ)" >"${bundle}/STAMP"
binaries=(build-device/ringtrain build-device/tests/ops/ops_cuda_kernels_test build-device/tests/core/core_cuda_runtime_test
  build-device/tests/data/data_device_dataset_test build-device/tests/layers/layers_gradient_test
  build-device/tests/layers/layers_gpu_trainer_test build-device/tests/layers/layers_timing_test
  build-device/tests/distributed/distributed_nccl_test)
cp "${binaries[@]}" "${bundle}/bin/"
cp scripts/bench_pytorch.py experiments/09_batch_norm.ini "${bundle}/"
# Open MPI and PMIx load their components at run time: they travel too (device-check.sh points MPI at them).
cp -r /usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3 "${bundle}/openmpi-components"
cp -r /usr/lib/x86_64-linux-gnu/pmix2/lib/pmix "${bundle}/pmix-components"
# MNIST (the device has no network), when this machine has it.
mnist="${RINGTRAIN_DATA:-${HOME}/.cache/ringtrain/mnist}"
cp "${mnist}"/*-ubyte* "${bundle}/mnist/" 2>/dev/null || echo "device-bundle: no MNIST in ${mnist}; run scripts/fetch-mnist.sh first"
# The C runtime, the GPU driver and the CUDA toolkit's libraries come from the device itself.
# glibc's own libraries (libresolv and the like, which HDF5's libcurl pulls in) share private symbols with its
# libc: mixed with another glibc's they may not load.
glibc_parts='ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libnss_[a-z]+|libanl|libnsl|libutil'
skip="^(linux-vdso|ld-linux|(${glibc_parts})\\.|libgcc_s\\.|libstdc\\+\\+\\.|libcuda\\.|libcudart|libcudnn|libcublas|libnccl|libnvrtc|libnvJitLink)"
for binary in "${binaries[@]}" "${bundle}"/openmpi-components/*.so "${bundle}"/pmix-components/*.so; do
  ldd "${binary}" | awk '$3 ~ /^\// { print $1, $3 }' | while read -r name path; do
    [[ "${name}" =~ ${skip} ]] || cp -L -u "${path}" "${bundle}/lib/"
  done
done
# The C and C++ runtimes this machine built with (glibc 2.36 for Debian 12), kept apart: device-check.sh runs
# the binaries under them, with their own loader, only where the device's C library is older.
ldd build-device/ringtrain | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
  grep -E "/(${glibc_parts}|ld-linux[^/]*|libgcc_s|libstdc\\+\\+)\\.so[^/]*\$" |
  while read -r path; do cp -L "${path}" "${bundle}/glibc/"; done
strip --strip-unneeded "${bundle}"/bin/* "${bundle}"/lib/* 2>/dev/null || true
tar -C build-device -cJf build-device/bundle.tar.xz bundle
du -sh "${bundle}" build-device/bundle.tar.xz
echo "device-bundle: carry build-device/bundle.tar.xz to the device and run scripts/device-check.sh there"
