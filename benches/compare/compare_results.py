#!/usr/bin/env python3
"""Compare a tool's per-point answer (CSV id,distance_m,in_zone) with a
reference: borderzone's settlements.csv (id,...,border_distance_m,...,in_zone)
or reference_distance.py's output (id,...,distance_m,in_zone).

Prints one line: rows, max |distance error| (m), mean |error|, error at the
99.9th percentile, misclassifications at the zone width, and the worst point.
With --json, appends the numbers to that file (one JSON object per line).
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd


def load(path):
    df = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
    dcol = "border_distance_m" if "border_distance_m" in df.columns else "distance_m"
    # Membership-only tools leave the distance empty.
    out = pd.DataFrame({"id": df["id"], "d": pd.to_numeric(df[dcol], errors="coerce")})
    out["zone"] = df["in_zone"].astype(str).str.lower().isin(["true", "1"])
    if "lon" in df.columns:
        out["lon"], out["lat"] = df["lon"], df["lat"]
    return out.set_index("id")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tool", required=True, help="CSV of the tool under test")
    ap.add_argument("--reference", required=True, help="borderzone settlements.csv or reference CSV")
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    args = ap.parse_args()
    tool, ref = load(args.tool), load(args.reference)
    if len(tool) != len(ref):
        print(f"warning: {len(tool)} tool rows vs {len(ref)} reference rows", file=sys.stderr)
    j = ref.add_suffix("_ref").join(tool.add_suffix("_tool"), how="inner")
    err = (j["d_tool"] - j["d_ref"]).abs()
    wrong = j[j["zone_tool"] != j["zone_ref"]]
    if err.isna().all():
        # No distances (membership only): report the misclassified points.
        wrong_only = {
            "label": args.label,
            "rows": int(len(j)),
            "misclassified": int(len(wrong)),
            "false_in": int((wrong["zone_tool"]).sum()),
            "false_out": int((~wrong["zone_tool"]).sum()),
        }
        print(
            f"{args.label}: {len(j)} rows, membership only, misclassified {len(wrong)} "
            f"({wrong_only['false_in']} false in, {wrong_only['false_out']} false out)"
        )
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(wrong_only) + "\n")
        return
    worst = err.idxmax()
    row = {
        "label": args.label,
        "rows": int(len(j)),
        "max_abs_error_m": float(err.max()),
        "mean_abs_error_m": float(err.mean()),
        "p999_abs_error_m": float(np.quantile(err, 0.999)),
        "max_abs_error_within_40km_m": float(err[j["d_ref"] <= 40_000].max()) if (j["d_ref"] <= 40_000).any() else 0.0,
        "misclassified": int(len(wrong)),
        "false_in": int((wrong["zone_tool"]).sum()),
        "false_out": int((~wrong["zone_tool"]).sum()),
        "worst_id": str(worst),
        "worst_ref_m": float(j.loc[worst, "d_ref"]),
        "worst_tool_m": float(j.loc[worst, "d_tool"]),
    }
    if "lon_ref" in j.columns:
        row["worst_lonlat"] = [float(j.loc[worst, "lon_ref"]), float(j.loc[worst, "lat_ref"])]
        row["misclassified_examples"] = [
            [str(i), float(r["lon_ref"]), float(r["lat_ref"]), float(r["d_ref"]), float(r["d_tool"])]
            for i, r in wrong.head(3).iterrows()
        ]
    print(
        f"{args.label}: {row['rows']} rows, max |err| {row['max_abs_error_m']:.4f} m, mean {row['mean_abs_error_m']:.4f} m, "
        f"p99.9 {row['p999_abs_error_m']:.4f} m, max |err| within 40 km {row['max_abs_error_within_40km_m']:.4f} m, misclassified {row['misclassified']} "
        f"({row['false_in']} false in, {row['false_out']} false out); worst id {row['worst_id']} "
        f"ref {row['worst_ref_m']:.3f} m tool {row['worst_tool_m']:.3f} m"
    )
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
