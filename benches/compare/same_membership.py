#!/usr/bin/env python3
"""Check that two borderzone settlements.csv files give the same in_zone for
every id (e.g. --distances none against the default run), and that every
distance the first one reports equals the second's.

    same_membership.py A.csv B.csv [--label L] [--json results.jsonl]
"""
import argparse
import csv
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    args = ap.parse_args()
    ref = {}
    with open(args.b, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            ref[r["id"]] = (r["in_zone"], r["border_distance_m"])
    rows = differs = 0
    with open(args.a, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            rows += 1
            zone, dist = ref.get(r["id"], (None, None))
            if zone != r["in_zone"] or (r["border_distance_m"] and r["border_distance_m"] != dist):
                differs += 1
    if rows != len(ref):
        differs += abs(rows - len(ref))
    print(f"{args.label}: {rows} rows, membership/distance differs on {differs}")
    if args.json:
        with open(args.json, "a") as out:
            out.write(json.dumps({"label": args.label, "rows": rows, "membership_differs": differs}) + "\n")
    sys.exit(1 if differs else 0)


if __name__ == "__main__":
    main()
