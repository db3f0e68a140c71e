//! A static, packed R-tree of 3-D boxes (the padded ECEF boxes of the road
//! segments), built in parallel, with nearest-first iteration for snapping.
//!
//! Built like flatbush: the boxes are taken in a spatially coherent order
//! given by the caller (the road graph's: by the first node of their edge,
//! nodes being numbered along a Z-order curve, so the order comes from a
//! counting sort), consecutive runs of [`FANOUT`] make a node, and the levels
//! above are built the same way up to a single root. Building is a gather
//! and unions, several times faster than an OMT bulk load of an R*-tree for
//! the millions of segments of a national network.
//!
//! [`SegmentIndex::nearest_iter`] yields the items in nondecreasing order of
//! the squared Euclidean distance from the query point to their box (0 when
//! inside), exactly as `rstar`'s `nearest_neighbor_iter` over `Rectangle`s
//! does; the order among equal distances may differ, which the snapping code
//! does not depend on (it breaks ties by segment index).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

/// Children per node.
const FANOUT: usize = 16;

/// An axis-aligned 3-D box: `[lo_x, lo_y, lo_z, hi_x, hi_y, hi_z]`, in
/// single precision (half the memory of a national network's boxes),
/// rounded outward from the exact box by [`outward_box`] so that it still
/// contains it: distances to it stay lower bounds.
pub(crate) type Box3 = [f32; 6];

/// The single-precision box containing the box from `lo` to `hi`.
pub(crate) fn outward_box(lo: [f64; 3], hi: [f64; 3]) -> Box3 {
    let down = |x: f64| {
        let f = x as f32;
        if f64::from(f) > x {
            f.next_down()
        } else {
            f
        }
    };
    let up = |x: f64| {
        let f = x as f32;
        if f64::from(f) < x {
            f.next_up()
        } else {
            f
        }
    };
    [
        down(lo[0]),
        down(lo[1]),
        down(lo[2]),
        up(hi[0]),
        up(hi[1]),
        up(hi[2]),
    ]
}

/// The packed tree. Level 0 holds the items' boxes in key order; level `l`
/// node `i` covers level `l - 1` entries `i * FANOUT .. (i + 1) * FANOUT`.
#[derive(Debug, Default)]
pub(crate) struct SegmentIndex {
    /// All levels' boxes, level 0 first.
    boxes: Vec<Box3>,
    /// Payload of the level-0 boxes, in the same order.
    data: Vec<(u32, u32)>,
    /// Start of each level in `boxes`, plus the end.
    level_start: Vec<usize>,
}

fn union(a: &Box3, b: &Box3) -> Box3 {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].min(b[2]),
        a[3].max(b[3]),
        a[4].max(b[4]),
        a[5].max(b[5]),
    ]
}

/// Squared distance from `q` to box `b` (0 inside).
#[inline]
fn distance_2(b: &Box3, q: &[f64; 3]) -> f64 {
    let mut d = 0.0;
    for k in 0..3 {
        let (lo, hi) = (f64::from(b[k]), f64::from(b[k + 3]));
        let v = if q[k] < lo {
            lo - q[k]
        } else if q[k] > hi {
            q[k] - hi
        } else {
            0.0
        };
        d += v * v;
    }
    d
}

impl SegmentIndex {
    /// Build from boxes with their payload, packed in the given order of
    /// the items (each once). Any order gives correct queries; a spatially
    /// coherent one gives tight nodes and fast queries.
    ///
    /// # Panics
    /// If `order` is not as long as `items` or holds an index out of range.
    pub(crate) fn build(items: Vec<(Box3, (u32, u32))>, order: &[u32]) -> SegmentIndex {
        assert_eq!(items.len(), order.len(), "one place an item");
        if items.is_empty() {
            return SegmentIndex::default();
        }
        let n = items.len();
        let mut boxes: Vec<Box3> = Vec::with_capacity(n + n / (FANOUT - 1) + 2);
        let mut data = Vec::with_capacity(n);
        boxes.par_extend(order.par_iter().map(|&i| items[i as usize].0));
        data.par_extend(order.par_iter().map(|&i| items[i as usize].1));
        drop(items);
        let mut level_start = vec![0, n];
        loop {
            let (lo, hi) = (level_start[level_start.len() - 2], boxes.len());
            if hi - lo <= 1 {
                break;
            }
            let parents: Vec<Box3> = boxes[lo..hi]
                .par_chunks(FANOUT)
                .map(|c| c[1..].iter().fold(c[0], |a, b| union(&a, b)))
                .collect();
            boxes.extend(parents);
            level_start.push(boxes.len());
        }
        SegmentIndex {
            boxes,
            data,
            level_start,
        }
    }

