#!/usr/bin/env bash
# Side-by-side comparison: borderzone CLI vs GeoPandas (UTM per zone, one
# national LCC) vs PostGIS geography, on the same inputs, in ONE run.
#
#   benches/compare/run.sh [WORKLOAD...]     WORKLOAD: osm | 1m | 10m (default: osm 1m)
#   RUNS=3 (default): runs of each tool but PostGIS, whose median is kept.
#
# osm: the 9,899 real OSM settlements (../shared/data/kz-extra, skipped if absent);
# 1m / 10m: GENERATED points (gen_points.py, seeded). 10m runs borderzone only.
# Each workload runs against all borders and China only. Results (times, peak
# RSS from /usr/bin/time -v, errors and misclassifications vs borderzone) go to
# $OUT/results.jsonl and $OUT/summary.txt. borderzone's 10m outputs (~5 GB a
# selection) are removed once compared, unless KEEP=1. Needs root for apt-get
# (postgis) and to run postgres as the `postgres` user.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-/tmp/bz-bench}"
VENV="${VENV:-/tmp/bzvenv}"
PGDIR="${PGDIR:-/tmp/bz-pg}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
BZ="$CARGO_TARGET_DIR/release/borderzone"
BORDER="$REPO/data/kz/border_lines.geojson"
OSM="$REPO/../shared/data/kz-extra/settlements_osm.geojson"
RUNS="${RUNS:-3}"
WORKLOADS=("${@:-osm 1m}")
read -r -a WORKLOADS <<<"${WORKLOADS[*]}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

# --- tools ---------------------------------------------------------------
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q "geopandas>=1,<2" "shapely>=2,<3" pyproj pyogrio numpy pandas \
  geographiclib "psycopg[binary]"
