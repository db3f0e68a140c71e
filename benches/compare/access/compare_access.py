"""Agreement check and summary table for the road-access comparison.

  compare_access.py agree --workload W --metric distance|time --borderzone bz/access.csv
                          --graph graph/ --tool NAME=results.csv [...] --json results.jsonl
      Per settlement x category, the tool's least cost against borderzone's
      (road_distance_m or travel_time_s of access.csv, which are rounded to the
      millimetre / millisecond): same reachability, max absolute and relative
      difference, share with the same nearest facility (when the tool names
      one and the two costs are not tied). Appends one record per tool.
  compare_access.py summary --json results.jsonl
      Markdown table: median wall time over the runs, x borderzone, CPU time
      (user + sys, plus the server backend's for pgRouting), peak RSS, phases,
      agreement.
"""
import argparse
import csv
import json
import statistics
import sys


def agree(a):
    col = "road_distance_m" if a.metric == "distance" else "travel_time_s"
    tol_abs = 0.0005 if a.metric == "distance" else 0.0005  # output rounding (mm / ms)
    with open(f"{a.graph}/settlements.csv") as f:
        index_of = {r["id"]: int(r["index"]) for r in csv.DictReader(f)}
    with open(f"{a.graph}/facilities.csv") as f:
        fac_id = {int(r["index"]): r["id"] for r in csv.DictReader(f)}
    bz = {}
    with open(a.borderzone, encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            key = (index_of[r["id"]], r["category"])
            bz[key] = (float(r[col]) if r["status"] == "reached" else None, r["facility_id"])
    out = []
    for spec in a.tool:
        name, path = spec.split("=", 1)
        st = {"pairs": 0, "both_reached": 0, "reach_mismatch": 0, "max_abs": 0.0,
              "max_rel": 0.0, "over_tol": 0, "facility_checked": 0, "facility_same": 0}
        seen = set()
        with open(path) as f:
            for r in csv.DictReader(f):
                key = (int(r["index"]), r["category"])
                seen.add(key)
                st["pairs"] += 1
                v = float(r["value"]) if r["value"] else None
                b, b_fac = bz.get(key, (None, ""))
                if (v is None) != (b is None):
                    st["reach_mismatch"] += 1
                    continue
                if v is None:
                    continue
                st["both_reached"] += 1
                d = abs(v - b)
                st["max_abs"] = max(st["max_abs"], d)
                if b > 0:
                    st["max_rel"] = max(st["max_rel"], d / b)
                if d > tol_abs + 1e-9 * b:
                    st["over_tol"] += 1
                if r["facility_index"]:
                    st["facility_checked"] += 1
                    st["facility_same"] += fac_id[int(r["facility_index"])] == b_fac
        st["missing_rows"] = len(set(bz) - seen)
        rec = {"workload": a.workload, "tool": name, "agreement": st}
        out.append(rec)
        ok = st["reach_mismatch"] == 0 and st["over_tol"] == 0 and st["missing_rows"] == 0
        print(f"  agreement {name:<18} {'OK ' if ok else 'BAD'} {st['both_reached']} reached pairs, "
              f"max |diff| {st['max_abs']:.2e}, max rel {st['max_rel']:.1e}, "
              f"reach mismatches {st['reach_mismatch']}, same facility "
              f"{st['facility_same']}/{st['facility_checked']}")
    with open(a.json, "a") as f:
        for rec in out:
            f.write(json.dumps(rec) + "\n")


def cpu(r):
    """user + sys of the process, plus the server backend's for pgRouting."""
    return r["user_s"] + r["sys_s"] + r["detail"].get("backend_cpu_s", 0.0)


def summary(a):
    runs, agreement = {}, {}
    for line in open(a.json):
        r = json.loads(line)
        if "agreement" in r:
            agreement[(r["workload"], r["tool"])] = r["agreement"]
        else:
            runs.setdefault((r["workload"], r["tool"]), []).append(r)
    workloads = list(dict.fromkeys(w for w, _ in runs))
    print("| workload | tool | wall s (median) | runs (min–max) | × borderzone wall | CPU s | × borderzone CPU | peak RSS MB | phases (s, median run) | agreement vs borderzone |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for w in workloads:
        bz = statistics.median(r["wall_s"] for r in runs[(w, "borderzone")])
        bz_cpu = statistics.median(cpu(r) for r in runs[(w, "borderzone")])
        for (w2, tool), rs in runs.items():
            if w2 != w:
                continue
            rs = sorted(rs, key=lambda r: r["wall_s"])
            med = rs[len(rs) // 2]
            wall = statistics.median(r["wall_s"] for r in rs)
            rss = med["max_rss_mb"]
            d = med["detail"]
            if "backend_peak_rss_mb" in d:
                rss_txt = f"{rss:.0f} + {d['backend_peak_rss_mb']:.0f} server"
            else:
                rss_txt = f"{rss:.0f}"
            if "phases_s" in d:
                ph = ", ".join(f"{k} {v:.2f}" for k, v in d["phases_s"].items() if k != "total_in_process")
            else:
                ph = "; ".join(d.get("stdout", []))
                ph = ph[ph.find("settlements and services"):] if "settlements and services" in ph else ph
            ag = agreement.get((w, tool))
            if tool == "borderzone":
                ag_txt = "reference"
            elif ag:
                ok = ag["reach_mismatch"] == 0 and ag["over_tol"] == 0 and ag["missing_rows"] == 0
                ag_txt = (f"{'yes' if ok else 'NO'}: {ag['both_reached']} pairs, max Δ {ag['max_abs']:.1e}"
                          + (f", same facility {ag['facility_same']}/{ag['facility_checked']}"
                             if ag["facility_checked"] else ""))
            else:
                ag_txt = "-"
            spread = f"{rs[0]['wall_s']:.2f}–{rs[-1]['wall_s']:.2f}" if len(rs) > 1 else ""
            c = statistics.median(cpu(r) for r in rs)
            print(f"| {w} | {tool} | {wall:.2f} | {len(rs)} ({spread}) | {wall / bz:.1f} | {c:.2f} | {c / bz_cpu:.1f} "
                  f"| {rss_txt} | {ph} | {ag_txt} |")
    loads = [r["load1"] for rs in runs.values() for r in rs]
    if loads:
        print(f"\nload average (1 min) at the start of the timed runs: {min(loads):.2f}–{max(loads):.2f}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("agree")
    q.add_argument("--workload", required=True)
    q.add_argument("--metric", choices=["distance", "time"], default="distance")
    q.add_argument("--borderzone", required=True)
    q.add_argument("--graph", required=True)
    q.add_argument("--tool", action="append", default=[])
    q.add_argument("--json", required=True)
    q = sub.add_parser("summary")
    q.add_argument("--json", required=True)
    a = p.parse_args()
    agree(a) if a.cmd == "agree" else summary(a)


if __name__ == "__main__":
    sys.exit(main())
