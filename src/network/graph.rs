//! The road graph: built once from ways ([`GraphBuilder`]), then frozen into
//! an immutable [`RoadGraph`] with compact CSR adjacency, shared across
//! threads.
//!
//! Graph nodes are the junctions of the input: the ends of every way and every
//! vertex used more than once (by two ways, or twice by one way). Edges run
//! between junctions and keep their full vertex geometry, so lengths are
//! exact sums of geodesic segment lengths (see [`geodesy::short_line_m`]) and
//! snapping lands on the real road.

use std::sync::OnceLock;

use geo::Coord;
use rayon::prelude::*;

use super::segment_index::{outward_box, Box3, SegmentIndex};
use super::speeds::{RoadClass, SpeedTable};
use crate::geodesy::{self, LonLat};

/// "No node / no edge" in the u32 index arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// A segment's box for snapping, with (edge, global index of its first vertex).
type BoxedSegment = (Box3, (u32, u32));

/// Edges per parallel task when measuring lengths and boxing segments.
const EDGE_RUN: usize = 4096;

/// Ways per parallel task when ways are split into edges.
const WAY_RUN: usize = 256;

/// Which way a road may be driven, relative to its vertex order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oneway {
    /// Both directions.
    #[default]
    No,
    /// Only in vertex order (`oneway=yes`).
    Forward,
    /// Only against vertex order (`oneway=-1`).
    Backward,
}

/// Attributes of one input way (an OSM way or a GeoJSON line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WayInfo {
    /// Road class.
    pub class: Option<RoadClass>,
    /// The way's own speed limit (km/h), when it has a usable one.
    pub maxspeed_kmh: Option<f64>,
    /// Allowed direction.
    pub oneway: Oneway,
    /// Street name, when known.
    pub name: Option<String>,
    /// OSM way id, or the GeoJSON feature's index.
    pub source_id: i64,
}

impl WayInfo {
    /// The class, `Unknown` when there is none.
    pub fn road_class(&self) -> RoadClass {
        self.class.unwrap_or(RoadClass::Unknown)
    }
}

/// One directed or two-way edge of the frozen graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// Node at the first geometry vertex.
    pub from: u32,
    /// Node at the last geometry vertex.
    pub to: u32,
    /// Index of the way the edge comes from (see [`RoadGraph::way`]).
    pub way: u32,
    /// Length: the sum of geodesic lengths of its segments (m).
    pub length_m: f64,
    /// Travel time at its way's speed (s).
    pub time_s: f64,
    /// May be driven from `from` to `to`.
    pub forward: bool,
    /// May be driven from `to` to `from`.
    pub backward: bool,
    geom_start: u32,
    geom_end: u32,
}

/// A directed arc of a CSR adjacency list (24 bytes: the direction is the
/// top bit of the edge index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arc {
    /// The node at the other end of the arc (the head in the forward graph,
    /// the tail in the reversed graph).
    pub node: u32,
    /// The edge, with [`FORWARD_BIT`] when the arc runs in its vertex order.
    edge_dir: u32,
    /// Arc length (m).
    pub length_m: f64,
    /// Arc travel time (s).
    pub time_s: f64,
}

/// Set in [`Arc`]'s packed edge when the arc runs in the edge's vertex order.
pub(crate) const FORWARD_BIT: u32 = 1 << 31;

impl Arc {
    /// The arc to `node` along `edge` (below 2³¹), in the edge's vertex
    /// order when `forward`.
    pub fn new(node: u32, edge: u32, forward: bool, length_m: f64, time_s: f64) -> Arc {
        assert!(edge < FORWARD_BIT, "edge index {edge} too large");
        Arc {
            node,
            edge_dir: edge | if forward { FORWARD_BIT } else { 0 },
            length_m,
            time_s,
        }
    }

    /// The edge the arc runs along.
    pub fn edge(&self) -> u32 {
        self.edge_dir & !FORWARD_BIT
    }

