#!/usr/bin/env python3
"""Markdown tables from run.sh's results.jsonl: wall time, CPU, peak RSS and
ratio to borderzone, then errors and misclassifications vs borderzone.

    python summarize.py /tmp/bz-bench/1m/results.jsonl
"""
import json
import os
import re
import sys


def cpu_s(out_dir, label):
    try:
        txt = open(os.path.join(out_dir, f"time_{label}.txt")).read()
    except OSError:
        return float("nan")
    u = float(re.search(r"User time \(seconds\): ([\d.]+)", txt).group(1))
    s = float(re.search(r"System time \(seconds\): ([\d.]+)", txt).group(1))
    return u + s


def main():
    path = sys.argv[1]
    out_dir = os.path.dirname(path)
    rows = [json.loads(line) for line in open(path)]
    timing = {r["label"]: r for r in rows if "wall_s" in r}
    acc = {r["label"]: r for r in rows if "max_abs_error_m" in r}
    print("| run | wall s | ×bz wall | ×bzc wall | client CPU s | peak RSS MB | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, r in timing.items():
        tool, _, tag = label.partition("_")
        if tool in ("gp", "gpw"):
            tag = tag.partition("_")[2]
        bz = timing.get(f"bz_{tag}")
        bzc = timing.get(f"bzc_{tag}")
        ratio = r["wall_s"] / bz["wall_s"] if bz else float("nan")
        ratio_c = r["wall_s"] / bzc["wall_s"] if bzc else float("nan")
        note = ""
        m = re.search(r"server backend (\d+) MB", r.get("log", ""))
        if m:
            q = re.search(r"query ([\d.]+) s", r["log"])
            note = f"server backend peak RSS {m.group(1)} MB; SQL query {q.group(1) if q else '?'} s"
        print(
            f"| {label} | {r['wall_s']:.3f} | {ratio:.1f} | {ratio_c:.1f} | {cpu_s(out_dir, label):.1f} | "
            f"{r['max_rss_mb']:.0f} | {note} |"
        )
    print()
    print("| run | max \\|err\\| m | within 40 km: max \\|err\\| m | mean \\|err\\| m | misclassified (false in / out) |")
    print("|---|---:|---:|---:|---|")
    for label, r in acc.items():
        if "membership_differs" in r:
            continue
        print(
            f"| {label} | {r['max_abs_error_m']:.1f} | {r['max_abs_error_within_40km_m']:.1f} | "
            f"{r['mean_abs_error_m']:.2f} | {r['misclassified']} ({r['false_in']} / {r['false_out']}) |"
        )


    for r in rows:
        if "membership_differs" in r:
            print(f"\n{r['label']}: membership differs from bz on {r['membership_differs']} of {r['rows']} points")


if __name__ == "__main__":
    main()
