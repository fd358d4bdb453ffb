#!/usr/bin/env bash
# Keeps `qplug -h` short and the documentation complete (ctest labels
# "install;docs"):
#
#   cli_docs_test.sh help QPLUG               -h fits one screen: <= 50 lines of <= 100 columns
#   cli_docs_test.sh options QPLUG MANPAGE GUIDE
#       every option and environment variable `qplug -h` prints is in the rendered
#       man page and in the user guide, so they cannot drift apart
set -euo pipefail

mode=${1:-}
qplug=${2:-}
[[ -n $qplug ]] || {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
help=$("$qplug" -h)
failures=0

case $mode in
  help)
    lines=$(printf '%s\n' "$help" | wc -l)
    width=$(printf '%s\n' "$help" | awk '{ if (length($0) > w) w = length($0) } END { print w }')
    echo "qplug -h: $lines lines, $width columns at most"
    ((lines <= 50)) || { echo "FAIL: qplug -h prints $lines lines (limit 50)"; failures=1; }
    ((width <= 100)) || { echo "FAIL: qplug -h has a line of $width columns (limit 100)"; failures=1; }
    ;;
  options)
    man_page=$3 guide=$4
    # Options: every word starting with '-' on the lines of the "Options:"
    # section that start with one (its descriptions quote options as '-x').
    mapfile -t options < <(printf '%s\n' "$help" |
      awk '/^Options:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  -/' |
      tr ' ,' '\n\n' | grep -E '^-[A-Za-z0-9]' | sort -u)
    mapfile -t variables < <(printf '%s\n' "$help" | grep -oE '(QEMU|QPLUG)_[A-Z0-9_]+' | sort -u)
    ((${#options[@]} >= 20)) || { echo "FAIL: only ${#options[@]} options found in -h"; exit 1; }
    # The man page as a reader sees it (groff's \- becomes '-' with -Tascii).
    rendered=$(groff -man -Tascii -P-cbou -rLL=200n "$man_page" 2>/dev/null)
    for word in "${options[@]}" "${variables[@]}"; do
      # Whole words only: -s must not be satisfied by -strace.
      re="(^|[^-A-Za-z0-9_])${word}([^-A-Za-z0-9_]|\$)"
      grep -qE -- "$re" <<<"$rendered" || { echo "FAIL: $word is not in the man page"; failures=1; }
      grep -qE -- "$re" "$guide" || { echo "FAIL: $word is not in $guide"; failures=1; }
    done
    echo "checked ${#options[@]} options and ${#variables[@]} variables: ${options[*]} ${variables[*]}"
    ;;
  *)
    echo "cli_docs_test.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
exit "$failures"
