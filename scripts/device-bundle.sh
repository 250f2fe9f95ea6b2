#!/usr/bin/env bash
# Builds ringtrain for a lent GPU machine (sm_90, no -march=native: its CPU is not this one) into
# build-device/, and gathers the binaries and every shared library they need that such a machine lacks (HDF5,
# Open MPI, Boost, oneDNN, libpng, FreeType, ...; not libc, not the CUDA driver, not the CUDA toolkit's
# libraries, which it has under /usr/local/cuda) into build-device/bundle/{bin,lib}, packed as
# build-device/bundle.tar.xz: the one path to carry (well under 64 MiB). scripts/device-check.sh unpacks and
# runs it there.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGTRAIN_CUDA=ON -DRINGTRAIN_NATIVE=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build build-device -j "$(nproc)" --target ringtrain ops_cuda_kernels_test core_cuda_runtime_test
bundle=build-device/bundle
rm -rf "${bundle}"
mkdir -p "${bundle}/bin" "${bundle}/lib"
binaries=(build-device/ringtrain build-device/tests/ops/ops_cuda_kernels_test build-device/tests/core/core_cuda_runtime_test)
cp "${binaries[@]}" "${bundle}/bin/"
# The C runtime, the GPU driver and the CUDA toolkit's libraries come from the device itself.
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libgcc_s\.|libstdc\+\+\.|libcuda\.|libcudart|libcudnn|libcublas|libnccl|libnvrtc|libnvJitLink)'
for binary in "${binaries[@]}"; do
  ldd "${binary}" | awk '$3 ~ /^\// { print $1, $3 }' | while read -r name path; do
    [[ "${name}" =~ ${skip} ]] || cp -L -u "${path}" "${bundle}/lib/"
  done
done
strip --strip-unneeded "${bundle}"/bin/* "${bundle}"/lib/* 2>/dev/null || true
tar -C build-device -cJf build-device/bundle.tar.xz bundle
du -sh "${bundle}" build-device/bundle.tar.xz
echo "device-bundle: carry build-device/bundle.tar.xz to the device and run scripts/device-check.sh there"
