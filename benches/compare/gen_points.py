#!/usr/bin/env python3
"""Generate GENERATED benchmark points over Kazakhstan (not real settlements).

Half the points are uniform in the country's lon/lat bounding box, kept only
if inside the country polygon (data/kz/country.geojson); the other half are
concentrated near the border: a uniformly chosen point of the border lines
(data/kz/border_lines.geojson, weighted by length), moved 0-40 km in a uniform
random direction (spherical offset, so the point lies at most ~40 km from the
border), and also kept only if inside the country.

Output: CSV `id,lon,lat` (7 decimals). Seeded and deterministic: the same
--seed and --count give the same file byte for byte.

    python gen_points.py --count 1000000 --out /tmp/bz-bench/generated_1m.csv
"""
import argparse
import json
import os
import sys

import numpy as np
import shapely

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "data", "kz"))
R_M = 6_371_008.8
CHUNK = 200_000


def load_country():
    with open(os.path.join(DATA, "country.geojson")) as f:
        fc = json.load(f)
    geom = shapely.union_all([shapely.geometry.shape(ft["geometry"]) for ft in fc["features"]])
    shapely.prepare(geom)
    return geom


def load_border_segments():
    with open(os.path.join(DATA, "border_lines.geojson")) as f:
        fc = json.load(f)
    a, b = [], []
    for ft in fc["features"]:
        g = ft["geometry"]
        lines = g["coordinates"] if g["type"] == "MultiLineString" else [g["coordinates"]]
        for line in lines:
            c = np.asarray(line, dtype=float)
            a.append(c[:-1])
            b.append(c[1:])
    return np.concatenate(a), np.concatenate(b)


def near_border(rng, n, a, b, max_m):
    """n points within max_m (spherical offset) of random border points."""
    mid_lat = np.radians((a[:, 1] + b[:, 1]) / 2)
    w = np.hypot((b[:, 0] - a[:, 0]) * np.cos(mid_lat), b[:, 1] - a[:, 1])
    seg = rng.choice(len(a), size=n, p=w / w.sum())
    t = rng.random(n)
    lon0 = np.radians(a[seg, 0] + t * (b[seg, 0] - a[seg, 0]))
    lat0 = np.radians(a[seg, 1] + t * (b[seg, 1] - a[seg, 1]))
    az = rng.random(n) * 2 * np.pi
    d = rng.random(n) * max_m / R_M
    lat = np.arcsin(np.sin(lat0) * np.cos(d) + np.cos(lat0) * np.sin(d) * np.cos(az))
    lon = lon0 + np.arctan2(np.sin(az) * np.sin(d) * np.cos(lat0), np.cos(d) - np.sin(lat0) * np.sin(lat))
    return np.degrees(lon), np.degrees(lat)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--near-km", type=float, default=40.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    country = load_country()
    xmin, ymin, xmax, ymax = country.bounds
    a, b = load_border_segments()
    rng = np.random.default_rng(args.seed)
    n_uniform = args.count // 2
    n_near = args.count - n_uniform

    def fill(target, draw):
        xs, ys, have = [], [], 0
        while have < target:
            x, y = draw(CHUNK)
            keep = shapely.contains_xy(country, x, y)
            x, y = x[keep][: target - have], y[keep][: target - have]
            xs.append(x)
            ys.append(y)
            have += len(x)
        return np.concatenate(xs), np.concatenate(ys)

    ux, uy = fill(n_uniform, lambda k: (rng.uniform(xmin, xmax, k), rng.uniform(ymin, ymax, k)))
    nx, ny = fill(n_near, lambda k: near_border(rng, k, a, b, args.near_km * 1000.0))
    lon = np.concatenate([ux, nx])
    lat = np.concatenate([uy, ny])

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".part"
    with open(tmp, "w") as f:
        f.write("id,lon,lat\n")
        for s in range(0, len(lon), CHUNK):
            ids = np.arange(s, min(s + CHUNK, len(lon)))
            f.write("".join(f"{i},{x:.7f},{y:.7f}\n" for i, x, y in zip(ids, lon[ids], lat[ids])))
    os.replace(tmp, args.out)
    print(f"wrote {len(lon)} generated points ({n_uniform} uniform, {n_near} within {args.near_km} km "
          f"of the border, seed {args.seed}) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