    /// True when the arc runs in the edge's vertex order.
    pub fn forward(&self) -> bool {
        self.edge_dir & FORWARD_BIT != 0
    }

    /// The edge and direction packed as one `u32` (for search predecessors).
    pub(crate) fn edge_dir(&self) -> u32 {
        self.edge_dir
    }
}

/// Compressed sparse row adjacency: the arcs of node `v` are
/// `arcs[first[v]..first[v + 1]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    first: Vec<u32>,
    arcs: Vec<Arc>,
}

impl Csr {
    /// Build from `(row, arc)` pairs for `node_count` rows (counting sort,
    /// stable: arcs keep their input order within a row).
    ///
    /// # Panics
    /// If a row index is `>= node_count`, or there are more than `u32::MAX`
    /// arcs.
    pub fn from_arcs(node_count: usize, arcs: &[(u32, Arc)]) -> Csr {
        Csr::counting_sort(node_count, |put| {
            for (row, arc) in arcs {
                put(*row, *arc);
            }
        })
    }

    /// The forward (`reverse = false`) or reversed adjacency of `edges`,
    /// directly: the same arcs in the same order as [`Csr::from_arcs`] given,
    /// edge by edge, the arc along the edge then the arc against it (each
    /// when allowed), without the intermediate list.
    fn from_edges(node_count: usize, edges: &[Edge], reverse: bool) -> Csr {
        // (row, arc) of the two directions of edge `i`, when allowed.
        let arcs_of = |i: usize, e: &Edge| {
            let arc = |node, forward| Arc::new(node, i as u32, forward, e.length_m, e.time_s);
            let (along, against) = if reverse {
                ((e.to, arc(e.from, true)), (e.from, arc(e.to, false)))
            } else {
                ((e.from, arc(e.to, true)), (e.to, arc(e.from, false)))
            };
            [e.forward.then_some(along), e.backward.then_some(against)]
        };
        Csr::counting_sort(node_count, |put| {
            for (i, e) in edges.iter().enumerate() {
                for (row, arc) in arcs_of(i, e).into_iter().flatten() {
                    put(row, arc);
                }
            }
        })
    }

    /// Counting sort of the `(row, arc)` pairs that `each` hands to its
    /// argument (called twice: to count the rows, then to place the arcs;
    /// stable within a row).
    fn counting_sort(node_count: usize, each: impl Fn(&mut dyn FnMut(u32, Arc))) -> Csr {
        let mut first = vec![0u32; node_count + 1];
        each(&mut |row, _| first[row as usize + 1] += 1);
        for i in 0..node_count {
            first[i + 1] += first[i];
        }
        let total = first[node_count] as usize;
        // Each arc written once, straight into place (no initialisation of
        // memory that is written again).
        let mut out: Vec<Arc> = Vec::with_capacity(total);
        let mut fill = first[..node_count].to_vec();
        let slots = &mut out.spare_capacity_mut()[..total];
        each(&mut |row, arc| {
            let slot = &mut fill[row as usize];
            slots[*slot as usize].write(arc);
            *slot += 1;
        });
        // Row `r` wrote slots first[r], first[r] + 1, … up to fill[r]: all
        // of its range, and none of the next row's, exactly when fill[r]
        // ends at first[r + 1].
        assert!(
            fill[..] == first[1..],
            "arcs counted and placed differently"
        );
        // SAFETY: by the assertion, every slot of `0..total` was written.
        unsafe { out.set_len(total) };
        Csr { first, arcs: out }
    }

    /// Number of rows (nodes).
    pub fn node_count(&self) -> usize {
        self.first.len().saturating_sub(1)
    }

    /// The arcs of node `v`.
    #[inline]
    pub fn arcs(&self, v: u32) -> &[Arc] {
        let v = v as usize;
        &self.arcs[self.first[v] as usize..self.first[v + 1] as usize]
    }

