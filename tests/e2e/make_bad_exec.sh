#!/usr/bin/env bash
# Creates, in the current directory, programs whose execve the kernel refuses
# before the point of no return, for the exec-following test:
#   noint    /bin/true naming a missing interpreter (./nope): ENOENT
#   noexec   /bin/true naming an interpreter without execute permission (./l): EACCES
set -eu
interp=$(grep -a -o -m1 '/lib[a-z0-9]*/ld-linux[^[:cntrl:]]*' /bin/true | head -n 1)
off=$(grep -a -b -o -F "$interp" /bin/true | head -n 1 | cut -d: -f1)
# with_interp NAME PATH: a copy of /bin/true whose PT_INTERP string is PATH
# (shorter than the original: the string ends at its NUL).
with_interp() {
  cp /bin/true "$1"
  printf '%s\0' "$2" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}
with_interp noint ./nope
with_interp noexec ./l
cp "$interp" l
chmod 644 l
