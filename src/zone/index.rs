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
use std::ops::ControlFlow;

use rayon::prelude::*;
use rstar::{PointDistance, RTree, RTreeNode, RTreeObject, AABB};

use crate::geodesy::{
    chord_m, chord_sagitta_bound_m, ecef, geodesic_upper_bound_from_chord_m, inverse,
    padded_chord_box, segment_distance_2, GeodesicSegment, LonLat, SurfacePoint, TangentBall,
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

/// The segment tree's node sizes: up to 8 children (rstar's default is 6).
/// Measured on 1 M points against the Kazakh border: membership 3–5 %
/// faster (fewer levels to descend at the certified cells' centres), every
/// distance against China unchanged; 12 children were as fast for the
/// former and 14 % slower for the latter (larger balls prune less far
/// away). Only speed depends on it.
struct SegmentTreeParams;

impl rstar::RTreeParams for SegmentTreeParams {
    const MIN_SIZE: usize = 4;
    const MAX_SIZE: usize = 8;
    const REINSERTION_COUNT: usize = 2;
    type DefaultInsertionStrategy = rstar::RStarInsertionStrategy;
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

/// Proven bounds of the distance (m) from a point to its nearest segment:
/// `lower_m ≤ distance ≤ upper_m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bracket {
    /// No segment is nearer.
    pub lower_m: f64,
    /// Some segment is this near.
    pub upper_m: f64,
    /// That segment.
    pub segment: usize,
}

/// Build-once, read-many index of geodesic segments.
#[derive(Debug)]
pub struct SegmentIndex {
    segments: Vec<IndexedSegment>,
    /// Each segment's chord, for the chord bound and the tangent-ball bound.
    chords: Vec<Chord>,
    tree: RTree<SegmentBox, SegmentTreeParams>,
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
    /// Each node's geodesic ball: every point of every segment under the
    /// node is within `radius_m` of `centre` (see [`FlatTree::set_balls`]).
    balls: Vec<Ball>,
    /// Per slot: how far (m) anything under it can be from the centre of
    /// the node that holds the slot.
    reach: Vec<f64>,
}

/// A geodesic ball holding everything under a tree node.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ball {
    centre: LonLat,
    /// The centre in ECEF (m).
    centre_xyz: [f64; 3],
    radius_m: f64,
}

/// Beyond this chord distance (m) a node's box bound is loosened by the
/// earth's curvature (the chord is ~0.1 % shorter than the geodesic at
/// 500 km, ~8 km at 2,000 km) and the node's ball is tried as well. Only
/// speed depends on it: both bounds are proven.
const BALL_FROM_M: f64 = 800_000.0;
/// … and only for nodes whose radius is under 1/100 of the distance:
/// larger balls rarely prune, and their children are tried anyway
/// (measured on 100k points against China: 15.5 → 13.6 ball checks a point).
const BALL_RATIO: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
struct FlatSlot {
    min: [f64; 3],
    max: [f64; 3],
    target: u32,
}

