#!/usr/bin/env python3
"""Independent reference distances from places to Kazakhstan's border.

Uses Python GeographicLib (pip install geographiclib), not borderzone's code:
for every border segment (a geodesic between two vertices) whose start
vertex could be near enough (triangle inequality: d(P, segment) >=
d(P, A) - |AB|), the distance from P is minimised along the segment with
Geodesic.InverseLine + golden-section search to 1e-7 m, endpoints included.

Writes tests/reference/border_distances.csv: name,lon,lat,selection,distance_m
Run from the repository root:  python3 tests/reference/border_reference.py
"""
import csv
import json
import math

from geographiclib.geodesic import Geodesic

G = Geodesic.WGS84

# Places checked by tests/zone_real_data.rs, with lon/lat as in
# data/kz/settlements_geonames.geojson (GeoNames) or chosen by hand.
PLACES = [
    ("Khorgos", 80.38522, 44.22335),
    ("Narynkol", 80.17495, 42.72636),
    ("Zharkent", 80.00736, 44.16619),
    ("Almaty", 76.9115, 43.25249),
    ("Ust-Kamenogorsk", 82.60586, 49.97143),
    ("Zaysan", 84.87144, 47.46657),
    ("Petropavl", 69.15065, 54.87343),
    ("Shymkent", 69.60042, 42.30988),
    ("Aktau (Mangystau)", 51.17392, 43.66105),
    ("Near Bakhty (hand-picked)", 82.70, 46.60),
]
SELECTIONS = {"all": None, "CHN": {"CHN"}}


def segments(selection):
    with open("data/kz/border_lines.geojson") as f:
        fc = json.load(f)
    for feat in fc["features"]:
        if selection and feat["properties"]["neighbour"] not in selection:
            continue
        for line in feat["geometry"]["coordinates"]:
            for a, b in zip(line, line[1:]):
                if a != b:
                    yield a, b


def seg_distance(p, a, b):
    line = G.InverseLine(a[1], a[0], b[1], b[0])
    length = line.s13

    def f(s):
        pos = line.Position(s)
        return G.Inverse(p[1], p[0], pos["lat2"], pos["lon2"])["s12"]

    phi = (math.sqrt(5) - 1) / 2
    lo, hi = 0.0, length
    x1, x2 = hi - phi * (hi - lo), lo + phi * (hi - lo)
    f1, f2 = f(x1), f(x2)
    while hi - lo > 1e-7:
        if f1 < f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - phi * (hi - lo)
            f1 = f(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + phi * (hi - lo)
            f2 = f(x2)
    return min(f((lo + hi) / 2), f(0.0), f(length))


def distance(p, segs):
    # Pass 1: vertex distances give an upper bound and a pruning test.
    with_start = []
    best = math.inf
    for a, b in segs:
        da = G.Inverse(p[1], p[0], a[1], a[0])["s12"]
        length = G.Inverse(a[1], a[0], b[1], b[0])["s12"]
        best = min(best, da)
        with_start.append((da - length, a, b))
    for lower, a, b in sorted(with_start, key=lambda t: t[0]):
        if lower > best:
            break
        best = min(best, seg_distance(p, a, b))
    return best


def main():
    rows = []
    for sel_name, sel in SELECTIONS.items():
        segs = list(segments(sel))
        for name, lon, lat in PLACES:
            d = distance((lon, lat), segs)
            rows.append((name, lon, lat, sel_name, f"{d:.6f}"))
            print(name, sel_name, f"{d:.6f}")
    with open("tests/reference/border_distances.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "lon", "lat", "selection", "distance_m"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
