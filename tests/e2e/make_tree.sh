#!/usr/bin/env bash
# make_tree.sh: create ./tree, a small directory tree with fixed contents,
# modes and timestamps (ls -la, find and tar output are then reproducible).
# The current directory's timestamp is fixed too (it is tree's "..").
set -eu
umask 022
mkdir -p tree/sub/deeper tree/empty
printf 'alpha\n' >tree/a.txt
seq 1 1000 >tree/numbers.txt
printf 'x%.0s' {1..5000} >tree/sub/xs.txt
printf 'secret\n' >tree/sub/secret.txt
chmod 600 tree/sub/secret.txt
printf '#!/bin/sh\necho run\n' >tree/run.sh
chmod 755 tree/run.sh
printf '\000\001\002\003\377\376binary\n' >tree/sub/deeper/blob.bin
ln -s ../a.txt tree/sub/link-to-a
ln tree/a.txt tree/hardlink-to-a
find tree -depth -exec touch -h -d @1600000000 {} +
touch -d @1600000000 .