const SEGMENT_BIT: u32 = 1 << 31;
/// On the frontier: a node whose key is already its ball bound.
const BALL_CHECKED: u32 = 1 << 30;

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
    fn freeze(tree: &RTree<SegmentBox, SegmentTreeParams>) -> FlatTree {
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

    /// The geodesic ball of every node, bottom up (children have larger
    /// node numbers than their parent), and each slot's reach from its
    /// node's centre.
    ///
    /// The centre is the segment vertex (for nodes of segments) or the
    /// child centre (for nodes of nodes) nearest to the node box's centre.
    /// A slot's reach bounds the distance from that centre c to any point
    /// X under the slot, by the triangle inequality of the geodesic
    /// distance: for a segment [a, b], d(a, X) + d(X, b) = length, so
    /// d(c, X) ≤ min(d(c, a) + d(a, X), d(c, b) + d(X, b)) ≤
    /// (d(c, a) + d(c, b) + length) / 2; for a child ball (c′, r′),
    /// d(c, X) ≤ d(c, c′) + r′. The node's radius is its slots' largest
    /// reach. The distances d(c, ·) are bounded from above through the
    /// chord ([`geodesic_upper_bound_from_chord_m`]), no geodesic solved; a
    /// relative 10⁻⁹ and 1 mm more cover any rounding. `ends` are the
    /// segments' ends in ECEF ([`ecef`] of `a` and `b`): no position is
    /// converted twice.
    fn set_balls(&mut self, segments: &[IndexedSegment], ends: &[[[f64; 3]; 2]]) {
        let n = self.nodes.len();
        let slots_of = |node: usize| {
            let (start, end) = self.nodes[node];
            &self.slots[start as usize..end as usize]
        };
        let box_centre = |node: usize| {
            let mut min = [f64::INFINITY; 3];
            let mut max = [f64::NEG_INFINITY; 3];
            for slot in slots_of(node) {
                for k in 0..3 {
                    min[k] = min[k].min(slot.min[k]);
                    max[k] = max[k].max(slot.max[k]);
                }
            }
            [0, 1, 2].map(|k| 0.5 * (min[k] + max[k]))
        };
        // The candidate (a position and its ECEF) nearest to `target`.
        let closest =
            |target: [f64; 3], candidates: &mut dyn Iterator<Item = (LonLat, [f64; 3])>| {
                let mut best = (f64::INFINITY, (LonLat { x: 0.0, y: 0.0 }, [0.0; 3]));
                for (c, e) in candidates {
                    let d2: f64 = (0..3).map(|k| (e[k] - target[k]).powi(2)).sum();
                    if d2 < best.0 {
                        best = (d2, (c, e));
                    }
                }
                best.1
            };
        let pad = |r: f64| r * (1.0 + 1e-9) + 1e-3;
        // Upper bounds of d(c, x) from the chord (no geodesic solved):
        // reaches only need to be at least the distances.
        let far = |c: &[f64; 3], x: &[f64; 3]| geodesic_upper_bound_from_chord_m(chord_m(c, x));
        let segment_reach = |c: &[f64; 3], t: u32| {
            let id = (t & !SEGMENT_BIT) as usize;
            let [a, b] = &ends[id];
            pad(0.5 * (far(c, a) + far(c, b) + segments[id].geodesic.length_m))
        };
        let of_segments = |node: usize| slots_of(node).iter().all(|s| s.target & SEGMENT_BIT != 0);
        // Nodes of segments (the most, and independent of each other): in
        // parallel.
        // A node's centre (a position and its ECEF) and its slots' reaches.
        type Centred = ((LonLat, [f64; 3]), Vec<f64>);
        let mut leaf: Vec<Option<Centred>> = (0..n)
            .into_par_iter()
            .map(|node| {
                if !of_segments(node) {
                    return None;
                }
                let slots = slots_of(node);
                let centre = closest(
                    box_centre(node),
                    &mut slots.iter().flat_map(|s| {
                        let id = (s.target & !SEGMENT_BIT) as usize;
                        let g = &segments[id].geodesic;
                        [(g.a, ends[id][0]), (g.b, ends[id][1])]
                    }),
                );
                Some((
                    centre,
                    slots
                        .iter()
                        .map(|s| segment_reach(&centre.1, s.target))
                        .collect(),
                ))
            })
            .collect();
        let mut balls = vec![
            Ball {
                centre: LonLat { x: 0.0, y: 0.0 },
                centre_xyz: [0.0; 3],
                radius_m: f64::INFINITY,
            };
            n
        ];
        let mut reach = vec![f64::INFINITY; self.slots.len()];
        for node in (0..n).rev() {
            let (start, end) = self.nodes[node];
            let ((centre, centre_xyz), reaches) = match leaf[node].take() {
                Some(done) => done,
                None => {
                    let slots = slots_of(node);
                    let centre = closest(
                        box_centre(node),
                        &mut slots
                            .iter()
                            .filter(|s| s.target & SEGMENT_BIT == 0)
                            .map(|s| {
                                let child = &balls[s.target as usize];
                                (child.centre, child.centre_xyz)
                            }),
                    );
                    let reaches = slots
                        .iter()
                        .map(|s| {
                            if s.target & SEGMENT_BIT == 0 {
                                let child = balls[s.target as usize];
                                pad(far(&centre.1, &child.centre_xyz) + child.radius_m)
                            } else {
                                segment_reach(&centre.1, s.target)
                            }
                        })
                        .collect();
                    (centre, reaches)
                }
            };
            balls[node] = Ball {
                centre,
                centre_xyz,
                radius_m: reaches.iter().copied().fold(0.0, f64::max),
            };
            reach[start as usize..end as usize].copy_from_slice(&reaches);
        }
        self.balls = balls;
        self.reach = reach;
    }
}

