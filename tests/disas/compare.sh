#!/usr/bin/env bash
# compare.sh MODE A B: A and B are disas_dump.c logs ("0x<vaddr> TAB <bytes>
# TAB <text>" lines; lines starting with '#' are comments). Every address in
# both must have the same bytes and the same text. MODE says which addresses
# must be in both:
#   same    A's and B's address sets are equal (two runs of one program)
#   subset  every address of B is in A (B ran a part of what A recorded)
# Prints each difference; exits 1 on any.
set -euo pipefail
mode=$1 a=$2 b=$3
awk -F'\t' -v mode="$mode" '
  /^#/ || NF == 0 { next }
  FNR == NR { bytes[$1] = $2; text[$1] = $3; inA[$1] = 1; na++; next }
  {
    nb++
    if (!($1 in inA)) {
      print "only in " ARGV[2] ": " $0; bad++; next
    }
    seen[$1] = 1; common++
    if (bytes[$1] != $2 || text[$1] != $3) {
      printf "%s: \"%s\" (%s) in %s, \"%s\" (%s) in %s\n", $1, text[$1], bytes[$1], ARGV[1],
             $3, $2, ARGV[2]
      bad++
    }
  }
  END {
    if (mode == "same")
      for (v in inA) if (!(v in seen)) { print "only in " ARGV[1] ": " v " " text[v]; bad++ }
    printf "%d instructions in %s, %d in %s, %d compared, %d differences\n",
           na, ARGV[1], nb, ARGV[2], common, bad
    if (common == 0 || bad) exit 1
  }' "$a" "$b"
