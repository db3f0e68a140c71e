"""Shared helpers of the comparison scripts: read the border and the points
the same way for every tool."""
import json
import os
import resource

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
BORDER = os.path.join(REPO, "data", "kz", "border_lines.geojson")


def border_segments(neighbour=None, path=BORDER):
    """Border segments as (ax, ay, bx, by, neighbour) numpy arrays (lon/lat
    degrees), repeated vertices dropped, optionally only one neighbour."""
    with open(path) as f:
        fc = json.load(f)
    cols = [[], [], [], [], []]
    for ft in fc["features"]:
        nb = str(ft["properties"].get("neighbour") or "").strip().upper()
        if neighbour and nb != neighbour.upper():
            continue
        g = ft["geometry"]
        lines = g["coordinates"] if g["type"] == "MultiLineString" else [g["coordinates"]]
        for line in lines:
            c = np.asarray(line, dtype=float)[:, :2]
            a, b = c[:-1], c[1:]
            keep = np.any(a != b, axis=1)
            cols[0].append(a[keep, 0])
            cols[1].append(a[keep, 1])
            cols[2].append(b[keep, 0])
            cols[3].append(b[keep, 1])
            cols[4].append(np.full(int(keep.sum()), nb))
    return tuple(np.concatenate(c) for c in cols)


def read_points(path, id_field):
    """(ids as str array, lon, lat) from a GeoJSON point layer or a CSV with
    id,lon,lat."""
    if path.endswith(".csv"):
        import pandas as pd

        df = pd.read_csv(path, dtype={id_field: str})
        return df[id_field].to_numpy(), df["lon"].to_numpy(float), df["lat"].to_numpy(float)
    with open(path) as f:
        fc = json.load(f)
    ids, lon, lat = [], [], []
    for ft in fc["features"]:
        ids.append(str(ft["properties"][id_field]))
        x, y = ft["geometry"]["coordinates"][:2]
        lon.append(x)
        lat.append(y)
    return np.array(ids), np.array(lon, float), np.array(lat, float)


def peak_rss_mb():
    """Peak resident set size of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
