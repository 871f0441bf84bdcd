#!/usr/bin/env python3
"""scripts/check-metrics.py: checks clusterd's /metrics and JSON log lines.

A parser of the Prometheus text exposition format (version 0.0.4) and the
project's conventions, used by scripts/check-metrics.sh:

  check-metrics.py [--clusterd] [--version V] [--tracking] [--handshakes N]
                   [--previous FILE] FILE
      FILE is one scrape ("-": stdin).  Always checked: every line parses;
      every sample's family has exactly one HELP and one TYPE line, both
      before its first sample; a family's samples are one group; names
      match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*;
      no series twice; counters (and only counters) end in _total and are
      >= 0; histograms are named with a unit (_seconds, _bytes), and each
      series has ascending le bounds with cumulative, monotone counts,
      le="+Inf" equal to _count, and a _sum.
      --clusterd: clusterd_build_info{version,tracker,membership} is 1 (its
      version V with --version), process_resident_memory_bytes and
      process_open_fds > 0, the other process_* families present, and
      syncs_started_total >= syncs_completed_total + syncs_abandoned_total
      (the difference is syncs_in_progress) when the tracker runs.
      --tracking: syncs_started_total > 0.  --handshakes N: the handshake
      histogram counts at least N.  --previous FILE: no counter went down
      since that earlier scrape of the same process.
  check-metrics.py --json-log FILE
      every line of FILE is one JSON object with the string keys ts (RFC
      3339, UTC, milliseconds), level (debug|info|warn|error), node,
      component and msg.
  check-metrics.py --self-test
      broken expositions and log lines (missing HELP, duplicate TYPE,
      non-monotone buckets, a counter without _total, ...) must each be
      rejected for their reason, and good ones accepted.
"""
import json
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
UNITS = ("_seconds", "_bytes")


class Invalid(Exception):
    pass


