#!/usr/bin/env python3
"""scripts/fuzz-compare.py WHOLE.json MERGED.json: merged shard summaries equal the unsharded run.

`clustersim fuzz --shard i/N` runs interleaved shares of a seed range and
`fuzz --merge` adds their summaries up; the sum must be the summary of the
whole range run at once.  Compared: the totals (profile, mode, seeds,
passed, events, virtual time, failures by invariant and deadlock class,
state), and every field of every failure, paths by file name (each shard
writes its own directory).  Shrinks are budgeted per worker, so which
failures were shrunk may differ between the runs: their shrink fields are
compared where both runs shrank them.  Every failure file the merged summary
names must exist.  Wall time is not compared (shards run side by side).
Used by check-fuzz.sh (shards on one machine) and check-deploy.sh (the
Kubernetes Job's shard script).  Exit status 1 with each difference printed.
"""
import json
import os
import sys

TOTALS = ("profile", "mode", "seeds", "passed", "events", "virtual_seconds", "by_invariant", "deadlocks")
PATHS = ("file", "report", "shrunk")
SHRINK = ("shrunk", "shrunk_nodes", "shrunk_items")


def failures(summary):
    """Each failure by seed, its paths reduced to file names."""
    return {f["seed"]: {k: (os.path.basename(v) if k in PATHS else v) for k, v in f.items()}
            for f in summary["failures"]}


def differences(whole, merged):
    out = [f"{k}: whole {whole.get(k)}, merged {merged.get(k)}" for k in TOTALS if whole.get(k) != merged.get(k)]
    for name, s in (("whole", whole), ("merged", merged)):
        if s.get("state", "complete") != "complete":
            out.append(f"the {name} run is {s.get('state')}")
    if len(merged["failures"]) != len({f["seed"] for f in merged["failures"]}):
        out.append("a seed counted twice in the merge")
    fw, fm = failures(whole), failures(merged)
    if sorted(fw) != sorted(fm):
        out.append(f"failing seeds: whole {sorted(fw)}, merged {sorted(fm)}")
    for seed in sorted(set(fw) & set(fm)):
        a, b = fw[seed], fm[seed]
        keys = set(a) | set(b)
        if "shrunk" not in a or "shrunk" not in b:
            keys -= set(SHRINK)
        out += [f"seed {seed}: {k}: whole {a.get(k)!r}, merged {b.get(k)!r}"
                for k in sorted(keys) if a.get(k) != b.get(k)]
    out += [f"{f['file']} is missing" for f in merged["failures"] if f.get("file") and not os.path.exists(f["file"])]
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    whole, merged = (json.load(open(p)) for p in argv)
    diffs = differences(whole, merged)
    for d in diffs:
        print(f"FAIL merged shards: {d}")
    if not diffs:
        print(f"ok   merged shards = the whole run: {merged['seeds']} seeds, {len(merged['failures'])} failures, "
              f"{merged['events']} events")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
