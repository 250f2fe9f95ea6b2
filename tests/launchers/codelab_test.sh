#!/usr/bin/env bash
# scripts/train-codelab.sh run three times in one checkout, as a user reruns it: its train.log must keep what
# every run wrote, each after a line naming its date and command: the first run's epochs, the second run's
# refusal (the run directory holds the first run's checkpoints) and the epochs of a third with --resume auto.
# The checkout is a copy with the script, experiment 9, the binary and stand-ins for setup, build and the MNIST
# fetch (a small fake MNIST instead). Needs: RINGTRAIN (binary), RINGTRAIN_SOURCE_DIR.
set -uo pipefail
fail() { echo "FAILED: $*"; exit 1; }

source_dir="${RINGTRAIN_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/ringtrain-codelab-XXXXXX)
trap 'rm -rf "${work}"' EXIT
checkout="${work}/checkout"
mkdir -p "${checkout}/scripts" "${checkout}/build" "${checkout}/experiments"
cp "${source_dir}/scripts/train-codelab.sh" "${checkout}/scripts/"
cp "${source_dir}/experiments/09_batch_norm.ini" "${checkout}/experiments/"
ln -s "${RINGTRAIN:?}" "${checkout}/build/ringtrain"
for step in setup build fetch-mnist; do
  printf '#!/bin/sh\necho "%s: a stand-in"\n' "${step}" >"${checkout}/scripts/${step}.sh"
  chmod +x "${checkout}/scripts/${step}.sh"
done
/usr/bin/python3 "${source_dir}/tests/launchers/fake_mnist.py" "${work}/mnist" 256 64
log="${checkout}/runs/09_batch_norm/train.log"
train=(--data "${work}/mnist" --threads 1)

out=$("${checkout}/scripts/train-codelab.sh" "${train[@]}" --epochs 1 2>&1) || fail "the first run failed: ${out}"
grep -q "^final val_accuracy=" "${log}" || fail "the first run's log has no final line: $(cat "${log}")"
first=$(grep -c . "${log}")
out=$("${checkout}/scripts/train-codelab.sh" "${train[@]}" --epochs 1 2>&1) &&
  fail "a second run into the same run directory was not refused: ${out}"
grep -q "^final val_accuracy=" "${log}" || fail "the refused run cut the first run's output from the log: $(cat "${log}")"
grep -q "already holds the checkpoints" "${log}" || fail "the refused run's reason is not in the log: $(cat "${log}")"
out=$("${checkout}/scripts/train-codelab.sh" "${train[@]}" --epochs 2 --resume auto 2>&1) ||
  fail "the resumed run failed: ${out}"
cat "${log}"
(($(grep -c "^=== .*: build/ringtrain train --config experiments/09_batch_norm.ini .* --epochs 1$" "${log}") == 2)) ||
  fail "the log does not name the first two runs' commands"
grep -q "^=== .* --epochs 2 --resume auto$" "${log}" || fail "the log does not name the resumed run's command"
[[ $(grep -c "^final val_accuracy=" "${log}") == 2 ]] || fail "the log does not keep both runs' final lines"
(($(grep -c . "${log}") > first + 3)) || fail "the log is no longer than after the first run"
echo "codelab: train.log kept three runs' output, each after its date and command"