    /// Total number of arcs.
    pub fn arc_count(&self) -> usize {
        self.arcs.len()
    }
}

/// Accumulates vertices and ways; [`GraphBuilder::freeze`] turns them into a
/// [`RoadGraph`].
#[derive(Debug, Default)]
pub struct GraphBuilder {
    coords: Vec<LonLat>,
    way_vertices: Vec<u32>,
    way_start: Vec<usize>,
    ways: Vec<WayInfo>,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        GraphBuilder {
            way_start: vec![0],
            ..Default::default()
        }
    }

    /// Add a vertex at `p` (lon/lat degrees) and return its index. Vertices
    /// are shared between ways by passing the same index to several ways.
    pub fn add_vertex(&mut self, p: LonLat) -> u32 {
        self.coords.push(p);
        (self.coords.len() - 1) as u32
    }

    /// Move vertex `v` to `p`.
    pub fn set_vertex(&mut self, v: u32, p: LonLat) {
        self.coords[v as usize] = p;
    }

    /// Position of vertex `v`.
    pub fn vertex(&self, v: u32) -> LonLat {
        self.coords[v as usize]
    }

    /// Number of vertices added.
    pub fn vertex_count(&self) -> usize {
        self.coords.len()
    }

    /// Number of ways added.
    pub fn way_count(&self) -> usize {
        self.ways.len()
    }

    /// Add a way through `vertices` (indices from [`GraphBuilder::add_vertex`]).
    /// Immediately repeated vertices are dropped; a way left with fewer than
    /// two vertices is ignored and `false` returned.
    pub fn add_way(&mut self, info: WayInfo, vertices: impl IntoIterator<Item = u32>) -> bool {
        let start = self.way_vertices.len();
        for v in vertices {
            if self.way_vertices.len() > start && self.way_vertices.last() == Some(&v) {
                continue;
            }
            self.way_vertices.push(v);
        }
        if self.way_vertices.len() - start < 2 {
            self.way_vertices.truncate(start);
            return false;
        }
        self.way_start.push(self.way_vertices.len());
        self.ways.push(info);
        true
    }

    /// Freeze into an immutable graph, with travel times from `speeds`.
    ///
    /// # Runtime
    /// O(V log V + E) plus one geodesic inverse per segment (in parallel).
    ///
    /// # Panics
    /// With 2³¹ edges or more.
    pub fn freeze(self, speeds: &SpeedTable) -> RoadGraph {
        let GraphBuilder {
            coords,
            way_vertices,
            way_start,
            ways,
        } = self;
        // Junctions: way ends and vertices used more than once.
        let mut uses = vec![0u8; coords.len()];
        for w in 0..ways.len() {
            let vs = &way_vertices[way_start[w]..way_start[w + 1]];
            for (i, &v) in vs.iter().enumerate() {
                let add = if i == 0 || i + 1 == vs.len() { 2 } else { 1 };
                uses[v as usize] = uses[v as usize].saturating_add(add);
            }
        }
        // Number nodes along a Z-order curve of their position, so that nodes
        // near each other on the map are near each other in memory: a search
        // on a large graph is bound by memory latency.
        let mut junctions: Vec<u32> = Vec::new();
        for &v in &way_vertices {
            if uses[v as usize] >= 2 {
                uses[v as usize] = 0; // taken
                junctions.push(v);
            }
        }
        drop(uses);
        // Sorted by key, ties in order of first use (as a stable sort would).
        let mut keyed: Vec<(u64, u32)> = junctions
            .par_iter()
            .enumerate()
            .map(|(i, &v)| (morton_key(coords[v as usize]), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut node_of = vec![NONE; coords.len()];
        let node_pos: Vec<LonLat> = keyed
            .iter()
            .enumerate()
            .map(|(node, &(_, i))| {
                let v = junctions[i as usize] as usize;
                node_of[v] = node as u32;
                coords[v]
            })
            .collect();
        drop((keyed, junctions));
        // Split ways at junctions. Every way ends at a junction, so its
        // edges share one vertex each with the next: each way's numbers of
        // edges and of geometry vertices are known before they are made, and
        // runs of ways fill their own stretches of both, in parallel.
        let way_vs = |w: usize| &way_vertices[way_start[w]..way_start[w + 1]];
        let way_edges: Vec<u32> = (0..ways.len())
            .into_par_iter()
            .map(|w| {
                let vs = way_vs(w);
                1 + vs[1..vs.len() - 1]
                    .iter()
                    .filter(|&&v| node_of[v as usize] != NONE)
                    .count() as u32
            })
            .collect();
        let edge_count = way_edges.iter().map(|&n| n as usize).sum::<usize>();
        let geom_count = way_vertices.len() + edge_count - ways.len();
        // Filled in place by the runs below (no serial initialisation of
        // memory that is written again).
        let mut edges: Vec<Edge> = Vec::with_capacity(edge_count);
        let mut geom: Vec<LonLat> = Vec::with_capacity(geom_count);
        {
            // (first way, its first geometry vertex, its edges and geometry)
            let mut runs = Vec::with_capacity(ways.len() / WAY_RUN + 1);
            let (mut edges_rest, mut geom_rest) = (
                &mut edges.spare_capacity_mut()[..edge_count],
                &mut geom.spare_capacity_mut()[..geom_count],
            );
            let mut g0 = 0usize;
            for w0 in (0..ways.len()).step_by(WAY_RUN) {
                let w1 = (w0 + WAY_RUN).min(ways.len());
                let ne: usize = way_edges[w0..w1].iter().map(|&n| n as usize).sum();
                let ng = way_start[w1] - way_start[w0] + ne - (w1 - w0);
                let (e, tail) = edges_rest.split_at_mut(ne);
                edges_rest = tail;
                let (g, tail) = geom_rest.split_at_mut(ng);
                geom_rest = tail;
                runs.push((w0..w1, g0, e, g));
                g0 += ng;
            }
            assert!(
                edges_rest.is_empty() && geom_rest.is_empty(),
                "runs tile the edges and the geometry"
            );
            let (ways, node_of, coords) = (&ways, &node_of, &coords);
            runs.into_par_iter().for_each(|(run, g0, edges, geom)| {
                let (mut ei, mut gi) = (0usize, 0usize);
                for w in run {
                    let (vs, info) = (way_vs(w), &ways[w]);
                    let mut start = 0;
                    for i in 1..vs.len() {
                        if node_of[vs[i] as usize] == NONE {
                            continue;
                        }
                        let first = gi;
                        for &v in &vs[start..=i] {
                            geom[gi].write(coords[v as usize]);
                            gi += 1;
                        }
                        edges[ei].write(Edge {
                            from: node_of[vs[start] as usize],
                            to: node_of[vs[i] as usize],
                            way: w as u32,
                            length_m: 0.0,
                            time_s: 0.0,
                            forward: info.oneway != Oneway::Backward,
                            backward: info.oneway != Oneway::Forward,
                            geom_start: (g0 + first) as u32,
                            geom_end: (g0 + gi) as u32,
                        });
                        ei += 1;
                        start = i;
                    }
                }
                // Every slot of the run's stretches written, none twice.
                assert_eq!((ei, gi), (edges.len(), geom.len()), "edge split miscounted");
            });
        }
        // SAFETY: the runs tile `0..edge_count` and `0..geom_count`, and each
        // run asserted above that it initialised every slot of its stretches.
        unsafe {
            edges.set_len(edge_count);
            geom.set_len(geom_count);
        }
        drop(way_edges);
        drop((coords, way_vertices, way_start, node_of));
        assert!(edges.len() < (1 << 31), "too many edges for u32 indices");
        // Exact lengths (cumulative geodesic length at every geometry vertex)
        // and the padded segment boxes for snapping, in one parallel pass
        // over runs of edges.
        let mut geom_cum_m = vec![0.0; geom.len()];
        // A run of edges owns its stretch of `geom_cum_m` and of `boxes` (one
        // box a segment: the run's vertices less one an edge).
        let mut boxes: Vec<BoxedSegment> =
            vec![(Box3::default(), (0, 0)); geom.len() - edges.len()];
        {
            let mut runs: Vec<(&mut [f64], &mut [BoxedSegment])> =
                Vec::with_capacity(edges.len() / EDGE_RUN + 1);
            let (mut cum_rest, mut box_rest) = (geom_cum_m.as_mut_slice(), boxes.as_mut_slice());
            for chunk in edges.chunks(EDGE_RUN) {
                let n = (chunk[chunk.len() - 1].geom_end - chunk[0].geom_start) as usize;
                let (cum, tail) = cum_rest.split_at_mut(n);
                cum_rest = tail;
                let (bx, tail) = box_rest.split_at_mut(n - chunk.len());
                box_rest = tail;
                runs.push((cum, bx));
            }
            let geom = &geom;
            let ways = &ways;
            edges
                .par_chunks_mut(EDGE_RUN)
                .zip(runs)
                .enumerate()
                .for_each(|(c, (chunk, (cum, boxes)))| {
                    let base = chunk[0].geom_start as usize;
                    let mut boxes = boxes.iter_mut();
                    // The last vertex of the edge before: where the next
                    // edge of the same way starts.
                    let mut last: Option<(LonLat, geodesy::SurfacePoint)> = None;
                    for (j, e) in chunk.iter_mut().enumerate() {
                        let (g0, g1) = (e.geom_start as usize, e.geom_end as usize);
                        let cum = &mut cum[g0 - base..g1 - base];
                        let mut prev = match last {
                            Some((p, surface)) if p == geom[g0] => surface,
                            _ => geodesy::SurfacePoint::new(geom[g0]),
                        };
                        cum[0] = 0.0;
                        for k in g0 + 1..g1 {
                            let next = geodesy::SurfacePoint::new(geom[k]);
                            let step_m = geodesy::short_line_m(&prev, &next)
                                .unwrap_or_else(|| geodesy::distance_m(geom[k - 1], geom[k]));
                            cum[k - g0] = cum[k - 1 - g0] + step_m;
                            let (lo, hi) = geodesy::padded_chord_box(prev.xyz, next.xyz, step_m);
                            let edge = (c * EDGE_RUN + j) as u32;
                            *boxes.next().expect("one box a segment") =
                                (outward_box(lo, hi), (edge, k as u32 - 1));
                            prev = next;
                        }
                        last = Some((geom[g1 - 1], prev));
                        e.length_m = cum[g1 - g0 - 1];
                        let info = &ways[e.way as usize];
                        let speed_ms = speeds.speed_kmh(info.road_class(), info.maxspeed_kmh) / 3.6;
                        e.time_s = e.length_m / speed_ms;
                    }
                });
        }
        let n = node_pos.len();
        // The segment index (for snapping), the reverse adjacency (for the
        // searches from the facilities) and the components are independent:
        // build them side by side. The forward adjacency is built on first
        // use.
        let (segment_index, (reverse, (component, component_count))) = rayon::join(
            || {
                // Segments packed by their edge's first node: nodes are
                // numbered in Z-order, so this is a spatially coherent order
                // from a counting sort (no comparison sort of the boxes).
                let order = segments_by_node(n, &edges);
                SegmentIndex::build(boxes, &order)
            },
            || {
                rayon::join(
                    || Csr::from_edges(n, &edges, true),
                    || components(n, &edges),
                )
            },
        );
        RoadGraph {
            node_pos,
            edges,
            geom,
            geom_cum_m,
            ways,
            forward: OnceLock::new(),
            reverse,
            component,
            component_count,
            segment_index,
        }
    }
}

/// The segment indices (edges' segments numbered in edge order) sorted by
/// the first node of their edge, stable (counting sort over `n` nodes).
fn segments_by_node(n: usize, edges: &[Edge]) -> Vec<u32> {
    let segments = |e: &Edge| e.geom_end - e.geom_start - 1;
    let mut start = vec![0u32; n + 1];
    for e in edges {
        start[e.from as usize + 1] += segments(e);
    }
    for v in 0..n {
        start[v + 1] += start[v];
    }
    let mut order = vec![0u32; start[n] as usize];
    let mut first = 0u32;
    for e in edges {
        let k = segments(e);
        let at = &mut start[e.from as usize];
        for (slot, s) in order[*at as usize..(*at + k) as usize]
            .iter_mut()
            .zip(first..)
        {
            *slot = s;
        }
        *at += k;
        first += k;
    }
    order
}

/// Weakly connected components (union-find): each node's component, and the
/// number of components, numbered in order of their lowest node.
fn components(n: usize, edges: &[Edge]) -> (Vec<u32>, usize) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for e in edges {
        let (a, b) = (find(&mut parent, e.from), find(&mut parent, e.to));
        if a != b {
            parent[a.max(b) as usize] = a.min(b);
        }
    }
    let mut component = vec![NONE; n];
    let mut component_count = 0u32;
    for v in 0..n as u32 {
        let r = find(&mut parent, v);
        if component[r as usize] == NONE {
            component[r as usize] = component_count;
            component_count += 1;
        }
        component[v as usize] = component[r as usize];
    }
    (component, component_count as usize)
}

