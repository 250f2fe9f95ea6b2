#!/usr/bin/env bash
# The Slurm launcher on a real one-node Slurm started here: munged, slurmctld and slurmd with their files in
# a temporary directory. A 2-task CPU job through launchers/slurm/submit must train and print its result; a
# second job, requeued with scontrol while it trains, must resume from its checkpoint (SLURM_RESTART_COUNT=1)
# and end with parameters bitwise equal to the same run on 2 processes never interrupted; a third, sent the
# SIGUSR1 that --signal=B:USR1@120 sends before the time limit, must checkpoint, exit 75, requeue itself and
# end the same way; and the batch script must requeue after that warning even when srun ends a rank still
# leaving (a stand-in whose ranks exit 75 seconds apart). Before that, wherever it runs: submit's and sweep's
# --help, their dry runs (train's options passed on with their values, nothing created), their errors for
# an option without its value, and their refusal, dry run or not, of a job that train would refuse (unknown
# options, bad values, an option given twice, a batch that does not divide among the ranks), in sweep's name
# and for every point of a sweep. Exit 77 (CTest: skipped) with the reason when the daemons cannot run here.
# Needs: RINGTRAIN (binary), RINGTRAIN_SOURCE_DIR.
set -uo pipefail

skip() { echo "SKIPPED: $*"; exit 77; }
# A failure shows the end of the job log it was about (${job_log}) and of the controller's log.
job_log=""
fail() {
  echo "FAILED: $*"
  if [[ -n "${job_log}" && -f "${job_log}" ]]; then
    echo "--- the last 60 lines of ${job_log}:"
    tail -60 "${job_log}"
  fi
  if [[ -n "${work:-}" && -f "${work}/slurmctld.log" ]]; then
    echo "--- the last 20 lines of ${work}/slurmctld.log:"
    tail -20 "${work}/slurmctld.log"
  fi
  exit 1
}

source_dir="${RINGTRAIN_SOURCE_DIR:?}"
binary="${RINGTRAIN:?}"
python=/usr/bin/python3

# The options of submit and sweep, with no Slurm: their dry runs print the sbatch command and create nothing.
export RINGTRAIN="${binary}"
submit="${source_dir}/launchers/slurm/submit"
sweep="${source_dir}/launchers/slurm/sweep"
config="${source_dir}/experiments/01_dense_softmax.ini"
dry=$(mktemp -d /tmp/ringtrain-slurm-dry-XXXXXX)
trap 'rm -rf "${dry}"' EXIT
for help in "${submit} --help" "${submit} -h" "${sweep} --help" "${sweep} -h"; do
  # shellcheck disable=SC2086 # the words of ${help} are the command
  printed=$(${help} 2>&1) || fail "${help} failed: ${printed}"
  for option in --run-dir --dry-run --help "ringtrain train"; do
    grep -q -- "${option}" <<<"${printed}" || fail "${help} does not mention ${option}: ${printed}"
  done
done
"${submit}" --help | grep -q -- "--gpus-per-node G" || fail "submit --help does not list --gpus-per-node"
"${sweep}" --help | grep -q -- "--vary KEY=" || fail "sweep --help does not list --vary"
# train's options anywhere, with their values (-1 is a value), and after --; submit's own, also as --name=value.
printed=$("${submit}" --run-dir "${dry}/run" --config "${config}" --dry-run --epochs 3 --keep-best --nodes=2 \
  --fail-at-step -1 --tasks-per-node 2 --lr=0.1 -- --batch-size 64 --seed 5 2>&1) || fail "submit --dry-run: ${printed}"
echo "${printed}"
grep -q -- "^+ sbatch --nodes 2 --ntasks-per-node 2 " <<<"${printed}" || fail "submit's own options were not its own: ${printed}"
grep -q -- " --threads 1 --epochs 3 --keep-best --fail-at-step -1 --lr=0.1 --batch-size 64 --seed 5$" <<<"${printed}" \
  || fail "train's options were not passed on: ${printed}"
[[ -e "${dry}/run" ]] && fail "submit --dry-run created the run directory"
printed=$("${sweep}" --run-dir "${dry}/sweep" --config "${config}" --keep-best --vary lr=0.01,0.003 --dry-run \
  --vary=batch-size=64,128 --epochs 3 --tasks-per-node 2 -- --seed 7 2>&1) || fail "sweep --dry-run: ${printed}"
