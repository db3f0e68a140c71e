#!/usr/bin/env bash
# Accuracy of borderzone vs the independent GeographicLib reference
# (reference_distance.py) on:
#   (i)   the 351 GeoNames settlements (data/kz/settlements_geonames.geojson), all borders and China only;
#   (ii)  1,500 GENERATED points 19.6-20.4 km from the China border, China only;
#   (iii) 100 GENERATED points 0-40 km from each neighbour's border, all borders.
# Prints max |error| and misclassifications at 20 km; results in $OUT/accuracy.jsonl.
# borderzone's settlements.csv rounds distances to the millimetre, so errors
# below 0.5 mm are invisible here (the zone decision uses the exact value).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-/tmp/bz-accuracy}"
VENV="${VENV:-/tmp/bzvenv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
BZ="$CARGO_TARGET_DIR/release/borderzone"
BORDER="$REPO/data/kz/border_lines.geojson"
mkdir -p "$OUT"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q numpy pandas geographiclib
PY="$VENV/bin/python"
(cd "$REPO" && cargo build --release --quiet)
: >"$OUT/accuracy.jsonl"

"$PY" "$HERE/accuracy_points.py" --kind china20 --count 1500 --out "$OUT/generated_china20.csv"
"$PY" "$HERE/accuracy_points.py" --kind neighbours --per 100 --out "$OUT/generated_neighbours.csv"

check() { # check LABEL POINTS ID_FIELD SELECTION
  local label="$1" pts="$2" idf="$3" sel="$4" nb=()
  [ "$sel" = all ] || nb=(--neighbour "$sel")
  "$BZ" --quiet zone --border "$BORDER" "${nb[@]}" --settlements "$pts" --id-field "$idf" --out "$OUT/bz_$label" >/dev/null
  "$PY" "$HERE/reference_distance.py" --points "$pts" --id-field "$idf" "${nb[@]}" --out "$OUT/ref_$label.csv"
  "$PY" "$HERE/compare_results.py" --tool "$OUT/bz_$label/settlements.csv" --reference "$OUT/ref_$label.csv" \
    --label "$label" --json "$OUT/accuracy.jsonl"
}

check china20_CHN "$OUT/generated_china20.csv" id CHN
check neighbours_all "$OUT/generated_neighbours.csv" id all
check geonames_all "$REPO/data/kz/settlements_geonames.geojson" geonameid all
check geonames_CHN "$REPO/data/kz/settlements_geonames.geojson" geonameid CHN