/// The frozen road graph. Immutable; share it across threads by reference.
#[derive(Debug)]
pub struct RoadGraph {
    node_pos: Vec<LonLat>,
    edges: Vec<Edge>,
    geom: Vec<LonLat>,
    geom_cum_m: Vec<f64>,
    ways: Vec<WayInfo>,
    forward: OnceLock<Csr>,
    reverse: Csr,
    component: Vec<u32>,
    component_count: usize,
    pub(crate) segment_index: SegmentIndex,
}

impl RoadGraph {
    /// Number of nodes (junctions).
    pub fn node_count(&self) -> usize {
        self.node_pos.len()
    }

    /// Number of edges (each two-way edge counts once).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// All edges.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Edge `e`.
    pub fn edge(&self, e: u32) -> &Edge {
        &self.edges[e as usize]
    }

    /// The vertices of edge `e`, from `from` to `to` (lon/lat).
    pub fn edge_geometry(&self, e: u32) -> &[LonLat] {
        let e = &self.edges[e as usize];
        &self.geom[e.geom_start as usize..e.geom_end as usize]
    }

    /// Cumulative length (m) from the edge's start at each of its vertices.
    pub fn edge_cumulative_m(&self, e: u32) -> &[f64] {
        let e = &self.edges[e as usize];
        &self.geom_cum_m[e.geom_start as usize..e.geom_end as usize]
    }

