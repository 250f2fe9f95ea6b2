# What both cloud launchers need to write a job for the image: the config file as the image holds it, and
# words as YAML text. Sourced after options.sh.
# shellcheck shell=bash

# The image holds this checkout at /opt/ringtrain (launchers/cloud/Dockerfile): prints CONFIG's path in the
# checkout CHECKOUT (CONFIG relative to it, or absolute within it); fails for a file that is not there.
config_in_checkout() {
  local checkout=$1 config=$2
  [[ "${config}" != /* ]] || config=$(realpath -m -- "${config}")
  if [[ "${config}" == /* ]]; then
    [[ "${config}" == "${checkout}"/* ]] ||
      die "--config ${config} is not in this checkout (${checkout}), which the image holds at /opt/ringtrain:" \
        "put it there, and give its path in the checkout"
    config=${config#"${checkout}"/}
  fi
  [[ -f "${checkout}/${config}" ]] ||
    die "--config ${config}: there is no such file in this checkout (${checkout}), which the image holds at" \
      "/opt/ringtrain"
  echo "${config}"
}

# WORD as the text of a double-quoted YAML scalar: backslashes and double quotes escaped.
yaml_text() {
  local text=${1//\\/\\\\}
  echo "${text//\"/\\\"}"
}
