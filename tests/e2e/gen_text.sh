#!/usr/bin/env bash
# gen_text.sh [LINES]: deterministic pseudo-random text on stdout, one record
# per line: "WORD WORD NUMBER lineNNNNN". Used as input by the e2e tests.
set -eu
n=${1:-5000}
words=(alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi
  rho sigma tau upsilon phi chi psi omega)
x=12345
for ((i = 1; i <= n; i++)); do
  x=$(((x * 1103515245 + 12345) % 2147483648))
  printf '%s %s %d line%05d\n' "${words[x % 24]}" "${words[(x >> 8) % 24]}" \
    $(((x >> 4) % 10000)) "$i"
done
