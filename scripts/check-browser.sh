#!/usr/bin/env bash
# scripts/check-browser.sh BUILD: opens a run report in headless Chromium
# (run by `make test`).  Installs Chromium from Debian when it is missing;
# where no browser can be installed, or the installed one cannot start even
# on a trivial page, it says so and skips (exit 0).
# Checks: the page loads with every image decoded and no script error (the
# page's own marker, data-report="loaded", read back from the DOM Chromium
# dumps), and a screenshot is a valid, non-blank PNG of the page.
set -euo pipefail
build=${1:-build/plain}
bin=$build/clustersim
out=$build/check-browser # per build, like check-report
rm -rf "$out"
mkdir -p "$out"
fail() { echo "check-browser: FAIL: $*" >&2; exit 1; }

find_browser() {
  for b in chromium chromium-browser google-chrome; do
    command -v "$b" >/dev/null && { command -v "$b"; return 0; }
  done
  return 1
}
browser=$(find_browser || true)
if [ -z "$browser" ]; then
  echo "check-browser: Chromium is missing: installing it (Debian package chromium)"
  scripts/deps.sh chromium >"$out/install.log" 2>&1 || true
  browser=$(find_browser || true)
fi
if [ -z "$browser" ]; then
  echo "check-browser: SKIPPED: no browser could be installed (see $out/install.log)"
  exit 0
fi

# A throwaway profile; --virtual-time-budget lets the load handlers run
# before the DOM is dumped.
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run
       --user-data-dir="$out/profile" --hide-scrollbars --virtual-time-budget=5000)
# Can this browser run here at all?  A trivial page first: a browser that
# cannot start on this machine is skipped like a missing one (with its
# error); every failure on the report itself is a failure.
printf '<html><body><p id="x">browser works</p></body></html>' >"$out/smoke.html"
if ! timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$(pwd)/$out/smoke.html" >"$out/smoke.dom" 2>"$out/smoke.err" ||
   ! grep -q "browser works" "$out/smoke.dom"; then
  echo "check-browser: SKIPPED: $browser cannot run here: $(tail -2 "$out/smoke.err" | tr '\n' ' ')"
  exit 0
fi

"$bin" run tests/reports/swarm-storm-expects-convergence.yaml --report "$out/run" >"$out/run.log" 2>&1 || true
page=$(pwd)/$out/run/swarm-storm-expects-convergence/seed-1/index.html
[ -s "$page" ] || fail "no report at $page"

timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" >"$out/dom.html" 2>"$out/dom.err" ||
  fail "$browser --dump-dom failed: $(tail -3 "$out/dom.err")"
grep -q '<body data-report="loaded">' "$out/dom.html" ||
  fail "the page did not load cleanly: $(grep -o '<body data-report="[^"]*"' "$out/dom.html" || echo 'no marker (script did not run)')"
# The check can fail: the same page with one image missing must be refused.
if grep -q 'src="timeline.png"' "$page"; then
  sed 's/src="timeline.png"/src="missing.png"/' "$page" >"${page%/*}/broken.html"
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://${page%/*}/broken.html" >"$out/broken.html" 2>/dev/null || true
  grep -q '<body data-report="errors: [^"]*missing.png' "$out/broken.html" ||
    fail "a page with a missing image was not caught: $(grep -o '<body[^>]*>' "$out/broken.html")"
fi
timeout 120 "$browser" "${flags[@]}" --window-size=1280,2400 --screenshot="$(pwd)/$out/report.png" \
  "file://$page" >"$out/shot.log" 2>&1 || fail "$browser --screenshot failed: $(tail -3 "$out/shot.log")"
python3 - "$out/report.png" <<'EOF' || fail "the screenshot is not a valid non-blank PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + body) & 0xffffffff == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
    if kind == b"IHDR":
        ihdr = struct.unpack(">II", body[:8])
    if kind == b"IDAT":
        idat += body
    pos += 12 + n
assert ihdr == (1280, 2400), ihdr
raw = zlib.decompress(idat)
assert len(set(raw)) > 16, "blank"
EOF
echo "check-browser: ok ($browser loaded the report without errors; screenshot $out/report.png)"
