#!/usr/bin/env bash
# Peak resident memory of one command: runs it under `/usr/bin/time -v` (GNU time; Debian package
# `time`) with its output discarded and prints "<peak RSS KiB> <wall seconds>" on one line.
# Usage: bench/peak-rss.sh COMMAND [ARG ...]   (exit status: the command's)
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
/usr/bin/time -v -o "$log" "$@" >/dev/null 2>&1
status=$?
kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
echo "$kib $wall"
exit $status
