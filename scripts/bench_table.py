#!/usr/bin/env python3
"""scripts/bench_table.py: the figures of `make bench` (see scripts/bench.sh).

  bench_table.py report --out build/bench --baseline bench/baseline.json
                        [--total-seconds N] [--failed "NAME ..."]
      parses every benchmark's log in OUT/logs (listed in OUT/logs/manifest.tsv),
      writes OUT/results.json and OUT/results.md, prints each figure with its
      ratio to the baseline and exits 1 when one is more than 30 % worse than
      its baseline (BENCH_NO_FAIL=1: report only), 2 when a benchmark failed or
      its output could not be parsed (whatever BENCH_NO_FAIL says).

  bench_table.py record --baseline bench/baseline.json RESULTS.json...
      rewrites the baseline from one or more results files, taking the worst
      value of each figure (the lowest throughput, the highest time or memory).

Figures are parsed strictly: JSON where the command writes JSON (the fuzz
summary), otherwise a regular expression that must match exactly once; a
figure that cannot be parsed is an error naming the benchmark, never a guess.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

THRESHOLD = 0.7  # a figure more than 30 % worse than its baseline fails the run


class ParseError(Exception):
    pass


def one(regex, text, bench, what):
    """The groups of the single line of TEXT matching REGEX (anchored per line)."""
    found = re.findall(regex, text, re.MULTILINE)
    if len(found) != 1:
        raise ParseError("%s: %s: expected exactly one line matching /%s/, found %d"
                         % (bench, what, regex, len(found)))
    g = found[0]
    return g if isinstance(g, tuple) else (g,)


def num(s):
    return float(s.replace(",", ""))


def figure(fid, what, value, unit, better, detail="", target=None, note=None, command=None):
    """target: (text, op, threshold) with op '>=' or '<'."""
    return {"id": fid, "what": what, "value": value, "unit": unit, "better": better,
            "detail": detail, "target": target, "note": note, "command": command}


# ---- one parser per benchmark: (log text, manifest row, out dir) -> figures ----

F = r"([0-9]+(?:\.[0-9]+)?)"  # a decimal number
I = r"([0-9]+)"  # an integer

BENCH_RESULT = (r"^bench result: " + I + r" runs, " + I + r" events, " + F + r"s wall: " + F
                + r" M events/s \(best run " + F + r" M/s\), " + F
                + r" runs \(seeds\) per second, peak RSS " + F + r" MiB$")
BENCH_HEADER = r"^bench: (\S+) \(" + I + r" nodes, " + F + r"s virtual per run\), trace recording off$"
BENCH_RUN1 = (r"^  run 1 seed=" + I + r": " + I + r" events in " + F + r"s wall = " + F
              + r" M events/s \(virtual/wall " + F + r"x\), peak queue " + I + r"$")
CONVERGED = r"^    full agreement \(converged\) " + F + r"s of virtual time after the last fault"


def p_sim_ping(text, row, out):
    b = row["name"]
    runs, events, wall, _, best, _, rss = one(BENCH_RESULT, text, b, "the bench result line")
    rate = num(events) / num(wall)
    return [figure("sim-events-ping-100",
                   "simulated events per wall second, 100-node ping cluster (full mesh), all network "
                   "faults on, trace off",
                   round(rate / 1e6, 3), "M events/s", "higher",
                   "%s runs of 600 s virtual, %.1f M events in %.2f s wall (best run %s M/s), "
                   "%.0f MiB peak RSS" % (runs, num(events) / 1e6, num(wall), best, num(rss)),
                   ("5 M events/s", ">=", 5.0))]


def p_k8s(text, row, out):
    b = row["name"]
    _, events, wall, _, _, queue = one(BENCH_RUN1, text, b, "the first run's line")
    one(r"^bench result: (1) runs,", text, b, "a single run")
    conv, = one(CONVERGED, text, b, "the time to full mesh (the run must converge)")
    rss = one(BENCH_RESULT, text, b, "the bench result line")[6]
    detail = ("%.2f M events, peak queue %.2f M; full mesh %.1f s of virtual time after the start"
              % (num(events) / 1e6, num(queue) / 1e6, num(conv)))
    what = "1,000-pod Kubernetes DNS join storm, fixed mode, to full mesh (499,500 links)"
    return [figure("k8s-dns-1000-wall", what + ": wall time", round(num(wall), 2), "s", "lower",
                   detail, ("under 10 s", "<", 10.0)),
            figure("k8s-dns-1000-rss", what + ": peak memory", round(num(rss), 1), "MiB", "lower",
                   "peak RSS of the simulator process", ("under 1 GiB", "<", 1024.0))]


REGISTRY_LINE = (r"^    registry: " + I + r" names a node, " + I + r" handoffs \(" + F + r" a name\), " + I
                 + r" track messages \(" + F + r" a name\), " + I + r" entries in snapshots and pull answers \("
                 + F + r" a name; " + I + r" answering " + I + r" full pulls, the rest the answerers' own writes\); "
                 r"sent:.*$")


def p_storm_names(text, row, out):
    """The DNS join storm with trackers and started names (k8s-dns-names-N):
    wall time, events, peak memory, and handoffs and track messages a name;
    the run must hold every expectation of its file."""
    b = row["name"]
    _, nodes, _ = one(BENCH_HEADER, text, b, "the header line")
    one(r"^bench result: (1) runs,", text, b, "a single run")
    _, events, wall, _, _, _, rss = one(BENCH_RESULT, text, b, "the bench result line")
    held, total = one(r"^    expectations: " + I + r" of " + I + r" hold$", text, b,
                      "every expectation holding (full mesh, trackers tracking, placement, no duplicates or loss)")
    names, handoffs, handoffs_per, track, track_per, carried, carried_per, _, full_pulls = one(
        REGISTRY_LINE, text, b, "the registry line")
    conv, = one(CONVERGED, text, b, "the convergence line (the run must converge)")
    what = ("%s-pod Kubernetes DNS join storm, fixed mode, trackers on, %s started names registered during it"
            % (format(int(nodes), ","), format(int(names), ",")))
    detail = ("%.2f M events; %s of %s expectations hold; converged %.1f s of virtual time after the start; "
              "%s handoffs, %s track messages a name; %s entries in pull answers a name (%s full pulls)"
              % (num(events) / 1e6, held, total, num(conv), handoffs, track_per, carried_per, full_pulls))
    size = "k8s-dns-names-%s" % nodes
    figs = [figure(size + "-wall", what + ": wall time", round(num(wall), 2), "s", "lower", detail),
            figure(size + "-events", what + ": simulated events", int(events), "events", "lower",
                   "events of the run (a full mesh: about n^2)"),
            figure(size + "-rss", what + ": peak memory", round(num(rss), 1), "MiB", "lower",
                   "peak RSS of the simulator process"),
            figure(size + "-handoffs", what + ": handoffs a name", num(handoffs_per), "a name", "lower",
                   "%s handoffs for %s names" % (handoffs, names), ("at most 3", "<=", 3.0)),
            figure(size + "-pulled", what + ": entries in pull answers a name", num(carried_per), "a name",
                   "lower", "%s entries in snapshots and pull answers, %s of them answering full pulls"
                   % (carried, full_pulls))]
    if nodes == "1000":
        figs[0]["target"] = ("under 10 s", "<", 10.0)
        figs[2]["target"] = ("under 1 GiB", "<", 1024.0)
    return figs


def growth(figures):
    """How wall time and events grow between the sizes of the storm with
    names (exponents of the size ratio), and the 1,000-pod storm's wall time
    against the membership-only one measured in the same run."""
    by_id = {f["id"]: f["value"] for f in figures}
    sizes = [n for n in (200, 500, 1000) if "k8s-dns-names-%d-wall" % n in by_id]
    out = []
    for a, c in list(zip(sizes, sizes[1:])) + ([(sizes[0], sizes[-1])] if len(sizes) > 2 else []):
        ratio = math.log(c / a)
        ew = math.log(by_id["k8s-dns-names-%d-wall" % c] / by_id["k8s-dns-names-%d-wall" % a]) / ratio
        ee = math.log(by_id["k8s-dns-names-%d-events" % c] / by_id["k8s-dns-names-%d-events" % a]) / ratio
        target = ("at most 2.1", "<=", 2.1) if (a, c) == (200, 1000) else None
        out.append(figure("k8s-dns-names-growth-%d-%d" % (a, c),
                          "storm with names, %d -> %d pods: wall time grows as n^x" % (a, c), round(ew, 2), "x",
                          "lower", "events grow as n^%.2f over the same sizes" % ee, target,
                          command="from the k8s-dns-names-* rows"))
    if "k8s-dns-names-1000-wall" in by_id and "k8s-dns-1000-wall" in by_id:
        out.append(figure("k8s-dns-names-1000-vs-membership",
                          "1,000-pod storm: wall time with trackers and names over the membership-only storm's",
                          round(by_id["k8s-dns-names-1000-wall"] / by_id["k8s-dns-1000-wall"], 2), "x", "lower",
                          "%.2f s against %.2f s in the same run" % (by_id["k8s-dns-names-1000-wall"],
                                                                   by_id["k8s-dns-1000-wall"]),
                          ("at most 1.5", "<=", 1.5), command="from the k8s-dns-names-1000 and k8s-dns-1000 rows"))
    return out


def p_registry(text, row, out):
    b = row["name"]
    path, nodes, _ = one(BENCH_HEADER, text, b, "the header line")
    _, events, wall, _, _, _ = one(BENCH_RUN1, text, b, "the first run's line")
    one(r"^bench result: (1) runs,", text, b, "a single run")
    conv, = one(CONVERGED, text, b, "the time to full agreement (the run must converge)")
    rss = one(BENCH_RESULT, text, b, "the bench result line")[6]
    with open(path) as f:
        scenario = f.read()
    regs, = one(r"^  - registered: " + I + r"$", scenario, b, "the registrations expected by " + path)
    window = re.findall(r"^    batch_window: (\S+)$", scenario, re.MULTILINE)
    regs, nodes, wall, rss = num(regs), num(nodes), num(wall), num(rss)
    per_copy = rss * 1024 * 1024 / (regs * nodes)
    how = ("replication batched (batch_window %s)" % window[0] if window else
           "one replication frame per event and peer (no batch_window)")
    what = ("registry: %d nodes, %s registrations spread over them, each replicated to %d peers, "
            "fixed mode, %s" % (nodes, format(int(regs), ","), nodes - 1, how))
    note = (None if window else
            "every replica is a simulated frame of its own, 9 M deliveries; batch_window cuts them to "
            "about 90,000 and lets each batch prefetch its inserts")
    return [figure(b + "-rate", what + ": registrations per wall second",
                   round(regs / wall), "registrations/s", "higher",
                   "%s in %.2f s wall, %.1f M events; full agreement %.2f s of virtual time after "
                   "the start" % (format(int(regs), ","), wall, num(events) / 1e6, num(conv)),
                   ("500,000/s", ">=", 500000.0), note),
            figure(b + "-rss", what + ": peak memory", round(rss, 1), "MiB", "lower",
                   "peak RSS of the simulator process, %s copies" % format(int(regs * nodes), ",")),
            figure(b + "-bytes", what + ": memory per registration per node",
                   round(per_copy, 1), "bytes", "lower",
                   "peak RSS / (registrations x nodes)", ("under 150 bytes", "<", 150.0))]


def p_join_storm(text, row, out):
    b = row["name"]
    runs, _, wall, _, _, _, _ = one(BENCH_RESULT, text, b, "the bench result line")
    rate = num(runs) / num(wall)
    return [figure("join-storm-3-seeds",
                   "seeds per wall second, 3-node join storm (swarm mode, run until stuck or settled)",
                   round(rate), "seeds/s", "higher",
                   "%s seeds in %.2f s wall" % (format(int(runs), ","), num(wall)),
                   ("20,000/s", ">=", 20000.0))]


def fuzz_summary(row, out, sub):
    b = row["name"]
    path = os.path.join(out, sub, "summary.json")
    try:
        with open(path) as f:
            s = json.load(f)
        seeds, wall, events, passed = int(s["seeds"]), float(s["wall_seconds"]), int(s["events"]), int(s["passed"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ParseError("%s: cannot read the fuzz summary %s: %s" % (b, path, e))
    if seeds <= 0 or wall <= 0:
        raise ParseError("%s: %s holds no seeds or no wall time" % (b, path))
    return seeds, wall, events, passed


FUZZ_WHAT = ("fuzz seeds per wall second, default profile, 8-node clusters, 60 s of virtual time each, "
             "fixed mode")
FUZZ_NOTE = ("a cluster's events cost about 0.13 us each, link set-ups, snapshots and ring lookups "
             "included (the ping fixture runs about 10 M events/s); single runs of one second "
             "scatter by about 3 % on this VM")


def p_fuzz1(text, row, out):
    seeds, wall, events, passed = fuzz_summary(row, out, "fuzz-1")
    return [figure("fuzz-seeds-jobs-1", FUZZ_WHAT + ", 1 job", round(seeds / wall, 1), "seeds/s", "higher",
                   "%d seeds (%d passed) in %.2f s; %s events per seed, %.2f M events/s"
                   % (seeds, passed, wall, format(events // seeds, ","), events / wall / 1e6),
                   ("1,000/s per core", ">=", 1000.0), FUZZ_NOTE)]


def p_fuzz2(text, row, out):
    seeds, wall, events, passed = fuzz_summary(row, out, "fuzz-2")
    return [figure("fuzz-seeds-jobs-2", FUZZ_WHAT + ", 2 jobs", round(seeds / wall, 1), "seeds/s", "higher",
                   "%d seeds (%d passed) in %.2f s; %.2f M events/s" % (seeds, passed, wall, events / wall / 1e6),
                   ("1,000/s per core (2,000/s)", ">=", 2000.0), FUZZ_NOTE)]


def p_explore(text, row, out):
    b = row["name"]
    path, states, runs, steps, cut = one(
        r"^explored (\S+) \(partial-order reduction\): " + I + r" distinct states, " + I
        + r" schedules \(runs\), " + I + r" steps, " + I + r" runs cut at depth [0-9]+; search complete$",
        text, b, "the summary of a complete search")
    one(r"^(ok)   \S+: not_stuck \(over every schedule\)$", text, b, "the proof of not_stuck")
    wall = row["wall"]
    return [figure("explore-join-4-fixed",
                   "exhaustive exploration, 4 nodes joining at once, fixed mode (%s, from 4.9 s): the "
                   "complete search, schedules per wall second" % path,
                   round(num(runs) / wall), "schedules/s", "higher",
                   "%s distinct states, %s schedules, %s steps in %.1f s wall (%s states/s); search "
                   "complete, %s runs cut, not_stuck proven"
                   % (format(int(states), ","), format(int(runs), ","), format(int(steps), ","), wall,
                      format(round(num(states) / wall), ","), cut))]


def p_daemon(text, row, out):
    b = row["name"]
    n, ans, ans_rate, agreed, agreed_rate = one(
        r"^real sockets, 3 nodes on loopback: " + I + r" registrations answered in " + F + r" s \(" + I
        + r"/s cluster-wide\), on every node after " + F + r" s \(" + I + r"/s\)$",
        text, b, "the registration line")
    req, ok, wsec, wrate = one(
        r"^real sockets, bench whereis: " + I + r" requests, " + I + r" ok, " + F + r" s, " + I
        + r" requests/s \(pipelined, [0-9]+ in flight\)$", text, b, "the whereis line")
    if ok != req:
        raise ParseError("%s: whereis: %s of %s requests answered ok" % (b, ok, req))
    mem = re.findall(r"^peak memory of node ([1-3]) with " + I + r" names: " + F + r" MiB$", text, re.MULTILINE)
    if sorted(m[0] for m in mem) != ["1", "2", "3"]:
        raise ParseError("%s: expected one peak memory line for each of nodes 1, 2, 3, found %d" % (b, len(mem)))
    peak = max(num(m[2]) for m in mem)
    cn, creg, csec = one(r"^registry, one node, " + I + r" counters: " + I
                         + r" registrations/s through the command path \(" + F + r" s\)$",
                         text, b, "the C API registration line")
    hot = one(r"^whereis through the C API \(trk_lookup\), a scrambled 64 K-name working set: " + F
              + r" M lookups/s \(" + I + r" lookups, " + I + r" found, " + F + r" s\)$", text, b,
              "the 64 K working set line")
    cold = one(r"^whereis through the C API \(trk_lookup\), every name once, scrambled: " + F
               + r" M lookups/s \(" + I + r" lookups, " + I + r" found, " + F + r" s\)$", text, b,
               "the cold walk line")
    bhot = one(r"^whereis through the C API \(trk_lookup_many, 64 a call\), a scrambled 64 K-name working set: "
               + F + r" M lookups/s \(" + I + r" lookups, " + I + r" found, " + F + r" s\)$", text, b,
               "the batched 64 K working set line")
    bcold = one(r"^whereis through the C API \(trk_lookup_many, 64 a call\), every name once, scrambled: " + F
                + r" M lookups/s \(" + I + r" lookups, " + I + r" found, " + F + r" s\)$", text, b,
                "the batched cold walk line")
    for w, g in (("64 K working set", hot), ("cold walk", cold), ("batched 64 K working set", bhot),
                 ("batched cold walk", bcold)):
        if g[1] != g[2]:
            raise ParseError("%s: trk_lookup %s: %s of %s names found" % (b, w, g[2], g[1]))
    cpeak, = one(r"^peak memory with [0-9]+ names: " + F + r" MiB \(maxrss of this process\)$", text, b,
                 "the C API peak memory line")
    fn, frate, fsec, fns = one(r"^registry tables alone, 10 copies of " + I + r" names: " + I
                               + r" registrations/s replicated 10 ways \(" + F + r" s, " + I + r" ns an insert\)$",
                               text, b, "the bare tables line")
    build = row["command"].split()[-1]
    capi = "%s/bench-registry 1000000 (run by scripts/bench-daemon.sh)" % build
    sock = ("real sockets: 3 clusterd on loopback, %s registrations through their control sockets "
            "(`clusterctl bench`, 256 pipelined), encrypted links" % format(int(n), ","))
    api = "the registry's C API in process, one node, %s names" % format(int(cn), ",")
    hot_note = None
    cold_note = ("three DRAM misses per lookup when every one of the 1 M names is looked up once in "
                 "scrambled order")
    return [figure("daemon-registrations", sock + ": registrations per second cluster-wide, until every "
                   "node holds every name", int(agreed_rate), "registrations/s", "higher",
                   "answered in %s s (%s/s), on every node after %s s"
                   % (ans, format(int(ans_rate), ","), agreed), ("200,000/s", ">=", 200000.0)),
            figure("daemon-whereis", sock + ": whereis per second through one control socket",
                   int(wrate), "whereis/s", "higher", "%s requests in %s s, 256 in flight" % (format(int(req), ","), wsec)),
            figure("daemon-memory", sock + ": peak memory per node (largest of the 3)", peak, "MiB", "lower",
                   "VmHWM of nodes 1-3: %s MiB" % ", ".join(m[2] for m in sorted(mem)),
                   ("under 300 MiB", "<", 300.0)),
            figure("capi-registrations", api + ": registrations per second through the command path",
                   int(creg), "registrations/s", "higher", "%s names in %s s" % (format(int(cn), ","), csec),
                   command=capi),
            figure("capi-whereis-hot", api + ": whereis (`trk_lookup`) over a scrambled 64 K-name working set",
                   num(hot[0]), "M lookups/s", "higher", "%s lookups in %s s" % (format(int(hot[1]), ","), hot[3]),
                   ("10 M/s", ">=", 10.0), hot_note, capi),
            figure("capi-whereis-cold", api + ": whereis (`trk_lookup`), every name once in scrambled order",
                   num(cold[0]), "M lookups/s", "higher", "%s lookups in %s s" % (format(int(cold[1]), ","), cold[3]),
                   ("10 M/s", ">=", 10.0), cold_note, capi),
            figure("capi-whereis-batch-hot", api + ": whereis through `trk_lookup_many` (64 names a call, "
                   "memory accesses overlapped), scrambled 64 K-name working set", num(bhot[0]), "M lookups/s",
                   "higher", "%s lookups in %s s" % (format(int(bhot[1]), ","), bhot[3]), ("10 M/s", ">=", 10.0),
                   None, capi),
            figure("capi-whereis-batch-cold", api + ": whereis through `trk_lookup_many` (64 names a call), "
                   "every name once in scrambled order", num(bcold[0]), "M lookups/s", "higher",
                   "%s lookups in %s s" % (format(int(bcold[1]), ","), bcold[3]), ("10 M/s", ">=", 10.0), None, capi),
            figure("capi-memory", api + ": peak memory", num(cpeak), "MiB", "lower",
                   "maxrss of bench-registry after the registrations", command=capi),
            figure("tables-10x-floor", "the floor under `registry-1m`: %s names into 10 bare registry tables, "
                   "interleaved as replication would (no tracker, messages or simulator)" % format(int(fn), ","),
                   int(frate), "registrations/s", "higher", "%s s, %s ns an insert" % (fsec, fns), command=capi)]


PARSERS = {
    "sim-ping-100": p_sim_ping,
    "k8s-dns-1000": p_k8s,
    "k8s-dns-names-200": p_storm_names,
    "k8s-dns-names-500": p_storm_names,
    "k8s-dns-names-1000": p_storm_names,
    "registry-1m": p_registry,
    "registry-1m-unbatched": p_registry,
    "join-storm-3": p_join_storm,
    "fuzz-jobs-1": p_fuzz1,
    "fuzz-jobs-2": p_fuzz2,
    "explore-join-4": p_explore,
    "daemon": p_daemon,
}

# ---- machine and commit ----


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine():
    cpu = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.MULTILINE)
    mem = re.search(r"^MemTotal:\s*([0-9]+) kB$", read("/proc/meminfo"), re.MULTILINE)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)"?$', read("/etc/os-release"), re.MULTILINE)
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "debian": read("/etc/debian_version").strip() or None,
        "os": osr.group(1) if osr else None,
    }


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def machine_line(m):
    return "%s, %s cores, %s GiB RAM, Linux %s, Debian %s" % (m["cpu"], m["cores"], m["ram_gib"], m["kernel"],
                                                             m["debian"])


# ---- formatting and comparison ----


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("s", "x", "a name") or unit.startswith("M "):
        s = "%.2f" % v
    elif unit in ("MiB", "bytes"):
        s = "%.1f" % v
    elif abs(v) >= 1000:
        s = format(int(round(v)), ",")
    else:
        s = "%.1f" % v
    return s + " " + unit


def compare(f, base):
    """Sets baseline, ratio and status of figure F against the baseline entry BASE."""
    f["baseline"] = f["ratio"] = None
    if f["value"] is None:
        f["status"] = "failed"
        return
    if base is None:
        f["status"] = "no baseline"
        return
    if base.get("unit") != f["unit"] or base.get("better") != f["better"]:
        f["status"] = "baseline in another unit"
        return
    b = float(base["value"])
    f["baseline"] = b
    f["ratio"] = round(f["value"] / b, 3) if b else None
    if f["better"] == "higher":
        worse = f["value"] < b * THRESHOLD
        better = f["value"] > b / THRESHOLD
    else:
        worse = f["value"] > b / THRESHOLD
        better = f["value"] < b * THRESHOLD
    f["status"] = "REGRESSION" if worse else "much better" if better else "ok"


def target_of(f):
    t = f.pop("target")
    if t is None:
        return None
    text, op, thr = t
    met = None if f["value"] is None else \
        (f["value"] >= thr if op == ">=" else f["value"] <= thr if op == "<=" else f["value"] < thr)
    return {"text": ("at least " if op == ">=" else "") + text, "value": thr, "met": met}


def md_escape(s):
    return s.replace("|", "\\|")


def markdown(res):
    out = ["# clustersim benchmarks (`make bench`)", "",
           "- machine: " + machine_line(res["machine"]),
           "- commit: `%s`" % res["commit"],
           "- date: %s; all benchmarks ran in %s s" % (res["date"], res["total_seconds"]),
           "- baseline: `%s` (commit `%s`, %s); a figure more than 30 %% worse fails the run"
           % (res["baseline_file"], res.get("baseline_commit") or "-", res.get("baseline_date") or "-"),
           "",
           "| what | command | figure | baseline | target |",
           "|------|---------|--------|----------|--------|"]
    notes = []
    for f in res["figures"]:
        fig = "**%s**" % fmt(f["value"], f["unit"]) if f["value"] is not None else "**FAILED**"
        if f["detail"]:
            fig += " (%s)" % f["detail"]
        if f["ratio"] is not None:
            base = "%s (x%.2f%s)" % (fmt(f["baseline"], f["unit"]), f["ratio"],
                                      ", **REGRESSION**" if f["status"] == "REGRESSION" else "")
        else:
            base = f["status"]
        t = f["target"]
        if t is None:
            tgt = "-"
        else:
            tgt = t["text"] + (" (met)" if t["met"] else " (**not met**)" if t["met"] is False else "")
            if f.get("note") and t["met"] is False:
                notes.append("- %s, %s not met: %s." % (f["id"], t["text"], f["note"]))
        if f.get("note") and (t is None or t["met"] is not False):
            notes.append("- %s: %s." % (f["id"], f["note"]))
        out.append("| %s | `%s` | %s | %s | %s |" % (md_escape(f["what"]), md_escape(f["command"]),
                                                      md_escape(fig), md_escape(base), md_escape(tgt)))
    if notes:
        out += ["", "Notes:", ""] + notes
    return "\n".join(out) + "\n"


def display_command(cmd):
    # The daemon benchmark runs through `env BENCH_DAEMON_DIR=... script`.
    return re.sub(r"^env BENCH_DAEMON_DIR=\S+ ", "", cmd)


def report(args):
    manifest = os.path.join(args.out, "logs", "manifest.tsv")
    rows = []
    with open(manifest) as f:
        for line in f:
            name, rc, wall, cmd = line.rstrip("\n").split("\t", 3)
            rows.append({"name": name, "rc": int(rc), "wall": float(wall), "command": cmd})
    failed = set(args.failed.split()) if args.failed else set()
    errors = []
    figures = []
    for row in rows:
        if row["name"] not in PARSERS:
            errors.append("%s: no parser for this benchmark" % row["name"])
            continue
        if row["rc"] != 0 or row["name"] in failed:
            errors.append("%s: the benchmark failed (exit status %d); see %s/logs/%s.log"
                          % (row["name"], row["rc"], args.out, row["name"]))
            continue
        text = read(os.path.join(args.out, "logs", row["name"] + ".log"))
        try:
            figs = PARSERS[row["name"]](text, row, args.out)
        except ParseError as e:
            errors.append(str(e))
            continue
        for fg in figs:
            fg["benchmark"] = row["name"]
            fg["command"] = fg["command"] or display_command(row["command"])
            fg["seconds"] = row["wall"]
        figures += figs
    for fg in growth(figures):
        fg["benchmark"] = "k8s-dns-names"
        fg["seconds"] = 0.0
        figures.append(fg)
    for name in sorted(set(PARSERS) - {r["name"] for r in rows}):
        errors.append("%s: did not run" % name)

    try:
        with open(args.baseline) as f:
            base = json.load(f)
    except FileNotFoundError:
        base = {"figures": {}}
        print("bench: no baseline %s yet: record one with `make bench-baseline`" % args.baseline)
    except ValueError as e:
        print("bench: %s is not valid JSON: %s" % (args.baseline, e), file=sys.stderr)
        return 2
    for f in figures:
        f["target"] = target_of(f)
        compare(f, base["figures"].get(f["id"]))
    res = {"machine": machine(), "commit": commit(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "total_seconds": args.total_seconds, "baseline_file": args.baseline,
           "baseline_commit": base.get("commit"), "baseline_date": base.get("recorded"),
           "threshold": THRESHOLD, "errors": errors,
           "figures": [{k: f.get(k) for k in ("id", "what", "command", "value", "unit", "better", "detail",
                                              "baseline", "ratio", "status", "target", "note", "benchmark",
                                              "seconds")} for f in figures]}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown(res))

    print("bench: %s, commit %s" % (machine_line(res["machine"]), res["commit"]))
    print("%-22s %26s %26s %7s  %s" % ("figure", "value", "baseline", "ratio", "status"))
    for f in res["figures"]:
        print("%-22s %26s %26s %7s  %s" % (f["id"], fmt(f["value"], f["unit"]), fmt(f["baseline"], f["unit"]),
                                          "x%.2f" % f["ratio"] if f["ratio"] is not None else "-", f["status"]))
    missing = sorted(set(base["figures"]) - {f["id"] for f in figures})
    if missing:
        print("bench: warning: in the baseline but not measured: %s" % ", ".join(missing))
    print("bench: wrote %s/results.md and %s/results.json" % (args.out, args.out))
    if errors:
        for e in errors:
            print("bench: ERROR: " + e, file=sys.stderr)
        return 2
    regressions = [f for f in res["figures"] if f["status"] == "REGRESSION"]
    if regressions:
        print("bench: %d figure(s) more than 30 %% worse than the baseline:" % len(regressions), file=sys.stderr)
        for f in regressions:
            print("  %s: %s, baseline %s (x%.2f; %s is better)" % (f["id"], fmt(f["value"], f["unit"]),
                  fmt(f["baseline"], f["unit"]), f["ratio"], f["better"]), file=sys.stderr)
        if os.environ.get("BENCH_NO_FAIL") == "1":
            print("bench: BENCH_NO_FAIL=1: reported, not failed", file=sys.stderr)
            return 0
        return 1
    print("bench: no figure more than 30 % below its baseline")
    return 0


def record(args):
    runs = []
    for path in args.results:
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        print("bench: nothing to record", file=sys.stderr)
        return 2
    for path, r in zip(args.results, runs):
        if r.get("errors"):
            print("bench: %s comes from an incomplete run (%s): not recorded" % (path, "; ".join(r["errors"])),
                  file=sys.stderr)
            return 2
    figs = {}
    for r in runs:
        for f in r["figures"]:
            if f["value"] is None:
                continue
            cur = figs.get(f["id"])
            if cur is None:
                figs[f["id"]] = {"value": f["value"], "unit": f["unit"], "better": f["better"], "what": f["what"]}
            elif f["unit"] != cur["unit"] or f["better"] != cur["better"]:
                print("bench: %s has another unit in %s" % (f["id"], r["date"]), file=sys.stderr)
                return 2
            else:
                worst = min if f["better"] == "higher" else max
                cur["value"] = worst(cur["value"], f["value"])
    last = runs[-1]
    base = {"about": "the baseline of `make bench` (scripts/bench.sh): a figure more than 30 % worse than its "
                     "value here fails the run. Recorded by `make bench-baseline` (scripts/bench.sh --record) "
                     "from the runs listed; with several runs, the worst value of each figure.",
            "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": last["commit"], "machine": last["machine"],
            "runs": [{"date": r["date"], "commit": r["commit"], "total_seconds": r.get("total_seconds")}
                     for r in runs],
            "figures": figs}
    with open(args.baseline, "w") as f:
        json.dump(base, f, indent=2)
        f.write("\n")
    print("bench: wrote %s from %d run(s): %d figures" % (args.baseline, len(runs), len(figs)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--out", required=True)
    r.add_argument("--baseline", required=True)
    r.add_argument("--total-seconds", type=int)
    r.add_argument("--failed", default="")
    c = sub.add_parser("record")
    c.add_argument("--baseline", required=True)
    c.add_argument("results", nargs="+")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.baseline) or ".", exist_ok=True) if args.cmd == "record" else None
    return report(args) if args.cmd == "report" else record(args)


if __name__ == "__main__":
    sys.exit(main())
