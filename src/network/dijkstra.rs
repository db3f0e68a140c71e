//! Multi-source Dijkstra over a [`Csr`] with per-thread scratch buffers.
//!
//! [`DijkstraScratch`] is allocated once per thread (rayon `map_init`) and
//! reset between runs by bumping a generation counter, not by clearing its
//! arrays (as in fast_paths): a run touches only the nodes it reaches.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::graph::{Arc, Csr, NONE};

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

#[derive(Debug, Clone, Copy, PartialEq)]
struct HeapItem {
    cost: f64,
    node: u32,
}

impl Eq for HeapItem {}

impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> Ordering {
        // Min-heap on cost, ties by node for determinism.
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reusable buffers of one search; one per thread.
#[derive(Debug, Clone)]
pub struct DijkstraScratch {
    stamp: Vec<u32>,
    generation: u32,
    cost: Vec<f64>,
    other: Vec<f64>,
    origin: Vec<u32>,
    pred_node: Vec<u32>,
    pred_arc: Vec<Arc>,
    heap: BinaryHeap<HeapItem>,
}

/// Where a node's best path goes next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The next node on the path (towards the seed).
    pub node: u32,
    /// The arc taken from the current node to `node` in the searched graph
    /// (in the reversed graph its `edge` is driven from the current node to
    /// `node`).
    pub arc: Arc,
}

impl DijkstraScratch {
    /// Buffers for a graph of `node_count` nodes.
    pub fn new(node_count: usize) -> Self {
        let dummy = Arc {
            node: NONE,
            edge: NONE,
            forward: true,
            length_m: 0.0,
            time_s: 0.0,
        };
        DijkstraScratch {
            stamp: vec![0; node_count],
            generation: 0,
            cost: vec![f64::INFINITY; node_count],
            other: vec![f64::INFINITY; node_count],
            origin: vec![NONE; node_count],
            pred_node: vec![NONE; node_count],
            pred_arc: vec![dummy; node_count],
            heap: BinaryHeap::new(),
        }
    }

    fn next_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        self.heap.clear();
    }

    #[inline]
    fn touch(&mut self, v: usize) {
        if self.stamp[v] != self.generation {
            self.stamp[v] = self.generation;
            self.cost[v] = f64::INFINITY;
            self.other[v] = f64::INFINITY;
            self.origin[v] = NONE;
            self.pred_node[v] = NONE;
        }
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
            self.stamp.len() >= csr.node_count(),
            "scratch too small for graph"
        );
        self.next_generation();
        for s in seeds {
            let v = s.node as usize;
            self.touch(v);
            if s.cost < self.cost[v] {
                self.cost[v] = s.cost;
                self.other[v] = s.other;
                self.origin[v] = s.origin;
                self.pred_node[v] = NONE;
                self.heap.push(HeapItem {
                    cost: s.cost,
                    node: s.node,
                });
            }
        }
        while let Some(HeapItem { cost, node }) = self.heap.pop() {
            let u = node as usize;
            if cost > self.cost[u] {
                continue; // stale entry
            }
            let (other_u, origin_u) = (self.other[u], self.origin[u]);
            for arc in csr.arcs(node) {
                let (w, w_other) = metric.weights(arc);
                let next = cost + w;
                let v = arc.node as usize;
                self.touch(v);
                if next < self.cost[v] {
                    self.cost[v] = next;
                    self.other[v] = other_u + w_other;
                    self.origin[v] = origin_u;
                    self.pred_node[v] = node;
                    self.pred_arc[v] = *arc;
                    self.heap.push(HeapItem {
                        cost: next,
                        node: arc.node,
                    });
                }
            }
        }
    }

    /// The least cost of `v` in the last run, `None` if unreached.
    #[inline]
    pub fn cost(&self, v: u32) -> Option<f64> {
        let v = v as usize;
        (self.stamp[v] == self.generation && self.cost[v].is_finite()).then_some(self.cost[v])
    }

    /// The other metric along the best path to `v` (`None` if unreached).
    pub fn other(&self, v: u32) -> Option<f64> {
        self.cost(v).map(|_| self.other[v as usize])
    }

    /// The origin tag of the seed whose tree reached `v`.
    pub fn origin(&self, v: u32) -> Option<u32> {
        self.cost(v).map(|_| self.origin[v as usize])
    }

    /// The next step from `v` towards its seed; `None` at a seed or if
    /// unreached.
    pub fn step(&self, v: u32) -> Option<Step> {
        self.cost(v)?;
        let p = self.pred_node[v as usize];
        (p != NONE).then(|| Step {
            node: p,
            arc: self.pred_arc[v as usize],
        })
    }
}