thread_local! {
    /// The search frontier, reused by every query on this thread.
    static FRONTIER: RefCell<BinaryHeap<Reverse<(u64, u32)>>> = const { RefCell::new(BinaryHeap::new()) };
}

/// Run `f` with this thread's search frontier, empty.
fn with_frontier<T>(f: impl FnOnce(&mut BinaryHeap<Reverse<(u64, u32)>>) -> T) -> T {
    FRONTIER.with(|frontier| {
        let mut frontier = frontier.borrow_mut();
        frontier.clear();
        let answer = f(&mut frontier);
        frontier.clear();
        answer
    })
}

/// A segment's chord: the straight line between its ends in ECEF metres,
/// with the sagitta bound of its geodesic.
///
/// Every point X of the geodesic lies within `pad_m` of the chord (see
/// [`chord_sagitta_bound_m`]), and no path on the ellipsoid is shorter
/// than the straight line, so for any point q
/// `geodesic(q, X) ≥ |q − X| ≥ dist(q, chord) − pad_m`. Unlike the box
/// (which holds the same padded chord), this bound is as tight as the
/// curvature allows: within a centimetre of the exact distance at 20 km
/// from a 250 m segment, so a search refines exactly only the segments
/// that can still be the nearest.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Chord {
    /// ECEF start (m).
    a: [f64; 3],
    /// ECEF end minus start (m).
    ab: [f64; 3],
    /// |ab|² (m²), 0 for a chord of one point.
    len2: f64,
    /// The sagitta bound of the geodesic (m), rounding margin included.
    pad_m: f64,
}

impl Chord {
    /// ECEF end (m).
    #[inline]
    fn b(&self) -> [f64; 3] {
        [0, 1, 2].map(|k| self.a[k] + self.ab[k])
    }

    /// The chord from `a` to `b` (ECEF) of a geodesic of `length_m`.
    fn new([a, b]: [[f64; 3]; 2], length_m: f64) -> Self {
        let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        Chord {
            a,
            ab,
            len2: ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2],
            pad_m: chord_sagitta_bound_m(length_m),
        }
    }

    /// Lower and upper bounds (m) of the geodesic distance from the
    /// surface point `q` (ECEF) to the segment. Below: as
    /// [`Self::lower_bound_2`]. Above: the geodesic passes within `pad_m` of
    /// the chord's point Y nearest to q (its projection onto the chord runs
    /// continuously from one end to the other, so some point X of it
    /// projects onto Y, and |X − Y| ≤ pad), so |q − X| ≤ |q − Y| + pad,
    /// and the geodesic from q to X is at most
    /// [`geodesic_upper_bound_from_chord_m`] of that.
    fn bounds_m(&self, q: &[f64; 3]) -> (f64, f64) {
        let d = self.chord_distance_m(q);
        (
            (d - self.pad_m).max(0.0),
            geodesic_upper_bound_from_chord_m(d + self.pad_m),
        )
    }

    /// The straight-line distance (m) from `q` to the chord.
    #[inline]
    fn chord_distance_m(&self, q: &[f64; 3]) -> f64 {
        segment_distance_2(q, &self.a, &self.ab, self.len2).sqrt()
    }

    /// A lower bound (m²) of the squared geodesic distance from the
    /// surface point `q` (ECEF) to the segment: (dist(q, chord) − pad)²,
    /// 0 when q is within the pad.
    #[inline]
    fn lower_bound_2(&self, q: &[f64; 3]) -> f64 {
        let d = self.chord_distance_m(q) - self.pad_m;
        if d > 0.0 {
            d * d
        } else {
            0.0
        }
    }
}