echo "${printed}"
grep -q "^sweep: 4 points" <<<"${printed}" || fail "sweep did not count 4 points: ${printed}"
grep -q "point-3: --lr 0.003 --batch-size 128$" <<<"${printed}" || fail "sweep did not print its points: ${printed}"
grep -q -- "^+ sbatch --nodes 1 --ntasks-per-node 2 .* --array 0-3 " <<<"${printed}" || fail "sweep's array: ${printed}"
grep -q -- " --keep-best --epochs 3 --seed 7$" <<<"${printed}" || fail "sweep did not pass train's options on: ${printed}"
[[ -e "${dry}/sweep" ]] && fail "sweep --dry-run created its run directory"
# An option without its value: a clear error, status 2, and nothing created.
expect_error() {
  local expected=$1 printed status
  shift
  printed=$("$@" 2>&1)
  status=$?
  ((status == 2)) || fail "'$*' ended with status ${status}, not 2: ${printed}"
  grep -q -- "${expected}" <<<"${printed}" || fail "'$*' did not say '${expected}': ${printed}"
}
expect_error "^submit: error: --nodes needs a value" "${submit}" --run-dir "${dry}/run" --config "${config}" --nodes
expect_error "^submit: error: --nodes 0: give a positive whole number" "${submit}" --run-dir "${dry}/run" \
  --config "${config}" --nodes 0
expect_error "^submit: error: --gpus-per-node two: give a whole number" "${submit}" --run-dir "${dry}/run" \
  --config "${config}" --gpus-per-node two
expect_error "^submit: error: --run-dir needs a value" "${submit}" --run-dir --dry-run --config "${config}"
expect_error "^submit: error: --time needs a value" "${submit}" --run-dir "${dry}/run" --config "${config}" --time=
expect_error "^submit: error: unexpected argument 'stray'" "${submit}" --run-dir "${dry}/run" --config "${config}" stray
expect_error "^sweep: error: --vary needs a value" "${sweep}" --run-dir "${dry}/sweep" --config "${config}" --vary
expect_error "^sweep: error: --run-dir needs a value" "${sweep}" --vary lr=1,2 --run-dir
expect_error "^sweep: error: --cpus-per-task needs a value" "${sweep}" --run-dir "${dry}/sweep" --config "${config}" \
  --vary lr=1,2 --cpus-per-task
expect_error "^submit: error: --gpu-per-node is neither an option of submit nor of ringtrain train" "${submit}" \
  --run-dir "${dry}/run" --config "${config}" --gpu-per-node 8 --dry-run
expect_error "^submit: error: --thread is neither" "${submit}" --run-dir "${dry}/run" --config "${config}" \
  -- --thread=4
# A job that train would refuse is refused before anything is queued, by a dry run as by a real one, with the
# name of the command the user ran; sweep checks every point. The batch must divide among the ranks.
for dry_run in --dry-run ""; do
  expect_error "^sweep: error: --lrr is not an option of ringtrain train" "${sweep}" --run-dir "${dry}/sweep" \
    --config "${config}" --vary lrr=0.1,0.2 ${dry_run}
  expect_error "^sweep: error: ringtrain train would refuse point-0 (--lr abc): .*'--lr' is invalid" "${sweep}" \
    --run-dir "${dry}/sweep" --config "${config}" --vary lr=abc,-1 ${dry_run}
  expect_error "^sweep: error: ringtrain train would refuse point-1 (--lr -1): .*lr=-1 must be a positive" \
    "${sweep}" --run-dir "${dry}/sweep" --config "${config}" --vary lr=0.01,-1 ${dry_run}
  expect_error "^sweep: error: --lr is given both ways, as --vary lr=0.1 and as --lr" "${sweep}" --run-dir \
    "${dry}/sweep" --config "${config}" --vary lr=0.1 --lr 0.2 ${dry_run}
  expect_error "^sweep: error: --seed is given both ways, as --vary seed=1,2 and as --seed=3" "${sweep}" --run-dir \
    "${dry}/sweep" --config "${config}" --vary seed=1,2 ${dry_run} -- --seed=3
  expect_error "^sweep: error: point-1 (--batch-size 64): batch-size=64 .* does not divide among its 3 ranks" \
    "${sweep}" --run-dir "${dry}/sweep" --config "${config}" --vary batch-size=63,64 --tasks-per-node 3 ${dry_run}
  expect_error "^submit: error: the job: batch-size=64 (from .*09_batch_norm.ini) .* does not divide among its 3" \
    "${submit}" --run-dir "${dry}/run" --config "${source_dir}/experiments/09_batch_norm.ini" --tasks-per-node 3 \
    ${dry_run}
  expect_error "^submit: error: the job: batch-size=100 (from train's options) .* among its 16 ranks" "${submit}" \
    --run-dir "${dry}/run" --config "${config}" --nodes 2 --gpus-per-node 8 ${dry_run} -- --batch-size=100
  expect_error "^submit: error: ringtrain train would refuse the job: .*'--lr' cannot be specified more than once" \
    "${submit}" --run-dir "${dry}/run" --config "${config}" --lr 0.1 ${dry_run} -- --lr 0.2
  expect_error "^submit: error: the job: --keep is given twice" "${submit}" --run-dir "${dry}/run" \
    --config "${config}" --keep 2 --keep=3 ${dry_run}
  expect_error "^submit: error: ringtrain train would refuse the job: .*threads=2000" "${submit}" --run-dir \
    "${dry}/run" --config "${config}" --cpus-per-task 2000 ${dry_run}