    /// The items by nondecreasing squared distance of their box from `q`:
    /// `(distance², payload)`.
    pub(crate) fn nearest_iter(&self, q: [f64; 3]) -> NearestIter<'_> {
        let mut heap = BinaryHeap::new();
        if !self.data.is_empty() {
            let top = self.level_start.len() - 2;
            let root = self.level_start[top];
            heap.push(Entry {
                d2: distance_2(&self.boxes[root], &q),
                level: top as u32,
                index: 0,
            });
        }
        NearestIter {
            index: self,
            q,
            heap,
            limit_2: f64::INFINITY,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    d2: f64,
    level: u32,
    /// Index within its level.
    index: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Min-heap on distance; at equal distance items (level 0) first.
        other
            .d2
            .total_cmp(&self.d2)
            .then_with(|| other.level.cmp(&self.level))
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// See [`SegmentIndex::nearest_iter`].
pub(crate) struct NearestIter<'a> {
    index: &'a SegmentIndex,
    q: [f64; 3],
    heap: BinaryHeap<Entry>,
    /// Nothing farther (squared distance) is yielded or expanded.
    limit_2: f64,
}

impl NearestIter<'_> {
    /// End the iteration before the first item whose box is farther than
    /// `limit_2` (squared distance); a larger limit than the current one is
    /// ignored. Subtrees beyond it are no longer expanded: a search that
    /// knows a bound (the best exact distance so far) visits fewer nodes.
    pub(crate) fn limit(&mut self, limit_2: f64) {
        self.limit_2 = self.limit_2.min(limit_2);
    }
}

impl Iterator for NearestIter<'_> {
    type Item = (f64, (u32, u32));

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.index;
        while let Some(e) = self.heap.pop() {
            if e.d2 > self.limit_2 {
                // Everything left is at least as far.
                self.heap.clear();
                return None;
            }
            if e.level == 0 {
                return Some((e.d2, t.data[e.index as usize]));
            }
            let child_level = e.level as usize - 1;
            let (lo, hi) = (t.level_start[child_level], t.level_start[child_level + 1]);
            let first = lo + e.index as usize * FANOUT;
            let last = (first + FANOUT).min(hi);
            for c in first..last {
                let d2 = distance_2(&t.boxes[c], &self.q);
                if d2 <= self.limit_2 {
                    self.heap.push(Entry {
                        d2,
                        level: child_level as u32,
                        index: (c - lo) as u32,
                    });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_precision_boxes_contain_the_exact_ones() {
        // ECEF-sized values (up to 6,400 km) with sub-metre fractions: the
        // f32 box may grow by its rounding, never shrink.
        let mut s = 99u64;
        for _ in 0..100_000 {
            let mut v = || crate::test_rand::rand01(&mut s) * 1.28e7 - 6.4e6;
            let (a, b) = ([v(), v(), v()], [v(), v(), v()]);
            let lo = [0, 1, 2].map(|k| a[k].min(b[k]));
            let hi = [0, 1, 2].map(|k| a[k].max(b[k]));
            let f = outward_box(lo, hi);
            for k in 0..3 {
                assert!(f64::from(f[k]) <= lo[k] && f64::from(f[k + 3]) >= hi[k]);
                // ...by at most one f32 step (0.5 m at 6,400 km).
                assert!(lo[k] - f64::from(f[k]) <= 0.5 && f64::from(f[k + 3]) - hi[k] <= 0.5);
            }
        }
    }

    #[test]
    fn nearest_order_matches_brute_force() {
        let mut s = 12345u64;
        let mut r = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 1000.0
        };
        let items: Vec<(Box3, (u32, u32))> = (0..5000)
            .map(|i| {
                let (x, y, z) = (r(), r(), r());
                let hi = [x + r() * 0.01, y + r() * 0.01, z];
                (outward_box([x, y, z], hi), (i, i))
            })
            .collect();
        // Items in input order (random here); any order is correct.
        let in_input_order: Vec<u32> = (0..items.len() as u32).collect();
        let idx = SegmentIndex::build(items.clone(), &in_input_order);
        for _ in 0..20 {
            let q = [r(), r(), r()];
            let got: Vec<f64> = idx.nearest_iter(q).map(|(d, _)| d).collect();
            let mut want: Vec<f64> = items.iter().map(|(b, _)| distance_2(b, &q)).collect();
            want.sort_by(f64::total_cmp);
            assert_eq!(got, want);
        }
        // Any order of the items gives the same answers (here: reversed).
        let reversed: Vec<u32> = (0..items.len() as u32).rev().collect();
        let idx2 = SegmentIndex::build(items.clone(), &reversed);
        for _ in 0..5 {
            let q = [r(), r(), r()];
            let a: Vec<f64> = idx.nearest_iter(q).map(|(d, _)| d).collect();
            let b: Vec<f64> = idx2.nearest_iter(q).map(|(d, _)| d).collect();
            assert_eq!(a, b);
        }
        // With a limit set after the first item: exactly the items within
        // it, in the same order.
        for _ in 0..20 {
            let q = [r(), r(), r()];
            let mut it = idx.nearest_iter(q);
            let first = it.next().expect("non-empty").0;
            let limit_2 = (first.sqrt() + 150.0).powi(2);
            it.limit(limit_2);
            it.limit(f64::INFINITY); // a larger limit is ignored
            let got: Vec<f64> = std::iter::once(first).chain(it.map(|(d, _)| d)).collect();
            let mut want: Vec<f64> = items
                .iter()
                .map(|(b, _)| distance_2(b, &q))
                .filter(|&d| d <= limit_2)
                .collect();
            want.sort_by(f64::total_cmp);
            assert!(
                want.len() > 1 && want.len() < items.len() / 2,
                "{}",
                want.len()
            );
            assert_eq!(got, want);
        }
        assert_eq!(
            SegmentIndex::build(Vec::new(), &[])
                .nearest_iter([0.0; 3])
                .count(),
            0
        );
    }
}
