#!/usr/bin/env bash
# Bad-input tests: the runner must refuse programs it cannot run with one
# clear line on stderr.
#
#   bad_input.sh RUNNER [CASE...]      (default: all cases; --list lists them)
#
# RUNNER is one string, split on whitespace ("qplug", "qplug -d plugin").
# For every case the runner is started on a crafted file and must
#   - exit with a non-zero status,
#   - print nothing on stdout,
#   - print exactly one line on stderr, which starts with $PREFIX, contains
#     the program path as given on the command line and matches the case's
#     keyword (an extended regex, case-insensitive).
# Exit status: 0 all selected cases pass, 1 some failed, 2 usage error.
set -u

PREFIX="qplug: "

# ---- expected keywords (extended regex, matched case-insensitively) ------
declare -A KEYWORD=(
  [missing]='No such file'
  [directory]='directory'
  [text]='not an ELF'
  [empty]='not an ELF|empty|truncated'
  [truncated]='truncated|too short|not an ELF'
  [elf32]='32-bit'
  [aarch64]='machine'
  [interp]='interpreter'
)
CASES=(missing directory text empty truncated elf32 aarch64 interp)
# ---------------------------------------------------------------------------

if [[ $# -ge 1 && $1 == --list ]]; then
  printf '%s\n' "${CASES[@]}"
  exit 0
fi
if [[ $# -lt 1 ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
read -r -a runner <<<"$1"
shift
selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${CASES[@]}")
for c in "${selected[@]}"; do
  [[ -n ${KEYWORD[$c]+x} ]] || {
    echo "bad_input.sh: unknown case '$c' (cases: ${CASES[*]})" >&2
    exit 2
  }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-bad-input.XXXXXX") || exit 2
trap 'rm -rf -- "$tmp"' EXIT

# hexfile FILE HEX...: write the bytes given as hex digits (spaces ignored).
hexfile() {
  local file=$1 hex esc=
  shift
  hex=$(echo "$*" | tr -d ' \n')
  for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
  printf "$esc" >"$file"
}

# make_case CASE: create the bad program; prints its path.
make_case() {
  local f
  case $1 in
    missing)
      f=$tmp/no-such-program
      ;;
    directory)
      f=$tmp/a-directory
      mkdir -p "$f"
      ;;
    text)
      f=$tmp/text-file
      printf 'this is plain text, not a program\nsecond line\n' >"$f"
      ;;
    empty)
      f=$tmp/empty-file
      : >"$f"
      ;;
    truncated)
      # The first 20 bytes of a real ELF header (64 bytes long).
      f=$tmp/truncated-elf
      head -c 20 /bin/true >"$f"
      ;;
    elf32)
      # ELF32 i386 executable: header, one PT_LOAD, code "mov $1,%eax;
      # xor %ebx,%ebx; int $0x80" at 0x08048054.
      f=$tmp/elf32-i386
      hexfile "$f" \
        7f454c46 01010100 00000000 00000000 \
        0200 0300 01000000 54800408 34000000 00000000 00000000 \
        3400 2000 0100 2800 0000 0000 \
        01000000 00000000 00800408 00800408 5d000000 5d000000 05000000 00100000 \
        b801000000 31db cd80
      ;;
    aarch64)
      # ELF64 little-endian, EM_AARCH64 (183): header, one PT_LOAD, and
      # "mov x8, #93; svc #0" at 0x400078.
      f=$tmp/elf64-aarch64
      hexfile "$f" \
        7f454c46 02010100 00000000 00000000 \
        0200 b700 01000000 7800400000000000 4000000000000000 0000000000000000 \
        00000000 4000 3800 0100 4000 0000 0000 \
        01000000 05000000 0000000000000000 0000400000000000 0000400000000000 \
        8000000000000000 8000000000000000 0000010000000000 \
        a80b80d2 010000d4
      ;;
    interp)
      # /bin/true with its PT_INTERP path replaced by a missing one of the
      # same length.
      f=$tmp/missing-interp
      local interp
      interp=$(grep -a -o -m1 '/lib[a-z0-9]*/ld-linux[^[:cntrl:]]*' /bin/true | head -n 1)
      [[ -n $interp ]] || {
        echo "bad_input.sh: cannot find the interpreter path in /bin/true" >&2
        return 1
      }
      local missing=/nonexistent/qplug-no-ld.so.
      while [[ ${#missing} -lt ${#interp} ]]; do missing+=x; done
      missing=${missing:0:${#interp}}
      local off
      off=$(grep -a -b -o -F "$interp" /bin/true | head -n 1 | cut -d: -f1)
      cp /bin/true "$f"
      printf '%s' "$missing" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
      grep -q -a -F "$missing" "$f" || return 1
      ;;
  esac
  [[ $1 == missing || $1 == directory ]] || chmod 755 "$f"
  echo "$f"
}

fail_count=0
for c in "${selected[@]}"; do
  prog=$(make_case "$c") || {
    echo "FAIL bad_input.$c: could not create the test file"
    fail_count=$((fail_count + 1))
    continue
  }
  "${runner[@]}" "$prog" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
  status=$?
  problems=()
  [[ $status -ne 0 ]] || problems+=("exit status is 0, expected non-zero")
  [[ ! -s $tmp/stdout ]] || problems+=("stdout is not empty")
  lines=$(wc -l <"$tmp/stderr")
  # A last line without '\n' still counts as a line.
  [[ -s $tmp/stderr && $(tail -c 1 "$tmp/stderr" | od -An -c | tr -d ' ') != '\n' ]] &&
    lines=$((lines + 1))
  line=$(head -n 1 "$tmp/stderr")
  if [[ $lines -ne 1 ]]; then
    problems+=("stderr has $lines lines, expected exactly 1")
  fi
  [[ $line == "$PREFIX"* ]] || problems+=("stderr does not start with '$PREFIX'")
  [[ $line == *"$prog"* ]] || problems+=("stderr does not contain the path $prog")
  grep -q -i -E -e "${KEYWORD[$c]}" <<<"$line" ||
    problems+=("stderr does not match /${KEYWORD[$c]}/i")

  echo "== bad_input.$c: ${runner[*]} $prog -> exit $status"
  if [[ -s $tmp/stderr ]]; then
    echo "stderr:"
    head -n 10 "$tmp/stderr" | sed 's/^/  | /'
  fi
  if [[ ${#problems[@]} -eq 0 ]]; then
    echo "PASS bad_input.$c"
  else
    for p in "${problems[@]}"; do echo "FAIL bad_input.$c: $p"; done
    fail_count=$((fail_count + 1))
  fi
done
[[ $fail_count -eq 0 ]]
