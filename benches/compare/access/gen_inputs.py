"""GENERATED inputs for the road-access comparison (seeded, reproducible).

  gen_inputs.py points --bbox LON0 LAT0 LON1 LAT1 --count N --seed S --out settlements.geojson
      N points uniform over the bbox (GeoJSON, feature id "g<index>",
      property generated=true).
  gen_inputs.py grid --rows R --cols C --spacing-m 100 --seed S --out-roads roads.geojson
                     [--out-osm roads.osm] --out-services services.geojson --facilities 50
      A GENERATED road grid: R rows x C columns of junctions about
      `spacing-m` apart near 43.0N 77.0E, every vertex jittered by up to 10 %
      of the spacing (no ties), one LineString per row and per column
      (`highway`: every 10th line primary, the others residential; every 7th
      row one-way), and `facilities` hospitals and as many schools at random
      positions (property `amenity`). With --out-osm, the same roads as OSM
      XML (node ids 1.., way ids 1..; tags highway, oneway, generated=yes) for
      `osmium cat` to turn into a PBF.

Nothing here is real data: every feature carries generated=true.
"""
import argparse
import json
import math
import random


def points(a):
    rng = random.Random(a.seed)
    lon0, lat0, lon1, lat1 = a.bbox
    feats = []
    for i in range(a.count):
        x = lon0 + (lon1 - lon0) * rng.random()
        y = lat0 + (lat1 - lat0) * rng.random()
        feats.append({"type": "Feature", "id": f"g{i}",
                      "properties": {"generated": True},
                      "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}})
    with open(a.out, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)


def grid(a):
    rng = random.Random(a.seed)
    lat0, lon0 = 43.0, 77.0
    dlat = a.spacing_m / 111_132.0
    dlon = a.spacing_m / (111_320.0 * math.cos(math.radians(lat0)))
    j = 0.1
    # One jittered position per junction, written as the same text everywhere
    # it is used so that rows and columns share it exactly.
    pos = [[(round(lon0 + (c + j * (2 * rng.random() - 1)) * dlon, 7),
             round(lat0 + (r + j * (2 * rng.random() - 1)) * dlat, 7))
            for c in range(a.cols)] for r in range(a.rows)]
    with open(a.out_roads, "w") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        first = True

        def line(coords, props):
            nonlocal first
            f.write(("" if first else ",\n") + json.dumps(
                {"type": "Feature", "properties": props,
                 "geometry": {"type": "LineString", "coordinates": coords}},
                separators=(",", ":")))
            first = False

        for r in range(a.rows):
            props = {"highway": "primary" if r % 10 == 0 else "residential", "generated": True}
            if r % 7 == 3:
                props["oneway"] = "yes"
            line(pos[r], props)
        for c in range(a.cols):
            props = {"highway": "primary" if c % 10 == 0 else "residential", "generated": True}
            line([pos[r][c] for r in range(a.rows)], props)
        f.write("\n]}\n")
    if a.out_osm:
        with open(a.out_osm, "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="gen_inputs.py GENERATED">\n')
            for r in range(a.rows):
                for c in range(a.cols):
                    x, y = pos[r][c]
                    f.write(f'<node id="{r * a.cols + c + 1}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>\n')
            wid = 0

            def way(refs, props):
                nonlocal wid
                wid += 1
                f.write(f'<way id="{wid}" version="1">')
                f.write("".join(f'<nd ref="{k}"/>' for k in refs))
                f.write("".join(f'<tag k="{k}" v="{"yes" if v is True else v}"/>' for k, v in props.items()))
                f.write("</way>\n")

            for r in range(a.rows):
                props = {"highway": "primary" if r % 10 == 0 else "residential", "generated": True}
                if r % 7 == 3:
                    props["oneway"] = "yes"
                way([r * a.cols + c + 1 for c in range(a.cols)], props)
            for c in range(a.cols):
                props = {"highway": "primary" if c % 10 == 0 else "residential", "generated": True}
                way([r * a.cols + c + 1 for r in range(a.rows)], props)
            f.write("</osm>\n")
    lon_hi, lat_hi = lon0 + (a.cols - 1) * dlon, lat0 + (a.rows - 1) * dlat
    feats = []
    for cat in ("hospital", "school"):
        for k in range(a.facilities):
            x = lon0 + (lon_hi - lon0) * rng.random()
            y = lat0 + (lat_hi - lat0) * rng.random()
            feats.append({"type": "Feature", "id": f"{cat}{k}",
                          "properties": {"amenity": cat, "name": f"{cat} {k}", "generated": True},
                          "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}})
    with open(a.out_services, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    print(f"{lon0} {lat0} {lon_hi} {lat_hi}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("points")
    q.add_argument("--bbox", type=float, nargs=4, required=True)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--out", required=True)
    q = sub.add_parser("grid")
    q.add_argument("--rows", type=int, default=500)
    q.add_argument("--cols", type=int, default=1000)
    q.add_argument("--spacing-m", type=float, default=100.0)
    q.add_argument("--facilities", type=int, default=50)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--out-roads", required=True)
    q.add_argument("--out-osm")
    q.add_argument("--out-services", required=True)
    a = p.parse_args()
    points(a) if a.cmd == "points" else grid(a)


if __name__ == "__main__":
    main()
