#!/usr/bin/env python3
"""scripts/validate-report.py: checks a run report directory written by
`clustersim run --report` (used by scripts/check-report.sh).

  validate-report.py DIR --nodes N [--plots | --no-plots] [--text STRING]...
                     [--replay PROGRAM] [--version V] [--sizes]

Checks: index.html parses and contains every --text (after unescaping);
summary.json and trace.perfetto.json are valid JSON; the Perfetto trace has
exactly N node tracks (thread_name records other than the world's); every image the
page shows is a valid PNG (signature, chunk CRCs, IHDR first, IEND last,
image data that inflates to the size IHDR announces) and its SVG twin is
well-formed SVG; with --no-plots the page says the plots were skipped and
shows no image.
--replay PROGRAM: the page's replay command (#replay) is `PROGRAM replay
PATH` where PATH, as a shell reads it, is DIR/trace.jsonl; running it exits
0 and shows every record of that file; the re-run command (#rerun) follows.
--version V: the page shows clustersim V beside the trace hash (#version).
--sizes: in the SVG of each size plot the page shows (members, registry),
every y tick label is a whole number, no two lines share a horizontal
stretch (one would hide the other), the key names every node of the trace
exactly once, and lines drawn within a few pixels of each other come with
the plot's note that they were moved apart.
Exits 1 with one line per problem.
"""
import argparse
import html
import html.parser
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "a":
            self.links.append(a.get("href", ""))