done
# The refusal gives train's error alone, not the threads warning that summary prints before it.
printed=$("${submit}" --run-dir "${dry}/run" --config "${config}" --cpus-per-task 1000 --dry-run --lr abc 2>&1) &&
  fail "submit took --lr abc: ${printed}"
grep -q "warning" <<<"${printed}" && fail "the refusal holds summary's warning: ${printed}"
grep -q "^submit: error: ringtrain train would refuse the job: command line: .*'--lr' is invalid" <<<"${printed}" ||
  fail "the refusal of --lr abc: ${printed}"
# The batch is read from a config file that begins with a byte-order mark, as train reads it.
{
  printf '\xef\xbb\xbfbatch-size = 100\n'
  grep -v "^batch-size" "${config}"
} >"${dry}/bom.ini"
printed=$("${submit}" --run-dir "${dry}/run" --config "${dry}/bom.ini" --tasks-per-node 5 --dry-run 2>&1) ||
  fail "submit refused batch 100 on 5 ranks from a config file with a byte-order mark: ${printed}"
# The check takes train's own options out of what summary reads, and a --device cuda for a GPU elsewhere.
printed=$("${submit}" --run-dir "${dry}/run" --config "${config}" --gpus-per-node 8 --dry-run --device cuda \
  --keep-best --keep 2 --csv "${dry}/run/m.csv" --log-every 5 2>&1) || fail "submit refused a good GPU job: ${printed}"
# A real sweep, its points checked, writes sweep.txt and submits (here to echo) with the same options.
printed=$(SBATCH="echo" "${sweep}" --run-dir "${dry}/real" --config "${config}" --vary lr=0.1,0.2 --epochs 1 2>&1) ||
  fail "sweep refused a good sweep: ${printed}"
[[ "$(cat "${dry}/real/sweep.txt")" == $'--lr 0.1\n--lr 0.2' ]] || fail "sweep.txt: $(cat "${dry}/real/sweep.txt")"
grep -q -- "^--nodes 1 .* --array 0-1 .* --threads 1 --epochs 1$" <<<"${printed}" || fail "sweep's submit: ${printed}"
# The same sweep again continues it; another grid in its directory is refused, its sweep.txt left as it was.
SBATCH="echo" "${sweep}" --run-dir "${dry}/real" --config "${config}" --vary lr=0.1,0.2 --epochs 2 >/dev/null 2>&1 ||
  fail "sweep refused to continue its own points"
expect_error "^sweep: error: ${dry}/real holds another sweep" env SBATCH="echo" "${sweep}" --run-dir "${dry}/real" \
  --config "${config}" --vary lr=0.3 --epochs 1
[[ "$(cat "${dry}/real/sweep.txt")" == $'--lr 0.1\n--lr 0.2' ]] || fail "a refused sweep changed sweep.txt"
expect_error "^submit: error: --threads: each rank runs --cpus-per-task threads" "${submit}" --run-dir "${dry}/run" \
  --config "${config}" --threads 4