PY="$VENV/bin/python"
(cd "$REPO" && cargo build --release --quiet)

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
PGVER="$(basename "$(dirname "$PGBIN")" 2>/dev/null || true)"
if [ -z "$PGBIN" ] || [ ! -e "/usr/share/postgresql/$PGVER/extension/postgis.control" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
# Start the cluster unless it is running (a stale socket file is not enough).
if ! su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data status" >/dev/null 2>&1; then
  mkdir -p "$PGDIR" && chown postgres "$PGDIR"
  [ -d "$PGDIR/data" ] || su postgres -c "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres >$PGDIR/initdb.log"
  su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -o \"-k $PGDIR -c listen_addresses=''\" -w start" >/dev/null
fi

# --- helpers -------------------------------------------------------------
# timed LABEL OUTPUT RUNS CMD...: run CMD RUNS times under /usr/bin/time -v and
# record the median run: wall time (ms resolution, from the clock around the
# command; /usr/bin/time's own wall clock has 10 ms steps, too coarse for a
# 0.15 s run) and its peak RSS, with every run's wall time. Before each run,
# OUTPUT (the file or folder CMD writes) is removed and dirty pages are
# synced, so that no run pays for freeing or writing back an earlier one's
# output.
timed() {
  local label="$1" output="$2" runs="$3"; shift 3
  local walls=() i t0 t1
  for ((i = 1; i <= runs; i++)); do
    rm -rf "$output"; sync
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$OUT/time_${label}_$i.txt" "$@" >"$OUT/log_$label.txt" 2>&1
    t1=$(date +%s%N)
    walls+=("$(( (t1 - t0) / 1000000 ))")
  done
  local median_run
  median_run=$(printf '%s\n' "${walls[@]}" | awk '{print NR, $1}' | sort -k2,2n | awk -v m=$(( (runs + 1) / 2 )) 'NR==m{print $1}')
  mv "$OUT/time_${label}_$median_run.txt" "$OUT/time_$label.txt"
  rm -f "$OUT/time_${label}"_[0-9]*.txt
  local wall rss all
  wall=$(awk -v ms="${walls[median_run-1]}" 'BEGIN{printf "%.3f", ms / 1000}')
  all=$(printf '%s\n' "${walls[@]}" | awk '{printf "%s%.3f", (NR > 1 ? "," : ""), $1 / 1000}')
  rss=$(awk -F': ' '/Maximum resident set size/{print $2/1024}' "$OUT/time_$label.txt")
  printf '{"label":"%s","wall_s":%s,"walls_s":[%s],"max_rss_mb":%.0f,"log":%s}\n' "$label" "$wall" "$all" "$rss" \
    "$("$PY" -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().strip()))' "$OUT/log_$label.txt")" >>"$RESULTS"
  printf '%-28s %9.3f s  %7.0f MB  (runs: %s s)  %s\n' "$label" "$wall" "$rss" "$all" "$(tail -n 1 "$OUT/log_$label.txt")"
}

compare() { # compare LABEL TOOL_CSV BZ_CSV
  "$PY" "$HERE/compare_results.py" --tool "$2" --reference "$3" --label "$1" --json "$RESULTS" 2>/dev/null
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $(date -u +%FT%TZ)"
echo "borderzone $(git -C "$REPO" rev-parse --short HEAD); $("$PY" -c 'import geopandas,shapely,pyproj;print("geopandas",geopandas.__version__,"shapely",shapely.__version__,"GEOS",shapely.geos_version_string,"PROJ",pyproj.proj_version_str)')"
echo "postgres $("$PGBIN/postgres" --version | awk '{print $3}'), $(psql -h "$PGDIR" -U postgres -Atc "select postgis_lib_version()" 2>/dev/null || psql -h "$PGDIR" -U postgres -Atc "create extension if not exists postgis; select postgis_lib_version()")"

for w in "${WORKLOADS[@]}"; do
  case "$w" in
    osm) [ -f "$OSM" ] || { echo "skip osm: $OSM not found"; continue; }
         PTS="$OSM"; IDF=osm_id ;;
    1m|10m) n=$([ "$w" = 1m ] && echo 1000000 || echo 10000000)
         PTS="$OUT/generated_$w.csv"; IDF=id
         [ -f "$PTS" ] || "$PY" "$HERE/gen_points.py" --count "$n" --out "$PTS" ;;
    *) echo "unknown workload $w"; exit 2 ;;
  esac
  for sel in all CHN; do
    nb=(); [ "$sel" = all ] || nb=(--neighbour "$sel")
    tag="${w}_${sel}"
    # bz: every distance, CSV + GeoJSON (the default); bzc: classification
    # only (--distances none: certified cells, exact only near the edge),
    # CSV only — the same deliverable as the baselines' id,in_zone CSV.
    # Each tool runs RUNS times (median kept), PostGIS once (minutes a
    # run), the 10m workload once.
    runs=$([ "$w" = 10m ] && echo 1 || echo "$RUNS")
    timed "bz_$tag" "$OUT/bz_$tag" "$runs" "$BZ" zone --quiet --border "$BORDER" "${nb[@]}" --settlements "$PTS" --id-field "$IDF" --out "$OUT/bz_$tag"
    timed "bzc_$tag" "$OUT/bzc_$tag" "$runs" "$BZ" zone --quiet --border "$BORDER" "${nb[@]}" --settlements "$PTS" --id-field "$IDF" \
      --distances none --no-geojson --out "$OUT/bzc_$tag"
    "$PY" "$HERE/same_membership.py" "$OUT/bzc_$tag/settlements.csv" "$OUT/bz_$tag/settlements.csv" --label "bzc_$tag" --json "$RESULTS"
    # 10m: ~5 GB of outputs per selection, compared above; removed (the
    # disk filled once with them). KEEP=1 keeps them.
    [ "$w" = 10m ] && { [ -n "${KEEP:-}" ] || rm -rf "$OUT/bz_$tag" "$OUT/bzc_$tag"; continue; }
    for crs in utm lcc; do
      timed "gp_${crs}_$tag" "$OUT/gp_${crs}_$tag.csv" "$runs" "$PY" "$HERE/geopandas_zone.py" --points "$PTS" --id-field "$IDF" "${nb[@]}" --crs "$crs" --out "$OUT/gp_${crs}_$tag.csv"
      compare "gp_${crs}_$tag" "$OUT/gp_${crs}_$tag.csv" "$OUT/bz_$tag/settlements.csv"
      # Membership only, as bzc: sjoin(predicate="dwithin").
      timed "gpw_${crs}_$tag" "$OUT/gpw_${crs}_$tag.csv" "$runs" "$PY" "$HERE/geopandas_zone.py" --points "$PTS" --id-field "$IDF" "${nb[@]}" --crs "$crs" --method dwithin --out "$OUT/gpw_${crs}_$tag.csv"
      compare "gpw_${crs}_$tag" "$OUT/gpw_${crs}_$tag.csv" "$OUT/bz_$tag/settlements.csv"
    done
    timed "pg_$tag" "$OUT/pg_$tag.csv" 1 "$PY" "$HERE/postgis_zone.py" --host "$PGDIR" --points "$PTS" --id-field "$IDF" "${nb[@]}" --out "$OUT/pg_$tag.csv"
    compare "pg_$tag" "$OUT/pg_$tag.csv" "$OUT/bz_$tag/settlements.csv"
  done
done | tee "$OUT/summary.txt"
