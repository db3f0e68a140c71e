#!/usr/bin/env python3
"""Independent reference: exact WGS84 geodesic distance from points to the
border, with Python GeographicLib and an algorithm that shares nothing with
borderzone's (no R-tree, no ECEF boxes, no Newton iteration):

1. every border segment is the geodesic between its vertices
   (Geodesic.WGS84.InverseLine); its length s and midpoint m are precomputed;
2. per point p, an upper bound U = exact distance to the nearest few vertices
   (by haversine), and a conservative haversine filter keeps the segments
   with 0.99 * haversine(p, m) - s/2 - 1 m <= U (the ellipsoidal distance is
   >= 0.994 x the haversine on the mean sphere up to thousands of km; 0.99
   is a safe margin; every point of the segment is within s/2 of m);
3. survivors are re-filtered with the exact bound dist(p, m) - s/2 <= U
   (U also lowered by dist(p, m), a point of the segment);
4. each remaining segment is minimised along its length by golden-section
   search to 1e-6 m, plus both endpoints.

    python reference_distance.py --points pts.csv [--id-field id] [--neighbour CHN] --out ref.csv

Input: CSV id,lon,lat or a GeoJSON point layer. Output: id,lon,lat,distance_m
(micrometres),in_zone,nearest_neighbour.
"""
import argparse
import math
import sys
import time

import numpy as np
from geographiclib.geodesic import Geodesic

from common import border_segments, read_points

G = Geodesic.WGS84
R_M = 6_371_008.8
PHI = (math.sqrt(5.0) - 1.0) / 2.0
TOL_M = 1e-6
LATLON = Geodesic.LATITUDE | Geodesic.LONGITUDE
DIST = Geodesic.DISTANCE


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * R_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


class Border:
    def __init__(self, neighbour=None):
        self.ax, self.ay, self.bx, self.by, self.nb = border_segments(neighbour)
        n = len(self.ax)
        self.length = np.empty(n)
        self.mx = np.empty(n)
        self.my = np.empty(n)
        self.lines = [None] * n
        for i in range(n):
            line = G.InverseLine(self.ay[i], self.ax[i], self.by[i], self.bx[i])
            self.length[i] = line.s13
            m = line.Position(line.s13 / 2, LATLON)
            self.mx[i], self.my[i] = m["lon2"], m["lat2"]
            self.lines[i] = line
        self.vx = np.concatenate([self.ax, self.bx])
        self.vy = np.concatenate([self.ay, self.by])

    def dist(self, lon, lat, x, y):
        return G.Inverse(lat, lon, y, x, DIST)["s12"]

    def segment_min(self, i, lon, lat):
        """Minimum distance from (lon, lat) to segment i: golden section
        along the geodesic, plus the endpoints."""
        line = self.lines[i]

        def f(s):
            q = line.Position(s, LATLON)
            return G.Inverse(lat, lon, q["lat2"], q["lon2"], DIST)["s12"]

        lo, hi = 0.0, line.s13
        x1, x2 = hi - PHI * (hi - lo), lo + PHI * (hi - lo)
        f1, f2 = f(x1), f(x2)
        while hi - lo > TOL_M:
            if f1 < f2:
                hi, x2, f2 = x2, x1, f1
                x1 = hi - PHI * (hi - lo)
                f1 = f(x1)
            else:
                lo, x1, f1 = x1, x2, f2
                x2 = lo + PHI * (hi - lo)
                f2 = f(x2)
        return min(f((lo + hi) / 2), f1, f2, f(0.0), f(line.s13))

    def nearest(self, lon, lat):
        """(distance_m, segment index, candidates measured)."""
        hv = haversine_m(lon, lat, self.vx, self.vy)
        near_v = np.argpartition(hv, min(8, len(hv) - 1))[:8]
        upper = min(self.dist(lon, lat, self.vx[k], self.vy[k]) for k in near_v)
        hm = haversine_m(lon, lat, self.mx, self.my)
        cand = np.nonzero(0.99 * hm - self.length / 2 - 1.0 <= upper)[0]
        exact_mid = {}
        for i in cand:
            d = self.dist(lon, lat, self.mx[i], self.my[i])
            exact_mid[i] = d
            upper = min(upper, d)
        cand = [i for i in cand if exact_mid[i] - self.length[i] / 2 - 1e-3 <= upper]
        best, best_i = math.inf, -1
        for i in sorted(cand, key=lambda i: exact_mid[i]):
            if exact_mid[i] - self.length[i] / 2 - 1e-3 > best:
                continue
            d = self.segment_min(i, lon, lat)
            if d < best:
                best, best_i = d, i
        return best, best_i, len(cand)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", required=True)
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--neighbour")
    ap.add_argument("--distance-km", type=float, default=20.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    border = Border(args.neighbour)
    ids, lon, lat = read_points(args.points, args.id_field)
    with open(args.out, "w") as f:
        f.write("id,lon,lat,distance_m,in_zone,nearest_neighbour\n")
        for k in range(len(ids)):
            d, i, _ = border.nearest(float(lon[k]), float(lat[k]))
            f.write(f"{ids[k]},{float(lon[k])!r},{float(lat[k])!r},{d:.6f},{d <= args.distance_km * 1000},{border.nb[i]}\n")
    print(f"reference: {len(ids)} points, {len(border.ax)} segments, {time.perf_counter() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
