//! A frozen R-tree of geodesic segments: the *filter* half of every distance
//! query. Boxes live in earth-centred (ECEF) metres, padded so that the
//! straight-line distance from a point to a segment's box never exceeds the
//! geodesic distance to the segment; the *refine* half measures candidates
//! exactly with [`GeodesicSegment::nearest`] and stops as soon as the next
//! box is farther than the best exact distance found (branch and bound).
//! The answer is therefore exactly the brute-force minimum over all
//! segments, only found faster.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rstar::{PointDistance, RTree, RTreeNode, RTreeObject, AABB};

use crate::geodesy::{
    chord_sagitta_bound_m, ecef, inverse, padded_chord_box, GeodesicSegment, LonLat,
};

/// One segment with the polyline ("part") it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexedSegment {
    /// The exact geodesic segment.
    pub geodesic: GeodesicSegment,
    /// Index of the part (border line, polygon ring…) it came from.
    pub part: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct SegmentBox {
    envelope: AABB<[f64; 3]>,
    id: u32,
}

impl RTreeObject for SegmentBox {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for SegmentBox {
    /// Squared ECEF distance (m²) to the padded box: a lower bound of the
    /// squared geodesic distance to the segment.
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// The exact nearest point of an indexed set of segments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Geodesic distance (m).
    pub distance_m: f64,
    /// Index of the segment in [`SegmentIndex::segments`].
    pub segment: usize,
    /// The nearest point on that segment.
    pub foot: LonLat,
}

impl Nearest {
    /// Ties are broken by segment index, so results never depend on the order
    /// in which candidates were visited.
    pub fn better_than_opt(&self, other: &Option<Nearest>) -> bool {
        match other {
            None => true,
            Some(o) => (self.distance_m, self.segment) < (o.distance_m, o.segment),
        }
    }
}

/// Build-once, read-many index of geodesic segments.
#[derive(Debug)]
pub struct SegmentIndex {
    segments: Vec<IndexedSegment>,
    /// ECEF position (m) of each segment's start, for the angle bound.
    start_ecef: Vec<[f64; 3]>,
    tree: RTree<SegmentBox>,
    flat: FlatTree,
    zero_length: usize,
}

/// The bulk-loaded R-tree frozen into flat arrays: the nearest search then
/// needs no allocation (a per-thread heap of `(distance², slot)` pairs is
/// reused) and visits children in a fixed order.
#[derive(Debug, Default)]
struct FlatTree {
    /// Every child box: its corners and what it holds — a node index, or a
    /// segment index with [`SEGMENT_BIT`] set.
    slots: Vec<FlatSlot>,
    /// Each node's range of `slots`; node 0 is the root.
    nodes: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct FlatSlot {
    min: [f64; 3],
    max: [f64; 3],
    target: u32,
}

const SEGMENT_BIT: u32 = 1 << 31;

impl FlatSlot {
    /// Squared distance (m²) from `q` to the box (0 inside).
    #[inline]
    fn distance_2(&self, q: &[f64; 3]) -> f64 {
        let mut d2 = 0.0;
        for ((lo, hi), v) in self.min.iter().zip(&self.max).zip(q) {
            let d = (lo - v).max(v - hi).max(0.0);
            d2 += d * d;
        }
        d2
    }
}

impl FlatTree {
    fn freeze(tree: &RTree<SegmentBox>) -> FlatTree {
        let mut flat = FlatTree::default();
        let mut queue: std::collections::VecDeque<&[RTreeNode<SegmentBox>]> =
            std::collections::VecDeque::new();
        queue.push_back(tree.root().children());
        // Breadth first: a node's index is known when its parent's slot is
        // written (nodes are numbered in the order they are queued).
        let mut next_node = 1u32;
        while let Some(children) = queue.pop_front() {
            let start = flat.slots.len() as u32;
            for child in children {
                let env = child.envelope();
                let (min, max) = (env.lower(), env.upper());
                let target = match child {
                    RTreeNode::Leaf(b) => b.id | SEGMENT_BIT,
                    RTreeNode::Parent(p) => {
                        queue.push_back(p.children());
                        next_node += 1;
                        next_node - 1
                    }
                };
                flat.slots.push(FlatSlot { min, max, target });
            }
            flat.nodes.push((start, flat.slots.len() as u32));
        }
        debug_assert_eq!(flat.nodes.len() as u32, next_node);
        flat
    }
}

thread_local! {
    /// The search frontier, reused by every query on this thread.
    static FRONTIER: RefCell<BinaryHeap<Reverse<(u64, u32)>>> = const { RefCell::new(BinaryHeap::new()) };
}

/// WGS84 polar semi-axis b = a (1 − f) (m).
const WGS84_B_M: f64 = crate::geodesy::WGS84_A_M * (1.0 - crate::geodesy::WGS84_F);

/// The angle (radians) between two vectors from the earth's centre,
/// accurate also for small angles.
fn angle_between(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    let cross = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    let sin = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
    let cos = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    sin.atan2(cos)
}

/// Padded ECEF box of a geodesic segment.
fn segment_box(seg: &GeodesicSegment) -> AABB<[f64; 3]> {
    let (min, max) = padded_chord_box(ecef(seg.a), ecef(seg.b), seg.length_m);
    AABB::from_corners(min, max)
}

impl SegmentIndex {
    /// Index the segments of `parts` (each a polyline of lon/lat vertices).
    /// Zero-length segments (repeated vertices) are skipped.
    ///
    /// # Runtime
    /// O(n log n) for n segments (bulk load), geodesic lengths in parallel.
    pub fn build<'a>(parts: impl IntoIterator<Item = &'a [LonLat]>) -> Self {
        let mut zero_length = 0usize;
        let mut pairs: Vec<(LonLat, LonLat, u32)> = Vec::new();
        for (part, coords) in parts.into_iter().enumerate() {
            for w in coords.windows(2) {
                if w[0] == w[1] {
                    zero_length += 1;
                } else {
                    pairs.push((w[0], w[1], part as u32));
                }
            }
        }
        let segments: Vec<IndexedSegment> = pairs
            .par_iter()
            .map(|&(a, b, part)| IndexedSegment {
                geodesic: GeodesicSegment::new(a, b),
                part,
            })
            .collect();
        let boxes = segments
            .iter()
            .enumerate()
            .map(|(id, s)| SegmentBox {
                envelope: segment_box(&s.geodesic),
                id: id as u32,
            })
            .collect();
        let start_ecef = segments.iter().map(|s| ecef(s.geodesic.a)).collect();
        let tree = RTree::bulk_load(boxes);
        SegmentIndex {
            segments,
            start_ecef,
            flat: FlatTree::freeze(&tree),
            tree,
            zero_length,
        }
    }

