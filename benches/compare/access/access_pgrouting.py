"""Nearest facility per category with pgRouting pgr_dijkstraCost.

  access_pgrouting.py --graph DIR --dsn "host=/tmp/bz-pg-access port=5433 user=postgres" \
      --metric distance|time --variant m2m|vsource --out results.csv

DIR is written by `examples/export_graph.rs` (see there). Timed here, and
printed as phases:
- load: CREATE TEMP TABLE + COPY of the arc list (arcs.csv) into PostgreSQL,
  reversed (source = head, target = tail) so that a search *from* the
  facilities follows the arcs backwards: agg_cost is the cost of driving
  from a settlement *to* the facility, one-way rules respected;
- query: one SQL statement; pgRouting reads the edges and builds its
  graph inside it (graph build is part of the query):
  - m2m: pgr_dijkstraCost(edges, all facility nodes, all settlement nodes),
    then per category and settlement the minimum (DISTINCT ON);
  - vsource: one virtual source node per category joined to its facility
    nodes by zero-cost edges, pgr_dijkstraCost(edges, virtual sources,
    settlement nodes): one search per category (multi-source by the usual
    super-source trick);
- write: fetch and write the results.
Peak memory (VmHWM) and CPU time (utime + stime) of the server backend that
ran the queries are read from /proc/<pid> before disconnecting (needs the
same machine).
"""
import time

T0 = time.perf_counter()
import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import psycopg  # noqa: E402

T_IMPORT = time.perf_counter() - T0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--graph", required=True)
    p.add_argument("--dsn", required=True)
    p.add_argument("--metric", choices=["distance", "time"], default="distance")
    p.add_argument("--variant", choices=["m2m", "vsource"], default="m2m")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    phases = {"import": T_IMPORT}
    g = a.graph
    meta = json.load(open(os.path.join(g, "meta.json")))
    with open(os.path.join(g, "settlements.csv")) as f:
        sett = list(csv.DictReader(f))
    with open(os.path.join(g, "facilities.csv")) as f:
        fac = list(csv.DictReader(f))
    weight = "length_m" if a.metric == "distance" else "time_s"

    with psycopg.connect(a.dsn, autocommit=True) as conn:
        cur = conn.cursor()
        pid = cur.execute("select pg_backend_pid()").fetchone()[0]
        versions = cur.execute(
            "select version(), (select extversion from pg_extension where extname='pgrouting')"
        ).fetchone()
        t = time.perf_counter()
        cur.execute("""create temp table arcs (
            id bigint generated always as identity, source bigint, target bigint,
            length_m float8, time_s float8)""")
        # CSV columns tail,head,... -> target,source: the arcs reversed.
        with cur.copy("copy arcs (target, source, length_m, time_s) from stdin (format csv, header)") as cp:
            with open(os.path.join(g, "arcs.csv"), "rb") as f:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
        phases["load"] = time.perf_counter() - t

        t = time.perf_counter()
        ends = [int(s["node"]) for s in sett if s["snapped"] == "true"]
        cats = sorted({f["category"] for f in fac})
        cur.execute("create temp table fac (node bigint primary key, idx int, category text)")
        cur.executemany("insert into fac values (%s, %s, %s)",
                        [(int(f["node"]), int(f["index"]), f["category"]) for f in fac])
        if a.variant == "m2m":
            starts = [int(f["node"]) for f in fac if f["snapped"] == "true"]
            rows = cur.execute(f"""
                select distinct on (fac.category, r.end_vid)
                       r.end_vid, fac.category, r.agg_cost, fac.idx
                from pgr_dijkstraCost(
                       'select id, source, target, {weight} as cost from arcs',
                       %s::bigint[], %s::bigint[], directed => true) r
                join fac on fac.node = r.start_vid
                order by fac.category, r.end_vid, r.agg_cost, fac.idx""",
                               (starts, ends)).fetchall()
        else:
            base = meta["nodes_total"]
            vnode = {c: base + k for k, c in enumerate(cats)}
            cur.execute("create temp table vsrc (id bigint, source bigint, target bigint)")
            cur.executemany("insert into vsrc values (%s, %s, %s)",
                            [(-(k + 1), vnode[f["category"]], int(f["node"]))
                             for k, f in enumerate(fac) if f["snapped"] == "true"])
            edges = f"""select id, source, target, {weight} as cost from arcs
                        union all select id, source, target, 0.0 from vsrc"""
            cat_of = {v: c for c, v in vnode.items()}
            rows = [(end, cat_of[start], cost, None) for start, end, cost in cur.execute(
                "select start_vid, end_vid, agg_cost from pgr_dijkstraCost(%s, %s::bigint[], "
                "%s::bigint[], directed => true)", (edges, list(vnode.values()), ends))]
        phases["query"] = time.perf_counter() - t
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        backend_hwm_mb = int(status["VmHWM"].split()[0]) / 1024
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        backend_cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    t = time.perf_counter()
    node_index = {int(s["node"]): int(s["index"]) for s in sett}
    got = {(node_index[r[0]], r[1]): r for r in rows}
    with open(a.out, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["index", "category", "value", "facility_index"])
        for cat in cats:
            for i in range(len(sett)):
                r = got.get((i, cat))
                if r is None:
                    wr.writerow([i, cat, "", ""])
                else:
                    wr.writerow([i, cat, repr(float(r[2])), "" if r[3] is None else r[3]])
    phases["write"] = time.perf_counter() - t
    phases["total_in_process"] = time.perf_counter() - T0
    print(json.dumps({"tool": f"pgrouting_{a.variant}", "postgres": versions[0].split(",")[0],
                      "pgrouting": versions[1], "backend_peak_rss_mb": round(backend_hwm_mb, 1),
                      "backend_cpu_s": round(backend_cpu_s, 2),
                      "phases_s": {k: round(v, 4) for k, v in phases.items()}}))


if __name__ == "__main__":
    main()