def parse_labels(text, where):
    """{a="x",b="y"} -> {'a': 'x', 'b': 'y'}, escapes \\\\ \\" \\n undone."""
    labels, i, body = {}, 0, text[1:-1]
    while i < len(body):
        m = re.match(r"\s*([^=\s]+)\s*=\s*\"", body[i:])
        if not m:
            raise Invalid("%s: bad label syntax in %s" % (where, text))
        key = m.group(1)
        if not LABEL.match(key) or key.startswith("__"):
            raise Invalid("%s: bad label name %r" % (where, key))
        i += m.end()
        value = []
        while True:
            if i >= len(body):
                raise Invalid("%s: unterminated label value in %s" % (where, text))
            c = body[i]
            if c == "\\":
                nxt = body[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Invalid("%s: bad escape in label value %s" % (where, text))
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                value.append(c)
                i += 1
        if key in labels:
            raise Invalid("%s: label %s twice" % (where, key))
        labels[key] = "".join(value)
        rest = body[i:].lstrip()
        if rest.startswith(","):
            i = len(body) - len(rest) + 1
        elif rest:
            raise Invalid("%s: bad label syntax in %s" % (where, text))
        else:
            break
    return labels


def parse_value(text, where):
    try:
        return float({"+Inf": "inf", "-Inf": "-inf", "NaN": "nan"}.get(text, text))
    except ValueError:
        raise Invalid("%s: bad value %r" % (where, text))


def family_of(name, families):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and families.get(base, {}).get("type") in ("histogram", "summary"):
            if suffix == "_bucket" and families[base]["type"] != "histogram":
                continue
            return base
    return name


def parse(text):
    """Parses an exposition; returns {family: {type, help, samples: [(name, labels, value)]}}."""
    families, order, current = {}, [], None
    for number, line in enumerate(text.split("\n"), 1):
        where = "line %d" % number
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    raise Invalid("%s: bad metric name %r" % (where, name))
                fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
                key = parts[1].lower()
                if fam["samples"]:
                    raise Invalid("%s: %s of %s after its samples" % (where, parts[1], name))
                if fam[key] is not None:
                    raise Invalid("%s: a second %s line for %s" % (where, parts[1], name))
                value = parts[3] if len(parts) > 3 else ""
                if key == "type" and value not in TYPES:
                    raise Invalid("%s: unknown type %r for %s" % (where, value, name))
                fam[key] = value
            continue
        m = SAMPLE.match(line)
        if not m:
            raise Invalid("%s: not a sample: %r" % (where, line))
        name, label_text, value_text = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(label_text, where) if label_text else {}
        value = parse_value(value_text, where)
        base = family_of(name, families)
        fam = families.get(base)
        if not fam or fam["help"] is None:
            raise Invalid("%s: %s has no HELP line before it" % (where, name))
        if fam["type"] is None:
            raise Invalid("%s: %s has no TYPE line before it" % (where, name))
        if base != current:
            if fam["samples"]:
                raise Invalid("%s: the samples of %s are not one group" % (where, base))
            order.append(base)
            current = base
        fam["samples"].append((name, labels, value))
    return families


def check_conventions(families):
    for base, fam in families.items():
        if not fam["samples"]:
            continue
        seen = set()
        for name, labels, value in fam["samples"]:
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise Invalid("%s%s appears twice" % (name, labels))
            seen.add(key)
        kind = fam["type"]
        if kind == "counter":
            if not base.endswith("_total"):
                raise Invalid("counter %s does not end in _total" % base)
            for name, labels, value in fam["samples"]:
                if not value >= 0:
                    raise Invalid("counter %s%s is %s" % (name, labels, value))
        elif base.endswith("_total"):
            raise Invalid("%s ends in _total but is a %s" % (base, kind))
        if kind == "histogram":
            check_histogram(base, fam["samples"])


def check_histogram(base, samples):
    if not base.endswith(UNITS):
        raise Invalid("histogram %s names no unit (%s)" % (base, ", ".join(UNITS)))
    series = {}
    for name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == base + "_bucket":
            if "le" not in labels:
                raise Invalid("%s%s has no le label" % (name, labels))
            s["buckets"].append((parse_value(labels["le"], name), value))
        elif name == base + "_sum":
            s["sum"] = value
        elif name == base + "_count":
            s["count"] = value
        else:
            raise Invalid("%s is not a sample name of histogram %s" % (name, base))
    for rest, s in series.items():
        what = "%s%s" % (base, dict(rest))
        bounds = [b for b, _ in s["buckets"]]
        if not bounds or bounds[-1] != math.inf:
            raise Invalid("%s: no le=\"+Inf\" bucket last" % what)
        if any(b >= c for b, c in zip(bounds, bounds[1:])):
            raise Invalid("%s: le bounds not ascending: %s" % (what, bounds))
        counts = [c for _, c in s["buckets"]]
        if any(b > c for b, c in zip(counts, counts[1:])):
            raise Invalid("%s: bucket counts not cumulative/monotone: %s" % (what, counts))
        if s["count"] is None or s["sum"] is None:
            raise Invalid("%s: _count or _sum missing" % what)
        if counts[-1] != s["count"]:
            raise Invalid("%s: le=\"+Inf\" is %s but _count is %s" % (what, counts[-1], s["count"]))


def value(families, name, labels=None):
    """The one sample `name` (with `labels`, when given); None when absent."""
    base = family_of(name, families)
    for n, l, v in families.get(base, {}).get("samples", []):
        if n == name and (labels is None or l == labels):
            return v
    return None


def check_clusterd(families, version, tracking, handshakes):
    info = families.get("clusterd_build_info", {}).get("samples", [])
    if len(info) != 1 or info[0][2] != 1:
        raise Invalid("clusterd_build_info: want one sample of value 1, got %s" % info)
    labels = info[0][1]
    if set(labels) != {"version", "tracker", "membership"}:
        raise Invalid("clusterd_build_info labels: %s" % labels)
    if version is not None and labels["version"] != version:
        raise Invalid("clusterd_build_info version %r, clusterd --version says %r" % (labels["version"], version))
    if labels["tracker"] not in ("fixed", "swarm", "off") or labels["membership"] not in ("fixed", "libcluster"):
        raise Invalid("clusterd_build_info modes: %s" % labels)
    for name in ("process_resident_memory_bytes", "process_open_fds"):
        v = value(families, name)
        if v is None or not v > 0:
            raise Invalid("%s is %s, want > 0" % (name, v))
    for name in ("process_virtual_memory_bytes", "process_max_fds", "process_cpu_seconds_total",
                 "process_start_time_seconds"):
        if value(families, name) is None:
            raise Invalid("%s missing" % name)
    if value(families, "process_open_fds") > value(families, "process_max_fds"):
        raise Invalid("more descriptors open than allowed")
    started = value(families, "clusterd_syncs_started_total")
    if (started is None) != (labels["tracker"] == "off"):
        raise Invalid("tracker %s but syncs_started_total is %s" % (labels["tracker"], started))
    if started is not None:
        completed = value(families, "clusterd_syncs_completed_total")
        abandoned = value(families, "clusterd_syncs_abandoned_total")
        under_way = value(families, "clusterd_syncs_in_progress")
        if started < completed:
            raise Invalid("syncs started %s < completed %s" % (started, completed))
        if started != completed + abandoned + under_way:
            raise Invalid("syncs started %s != completed %s + abandoned %s + in progress %s"
                          % (started, completed, abandoned, under_way))
        if value(families, "clusterd_sync_duration_seconds_count") != completed:
            raise Invalid("the sync duration histogram counts %s syncs, %s completed"
                          % (value(families, "clusterd_sync_duration_seconds_count"), completed))
        if tracking and not started > 0:
            raise Invalid("tracking, but no sync started")
    if handshakes:
        count = sum(v for n, _, v in families.get("clusterd_link_handshake_seconds", {}).get("samples", [])
                    if n == "clusterd_link_handshake_seconds_count")
        if count < handshakes:
            raise Invalid("the handshake histogram counts %s, want >= %d" % (count, handshakes))


def check_monotone(before, after):
    """No counter (nor histogram bucket/count) went down between two scrapes."""
    for base, fam in before.items():
        if fam["type"] not in ("counter", "histogram"):
            continue
        for name, labels, v in fam["samples"]:
            if name.endswith("_sum") and fam["type"] == "histogram":
                continue
            now = value(after, name, labels)
            if now is None or now < v:
                raise Invalid("%s%s went from %s to %s" % (name, labels, v, now))


def check_exposition(text):
    families = parse(text)
    check_conventions(families)
    return families


TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_log_line(line):
    try:
        o = json.loads(line)
    except ValueError as e:
        raise Invalid("not JSON (%s): %r" % (e, line))
    if not isinstance(o, dict) or set(o) != {"ts", "level", "node", "component", "msg"}:
        raise Invalid("want the keys ts, level, node, component, msg: %r" % line)
    if not all(isinstance(v, str) for v in o.values()):
        raise Invalid("a value is not a string: %r" % line)
    if not TS.match(o["ts"]):
        raise Invalid("ts is not RFC 3339 UTC with milliseconds: %r" % o["ts"])
    if o["level"] not in ("debug", "info", "warn", "error"):
        raise Invalid("unknown level %r" % o["level"])
    if not o["node"] or not o["component"]:
        raise Invalid("empty node or component: %r" % line)
    return o


def check_log(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise Invalid("the log is empty")
    return [check_log_line(line) for line in lines]


GOOD = """# HELP a_total A counter.
# TYPE a_total counter
a_total{reason="x"} 1
a_total{reason="y \\"quoted\\" \\\\ \\n"} 0
# HELP g A gauge.
# TYPE g gauge
g -1.5e3
# HELP h_seconds A histogram.
# TYPE h_seconds histogram
h_seconds_bucket{d="in",le="0.1"} 1
h_seconds_bucket{d="in",le="1"} 2
h_seconds_bucket{d="in",le="+Inf"} 3
h_seconds_sum{d="in"} 4.5
h_seconds_count{d="in"} 3
"""

BROKEN = {
    "no HELP line": GOOD.replace("# HELP g A gauge.\n", ""),
    "no TYPE line": GOOD.replace("# TYPE g gauge\n", ""),
    "a second TYPE line": GOOD.replace("# TYPE g gauge\n", "# TYPE g gauge\n# TYPE g gauge\n"),
    "a second HELP line": GOOD.replace("# HELP g A gauge.\n", "# HELP g A gauge.\n# HELP g again\n"),
    "not cumulative": GOOD.replace('le="1"} 2', 'le="1"} 0'),
    "not ascending": GOOD.replace('le="1"} 2', 'le="0.05"} 2'),
    "but _count is": GOOD.replace("h_seconds_count{d=\"in\"} 3", "h_seconds_count{d=\"in\"} 4"),
    "no le=\"+Inf\"": GOOD.replace('h_seconds_bucket{d="in",le="+Inf"} 3\n', ""),
    "does not end in _total": GOOD.replace("a_total", "a_count_of_things"),
    "ends in _total but is a gauge": GOOD.replace("g -1.5e3", "g -1.5e3").replace(
        "# HELP g A gauge.\n# TYPE g gauge\ng", "# HELP g_total A gauge.\n# TYPE g_total gauge\ng_total"),
    "names no unit": GOOD.replace("h_seconds", "h_latency"),
    "bad metric name": GOOD.replace("# HELP g A", "# HELP 9g A"),
    "not a sample": GOOD.replace("g -1.5e3", "g{} -1.5e3 x y"),
    "bad value": GOOD.replace("g -1.5e3", "g one"),
    "bad label name": GOOD.replace('{reason="x"}', '{re-ason="x"}'),
    "appears twice": GOOD.replace('a_total{reason="x"} 1\n', 'a_total{reason="x"} 1\na_total{reason="x"} 2\n'),
    "not one group": GOOD + 'a_total{reason="z"} 1\n',
    "after its samples": GOOD + "# TYPE h_seconds histogram\n",
    "counter a_total": GOOD.replace('a_total{reason="x"} 1', 'a_total{reason="x"} -1'),
}

GOOD_LOG = ('{"ts":"2026-12-07T04:06:49.782Z","level":"info","node":"app@127.0.0.61","component":"swarm",'
            '"msg":"a \\"quoted\\" name"}\n')
BROKEN_LOG = {
    "not JSON": GOOD_LOG + "2026-12-07T04:06:49.782Z [info] [app@x] text\n",
    "want the keys": GOOD_LOG.replace('"component":"swarm",', ""),
    "ts is not RFC 3339": GOOD_LOG.replace("04:06:49.782Z", "04:06:49Z"),
    "unknown level": GOOD_LOG.replace('"info"', '"loud"'),
    "empty node": GOOD_LOG.replace('"app@127.0.0.61"', '""'),
    "the log is empty": "",
}


def self_test():
    failures = 0
    check_exposition(GOOD)
    check_log(GOOD_LOG)
    for why, text in list(BROKEN.items()) + [("log: " + k, v) for k, v in BROKEN_LOG.items()]:
        try:
            (check_log if why.startswith("log: ") else check_exposition)(text)
        except Invalid as e:
            if why.replace("log: ", "") not in str(e):
                print("self-test: %r rejected for another reason: %s" % (why, e))
                failures += 1
            continue
        print("self-test: a text with %r was accepted" % why)
        failures += 1
    before = check_exposition(GOOD)
    after = check_exposition(GOOD.replace('a_total{reason="x"} 1', 'a_total{reason="x"} 0'))
    try:
        check_monotone(before, after)
        print("self-test: a counter going down was accepted")
        failures += 1
    except Invalid:
        pass
    check_monotone(before, before)
    total = len(BROKEN) + len(BROKEN_LOG) + 1
    print("check-metrics self-test: %d of %d broken texts rejected for their reason"
          % (total - failures, total))
    return 1 if failures else 0


def read(path):
    return sys.stdin.read() if path == "-" else open(path).read()


def main(argv):
    args = list(argv)
    if args == ["--self-test"]:
        return self_test()
    opts = {"--version": None, "--handshakes": "0", "--previous": None}
    flags = {"--clusterd": False, "--tracking": False}
    files = []
    while args:
        a = args.pop(0)
        if a in opts and args:
            opts[a] = args.pop(0)
        elif a in flags:
            flags[a] = True
        elif a.startswith("--"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            files.append(a)
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        families = check_exposition(read(files[0]))
        if flags["--clusterd"]:
            check_clusterd(families, opts["--version"], flags["--tracking"], int(opts["--handshakes"]))
        if opts["--previous"]:
            check_monotone(check_exposition(read(opts["--previous"])), families)
    except Invalid as e:
        print("check-metrics: %s: %s" % (files[0], e), file=sys.stderr)
        return 1
    return 0


def main_log(path):
    try:
        lines = check_log(read(path))
    except Invalid as e:
        print("check-metrics: %s: %s" % (path, e), file=sys.stderr)
        return 1
    print("     (%d JSON log lines, components: %s)" % (len(lines), ", ".join(sorted({o["component"] for o in lines}))))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--json-log":
        sys.exit(main_log(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
