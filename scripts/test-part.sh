#!/bin/bash
# scripts/test-part.sh: the parts of `make test` and the summary it ends with.
#
#   scripts/test-part.sh --begin           forget the parts of an earlier run
#   scripts/test-part.sh NAME CMD...       run one part: its output shows as
#                                          it comes and goes to
#                                          build/test-parts/N.log; its exit
#                                          status, time and count of checks
#                                          are recorded; under `make test`
#                                          (TEST_PART_COLLECT=1) exits 0 so
#                                          that the next parts still run,
#                                          else with the part's status
#   scripts/test-part.sh --end             print one line per part (checks,
#                                          verdict, time, its last line) and
#                                          "N passed, N failed"; exit 1 if
#                                          any part failed or none ran
#
# A check is a line a part prints for one thing it verified: "ok ...",
# "PASS ..." or cmocka's "[       OK ] test".  A part that prints none shows
# "-" and is judged by its exit status alone.
set -u
dir=build/test-parts
results=$dir/results.tsv

case "${1:-}" in
--begin)
    rm -rf "$dir"
    mkdir -p "$dir"
    exit 0
    ;;
--end)
    [ -s "$results" ] || { echo "make test: no part ran" >&2; exit 1; }
    passed=0 failed=0 checks=0
    echo
    echo "make test: summary (logs in $dir/)"
    printf '  %-34s %7s  %-7s %7s  %s\n' part checks verdict time "last line"
    while IFS=$'\t' read -r name rc count seconds last; do
        if [ "$rc" -eq 0 ]; then verdict=passed; passed=$((passed + 1)); else verdict="FAILED"; failed=$((failed + 1)); fi
        [ "$count" = - ] || checks=$((checks + count))
        printf '  %-34s %7s  %-7s %6ss  %.70s\n' "$name" "$count" "$verdict" "$seconds" "$last"
    done < "$results"
    echo "make test: $passed passed, $failed failed ($checks checks)"
    [ "$failed" -eq 0 ]
    exit
    ;;
esac

name=${1:?usage: test-part.sh --begin | NAME CMD... | --end}
shift
mkdir -p "$dir"
n=$(( $( [ -f "$results" ] && wc -l < "$results" || echo 0) + 1 ))
log=$dir/$n.log
start=$(date +%s)
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
seconds=$(( $(date +%s) - start ))
count=$(grep -cE '^(ok |PASS |\[       OK \])' "$log")
[ "$count" -gt 0 ] || count=-
last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | tr '\t' ' ')
[ "$rc" -eq 0 ] || echo "make test: part '$name' FAILED with exit status $rc (log: $log)" >&2
printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$count" "$seconds" "$last" >> "$results"
[ -n "${TEST_PART_COLLECT:-}" ] && exit 0
exit "$rc"
