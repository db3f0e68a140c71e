//! Multi-source Dijkstra over a [`Csr`] with per-thread scratch buffers.
//!
//! [`DijkstraScratch`] is allocated once per thread (rayon `map_init`) and
//! reset between runs by bumping a generation counter, not by clearing its
//! arrays (as in fast_paths): a run touches only the nodes it reaches.

use super::graph::{Arc, Csr, FORWARD_BIT, NONE};
use super::radix_heap::RadixHeap;

/// What a shortest path minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// Travel time (s).
    #[default]
    Time,
    /// Road distance (m).
    Distance,
}

impl Metric {
    /// (minimised, carried along) weights of an arc.
    #[inline]
    pub fn weights(self, arc: &Arc) -> (f64, f64) {
        match self {
            Metric::Time => (arc.time_s, arc.length_m),
            Metric::Distance => (arc.length_m, arc.time_s),
        }
    }
}

/// A starting node of a multi-source search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seed {
    /// Node.
    pub node: u32,
    /// Initial cost in the minimised metric.
    pub cost: f64,
    /// Initial value of the other metric.
    pub other: f64,
    /// Caller's tag (e.g. the facility index), propagated to every node the
    /// seed's tree reaches.
    pub origin: u32,
}

/// Per-node state of a search, packed together so that relaxing an arc
/// touches one cache line (the search is memory-bound on large graphs).
#[derive(Debug, Clone, Copy)]
struct NodeState {
    cost: f64,
    other: f64,
    stamp: u32,
    origin: u32,
    pred_node: u32,
    /// Edge of the predecessor arc, with [`FORWARD_BIT`] set when it runs in
    /// the edge's vertex order.
    pred_edge: u32,
}

/// Reusable buffers of one search; one per thread.
#[derive(Debug, Clone)]
pub struct DijkstraScratch {
    nodes: Vec<NodeState>,
    generation: u32,
    heap: RadixHeap,
}

/// Where a node's best path goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The next node on the path (towards the seed).
    pub node: u32,
    /// The edge of the arc taken (in the reversed graph this edge is driven
    /// from the current node to `node`).
    pub edge: u32,
    /// True when the arc runs in the edge's vertex order.
    pub forward: bool,
}

impl DijkstraScratch {
    /// Buffers for a graph of `node_count` nodes.
    /// Graphs may have at most 2³¹ − 1 edges (the predecessor edge is packed
    /// with a direction bit).
    pub fn new(node_count: usize) -> Self {
        let empty = NodeState {
            cost: f64::INFINITY,
            other: f64::INFINITY,
            stamp: 0,
            origin: NONE,
            pred_node: NONE,
            pred_edge: NONE,
        };
        DijkstraScratch {
            nodes: vec![empty; node_count],
            generation: 0,
            heap: RadixHeap::default(),
        }
    }

    fn next_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.nodes.iter_mut().for_each(|n| n.stamp = 0);
            self.generation = 1;
        }
        self.heap.clear();
    }

    /// The state of `v`, reset first if it belongs to an earlier run.
    #[inline]
    fn touch(&mut self, v: usize) -> &mut NodeState {
        let generation = self.generation;
        let n = &mut self.nodes[v];
        if n.stamp != generation {
            *n = NodeState {
                cost: f64::INFINITY,
                other: f64::INFINITY,
                stamp: generation,
                origin: NONE,
                pred_node: NONE,
                pred_edge: NONE,
            };
        }
        n
    }

    /// Run a multi-source search over `csr`: afterwards [`Self::cost`] of `v`
    /// is the least cost of a path from any seed to `v` along `csr`'s arcs,
    /// plus that seed's initial cost. On the reversed graph this is the cost
    /// from `v` to the nearest seed in the forward graph.
    ///
    /// # Panics
    /// If the scratch was made for fewer nodes than `csr` has.
    ///
    /// # Runtime
    /// O((V + E) log V) over the part of the graph reached.
    pub fn run(&mut self, csr: &Csr, metric: Metric, seeds: &[Seed]) {
        assert!(
            self.nodes.len() >= csr.node_count(),
            "scratch too small for graph"
        );
        self.next_generation();
        for s in seeds {
            let n = self.touch(s.node as usize);
            if s.cost < n.cost {
                n.cost = s.cost;
                n.other = s.other;
                n.origin = s.origin;
                n.pred_node = NONE;
                self.heap.push(s.cost, s.node);
            }
        }
        while let Some((cost, node)) = self.heap.pop() {
            let u = self.nodes[node as usize];
            if cost > u.cost {
                continue; // stale entry
            }
            for arc in csr.arcs(node) {
                let (w, w_other) = metric.weights(arc);
                let next = cost + w;
                let n = self.touch(arc.node as usize);
                if next < n.cost {
                    n.cost = next;
                    n.other = u.other + w_other;
                    n.origin = u.origin;
                    n.pred_node = node;
                    n.pred_edge = arc.edge_dir();
                    self.heap.push(next, arc.node);
                }
            }
        }
    }

    #[inline]
    fn reached(&self, v: u32) -> Option<&NodeState> {
        let n = &self.nodes[v as usize];
        (n.stamp == self.generation && n.cost.is_finite()).then_some(n)
    }

    /// The least cost of `v` in the last run, `None` if unreached.
    #[inline]
    pub fn cost(&self, v: u32) -> Option<f64> {
        self.reached(v).map(|n| n.cost)
    }

    /// The other metric along the best path to `v` (`None` if unreached).
    pub fn other(&self, v: u32) -> Option<f64> {
        self.reached(v).map(|n| n.other)
    }

    /// The origin tag of the seed whose tree reached `v`.
    pub fn origin(&self, v: u32) -> Option<u32> {
        self.reached(v).map(|n| n.origin)
    }

    /// The next step from `v` towards its seed; `None` at a seed or if
    /// unreached.
    pub fn step(&self, v: u32) -> Option<Step> {
        let n = self.reached(v)?;
        (n.pred_node != NONE).then_some(Step {
            node: n.pred_node,
            edge: n.pred_edge & !FORWARD_BIT,
            forward: n.pred_edge & FORWARD_BIT != 0,
        })
    }
}