def png_problem(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG signature"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        if pos + 8 > len(data):
            return "truncated chunk header"
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            return "truncated chunk %r" % kind
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            return "bad CRC in chunk %r" % kind
        chunks.append((kind, body))
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        return "chunks do not start with IHDR and end with IEND"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
    if not width or not height or channels is None:
        return "bad IHDR"
    raw = zlib.decompress(idat)
    expect = height * (1 + (width * channels * depth + 7) // 8)
    if len(raw) != expect:
        return "image data inflates to %d bytes, IHDR says %d" % (len(raw), expect)
    if len(set(raw)) < 3:
        return "the image is blank"
    return None


def svg_problem(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return "not well-formed XML: %s" % e
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        return "root element is %s, not svg" % root.tag
    if len(list(root.iter())) < 10:
        return "almost empty SVG"
    return None


def perfetto_tracks(path):
    with open(path) as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    return sorted({e["tid"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
                   and e.get("args", {}).get("name") != "world"})


class Element(html.parser.HTMLParser):
    """The text of the element with a given id."""

    def __init__(self, ident):
        super().__init__(convert_charrefs=True)
        self.ident, self.depth, self.text = ident, 0, None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.ident:
            self.depth, self.text = 1, ""

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text += data


def element_text(source, ident):
    e = Element(ident)
    e.feed(source)
    return e.text


def replay_problems(d, source, program):
    """The replay line names the saved trace, and replaying it works."""
    command = element_text(source, "replay")
    if command is None:
        return ["index.html has no replay command (#replay)"]
    argv = shlex.split(command)
    trace = os.path.join(d, "trace.jsonl")
    if len(argv) != 3 or argv[0] != program or argv[1] != "replay":
        return ["the replay command %r is not `%s replay TRACE`" % (command, program)]
    if not os.path.isfile(argv[2]) or not os.path.samefile(argv[2], trace):
        return ["the replay command %r does not name the report's trace %s" % (command, trace)]
    run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    problems = []
    if run.returncode != 0:
        problems.append("%r exited %d: %s" % (command, run.returncode, run.stderr.strip()[-300:]))
    with open(trace) as f:
        records = sum(1 for _ in f)
    if ("%d of %d records shown" % (records, records)) not in run.stdout:
        problems.append("%r did not show the %d records of %s" % (command, records, trace))
    if not element_text(source, "rerun"):
        problems.append("index.html has no re-run command (#rerun) after the replay")
    return problems


def trace_nodes(d):
    with open(os.path.join(d, "trace.jsonl")) as f:
        return {json.loads(l)["node"] for l in f if '"node_start"' in l}


NUM = re.compile(r"-?\d+(?:\.\d+)?")
NOTE = "a few pixels apart"


def points(d):
    """The sub-paths of an SVG path's d attribute, as lists of (x, y)."""
    subs = []
    for cmd, x, y in re.findall(r"([ML])\s*(-?[\d.]+),(-?[\d.]+)", d):
        if cmd == "M" or not subs:
            subs.append([])
        subs[-1].append((float(x), float(y)))
    return subs


def svg_series(root):
    """The plot border's x range, the y tick labels, and per plotted line its
    key text and horizontal stretches (y, x0, x1) inside the border."""
    left, right, ticks, series = None, None, [], []
    for path in root.iter("{http://www.w3.org/2000/svg}path"):
        d = path.get("d", "")
        pts = points(d)
        if d.strip().endswith("Z") and len(pts) == 1 and len(pts[0]) == 5:
            xs = [x for x, _ in pts[0]]
            if right is None or max(xs) - min(xs) > right - left:
                left, right = min(xs), max(xs)
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        m = re.match(r"translate\(([-\d.]+),", g.get("transform", ""))
        if m and g.get("text-anchor") == "end" and left is not None and float(m.group(1)) < left:
            ticks.extend("".join(t.itertext()).strip() for t in g.iter("{http://www.w3.org/2000/svg}text"))
        if not (g.get("id") or "").startswith("gnuplot_plot_"):
            continue
        key = " ".join("".join(t.itertext()) for t in g.iter("{http://www.w3.org/2000/svg}text"))
        stretches = []
        for path in g.iter("{http://www.w3.org/2000/svg}path"):
            for sub in points(path.get("d", "")):
                if right is not None and min(x for x, _ in sub) >= right:
                    continue  # the key's sample of the line
                for (x0, y0), (x1, y1) in zip(sub, sub[1:]):
                    if abs(y1 - y0) < 0.01 and abs(x1 - x0) > 0.5:
                        stretches.append((y0, min(x0, x1), max(x0, x1)))
        series.append((key, stretches))
    return ticks, series


def closest(a, b):
    """The least vertical distance between two lines' stretches that overlap
    in time by more than 2 px (None when they never do)."""
    best = None
    for ya, a0, a1 in a:
        for yb, b0, b1 in b:
            if min(a1, b1) - max(a0, b0) > 2:
                best = abs(ya - yb) if best is None else min(best, abs(ya - yb))
    return best


def size_problems(d, page):
    problems = []
    nodes = trace_nodes(d)
    for name in ("members", "registry"):
        if name + ".png" not in page.images:
            continue
        path = os.path.join(d, name + ".svg")
        root = ET.parse(path).getroot()
        ticks, series = svg_series(root)
        if not ticks:
            problems.append("%s: no y tick label found" % path)
        bad = [t for t in ticks if not re.fullmatch(r"-?\d+", t)]
        if bad:
            problems.append("%s: y tick labels that are not whole numbers: %s" % (path, bad))
        named = [n for key, _ in series for n in re.split(r"[,\s]+", key) if n]
        if sorted(named) != sorted(nodes):
            problems.append("%s: the key names %s, the trace's nodes are %s" % (path, sorted(named), sorted(nodes)))
        near = False
        for i in range(len(series)):
            for k in range(i + 1, len(series)):
                gap = closest(series[i][1], series[k][1])
                if gap is not None and gap < 0.75:
                    problems.append("%s: the lines of %r and %r coincide (one hides the other)"
                                    % (path, series[i][0], series[k][0]))
                near |= gap is not None and 0.75 <= gap < 6
        if near and NOTE not in " ".join(root.itertext()):
            problems.append("%s: lines drawn a few pixels apart, but the plot does not say so" % path)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--plots", dest="plots", action="store_true", default=None)
    ap.add_argument("--no-plots", dest="plots", action="store_false")
    ap.add_argument("--text", action="append", default=[])
    ap.add_argument("--replay", metavar="PROGRAM")
    ap.add_argument("--version")
    ap.add_argument("--sizes", action="store_true")
    a = ap.parse_args()
    problems = []
    index = os.path.join(a.dir, "index.html")
    with open(index, encoding="utf-8") as f:
        source = f.read()
    page = Page()
    page.feed(source)
    text = html.unescape(source)
    for t in a.text:
        if t not in text:
            problems.append("index.html does not contain %r" % t)
    for name in ("summary.json", "trace.perfetto.json"):
        try:
            with open(os.path.join(a.dir, name)) as f:
                json.load(f)
        except (OSError, ValueError) as e:
            problems.append("%s: %s" % (name, e))
    try:
        tracks = perfetto_tracks(os.path.join(a.dir, "trace.perfetto.json"))
        if len(tracks) != a.nodes:
            problems.append("trace.perfetto.json has %d node tracks, expected %d" % (len(tracks), a.nodes))
    except (OSError, ValueError, KeyError, TypeError) as e:
        problems.append("trace.perfetto.json: %s" % e)
    if a.plots is True:
        if not page.images:
            problems.append("index.html shows no plot")
        for src in page.images:
            p = png_problem(os.path.join(a.dir, src))
            if p:
                problems.append("%s: %s" % (src, p))
            svg = os.path.splitext(src)[0] + ".svg"
            if svg not in page.links:
                problems.append("index.html does not link %s" % svg)
            s = svg_problem(os.path.join(a.dir, svg))
            if s:
                problems.append("%s: %s" % (svg, s))
    elif a.plots is False:
        if page.images:
            problems.append("plots were expected to be skipped, the page shows %d" % len(page.images))
        if "plots skipped" not in text:
            problems.append("index.html does not say that plots were skipped")
    if a.replay:
        problems.extend(replay_problems(a.dir, source, a.replay))
    if a.version:
        shown = element_text(source, "version")
        if shown != a.version or ("clustersim " + a.version) not in text:
            problems.append("index.html shows version %r beside the trace hash, expected clustersim %s"
                            % (shown, a.version))
    if a.sizes:
        try:
            problems.extend(size_problems(a.dir, page))
        except (OSError, ET.ParseError, ValueError) as e:
            problems.append("size plots: %s" % e)
    for p in problems:
        print("validate-report: %s: %s" % (a.dir, p))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
