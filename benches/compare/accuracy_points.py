#!/usr/bin/env python3
"""GENERATED accuracy-test points (seeded), offset from the border along
geodesic normals with GeographicLib's Direct:

  --kind china20    points 19.6-20.4 km from a random point of the China
                    border (the 20 km line +-400 m), either side;
  --kind neighbours --per N points per neighbour (CHN RUS KGZ UZB TKM),
                    0-40 km from a random point of that neighbour's border.

The offset is not the distance (another part of the border may be nearer,
and along the winding China border it often is): china20 therefore draws 10x
the points and keeps the first --count whose approximate distance (haversine
to the border densified to <= 50 m) is within 300 m of 20 km.
reference_distance.py then measures the true distance.
"""
import argparse
import math

import numpy as np
from geographiclib.geodesic import Geodesic

from common import border_segments

G = Geodesic.WGS84


def offsets(rng, n, neighbour, lo_m, hi_m, prefix):
    ax, ay, bx, by, _ = border_segments(neighbour)
    w = np.hypot((bx - ax) * np.cos(np.radians((ay + by) / 2)), by - ay)
    rows = []
    for k, i in enumerate(rng.choice(len(ax), size=n, p=w / w.sum())):
        line = G.InverseLine(ay[i], ax[i], by[i], bx[i])
        q = line.Position(rng.random() * line.s13)
        side = 90.0 if rng.random() < 0.5 else -90.0
        d = lo_m + rng.random() * (hi_m - lo_m)
        p = G.Direct(q["lat2"], q["lon2"], q["azi2"] + side, d)
        rows.append((f"{prefix}{k}", p["lon2"], p["lat2"]))
    return rows


def densified(neighbour, step_m=50.0):
    ax, ay, bx, by, _ = border_segments(neighbour)
    xs, ys = [ax], [ay]
    for i in range(len(ax)):
        n = int(G.Inverse(ay[i], ax[i], by[i], bx[i])["s12"] // step_m)
        if n:
            t = np.arange(1, n + 1) / (n + 1)
            xs.append(ax[i] + t * (bx[i] - ax[i]))
            ys.append(ay[i] + t * (by[i] - ay[i]))
    return np.radians(np.concatenate(xs)), np.radians(np.concatenate(ys))


def approx_distance_m(rows, dens):
    dx, dy = dens
    out = []
    for _, x, y in rows:
        x, y = math.radians(x), math.radians(y)
        h = np.sin((dy - y) / 2) ** 2 + math.cos(y) * np.cos(dy) * np.sin((dx - x) / 2) ** 2
        out.append(2 * 6_371_008.8 * math.asin(math.sqrt(h.min())))
    return np.array(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["china20", "neighbours"], required=True)
    ap.add_argument("--count", type=int, default=1500, help="china20: number of points")
    ap.add_argument("--per", type=int, default=100, help="neighbours: points per neighbour")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.kind == "china20":
        rows = offsets(rng, 10 * args.count, "CHN", 19_600.0, 20_400.0, "chn20_")
        d = approx_distance_m(rows, densified("CHN"))
        rows = [r for r, dd in zip(rows, d) if abs(dd - 20_000.0) <= 300.0][: args.count]
    else:
        rows = []
        for nb in ["CHN", "RUS", "KGZ", "UZB", "TKM"]:
            rows += offsets(rng, args.per, nb, 0.0, 40_000.0, f"{nb.lower()}_")
    with open(args.out, "w") as f:
        f.write("id,lon,lat\n")
        for i, x, y in rows:
            assert math.isfinite(x) and math.isfinite(y)
            f.write(f"{i},{x:.9f},{y:.9f}\n")


if __name__ == "__main__":
    main()
