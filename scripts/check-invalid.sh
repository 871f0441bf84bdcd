#!/usr/bin/env bash
# scripts/check-invalid.sh: the loader must reject every malformed scenario
# in scenarios/invalid/ before anything runs.  Each file declares, on its
# first line,
#   # expect-error: LINE:COL: SUBSTRING
# and `BINARY run FILE` must exit with status 2 and print on stderr
# `FILE:LINE:COL: ...SUBSTRING...` (the substring anywhere after the
# location on the same line).
# Usage: scripts/check-invalid.sh BINARY [DIR]
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BINARY [DIR]" >&2
  exit 2
fi
bin=$1
# Default: scenarios/invalid of the current directory (the repository root,
# as `make test` runs it), else the one next to this script.
if [ $# -eq 2 ]; then
  dir=$2
elif [ -d scenarios/invalid ]; then
  dir=scenarios/invalid
else
  dir=$(dirname -- "$0")/../scenarios/invalid
fi
if [ ! -x "$bin" ]; then
  echo "check-invalid: $bin is not an executable" >&2
  exit 2
fi

passed=0
failed=0
shopt -s nullglob
files=("$dir"/*.yaml)
if [ ${#files[@]} -eq 0 ]; then
  echo "check-invalid: no scenarios in $dir" >&2
  exit 1
fi

for file in "${files[@]}"; do
  first=$(head -n 1 -- "$file")
  re='^#[[:space:]]*expect-error:[[:space:]]*([0-9]+):([0-9]+):[[:space:]]*(.+)$'
  if ! [[ $first =~ $re ]]; then
    echo "FAIL $file: first line is not '# expect-error: LINE:COL: SUBSTRING'"
    failed=$((failed + 1))
    continue
  fi
  line=${BASH_REMATCH[1]}
  col=${BASH_REMATCH[2]}
  want=${BASH_REMATCH[3]}
  want=${want%"${want##*[![:space:]]}"} # drop trailing spaces
  prefix="$file:$line:$col: "

  stderr=$("$bin" run "$file" 2>&1 >/dev/null)
  status=$?

  why=""
  if [ $status -ne 2 ]; then
    why="exit status $status, expected 2"
  else
    # Fixed-string matching, line by line: the location must start the line
    # and the substring must follow it.
    found=0
    while IFS= read -r msg; do
      if [[ $msg == "$prefix"* ]]; then
        rest=${msg#"$prefix"}
        if [[ $rest == *"$want"* ]]; then
          found=1
          break
        fi
      fi
    done <<<"$stderr"
    [ $found -eq 1 ] || why="expected '$prefix...$want...'"
  fi

  if [ -z "$why" ]; then
    echo "PASS $file: $line:$col: $want"
    passed=$((passed + 1))
  else
    echo "FAIL $file: $why"
    echo "     stderr: ${stderr:-<empty>}"
    failed=$((failed + 1))
  fi
done

# An endless input (/dev/zero) is refused after SCENARIO_FILE_MAX bytes, in
# bounded time and memory.
start=$SECONDS
stderr=$(timeout 30 "$bin" run /dev/zero 2>&1 >/dev/null)
status=$?
if [ $status -eq 2 ] && [[ $stderr == "/dev/zero:1:1: expected a scenario file of at most"* ]]; then
  echo "PASS /dev/zero: refused in $((SECONDS - start)) s"
  passed=$((passed + 1))
else
  echo "FAIL /dev/zero: exit status $status: ${stderr:-<empty>}"
  failed=$((failed + 1))
fi

echo "invalid scenarios: $passed passed, $failed failed"
[ $failed -eq 0 ]
