#!/usr/bin/env bash
# Runs a test binary as user nobody when started as root, for the tests of what a user who is not root meets
# (root may write any file). Exit 77 (CTest: skipped) with the reason where nobody cannot run it.
# usage: as_another_user.sh BINARY [ARGUMENTS...]
set -u
((EUID == 0)) || exec "$@"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
command -v setpriv >/dev/null || { echo "SKIPPED: setpriv (util-linux) is not installed"; exit 77; }
"${as_nobody[@]}" test -x "$1" || { echo "SKIPPED: user nobody cannot run $1 (a folder above it is closed)"; exit 77; }
exec "${as_nobody[@]}" env TMPDIR=/tmp "$@"
