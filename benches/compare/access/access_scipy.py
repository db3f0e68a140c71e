"""Nearest facility per category with scipy.sparse.csgraph.dijkstra (multi-source).

  access_scipy.py --graph DIR --metric distance|time --out results.csv

DIR is written by `examples/export_graph.rs` (borderzone's graph augmented with
one virtual node per settlement and facility, see there). Timed here, and
printed as phases: read the arc arrays (.npy), build the reversed graph as a
CSR matrix (duplicate arcs reduced to the cheapest first: a csr_matrix would
add them up), then per category one `dijkstra(indices=<facility nodes>,
min_only=True)` on the reversed graph, which gives every node its cost *to*
the nearest facility; look up the settlements' nodes; write the results.
"""
import time

T0 = time.perf_counter()
import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.sparse import csr_matrix  # noqa: E402
from scipy.sparse.csgraph import dijkstra  # noqa: E402

T_IMPORT = time.perf_counter() - T0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--graph", required=True)
    p.add_argument("--metric", choices=["distance", "time"], default="distance")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    phases = {"import": T_IMPORT}

    t = time.perf_counter()
    g = a.graph
    meta = json.load(open(os.path.join(g, "meta.json")))
    n = meta["nodes_total"]
    tail = np.load(os.path.join(g, "arcs_tail.npy"))
    head = np.load(os.path.join(g, "arcs_head.npy"))
    w = np.load(os.path.join(g, "arcs_length_m.npy" if a.metric == "distance" else "arcs_time_s.npy"))
    with open(os.path.join(g, "settlements.csv")) as f:
        sett = list(csv.DictReader(f))
    with open(os.path.join(g, "facilities.csv")) as f:
        fac = list(csv.DictReader(f))
    phases["read"] = time.perf_counter() - t

    t = time.perf_counter()
    # Reversed graph: row = head, column = tail. Keep the cheapest of parallel arcs.
    row, col = head.astype(np.int32), tail.astype(np.int32)
    order = np.lexsort((w, col, row))
    row, col, w = row[order], col[order], w[order]
    keep = np.ones(len(row), dtype=bool)
    keep[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    row, col, w = row[keep], col[keep], w[keep]
    graph = csr_matrix((w, (row, col)), shape=(n, n))
    assert graph.nnz == len(w), "explicit zeros dropped"
    phases["build"] = time.perf_counter() - t

    t = time.perf_counter()
    s_nodes = np.array([int(s["node"]) for s in sett], dtype=np.int64)
    by_cat = {}
    for j, f in enumerate(fac):
        by_cat.setdefault(f["category"], []).append(int(f["node"]))
    node_to_fac = {int(f["node"]): int(f["index"]) for f in fac}
    results = {}
    for cat in sorted(by_cat):
        dist, _pred, sources = dijkstra(graph, directed=True, indices=by_cat[cat],
                                        min_only=True, return_predecessors=True)
        results[cat] = (dist[s_nodes], sources[s_nodes])
    phases["query"] = time.perf_counter() - t

    t = time.perf_counter()
    with open(a.out, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["index", "category", "value", "facility_index"])
        for cat, (d, src) in results.items():
            for i in range(len(s_nodes)):
                if np.isfinite(d[i]):
                    wr.writerow([i, cat, repr(float(d[i])), node_to_fac[int(src[i])]])
                else:
                    wr.writerow([i, cat, "", ""])
    phases["write"] = time.perf_counter() - t
    phases["total_in_process"] = time.perf_counter() - T0
    print(json.dumps({"tool": "scipy", "scipy": scipy.__version__, "numpy": np.__version__,
                      "nodes": n, "arcs_in": int(len(tail)), "arcs_kept": int(graph.nnz),
                      "phases_s": {k: round(v, 4) for k, v in phases.items()}}))


if __name__ == "__main__":
    main()