    /// Position of node `v`.
    pub fn node_position(&self, v: u32) -> LonLat {
        self.node_pos[v as usize]
    }

    /// The input way of edge `e`.
    pub fn way(&self, e: u32) -> &WayInfo {
        &self.ways[self.edges[e as usize].way as usize]
    }

    /// All input ways that made it into the graph.
    pub fn ways(&self) -> &[WayInfo] {
        &self.ways
    }

    /// Outgoing arcs (forward graph), built on first use: the searches of
    /// the access job run on the reverse graph only.
    pub fn forward(&self) -> &Csr {
        self.forward
            .get_or_init(|| Csr::from_edges(self.node_pos.len(), &self.edges, false))
    }

    /// Incoming arcs (reversed graph): `arcs(v)` lists the arcs `u → v` with
    /// `node = u`.
    pub fn reverse(&self) -> &Csr {
        &self.reverse
    }

    /// Weakly connected component of node `v` (ignoring one-way rules).
    pub fn component(&self, v: u32) -> u32 {
        self.component[v as usize]
    }

    /// Number of weakly connected components.
    pub fn component_count(&self) -> usize {
        self.component_count
    }

    /// Sum of all edge lengths (m).
    pub fn total_length_m(&self) -> f64 {
        self.edges.iter().map(|e| e.length_m).sum()
    }

