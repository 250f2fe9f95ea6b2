#!/usr/bin/env bash
# The workstation launcher: the mpirun command it prints (process count, run-as-root only for root, cores
# split into threads), and a real 2-process run through it. Needs: RINGTRAIN (binary), RINGTRAIN_SOURCE_DIR.
set -uo pipefail
fail() { echo "FAILED: $*"; exit 1; }

launcher="${RINGTRAIN_SOURCE_DIR:?}/launchers/workstation/ringtrain-local"
work=$(mktemp -d /tmp/ringtrain-workstation-XXXXXX)
trap 'rm -rf "${work}"' EXIT

printed=$("${launcher}" --dry-run --np 2 --config "${RINGTRAIN_SOURCE_DIR}/experiments/01_dense_softmax.ini" --epochs 1 2>&1)
echo "${printed}"
grep -q -- "^+ mpirun -np 2 " <<<"${printed}" || fail "no 'mpirun -np 2' command printed"
if ((EUID == 0)); then
  grep -q -- "--allow-run-as-root" <<<"${printed}" || fail "root needs --allow-run-as-root"
else
  grep -q -- "--allow-run-as-root" <<<"${printed}" && fail "--allow-run-as-root given to a user who is not root"
fi
threads=$(($(nproc) / 2))
((threads >= 1)) || threads=1
grep -q -- " train --threads ${threads} --config " <<<"${printed}" || fail "expected --threads ${threads} for 2 processes on $(nproc) cores"
grep -q -- "--epochs 1" <<<"${printed}" || fail "train's own options were not passed on"

/usr/bin/python3 "${RINGTRAIN_SOURCE_DIR}/tests/launchers/fake_mnist.py" "${work}/mnist" 640 50
output=$(OMP_WAIT_POLICY=PASSIVE "${launcher}" --np 2 --config "${RINGTRAIN_SOURCE_DIR}/experiments/01_dense_softmax.ini" \
  --data "${work}/mnist" --epochs 1 --batch-size 64 2>&1) || fail "the 2-process run failed: ${output}"
grep -q "over 2 process(es)" <<<"${output}" || fail "not 2 processes: ${output}"
grep -q "^final val_accuracy=" <<<"${output}" || fail "no final line: ${output}"
echo "workstation: $(grep '^final' <<<"${output}")"