expect_error "^submit: error: --resume: every start of the job gives train --run-dir" "${submit}" --run-dir \
  "${dry}/run" --config "${config}" -- --resume=auto
expect_error "^submit: error: --run-dir: every start of the job gives train --run-dir" "${submit}" --run-dir \
  "${dry}/run" --config "${config}" -- --run-dir "${dry}/other"
[[ -e "${dry}/run" || -e "${dry}/sweep" ]] && fail "a refused submit or sweep created its run directory"
rm -rf "${dry}"
trap - EXIT
echo "slurm: submit's and sweep's options, help and dry runs as expected"
((EUID == 0)) || skip "the test daemons run as root, and this is user ${EUID}"
for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "${tool}" >/dev/null || skip "${tool} is not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done
"${python}" -c 'import h5py' 2>/dev/null || skip "python3-h5py is not installed"

work=$(mktemp -d /tmp/ringtrain-slurm-XXXXXX)
chmod 755 "${work}"
pids=()
cleanup() {
  local jobs
  mapfile -t jobs < <(squeue -h -o %i 2>/dev/null)
  ((${#jobs[@]})) && scancel --quiet --full "${jobs[@]}" 2>/dev/null
  for pid in "${pids[@]}"; do kill "${pid}" 2>/dev/null; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "${pid}" 2>/dev/null; done
  rm -rf "${work}"
}
trap cleanup EXIT

# Runs "$2 ..." every quarter second until it succeeds (status 0) or $1 seconds have passed. The limit is
# kept by the clock, not by counting pauses, so a pause that ends early cannot shorten the wait.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# munge with a key and files of its own.
mkdir -p "${work}/munge" "${work}/state" "${work}/spool"
chmod 755 "${work}/munge"
mungekey --create --keyfile="${work}/munge/munge.key" --bits=256 || skip "mungekey could not create a key"
chmod 600 "${work}/munge/munge.key"
socket="${work}/munge/munge.socket"
setsid munged --foreground --force --key-file="${work}/munge/munge.key" --socket="${socket}" \
  --pid-file="${work}/munge/munged.pid" --log-file="${work}/munge/munged.log" \
  --seed-file="${work}/munge/munged.seed" 2>"${work}/munged.err" &
pids+=($!)

host=$(hostname -s)
node=$(slurmd -C 2>/dev/null | head -1 | sed 's/ UpTime=.*//')
[[ "${node}" == NodeName=* ]] || skip "slurmd -C did not describe this node"
export SLURM_CONF="${work}/slurm.conf"
cat >"${SLURM_CONF}" <<CONF
ClusterName=ringtrain-test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=${socket},cred_expire=10
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=bf_interval=1,sched_interval=2
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=${work}/state
SlurmdSpoolDir=${work}/spool
SlurmctldPidFile=${work}/slurmctld.pid
SlurmdPidFile=${work}/slurmd.pid
SlurmctldLogFile=${work}/slurmctld.log
SlurmdLogFile=${work}/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
${node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
wait_until 5 test -S "${socket}" || skip "munged did not start: $(cat "${work}/munged.err" "${work}/munge/munged.log" 2>/dev/null | tail -3)"
setsid slurmctld -D -i -f "${SLURM_CONF}" 2>"${work}/slurmctld.err" &
pids+=($!)
setsid slurmd -D -f "${SLURM_CONF}" 2>"${work}/slurmd.err" &
pids+=($!)
state=""
node_idle() {
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [[ "${state}" == idle ]]
}
wait_until 30 node_idle || skip "the one-node Slurm did not come up (node state '${state}'): $(tail -3 "${work}/slurmctld.err" "${work}/slurmd.err" 2>/dev/null)"
echo "slurm: node ${host} idle"

"${python}" "${source_dir}/tests/launchers/fake_mnist.py" "${work}/mnist" 1280 150
export RINGTRAIN="${binary}" OMP_WAIT_POLICY=PASSIVE

# Waits for job $1 to leave the queue (at most $2 seconds).
job_gone() { [[ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]]; }
wait_for_job() { wait_until "$2" job_gone "$1"; }
job_id() { sed -n 's/^Submitted batch job \([0-9][0-9]*\).*/\1/p' <<<"$1"; }

# 1. A 2-task CPU job through the batch script (train's options given among submit's, without `--`).
out=$("${submit}" --run-dir "${work}/first" --config "${source_dir}/experiments/01_dense_softmax.ini" \
  --data "${work}/mnist" --tasks-per-node 2 --epochs 2 --batch-size 64 2>&1) || fail "submit: ${out}"
job=$(job_id "${out}")
[[ -n "${job}" ]] || fail "no job id in: ${out}"
wait_for_job "${job}" 120 || fail "job ${job} still queued after 120 s: $(squeue)"
log="${work}/first/slurm-${job}.out"
job_log="${log}"
grep -q "over 2 process(es)" "${log}" || fail "job ${job} did not train on 2 processes: $(tail -5 "${log}")"
grep -q "^final val_accuracy=" "${log}" || fail "job ${job} printed no final line: $(tail -5 "${log}")"
[[ -f "${work}/first/checkpoint-000000040.h5" ]] || fail "job ${job} wrote no final checkpoint: $(ls "${work}/first")"
echo "slurm: job ${job} trained on 2 tasks: $(grep '^final' "${log}")"

# 2. A sweep as a job array, gathered into one table.
out=$("${sweep}" --run-dir "${work}/sweep" --config "${source_dir}/experiments/01_dense_softmax.ini" \
  --vary lr=0.01,0.003 --tasks-per-node 1 -- --data "${work}/mnist" --epochs 1 --batch-size 64 2>&1) || fail "sweep: ${out}"
job=$(job_id "${out}")
[[ -n "${job}" ]] || fail "no job id in: ${out}"
wait_for_job "${job}" 120 || fail "array job ${job} still queued after 120 s"
table=$("${binary}" gather "${work}/sweep") || fail "gather: ${table}"
echo "${table}"
[[ $(grep -c "^point-[01]	0\.0*[13]	1	" <<<"${table}") == 2 ]] || fail "gather did not list both points with their lr"

# 3. The same run uninterrupted, on 2 processes outside Slurm, as the reference.
train=(--config "${source_dir}/experiments/09_batch_norm.ini" --data "${work}/mnist" --epochs 3
  --batch-size 64 --checkpoint-every 2)
env -u SLURM_CONF mpirun --allow-run-as-root -np 2 --oversubscribe "${binary}" train --threads 1 \
  --run-dir "${work}/reference" "${train[@]}" >"${work}/reference.log" 2>&1 || fail "reference run: $(tail -5 "${work}/reference.log")"
final=checkpoint-000000060.h5

# 4 and 5. Submitted, interrupted once it has a checkpoint (by `interrupt JOB`), run again, resumed.
interrupted_run() {
  local name=$1 interrupt=$2 out job log
  out=$("${submit}" --run-dir "${work}/${name}" --tasks-per-node 2 --config "${source_dir}/experiments/09_batch_norm.ini" \
    -- "${train[@]:2}" 2>&1) || fail "submit: ${out}"
  job=$(job_id "${out}")
  [[ -n "${job}" ]] || fail "no job id in: ${out}"
  job_log="${work}/${name}/slurm-${job}.out"
  local started=${SECONDS}
  wait_until 60 compgen -G "${work}/${name}/checkpoint-*.h5" >/dev/null \
    || fail "job ${job} wrote no checkpoint within $((SECONDS - started)) s"
  ${interrupt} "${job}" || fail "${interrupt} ${job} failed"
  local written=("${work}/${name}"/checkpoint-*.h5)
  echo "slurm: ${interrupt} ${job} after ${#written[@]} checkpoint(s)"
  wait_for_job "${job}" 300 || fail "job ${job} still queued 300 s after ${interrupt}"
  log="${work}/${name}/slurm-${job}.out"
  grep -q "restart 1" "${log}" || fail "job ${job} did not run again: $(tail -40 "${log}")"
  grep -q "resume: from " "${log}" || fail "job ${job} did not resume from a checkpoint: $(tail -40 "${log}")"
  grep "resume: from " "${log}"
  [[ -f "${work}/${name}/${final}" ]] || fail "job ${job} did not finish: $(tail -40 "${log}")"
  "${python}" "${source_dir}/tests/launchers/same_parameters.py" "${work}/${name}/${final}" "${work}/reference/${final}" \
    || fail "job ${job} ended with other parameters than the uninterrupted run"
  echo "slurm: job ${job} resumed and ended bitwise equal to the uninterrupted run"
}
# Requeued from outside.
interrupted_run requeued "scontrol requeue"

# Cancelled: the ranks checkpoint on Slurm's SIGTERM, and the job ends instead of requeueing itself.
out=$("${submit}" --run-dir "${work}/cancelled" --tasks-per-node 2 --config "${source_dir}/experiments/09_batch_norm.ini" \
  -- "${train[@]:2}" 2>&1) || fail "submit: ${out}"
job=$(job_id "${out}")
[[ -n "${job}" ]] || fail "no job id in: ${out}"
log="${work}/cancelled/slurm-${job}.out"
job_log="${log}"
wait_until 60 compgen -G "${work}/cancelled/checkpoint-*.h5" >/dev/null || fail "job ${job} wrote no checkpoint"
scancel "${job}" || fail "scancel ${job} failed"
wait_for_job "${job}" 120 || fail "job ${job} still queued 120 s after scancel: $(tail -20 "${log}")"
sleep 2  # a job that requeued itself would be back in the queue by now
job_gone "${job}" || fail "job ${job} came back after scancel: $(tail -20 "${log}")"
grep -q "restart 1" "${log}" && fail "job ${job} ran again after scancel: $(tail -20 "${log}")"
grep -q "requeueing job" "${log}" && fail "job ${job} requeued itself after scancel: $(tail -20 "${log}")"
echo "slurm: job ${job} cancelled: $(grep -m1 "stopped by SIGTERM" "${log}")"
# The time limit's warning: the batch script forwards SIGUSR1, ringtrain checkpoints and exits 75, and the
# script requeues the job itself.
warn_of_time_limit() { scancel --batch --signal=USR1 "$1"; }
# Succeeds when ringtrain stopped with its requeue code; the other checks fail the test.
preempted_run() {
  interrupted_run "$1" warn_of_time_limit
  grep -q "requeueing job" "${work}/$1"/slurm-*.out || fail "the batch script did not requeue itself"
  grep -q "exit code 75" "${work}/$1"/slurm-*.out
}
# Seen once in CI and never here: the job requeued and resumed, but neither ringtrain's stop line nor srun's
# "exit code 75" was in its log. The log is shown and the case runs once more; twice is a failure.
if ! preempted_run preempted; then
  echo "NOTE: no 'exit code 75' in ${job_log} after the warning; the case runs again. Its log:"
  cat "${job_log}"
  preempted_run preempted-again || fail "ringtrain did not stop with its requeue code (twice)"
fi

# 6. Ranks that leave seconds apart after the warning: srun's --kill-on-bad-exit ends the slow one when the
# first exits 75, srun reports its signal instead of 75, and the batch script requeues all the same.
out=$(RINGTRAIN="${source_dir}/tests/launchers/slow_rank_stand_in.sh" "${submit}" --run-dir "${work}/race" \
  --tasks-per-node 2 --config "${source_dir}/experiments/09_batch_norm.ini" 2>&1) || fail "submit: ${out}"
job=$(job_id "${out}")
[[ -n "${job}" ]] || fail "no job id in: ${out}"
log="${work}/race/slurm-${job}.out"
job_log="${log}"
both_ranks_waiting() { [[ $(grep -c "waiting" "${log}" 2>/dev/null) == 2 ]]; }
wait_until 60 both_ranks_waiting || fail "the stand-in's 2 ranks did not start: $(tail -20 "${log}")"
warn_of_time_limit "${job}" || fail "scancel --signal=USR1 ${job} failed"
wait_for_job "${job}" 300 || fail "job ${job} still queued 300 s after the warning"
grep -q "restart 1" "${log}" || fail "job ${job} was not requeued after its ranks left apart: $(tail -40 "${log}")"
[[ $(grep -c "restarted" "${log}") == 2 ]] || fail "job ${job} did not run again on 2 ranks: $(tail -40 "${log}")"
echo "slurm: job ${job} requeued after srun ended its slow rank: $(grep -m1 "after the time-limit warning" "${log}")"
