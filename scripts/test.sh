#!/usr/bin/env bash
# Runs all of ringtrain's tests from a fresh checkout: installs packages, builds, fetches MNIST, then runs
# CTest's fast and slow labels. The long label (full 10-epoch codelab runs) runs with: ctest --test-dir build -L long
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
scripts/fetch-mnist.sh
ctest --test-dir build -L 'fast|slow' --output-on-failure -j 2 --timeout 900
