#!/usr/bin/env python3
"""scripts/validate-report.py: checks a run report directory written by
`clustersim run --report` (used by scripts/check-report.sh).

  validate-report.py DIR --nodes N [--plots | --no-plots] [--text STRING]...

Checks: index.html parses and contains every --text (after unescaping);
summary.json and trace.perfetto.json are valid JSON; the Perfetto trace has
exactly N node tracks (thread_name records other than the world's); every image the
page shows is a valid PNG (signature, chunk CRCs, IHDR first, IEND last,
image data that inflates to the size IHDR announces) and its SVG twin is
well-formed SVG; with --no-plots the page says the plots were skipped and
shows no image.  Exits 1 with one line per problem.
"""
import argparse
import html
import html.parser
import json
import os
import struct
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--plots", dest="plots", action="store_true", default=None)
    ap.add_argument("--no-plots", dest="plots", action="store_false")
    ap.add_argument("--text", action="append", default=[])
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
    for p in problems:
        print("validate-report: %s: %s" % (a.dir, p))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
