#!/usr/bin/env python3
"""The GIS-user baseline: GeoPandas 1.x + shapely 2 in a projected CRS.

Distance from each point to the border (all of it or one neighbour) as a
planar distance after projecting points and border to metres:

  --crs utm  each point in its own UTM zone (EPSG:326zz, zz from its
             longitude: 38-45 over Kazakhstan), the border projected into
             every zone used;
  --crs lcc  one national Lambert conformal conic
             (+proj=lcc +lat_1=43 +lat_2=53 +lat_0=48 +lon_0=67 +datum=WGS84).

Idiom: the border exploded into its 2-vertex segments (so the STRtree boxes
are small), then `geopandas.sjoin_nearest(points, segments,
distance_col=...)` (GEOS STRtree nearest); in_zone = distance <= N km, which
is what `dwithin` would return. Writes id,distance_m,in_zone.
"""
import argparse
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from common import border_segments, peak_rss_mb, read_points

LCC = "+proj=lcc +lat_1=43 +lat_2=53 +lat_0=48 +lon_0=67 +datum=WGS84 +units=m +no_defs"


def within(points, segs, crs, width_m):
    """Membership only, the other GIS idiom: `sjoin(predicate="dwithin")`
    (GEOS STRtree query with the dwithin predicate; boundary inside). (The
    third idiom, buffering the whole border and testing point in polygon,
    ran out of 24 GB in GEOS's buffer of the 30,459-segment border.)"""
    p = points.to_crs(crs)
    s = segs.to_crs(crs)
    j = gpd.sjoin(p, s, how="inner", predicate="dwithin", distance=width_m)
    return pd.Series(p.index.isin(j.index), index=p.index)


def nearest(points, segs, crs):
    p = points.to_crs(crs)
    s = segs.to_crs(crs)
    j = gpd.sjoin_nearest(p, s, how="left", distance_col="distance_m")
    # Ties (equal distances) give several rows per point: keep one.
    return j[~j.index.duplicated(keep="first")]["distance_m"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", required=True)
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--neighbour")
    ap.add_argument("--crs", choices=["utm", "lcc"], required=True)
    ap.add_argument(
        "--method",
        choices=["nearest", "dwithin"],
        default="nearest",
        help="nearest: sjoin_nearest distances (default); dwithin: membership only, sjoin(predicate='dwithin')",
    )
    ap.add_argument("--distance-km", type=float, default=20.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    t0 = time.perf_counter()
    ids, lon, lat = read_points(args.points, args.id_field)
    ax, ay, bx, by, _ = border_segments(args.neighbour)
    seg_geoms = shapely.linestrings(np.stack([np.stack([ax, ay], 1), np.stack([bx, by], 1)], 1))
    segs = gpd.GeoDataFrame(geometry=seg_geoms, crs="EPSG:4326")
    points = gpd.GeoDataFrame({"id": ids}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    t_read = time.perf_counter()

    width_m = args.distance_km * 1000

    def measure(pts, crs):
        if args.method == "dwithin":
            return within(pts, segs, crs, width_m)
        return nearest(pts, segs, crs)

    if args.crs == "lcc":
        res = measure(points, LCC)
    else:
        zone = np.floor((lon + 180.0) / 6.0).astype(int) + 1
        parts = []
        for z in np.unique(zone):
            parts.append(measure(points[zone == z], f"EPSG:{32600 + z}"))
        res = pd.concat(parts)
    res = res.reindex(points.index)
    t_measure = time.perf_counter()

    if args.method == "dwithin":
        out = pd.DataFrame({"id": ids, "distance_m": np.nan, "in_zone": res.to_numpy()})
    else:
        out = pd.DataFrame({"id": ids, "distance_m": res.to_numpy(), "in_zone": res.to_numpy() <= width_m})
    out.to_csv(args.out, index=False, float_format="%.3f")
    t_end = time.perf_counter()
    print(
        f"geopandas {args.crs} {args.method}: {len(ids)} points, {len(ax)} segments; read {t_read - t0:.2f} s, "
        f"measure {t_measure - t_read:.2f} s, total {t_end - t0:.2f} s; peak RSS {peak_rss_mb():.0f} MB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
