# The check a launcher makes before it queues or prints a job, so that a job certain to fail is refused now
# rather than when it starts (hours later, perhaps, and again at every restart): the config file and train's
# options as the job gives them pass `ringtrain summary`, which reads and validates them as train does, and
# the global batch divides among the job's ranks, as train requires. Sourced after options.sh; the binary is
# $RINGTRAIN.
# shellcheck shell=bash

# The options of `ringtrain $1` from its --help, one a line: "--name", or "--name arg" for one with a value.
options_of() { "${RINGTRAIN}" "$1" --help | sed -n 's/^  \(--[a-z0-9-]*\)\( arg\)\{0,1\}.*/\1\2/p'; }
# Sets train_options to train's options (as options_of prints them) and train_own_options to those of them
# that summary refuses; the first call reads them, the others find them set.
train_options="" train_own_options=""
read_train_options() {
  [[ -z "${train_options}" ]] || return 0
  train_options=$(options_of train)
  train_own_options=$(grep -vxF -f <(options_of summary) <<<"${train_options}")
}

# Fails for a train option among the arguments that every start of a job gives train itself: its run
# directory, and --resume auto (train would refuse the job, the option given twice, when it starts).
refuse_options_the_job_gives() {
  local argument
  for argument in "$@"; do
    case "${argument}" in
      --run-dir | --run-dir=* | --resume | --resume=*)
        die "${argument%%=*}: every start of the job gives train --run-dir (the job's run directory) and" \
          "--resume auto itself; leave it out" ;;
    esac
  done
}

# check_job WHAT RANKS CONFIG [TRAIN OPTIONS...] fails (through die) where train, started on RANKS processes
# with --config CONFIG (the file as read here) and these options, would refuse to start; WHAT names the job in
# the message. Train's own options, which summary refuses (--run-dir, --keep-best, ...), are left out of
# summary's and only checked for being given once; --device cuda is checked as cpu, since the job's GPUs need
# not be here. Without a binary or the config file here, it says what it did not check.
check_job() {
  local what=$1 ranks=$2 config=$3
  shift 3
  if [[ ! -r "${config}" ]]; then
    note "there is no ${config} here: ${what} was not checked"
    return 0
  fi
  # The global batch: the command line's, else the config file's, else train's default.
  local batch="" batch_from="train's options" argument previous=""
  for argument in "$@"; do
    [[ "${previous}" == --batch-size ]] && batch="${argument}"
    [[ "${argument}" == --batch-size=* ]] && batch="${argument#*=}"
    previous="${argument}"
  done
  if [[ -z "${batch}" ]]; then
    batch_from="${config}"
    batch=$(awk -F= 'NR == 1 { sub(/^\357\273\277/, "") } { sub(/#.*/, ""); key = $1; gsub(/[ \t\r]/, "", key)
                       if (key == "batch-size") { batch = $2; gsub(/[ \t\r]/, "", batch) } } END { print batch }' \
      "${config}")
  fi

  if [[ -x "${RINGTRAIN}" ]]; then
    local summary=(--config "${config}") given=" " name device_given=0 refusal
    read_train_options
    while (($#)); do
      name="${1%%=*}"
      if grep -qxF -e "${name}" -e "${name} arg" <<<"${train_own_options}"; then
        [[ "${given}" != *" ${name} "* ]] || die "${what}: ${name} is given twice; train takes it once"
        given+="${name} "
        if [[ "$1" != *=* ]] && (($# >= 2)) && grep -qxF -- "${name} arg" <<<"${train_own_options}"; then shift; fi
        shift
        continue
      fi
      case "$1" in
        --device | --device=*) device_given=1 ;;&
        --device=cuda) set -- --device=cpu "${@:2}" ;;
        --device) if [[ "${2:-}" == cuda ]]; then set -- --device cpu "${@:3}"; fi ;;
      esac
      summary+=("$1")
      shift
    done
    ((device_given)) || summary+=(--device cpu)
    if ! refusal=$("${RINGTRAIN}" summary "${summary[@]}" 2>&1 >/dev/null); then
      # The error alone: summary may warn first (of threads beyond this machine's cores, say).
      local error
      error=$(sed -n 's/^ringtrain: error: //p' <<<"${refusal}")
      die "ringtrain train would refuse ${what}: ${error:-${refusal}}"
    fi
    if [[ -z "${batch}" ]]; then
      batch_from="train's default"
      batch=$("${RINGTRAIN}" train --help | sed -n 's/^  --batch-size arg (=\([0-9]*\)).*/\1/p')
    fi
  else
    note "no ringtrain binary at ${RINGTRAIN}: train's options and ${config} were not checked, only the batch" \
      "(set RINGTRAIN to a binary to check them)"
  fi

  # Unchecked, the batch may be no number at all: then it is left to train.
  [[ "${batch}" =~ ^[0-9]{1,18}$ ]] && ((10#${batch} > 0 && ranks > 0)) || return 0
  batch=$((10#${batch}))
  if ((batch % ranks != 0)); then
    local below=$((batch / ranks * ranks))
    local multiples="$((below + ranks))"
    ((below == 0)) || multiples="${below} or ${multiples}"
    die "${what}: batch-size=${batch} (from ${batch_from}) is the global batch and does not divide among its" \
      "${ranks} ranks: use a multiple of ${ranks} (${multiples}), or a number of ranks that divides ${batch}"
  fi
}
