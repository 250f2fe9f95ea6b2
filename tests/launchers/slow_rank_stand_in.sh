#!/usr/bin/env bash
# A stand-in for `ringtrain train` under srun whose ranks leave one after another, the race that
# launchers/slurm/ringtrain.sbatch must survive: on SIGUSR1, rank 0 exits with the requeue code 75 at once and
# every other rank 5 s later, so srun's --kill-on-bad-exit ends them before they exit themselves. Run again
# after a requeue (SLURM_RESTART_COUNT set), it says so and exits 0. Asked anything but to train (submit's
# check of the job asks for `summary` and `train --help`), it answers nothing and succeeds.
if [[ "${1:-}" != train || "${2:-}" == --help ]]; then
  exit 0
fi
if ((${SLURM_RESTART_COUNT:-0} > 0)); then
  echo "stand-in: rank ${SLURM_PROCID} restarted"
  exit 0
fi
# shellcheck disable=SC2317 # run by the trap below, which shellcheck does not follow
leave() {
  ((SLURM_PROCID == 0)) || sleep 5
  echo "stand-in: rank ${SLURM_PROCID} exits 75"
  exit 75
}
trap leave USR1
echo "stand-in: rank ${SLURM_PROCID} waiting"
# Short pauses, so that the trap runs soon after the signal; the limit kept by the clock.
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do sleep 0.1; done
echo "stand-in: rank ${SLURM_PROCID} was never signalled"
exit 1