/// Padded box of the geodesic segment between the ECEF points `a` and `b`,
/// without solving it: the pad is that of the longest geodesic the chord
/// allows ([`geodesic_upper_bound_from_chord_m`]), at least the segment's
/// own.
fn chord_box([a, b]: [[f64; 3]; 2]) -> AABB<[f64; 3]> {
    let (min, max) = padded_chord_box(a, b, geodesic_upper_bound_from_chord_m(chord_m(&a, &b)));
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
        // The exact segments (a geodesic inverse each) beside the tree,
        // whose boxes need only the chords: both at once.
        let (segments, (ends, tree, mut flat)) = rayon::join(
            || {
                pairs
                    .par_iter()
                    .map(|&(a, b, part)| IndexedSegment {
                        geodesic: GeodesicSegment::new(a, b),
                        part,
                    })
                    .collect::<Vec<_>>()
            },
            || {
                let ends: Vec<[[f64; 3]; 2]> =
                    pairs.iter().map(|&(a, b, _)| [ecef(a), ecef(b)]).collect();
                let boxes = ends
                    .iter()
                    .enumerate()
                    .map(|(id, &ends)| SegmentBox {
                        envelope: chord_box(ends),
                        id: id as u32,
                    })
                    .collect();
                let tree = RTree::bulk_load_with_params(boxes);
                let flat = FlatTree::freeze(&tree);
                (ends, tree, flat)
            },
        );
        flat.set_balls(&segments, &ends);
        let chords = ends
            .into_iter()
            .zip(&segments)
            .map(|(ends, s)| Chord::new(ends, s.geodesic.length_m))
            .collect();
        SegmentIndex {
            segments,
            chords,
            flat,
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
        with_frontier(|frontier| self.search(p, bound_m, frontier))
    }

    /// A bracket of the distance from `p` to the nearest segment if it may
    /// be within `bound_m`: `None` when every segment is proven farther
    /// than `bound_m`.
    ///
    /// No geodesic is solved: the search stops at the first segment off the
    /// frontier, the one with the smallest chord bound (so `lower_m` bounds
    /// every segment), and `upper_m` bounds the distance to that segment
    /// from above (through the chord, see `Chord::bounds_m`). The bracket
    /// is a centimetre wide at 20 km, enough to decide most comparisons
    /// without the exact distance.
    pub fn bracket_within(&self, p: LonLat, bound_m: f64) -> Option<Bracket> {
        if self.segments.is_empty() {
            return None;
        }
        with_frontier(|frontier| {
            let at = SurfacePoint::new(p);
            let q = at.xyz;
            let mut bracket = None;
            self.best_first(&at, &TangentBall::at(&at), bound_m, frontier, |id, _| {
                let (lower_m, upper_m) = self.chords[id].bounds_m(&q);
                bracket = Some(Bracket {
                    lower_m,
                    upper_m,
                    segment: id,
                });
                ControlFlow::Break(())
            });
            bracket
        })
    }

    /// A proven upper bound (m) of the distance from `p` to segment
    /// `segment` (and so to the nearest), from its chord, no geodesic
    /// solved: the upper end of [`Self::bracket_within`]'s bracket.
    pub fn upper_bound_via_m(&self, p: LonLat, segment: usize) -> f64 {
        self.chords[segment].bounds_m(&ecef(p)).1
    }

    fn search(
        &self,
        p: LonLat,
        bound_m: f64,
        frontier: &mut BinaryHeap<Reverse<(u64, u32)>>,
    ) -> Option<Nearest> {
        let at = SurfacePoint::new(p);
        let ball = TangentBall::at(&at);
        let mut best: Option<Nearest> = None;
        self.best_first(&at, &ball, bound_m, frontier, |id, bound_m| {
            let seg = &self.segments[id].geodesic;
            // Two cheaper lower bounds before the exact solve; both are
            // proven, so skipping on them never changes the answer.
            // 1. The ball tangent at p (see `TangentBall`): within metres of
            //    the distance even a thousand kilometres away, where the
            //    chord that ordered the frontier is a kilometre short.
            let chord = &self.chords[id];
            if ball.chord_lower_bound_m(&chord.a, &chord.b(), chord.pad_m) > *bound_m {
                return ControlFlow::Continue(());
            }
            // 2. From the exact distance d_a to the start: the distance along
            //    the segment is convex (see `convex_lower_bound_m`), so at
            //    least d_a − length · cos θ.
            let from_a = inverse(seg.a, p);
            if seg.convex_lower_bound_m(&from_a) > *bound_m {
                return ControlFlow::Continue(());
            }
            keep_if_better(id, seg.nearest_from(p, from_a), bound_m, &mut best);
            ControlFlow::Continue(())
        });
        best
    }

    /// Best-first branch and bound over the frozen tree from the point `at`
    /// (with its `tangent` ball, for the nodes' ball bounds): boxes and
    /// segments come off the frontier nearest (by a proven lower bound)
    /// first; each segment is handed to `visit` with the current bound,
    /// which it may shrink or end the search. The search
    /// also ends when the next key is farther than the bound.
    fn best_first(
        &self,
        at: &SurfacePoint,
        tangent: &TangentBall,
        mut bound_m: f64,
        frontier: &mut BinaryHeap<Reverse<(u64, u32)>>,
        mut visit: impl FnMut(usize, &mut f64) -> ControlFlow<()>,
    ) {
        let q = &at.xyz;
        // Push the children of `node`. With `centre_m`, the distance from p
        // to the node's ball centre (or a lower bound of it), each child also
        // has the proven bound centre_m − reach, and is keyed by the larger
        // of the two.
        let push_node = |node: u32,
                         centre_m: Option<f64>,
                         bound_m: f64,
                         frontier: &mut BinaryHeap<Reverse<(u64, u32)>>| {
            let (start, end) = self.flat.nodes[node as usize];
            let (start, end) = (start as usize, end as usize);
            for (slot, reach) in self.flat.slots[start..end]
                .iter()
                .zip(&self.flat.reach[start..end])
            {
                let mut d2 = if slot.target & SEGMENT_BIT == 0 {
                    slot.distance_2(q)
                } else {
                    self.chords[(slot.target & !SEGMENT_BIT) as usize].lower_bound_2(q)
                };
                if let Some(c) = centre_m {
                    let lb = c - reach;
                    if lb > bound_m {
                        continue;
                    }
                    if lb > 0.0 {
                        d2 = d2.max(lb * lb);
                    }
                }
                if d2.sqrt() <= bound_m {
                    // d2 ≥ 0, so its bit pattern orders like the value.
                    frontier.push(Reverse((d2.to_bits(), slot.target)));
                }
            }
        };
        push_node(0, None, bound_m, frontier);
        while let Some(Reverse((d2_bits, target))) = frontier.pop() {
            let key2 = f64::from_bits(d2_bits);
            if key2.sqrt() > bound_m {
                break;
            }
            if target & SEGMENT_BIT == 0 {
                let node = target & !BALL_CHECKED;
                // Far away the chord bound is loose (the chord is ~130 m
                // shorter than the geodesic at 500 km, ~8 km at 2,000 km):
                // the node's geodesic ball gives a second proven bound,
                // d(p, X) ≥ d(p, c) − r ≥ L − r, with L the tangent ball's
                // lower bound of d(p, c) (see `TangentBall`: within metres
                // of it, and no geodesic solved). The node goes back on the
                // frontier under that key when it is the larger, so that
                // nodes are expanded in the order of the tighter bound.
                let mut centre_m = None;
                let ball = &self.flat.balls[node as usize];
                if key2 > BALL_FROM_M * BALL_FROM_M && ball.radius_m * BALL_RATIO < key2.sqrt() {
                    let c = if target & BALL_CHECKED != 0 {
                        // Keyed by (L − r)²: recover L, rounded down a
                        // micrometre so that it stays a lower bound.
                        key2.sqrt() + ball.radius_m - 1e-6
                    } else {
                        tangent.lower_bound_m(&ball.centre_xyz)
                    };
                    let lb = c - ball.radius_m;
                    if lb > bound_m {
                        continue;
                    }
                    if target & BALL_CHECKED == 0 && lb > 0.0 && lb * lb > key2 {
                        frontier.push(Reverse(((lb * lb).to_bits(), node | BALL_CHECKED)));
                        continue;
                    }
                    centre_m = Some(c);
                }
                push_node(node, centre_m, bound_m, frontier);
                continue;
            }
            let id = (target & !SEGMENT_BIT) as usize;
            if visit(id, &mut bound_m).is_break() {
                return;
            }
        }
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

    use crate::geodesy::{distance_m, MIN_RADIUS_OF_CURVATURE_M};
    use crate::test_rand::{rand01, random_walk};

    /// Every segment under `node`, collected through the frozen tree.
    fn segments_under(flat: &FlatTree, node: usize, out: &mut Vec<usize>) {
        let (start, end) = flat.nodes[node];
        for slot in &flat.slots[start as usize..end as usize] {
            if slot.target & SEGMENT_BIT != 0 {
                out.push((slot.target & !SEGMENT_BIT) as usize);
            } else {
                segments_under(flat, slot.target as usize, out);
            }
        }
    }

    #[test]
    fn node_balls_hold_every_point_of_their_segments() {
        // A wiggly 600-vertex line: every node's ball must contain 11
        // points along each of its segments (ends included), measured
        // with independent inverse solutions.
        let line = random_walk(&mut 7, 600, (75.0, 44.0), (0.01, 0.02), (0.03, 0.5));
        let idx = SegmentIndex::build([line.as_slice()]);
        let flat = &idx.flat;
        assert_eq!(flat.balls.len(), flat.nodes.len());
        for (node, ball) in flat.balls.iter().enumerate() {
            let mut under = Vec::new();
            segments_under(flat, node, &mut under);
            let mut worst: f64 = 0.0;
            for id in under {
                let g = &idx.segments()[id].geodesic;
                for k in 0..=10 {
                    let x = g.position(g.length_m * f64::from(k) / 10.0).0;
                    worst = worst.max(distance_m(ball.centre, x));
                }
            }
            assert!(
                worst <= ball.radius_m,
                "node {node}: {worst} > {}",
                ball.radius_m
            );
            // Each slot's reach from the node's centre.
            let (start, end) = flat.nodes[node];
            for k in start as usize..end as usize {
                let mut under = Vec::new();
                let t = flat.slots[k].target;
                if t & SEGMENT_BIT != 0 {
                    under.push((t & !SEGMENT_BIT) as usize);
                } else {
                    segments_under(flat, t as usize, &mut under);
                }
                for id in under {
                    let g = &idx.segments()[id].geodesic;
                    for j in 0..=10 {
                        let x = g.position(g.length_m * f64::from(j) / 10.0).0;
                        assert!(distance_m(ball.centre, x) <= flat.reach[k], "slot {k}");
                    }
                }
            }
            // Not vacuous: a node of segments has a radius within a factor
            // 2 of its spread (the triangle inequality through a vertex);
            // nodes of nodes add their children's looseness.
            let (start, end) = flat.nodes[node];
            let of_segments = flat.slots[start as usize..end as usize]
                .iter()
                .all(|s| s.target & SEGMENT_BIT != 0);
            let factor = if of_segments { 2.0 } else { 4.0 };
            assert!(
                ball.radius_m < factor * worst + 10.0,
                "node {node}: {} ≫ {worst}",
                ball.radius_m
            );
        }
    }

    #[test]
    fn far_points_equal_brute_force() {
        // Points 200–3,000 km from a short line: the ball bounds prune
        // here, and the answer must still be the brute-force minimum.
        let mut s = 11;
        let line = random_walk(&mut s, 300, (80.0, 44.0), (0.005, 0.01), (0.02, 0.3));
        let idx = SegmentIndex::build([line.as_slice()]);
        for _ in 0..200 {
            let p = Coord {
                x: 40.0 + 38.0 * rand01(&mut s),
                y: 30.0 + 30.0 * rand01(&mut s),
            };
            let fast = idx.nearest(p).unwrap();
            let slow = idx.nearest_brute_force(p).unwrap();
            assert_eq!(fast, slow, "{p:?}");
            let b = idx.bracket_within(p, f64::INFINITY).unwrap();
            assert!(b.lower_m <= slow.distance_m && slow.distance_m <= b.upper_m);
        }
    }

    #[test]
    fn branch_and_bound_equals_brute_force() {
        let mut s = 42;
        let mut line = random_walk(&mut s, 400, (70.0, 45.0), (0.02, 0.03), (0.04, 0.5));
        line.push(*line.last().unwrap()); // a repeated vertex is skipped
        let idx = SegmentIndex::build([line.as_slice()]);
        assert_eq!(idx.segments().len(), 399);
        let longest_pad = idx
            .segments()
            .iter()
            .map(|s| chord_sagitta_bound_m(s.geodesic.length_m))
            .fold(0.0, f64::max);
        for _ in 0..300 {
            let p = Coord {
                x: 68.0 + 16.0 * rand01(&mut s),
                y: 42.0 + 6.0 * rand01(&mut s),
            };
            let fast = idx.nearest(p).unwrap();
            let slow = idx.nearest_brute_force(p).unwrap();
            assert_eq!(fast.distance_m, slow.distance_m);
            assert_eq!(fast.segment, slow.segment);
            // The chord bracket holds the exact answer, a few centimetres
            // wide this near (under 300 km); nothing below its lower end.
            let b = idx.bracket_within(p, f64::INFINITY).unwrap();
            assert!(b.lower_m <= slow.distance_m, "{b:?} {slow:?}");
            assert!(b.upper_m >= slow.distance_m, "{b:?} {slow:?}");
            // Its width: the sagitta pad on both sides (segments here are
            // up to ~6 km long) and the chord's shortfall, c³/24R².
            let c = slow.distance_m;
            let curvature = c.powi(3) / (24.0 * MIN_RADIUS_OF_CURVATURE_M.powi(2));
            assert!(
                b.upper_m - b.lower_m <= 2.0 * longest_pad + 1.01 * curvature + 1e-5,
                "{b:?} {slow:?}"
            );
            assert_eq!(idx.bracket_within(p, b.lower_m * (1.0 - 1e-12)), None);
            assert_eq!(idx.bracket_within(p, b.lower_m), Some(b));
            let via_rstar = idx.nearest_within_rstar(p, f64::INFINITY).unwrap();
            assert_eq!(fast, via_rstar);
            // A bound just below the answer finds nothing; at the answer, it.
            assert_eq!(idx.nearest_within(p, slow.distance_m * (1.0 - 1e-12)), None);
            assert_eq!(idx.nearest_within(p, slow.distance_m), Some(fast));
        }
    }
}
