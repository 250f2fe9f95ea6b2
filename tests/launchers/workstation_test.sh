#!/usr/bin/env bash
# The workstation launcher: the mpirun command it prints (process count, run-as-root only for root, cores
# split into threads, --resume auto with a run directory, train's options after `--`), its --help and its
# errors for an option without a value, and a real 2-process run through it, started twice in the same run
# directory (the second continues the first). Needs: RINGTRAIN (binary), RINGTRAIN_SOURCE_DIR.
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
per_core=$(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: *\([0-9][0-9]*\).*/\1/p')
threads=$(($(nproc) / ${per_core:-1} / 2))
((threads >= 1)) || threads=1
grep -q -- " train --threads ${threads} --config " <<<"${printed}" || fail "expected --threads ${threads} for 2 processes on $(nproc) cores"
grep -q -- "--epochs 1" <<<"${printed}" || fail "train's own options were not passed on"
grep -q -- "--resume" <<<"${printed}" && fail "--resume given without a run directory"

# On a machine with two hardware threads a core (SMT), the ranks are bound to cores, which nproc counts twice:
# 4 hardware threads are 2 cores, one for each of 2 processes.
mkdir -p "${work}/smt"
printf '#!/bin/sh\necho 4\n' >"${work}/smt/nproc"
printf '#!/bin/sh\necho "Thread(s) per core:   2"\n' >"${work}/smt/lscpu"
chmod +x "${work}/smt/nproc" "${work}/smt/lscpu"
printed=$(PATH="${work}/smt:${PATH}" "${launcher}" --dry-run --np 2 --config "${RINGTRAIN_SOURCE_DIR}/experiments/01_dense_softmax.ini" 2>&1)
grep -q -- "2 core(s)" <<<"${printed}" || fail "4 hardware threads, 2 a core, are not 2 cores: ${printed}"
grep -q -- "--map-by slot:PE=1 --bind-to core .* train --threads 1 " <<<"${printed}" || fail "expected a core per process: ${printed}"

# A run directory brings --resume auto, unless the user gave a --resume; everything after `--` is train's.
config="${RINGTRAIN_SOURCE_DIR}/experiments/01_dense_softmax.ini"
printed=$("${launcher}" --dry-run --np 2 --config "${config}" --run-dir "${work}/dry" --epochs 1 2>&1) || fail "${printed}"
grep -q -- " --run-dir ${work}/dry --epochs 1 --resume auto$" <<<"${printed}" || fail "no --resume auto for a run directory: ${printed}"
[[ -e "${work}/dry" ]] && fail "the dry run created its run directory"
printed=$("${launcher}" --dry-run --np=2 --config "${config}" --run-dir="${work}/dry" 2>&1) || fail "${printed}"
grep -q -- " --run-dir=${work}/dry --resume auto$" <<<"${printed}" || fail "no --resume auto for --run-dir=DIR: ${printed}"
printed=$("${launcher}" --dry-run --config "${config}" --run-dir "${work}/dry" --resume "${work}/c.h5" 2>&1) || fail "${printed}"
grep -q -- "--resume auto" <<<"${printed}" && fail "--resume auto added to the user's own --resume: ${printed}"
printed=$("${launcher}" --dry-run --np 2 --config "${config}" -- --epochs 2 --np 3 2>&1) || fail "${printed}"
grep -q -- "^+ mpirun -np 2 .* --config ${config} --epochs 2 --np 3$" <<<"${printed}" || fail "the options after -- did not all go to train: ${printed}"
grep -q -- " -- " <<<"${printed}" && fail "-- itself was passed on: ${printed}"

# Its own --help (without running mpirun), and an option without its value.
for help in --help -h; do
  printed=$(MPIRUN=false "${launcher}" --np 2 "${help}" --config "${config}" 2>&1) || fail "${help} failed: ${printed}"
  for option in "--np N" --cpu --dry-run "ringtrain train --help"; do
    grep -q -- "${option}" <<<"${printed}" || fail "${help} does not mention ${option}: ${printed}"
  done
  grep -q "^+ " <<<"${printed}" && fail "${help} printed a command: ${printed}"
done
for missing in "--np" "--np --cpu" "--np=" "--np -- --epochs 1"; do
  # shellcheck disable=SC2086 # the words of ${missing} are the arguments
  printed=$("${launcher}" --dry-run --config "${config}" ${missing} 2>&1)
  status=$?
  ((status == 2)) || fail "'${missing}' ended with status ${status}, not 2: ${printed}"
  [[ "${printed}" == "ringtrain-local: error: --np needs a value"* ]] || fail "'${missing}' printed: ${printed}"
done

/usr/bin/python3 "${RINGTRAIN_SOURCE_DIR}/tests/launchers/fake_mnist.py" "${work}/mnist" 640 50
output=$(OMP_WAIT_POLICY=PASSIVE "${launcher}" --np 2 --config "${config}" --run-dir "${work}/run" \
  --data "${work}/mnist" --epochs 1 --batch-size 64 2>&1) || fail "the 2-process run failed: ${output}"
grep -q "over 2 process(es)" <<<"${output}" || fail "not 2 processes: ${output}"
grep -q "^final val_accuracy=" <<<"${output}" || fail "no final line: ${output}"
echo "workstation: $(grep '^final' <<<"${output}")"
# The same command again, for one more epoch: it continues from the first run's checkpoint.
output=$(OMP_WAIT_POLICY=PASSIVE "${launcher}" --np 2 --config "${config}" --run-dir "${work}/run" \
  --data "${work}/mnist" --epochs 2 --batch-size 64 2>&1) || fail "the second run in the same run directory failed: ${output}"
grep -q "resume: from " <<<"${output}" || fail "the second run did not resume from the first one's checkpoint: ${output}"
grep -q "^Epoch 2/2 " <<<"${output}" || fail "the second run did not train epoch 2: ${output}"
grep -q "^Epoch 1/2 " <<<"${output}" && fail "the second run trained epoch 1 again: ${output}"
grep -q "^final val_accuracy=" <<<"${output}" || fail "no final line in the second run: ${output}"
echo "workstation: again in the same run directory: $(grep '^resume: from ' <<<"${output}")"
