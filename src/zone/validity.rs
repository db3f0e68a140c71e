//! Cheap validity checks on settlement polygons, for warnings: a ring that
//! crosses itself still has a well-defined distance to the border (the
//! distance to its edges, or zero when the border enters it), but its
//! centroid and area share may not be what the digitiser meant.

use geo::{Intersects, Line, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::geodesy::LonLat;

/// Where a ring of a polygon crosses itself (planar lon/lat test).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfIntersection {
    /// 0 for the exterior ring, 1 + k for interior ring k.
    pub ring: usize,
    /// Index of the first of the two crossing edges (edge i joins vertices
    /// i and i + 1).
    pub edge: usize,
    /// Index of the second edge.
    pub other_edge: usize,
}

/// The first self-intersection of any ring of `polygon`, if any. Edges that
/// share a vertex (neighbours along the ring, and the closing pair) are not
/// crossings; zero-length edges (repeated vertices) are ignored.
///
/// # Runtime
/// O(n log n) for n vertices (an R-tree of edge boxes); about a second per
/// million vertices.
pub fn first_self_intersection(polygon: &Polygon<f64>) -> Option<SelfIntersection> {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .enumerate()
        .find_map(|(ring, r)| {
            ring_self_intersection(&r.0).map(|(edge, other_edge)| SelfIntersection {
                ring,
                edge,
                other_edge,
            })
        })
}

fn ring_self_intersection(coords: &[LonLat]) -> Option<(usize, usize)> {
    let n = coords.len().checked_sub(1)?; // edges
    if n < 3 {
        return None;
    }
    let edges: Vec<(usize, Line<f64>)> = (0..n)
        .map(|i| (i, Line::new(coords[i], coords[i + 1])))
        .filter(|(_, l)| l.start != l.end)
        .collect();
    let tree = RTree::bulk_load(
        edges
            .iter()
            .map(|&(i, l)| {
                GeomWithData::new(
                    Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]),
                    i,
                )
            })
            .collect(),
    );
    let closed = coords.first() == coords.last();
    // Two edges are neighbours when they share a vertex of the ring.
    let adjacent = |i: usize, j: usize| {
        let (a, b) = (i.min(j), i.max(j));
        b == a + 1 || (closed && a == 0 && b == n - 1)
    };
    for &(i, l) in &edges {
        let env = rstar::AABB::from_corners(
            [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
            [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
        );
        for cand in tree.locate_in_envelope_intersecting(&env) {
            let j = cand.data;
            if j <= i || adjacent(i, j) {
                continue;
            }
            let m = Line::new(coords[j], coords[j + 1]);
            if l.intersects(&m) {
                // Touching at a shared (repeated) vertex is not a crossing.
                let shared = [l.start, l.end]
                    .iter()
                    .any(|p| *p == m.start || *p == m.end);
                if !shared {
                    return Some((i, j));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, LineString};

    fn poly(pts: &[(f64, f64)]) -> Polygon<f64> {
        Polygon::new(
            LineString(pts.iter().map(|&(x, y)| coord! { x: x, y: y }).collect()),
            vec![],
        )
    }

    #[test]
    fn finds_a_bow_tie_and_accepts_a_square() {
        let bow = poly(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]);
        let hit = first_self_intersection(&bow).unwrap();
        assert_eq!((hit.ring, hit.edge, hit.other_edge), (0, 0, 2));
        let square = poly(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]);
        assert_eq!(first_self_intersection(&square), None);
        let repeated = poly(&[
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        assert_eq!(first_self_intersection(&repeated), None);
    }
}
