#!/bin/sh
# Run every fuzz target for SECONDS (default 300) one after another, on
# stable Rust with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags) and no
# sanitizer (safe Rust; the sanitizer runtimes need nightly std).
set -u
SECONDS_EACH=${1:-300}
mkdir -p logs
for t in geojson_collection ndjson csv_points config_toml osm_pbf geojson_roads; do
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$t" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 > "logs/$t.log" 2>&1
  echo "$t exit $?"
done
