#!/usr/bin/env python3
"""The database baseline: PostGIS geography (spheroid by default).

Border segments (ST_DumpSegments of the border lines, so every GiST box is
small) in a `geography` column with a GiST index; points loaded with COPY
into a `geography` column. Per point:

  distance_m  (SELECT ST_Distance(p.g, b.g) FROM seg b ORDER BY p.g <-> b.g LIMIT 1)
              -- index-assisted KNN, then the spheroidal distance;
  in_zone     EXISTS (SELECT 1 FROM seg b WHERE ST_DWithin(p.g, b.g, N))
              -- the classification idiom, spheroid (use_spheroid = true).

Connects to the cluster in --host (a unix-socket folder; see run.sh).
Reports load/index/query times, and the server backend's peak RSS (VmHWM,
read from /proc) beside this client's.
"""
import argparse
import io
import sys
import time

import psycopg

from common import border_segments, peak_rss_mb, read_points


def backend_hwm_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return float("nan")
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", required=True)
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--neighbour")
    ap.add_argument("--distance-km", type=float, default=20.0)
    ap.add_argument("--host", default="/tmp/bz-pg")
    ap.add_argument("--db", default="postgres")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    t0 = time.perf_counter()
    ids, lon, lat = read_points(args.points, args.id_field)
    ax, ay, bx, by, nb = (a.tolist() for a in border_segments(args.neighbour))
    ids, lon, lat = ids.tolist(), lon.tolist(), lat.tolist()
    with psycopg.connect(host=args.host, dbname=args.db, user="postgres", autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("DROP TABLE IF EXISTS bz_seg, bz_pts")
        conn.execute("CREATE TABLE bz_seg (neighbour text, g geography(LineString, 4326))")
        conn.execute("CREATE TABLE bz_pts (id text, lon float8, lat float8)")
        with conn.cursor().copy("COPY bz_seg (neighbour, g) FROM STDIN") as cp:
            for i in range(len(ax)):
                cp.write_row((nb[i], f"SRID=4326;LINESTRING({ax[i]!r} {ay[i]!r},{bx[i]!r} {by[i]!r})"))
        with conn.cursor().copy("COPY bz_pts (id, lon, lat) FROM STDIN") as cp:
            buf = io.StringIO()
            for i in range(len(ids)):
                buf.write(f"{ids[i]}\t{lon[i]!r}\t{lat[i]!r}\n")
                if buf.tell() > 1 << 22:
                    cp.write(buf.getvalue())
                    buf = io.StringIO()
            cp.write(buf.getvalue())
        conn.execute("ALTER TABLE bz_pts ADD COLUMN g geography(Point, 4326)")
        conn.execute("UPDATE bz_pts SET g = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography")
        t_load = time.perf_counter()
        conn.execute("CREATE INDEX ON bz_seg USING gist (g)")
        conn.execute("ANALYZE bz_seg")
        conn.execute("ANALYZE bz_pts")
        t_index = time.perf_counter()
        rows = conn.execute(
            """SELECT p.id,
                      (SELECT ST_Distance(p.g, b.g) FROM bz_seg b ORDER BY p.g <-> b.g LIMIT 1),
                      EXISTS (SELECT 1 FROM bz_seg b WHERE ST_DWithin(p.g, b.g, %s))
               FROM bz_pts p""",
            (args.distance_km * 1000.0,),
        ).fetchall()
        t_query = time.perf_counter()
        server_mb = backend_hwm_mb(pid)
        conn.execute("DROP TABLE IF EXISTS bz_seg, bz_pts")
    with open(args.out, "w") as f:
        f.write("id,distance_m,in_zone\n")
        for i, d, z in rows:
            f.write(f"{i},{d:.3f},{z}\n")
    t_end = time.perf_counter()
    print(
        f"postgis: {len(ids)} points, {len(ax)} segments; read+load {t_load - t0:.2f} s, index {t_index - t_load:.2f} s, "
        f"query {t_query - t_index:.2f} s, total {t_end - t0:.2f} s; peak RSS client {peak_rss_mb():.0f} MB, "
        f"server backend {server_mb:.0f} MB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