    /// Global geometry index → (vertex, cumulative m), for snapping.
    pub(crate) fn geom_vertex(&self, k: u32) -> (LonLat, f64) {
        (self.geom[k as usize], self.geom_cum_m[k as usize])
    }

    /// Part of edge `e` between `from_m` and `to_m` along it (either order),
    /// as vertices in travel order, starting at `start` and ending at `end`
    /// (the exact points at those positions).
    pub fn edge_part(
        &self,
        e: u32,
        from_m: f64,
        start: LonLat,
        to_m: f64,
        end: LonLat,
    ) -> Vec<LonLat> {
        let g = self.edge_geometry(e);
        let cum = self.edge_cumulative_m(e);
        let mut out = vec![start];
        if from_m <= to_m {
            out.extend(
                g.iter()
                    .zip(cum)
                    .filter(|(_, &c)| c > from_m && c < to_m)
                    .map(|(p, _)| *p),
            );
        } else {
            out.extend(
                g.iter()
                    .zip(cum)
                    .rev()
                    .filter(|(_, &c)| c < from_m && c > to_m)
                    .map(|(p, _)| *p),
            );
        }
        out.push(end);
        out
    }

    /// A graph with no nodes or edges.
    pub fn empty() -> RoadGraph {
        GraphBuilder::new().freeze(&SpeedTable::default())
    }
}