    /// Zero-length segments (repeated vertices) left out by [`Self::build`].
    pub fn zero_length_skipped(&self) -> usize {
        self.zero_length
    }

    /// All indexed segments.
    pub fn segments(&self) -> &[IndexedSegment] {
        &self.segments
    }

    /// Whether there are no segments.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The exact nearest point to `p`, or `None` when the index is empty.
    pub fn nearest(&self, p: LonLat) -> Option<Nearest> {
        self.nearest_within(p, f64::INFINITY)
    }

    /// The exact nearest point to `p` if it is no farther than `bound_m`.
    ///
    /// Best-first branch and bound over the frozen tree: boxes come off the
    /// frontier nearest first, and the search stops when the next box is
    /// farther than the best exact distance so far (or than `bound_m`).
    pub fn nearest_within(&self, p: LonLat, bound_m: f64) -> Option<Nearest> {
        if self.segments.is_empty() {
            return None;
        }
        FRONTIER.with(|frontier| {
            let mut frontier = frontier.borrow_mut();
            frontier.clear();
            let best = self.search(p, bound_m, &mut frontier);
            frontier.clear();
            best
        })
    }

    fn search(
        &self,
        p: LonLat,
        mut bound_m: f64,
        frontier: &mut BinaryHeap<Reverse<(u64, u32)>>,
    ) -> Option<Nearest> {
        let q = ecef(p);
        let mut best: Option<Nearest> = None;
        let push_node =
            |node: u32, bound_m: f64, frontier: &mut BinaryHeap<Reverse<(u64, u32)>>| {
                let (start, end) = self.flat.nodes[node as usize];
                for slot in &self.flat.slots[start as usize..end as usize] {
                    let d2 = slot.distance_2(&q);
                    if d2.sqrt() <= bound_m {
                        // d2 ≥ 0, so its bit pattern orders like the value.
                        frontier.push(Reverse((d2.to_bits(), slot.target)));
                    }
                }
            };
        push_node(0, bound_m, frontier);
        while let Some(Reverse((d2_bits, target))) = frontier.pop() {
            if f64::from_bits(d2_bits).sqrt() > bound_m {
                break;
            }
            if target & SEGMENT_BIT == 0 {
                push_node(target, bound_m, frontier);
                continue;
            }
            let id = (target & !SEGMENT_BIT) as usize;
            let seg = &self.segments[id].geodesic;
            // Two cheaper lower bounds before the exact solve; both are
            // proven, so skipping on them never changes the answer.
            // 1. Radial projection onto the sphere of radius b (the polar
            //    semi-axis) never lengthens a path on the ellipsoid, so the
            //    geodesic from p to any point X of the segment is at least
            //    b·∠(p, X) ≥ b·(∠(p, a) − ∠(a, X)) ≥ b·∠(p, a) − length.
            let angle_lb =
                WGS84_B_M * angle_between(&q, &self.start_ecef[id]) - seg.length_m - 1e-3;
            if angle_lb > bound_m {
                continue;
            }
            // 2. The triangle inequality with the exact distance to the start.
            let from_a = inverse(seg.a, p);
            if from_a.distance_m - seg.length_m > bound_m {
                continue;
            }
            keep_if_better(id, seg.nearest_from(p, from_a), &mut bound_m, &mut best);
        }
        best
    }

