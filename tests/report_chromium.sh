#!/usr/bin/env bash
# Render a borderzone HTML report in headless Chromium and check what a
# reader would see:
#   1. the DOM after parsing holds the inline <svg id="map"> with settlement
#      circles, and the scenario summary table;
#   2. a screenshot of the page is a real PNG of some size (not blank).
#
# Usage: tests/report_chromium.sh REPORT.html [SCREENSHOT.png]
# Needs Debian's `chromium` (apt-get install chromium). Prints OK on success.
set -euo pipefail

html=${1:?usage: report_chromium.sh REPORT.html [SCREENSHOT.png]}
png=${2:-}
chromium=${CHROMIUM:-/usr/bin/chromium}
min_png_bytes=${MIN_PNG_BYTES:-30000}

[ -x "$chromium" ] || { echo "SKIP: $chromium not found" >&2; exit 77; }
[ -f "$html" ] || { echo "no such file: $html" >&2; exit 2; }
html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "$png" ] || png=$work/report.png

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-dev-shm-usage --hide-scrollbars --force-device-scale-factor=1)

fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. DOM.
timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile-dom" \
  --dump-dom "file://$html" >"$work/dom.html" 2>"$work/dom.log" \
  || { cat "$work/dom.log" >&2; fail "chromium --dump-dom failed"; }
dom=$work/dom.html
grep -q '<svg[^>]*id="map"' "$dom" || fail "no <svg id=\"map\"> in the DOM"
circles=$(grep -o '<circle class="settlement [a-z-]*"' "$dom" | wc -l)
[ "$circles" -gt 0 ] || fail "no settlement circles in the map"
grep -q '<table[^>]*class="summary"' "$dom" || fail "no summary table in the DOM"
# Chromium parsed the inline SVG as SVG (namespaced), not as unknown HTML.
grep -q 'xmlns="http://www.w3.org/2000/svg"' "$dom" || fail "svg lost its namespace"
echo "dom: svg map with $circles settlement circles, summary table present"

# 2. Screenshot.
rm -f "$png"
timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile-png" \
  --window-size=1200,1400 --screenshot="$png" "file://$html" >"$work/png.log" 2>&1 \
  || { cat "$work/png.log" >&2; fail "chromium --screenshot failed"; }
[ -f "$png" ] || fail "no screenshot written"
magic=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
[ "$magic" = "89504e470d0a1a0a" ] || fail "screenshot is not a PNG"
bytes=$(stat -c %s "$png")
[ "$bytes" -ge "$min_png_bytes" ] || fail "screenshot only $bytes bytes (blank page?)"
echo "screenshot: $png ($bytes bytes)"
echo OK
