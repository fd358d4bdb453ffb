#!/usr/bin/env bash
# A stand-in for qplug used only by selftest.sh: it rejects bad programs with
# the messages bad_input.sh expects and runs good ones natively. It lets the
# harness be tested without a working translator.
set -u
prog=${1:?usage: mock_qplug.sh PROGRAM [ARGS...]}
err() {
  echo "qplug: $prog: $*" >&2
  exit 1
}
[[ -e $prog ]] || err "No such file or directory"
[[ -d $prog ]] && err "Is a directory"
# u8 OFFSET / u16 OFFSET / u64 OFFSET: little-endian integers from the file.
u() { od -An -t "u$2" -j "$1" -N "$2" --endian=little "$prog" | tr -d ' '; }
size=$(wc -c <"$prog")
[[ $size -ge 4 && $(head -c 4 "$prog" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] ||
  err "not an ELF file"
[[ $size -ge 64 ]] || err "truncated ELF header"
[[ $(u 4 1) == 2 ]] || err "32-bit ELF programs are not supported"
[[ $(u 18 2) == 62 ]] || err "unsupported machine $(u 18 2), expected x86-64"
phoff=$(u 32 8)
phnum=$(u 56 2)
for ((i = 0; i < phnum; i++)); do
  ph=$((phoff + i * 56))
  if [[ $(u "$ph" 4) == 3 ]]; then
    interp=$(dd if="$prog" bs=1 skip="$(u $((ph + 8)) 8)" count="$(u $((ph + 32)) 8)" \
      status=none | tr -d '\000')
    [[ -e $interp ]] || err "cannot open interpreter $interp: No such file or directory"
  fi
done
exec "$@"
