# Option handling every launcher sources: its help from its header comment, errors named after it, and the
# check that an option has its value.
# shellcheck shell=bash

# The name in the launcher's messages: its own, or that of the launcher the user ran, which sets
# RINGTRAIN_LAUNCHER when it runs this one (sweep runs submit).
launcher="${RINGTRAIN_LAUNCHER:-${0##*/}}"
# Prints the launcher's header comment (from line 2 to `set -euo pipefail`).
usage() { sed -n '2,/^set -euo pipefail$/s/^# \{0,1\}//p' "$0"; }
# Fails with exit code 2, the launcher's name before the message.
die() {
  echo "${launcher}: error: $*" >&2
  exit 2
}
# Says something the user should know, on stderr, and goes on.
note() { echo "${launcher}: note: $*" >&2; }
# Whether $1 is an option rather than an option's value (-1 is a value).
is_option() { [[ "$1" == --* || "$1" == -[a-zA-Z]* ]]; }
# Fails, naming option $1, unless a value follows it.
needs_value() {
  if (($# < 2)) || [[ -z "$2" ]] || is_option "$2"; then
    die "$1 needs a value (see $0 --help)"
  fi
}