/// Z-order (Morton) key of a lon/lat position: its quantised coordinates'
/// bits interleaved.
pub(crate) fn morton_key(p: LonLat) -> u64 {
    fn spread(mut x: u64) -> u64 {
        x &= 0xFFFF_FFFF;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        x = (x | (x << 1)) & 0x5555_5555_5555_5555;
        x
    }
    let q =
        |v: f64, lo: f64, span: f64| (((v - lo) / span).clamp(0.0, 1.0) * u32::MAX as f64) as u64;
    spread(q(p.x, -180.0, 360.0)) | (spread(q(p.y, -90.0, 180.0)) << 1)
}

/// Convenience: a lon/lat coordinate.
pub fn lonlat(lon: f64, lat: f64) -> LonLat {
    Coord { x: lon, y: lat }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_by_node_is_a_stable_sort_by_first_node() {
        let mut s = 11u64;
        let n = 40;
        let mut g = 0u32;
        let edges: Vec<Edge> = (0..300)
            .map(|_| {
                let k = 1 + (crate::test_rand::next_u64(&mut s) % 4) as u32;
                let e = Edge {
                    from: (crate::test_rand::next_u64(&mut s) % n) as u32,
                    to: 0,
                    way: 0,
                    length_m: 0.0,
                    time_s: 0.0,
                    forward: true,
                    backward: true,
                    geom_start: g,
                    geom_end: g + k + 1,
                };
                g += k + 1;
                e
            })
            .collect();
        // Reference: every segment tagged with its edge's first node, stably
        // sorted by it.
        let mut want: Vec<(u32, u32)> = Vec::new();
        for e in &edges {
            for _ in 0..e.geom_end - e.geom_start - 1 {
                want.push((e.from, want.len() as u32));
            }
        }
        want.sort_by_key(|&(from, _)| from);
        let want: Vec<u32> = want.into_iter().map(|(_, i)| i).collect();
        assert_eq!(segments_by_node(n as usize, &edges), want);
    }
}