    /// The same answer as [`Self::nearest_within`] through rstar's own
    /// nearest-neighbour iterator: the reference the frozen search is
    /// tested against.
    pub fn nearest_within_rstar(&self, p: LonLat, bound_m: f64) -> Option<Nearest> {
        let q = ecef(p);
        let mut best: Option<Nearest> = None;
        let mut bound_m = bound_m;
        for (boxed, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            if d2.sqrt() > bound_m {
                break;
            }
            let id = boxed.id as usize;
            let hit = self.segments[id].geodesic.nearest(p);
            keep_if_better(id, hit, &mut bound_m, &mut best);
        }
        best
    }

    /// The reference answer: every segment measured exactly.
    pub fn nearest_brute_force(&self, p: LonLat) -> Option<Nearest> {
        let mut best: Option<Nearest> = None;
        for (id, s) in self.segments.iter().enumerate() {
            let hit = s.geodesic.nearest(p);
            let n = Nearest {
                distance_m: hit.distance_m,
                segment: id,
                foot: hit.foot,
            };
            if n.better_than_opt(&best) {
                best = Some(n);
            }
        }
        best
    }

    /// Segments whose padded boxes come within `distance_m` of the ECEF box
    /// `[min, max]`: candidates for anything within that distance of it.
    pub fn segments_near_box(
        &self,
        min: [f64; 3],
        max: [f64; 3],
        distance_m: f64,
    ) -> impl Iterator<Item = (usize, &IndexedSegment)> + '_ {
        let d = distance_m;
        let env = AABB::from_corners(
            [min[0] - d, min[1] - d, min[2] - d],
            [max[0] + d, max[1] + d, max[2] + d],
        );
        let mut ids: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|b| b.id as usize)
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(move |id| (id, &self.segments[id]))
    }
}

/// Keep `hit` on segment `id` as `best` when it is within `bound_m` and
/// better (see [`Nearest::better_than_opt`]); the bound then shrinks to it.
fn keep_if_better(
    id: usize,
    hit: crate::geodesy::SegmentHit,
    bound_m: &mut f64,
    best: &mut Option<Nearest>,
) {
    let n = Nearest {
        distance_m: hit.distance_m,
        segment: id,
        foot: hit.foot,
    };
    if n.distance_m <= *bound_m && n.better_than_opt(best) {
        *bound_m = n.distance_m;
        *best = Some(n);
    }
}

/// The ECEF bounding box of a set of lon/lat points, padded for the
/// geodesic edges between them (`longest_edge_m`).
pub fn ecef_box(
    points: impl IntoIterator<Item = LonLat>,
    longest_edge_m: f64,
) -> ([f64; 3], [f64; 3]) {
    let mut min = [f64::INFINITY; 3];
    let mut max = [f64::NEG_INFINITY; 3];
    for p in points {
        let e = ecef(p);
        for k in 0..3 {
            min[k] = min[k].min(e[k]);
            max[k] = max[k].max(e[k]);
        }
    }
    let pad = chord_sagitta_bound_m(longest_edge_m);
    (min.map(|v| v - pad), max.map(|v| v + pad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Coord;

    /// A deterministic pseudo-random sequence (SplitMix64) for test inputs.
    fn rand01(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn branch_and_bound_equals_brute_force() {
        let mut s = 42;
        let mut line = Vec::new();
        let (mut x, mut y) = (70.0, 45.0);
        for _ in 0..400 {
            line.push(Coord { x, y });
            x += 0.02 + 0.03 * rand01(&mut s);
            y += 0.04 * (rand01(&mut s) - 0.5);
        }
        line.push(*line.last().unwrap()); // a repeated vertex is skipped
        let idx = SegmentIndex::build([line.as_slice()]);
        assert_eq!(idx.segments().len(), 399);
        for _ in 0..300 {
            let p = Coord {
                x: 68.0 + 16.0 * rand01(&mut s),
                y: 42.0 + 6.0 * rand01(&mut s),
            };
            let fast = idx.nearest(p).unwrap();
            let slow = idx.nearest_brute_force(p).unwrap();
            assert_eq!(fast.distance_m, slow.distance_m);
            assert_eq!(fast.segment, slow.segment);
            let via_rstar = idx.nearest_within_rstar(p, f64::INFINITY).unwrap();
            assert_eq!(fast, via_rstar);
            // A bound just below the answer finds nothing; at the answer, it.
            assert_eq!(idx.nearest_within(p, slow.distance_m * (1.0 - 1e-12)), None);
            assert_eq!(idx.nearest_within(p, slow.distance_m), Some(fast));
        }
    }
}
