//! Access legs: attaching a place to the nearest point on a road.
//!
//! Filter → refine: the graph's R-tree of padded ECEF segment boxes yields
//! candidates in order of a distance that is a lower bound of the geodesic
//! one (a chord is never longer than the geodesic, and each box contains its
//! geodesic segment); [`GeodesicSegment::nearest`] measures each exactly and
//! decides. The search stops when the next box is farther than the best exact
//! hit or than the maximum snap distance.

use rayon::prelude::*;

use super::graph::{morton_key, RoadGraph};
use crate::geodesy::{self, GeodesicSegment, LonLat};

/// Where a place joins the road graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The edge it joins.
    pub edge: u32,
    /// Distance of the joining point from the edge's start, along the edge
    /// (m).
    pub along_m: f64,
    /// Length of the access leg from the place to the joining point: the
    /// geodesic distance to the road (m).
    pub leg_m: f64,
    /// The joining point on the road.
    pub foot: LonLat,
}

/// The outcome of snapping one place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SnapStatus {
    /// Joined the graph.
    OnRoad(Snap),
    /// No road within `max_snap_m` metres.
    NoRoadWithin {
        /// The maximum snap distance used (m).
        max_snap_m: f64,
    },
}

impl SnapStatus {
    /// The snap, when there is one.
    pub fn snap(&self) -> Option<&Snap> {
        match self {
            SnapStatus::OnRoad(s) => Some(s),
            SnapStatus::NoRoadWithin { .. } => None,
        }
    }
}

impl std::fmt::Display for SnapStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapStatus::OnRoad(s) => write!(f, "on road, access leg {:.0} m", s.leg_m),
            SnapStatus::NoRoadWithin { max_snap_m } => {
                write!(f, "no road within {:.1} km", max_snap_m / 1000.0)
            }
        }
    }
}

/// Snap `p` (lon/lat) to the nearest point of any edge of `graph`, no farther
/// than `max_snap_m`. Ties are broken by the lower segment index, so the
/// result is deterministic.
///
/// # Units
/// Metres; exact WGS84 geodesics.
pub fn snap_point(graph: &RoadGraph, p: LonLat, max_snap_m: f64) -> SnapStatus {
    let q = geodesy::ecef(p);
    // Best so far: (distance, global segment index, edge, hit).
    let mut best: Option<(f64, u32, u32, geodesy::SegmentHit)> = None;
    let mut candidates = graph.segment_index.nearest_iter(q);
    // Boxes beyond the bound are not even visited (the limit is widened by
    // a relative 1e-9 so that it never cuts off a box the test below keeps).
    let limit_2 = |bound_m: f64| bound_m * bound_m * (1.0 + 1e-9);
    candidates.limit(limit_2(max_snap_m));
    while let Some((lower_2, (edge, k))) = candidates.next() {
        let lower_m = lower_2.sqrt();
        let bound = best.as_ref().map_or(max_snap_m, |b| b.0.min(max_snap_m));
        // Boxes come in increasing order of the lower bound; a box at exactly
        // the best distance may still hold a tie with a lower index.
        if lower_m > bound {
            break;
        }
        let (a, _) = graph.geom_vertex(k);
        let (b, _) = graph.geom_vertex(k + 1);
        let seg = GeodesicSegment::new(a, b);
        let mut hit = seg.nearest(p);
        // At an end, use the vertex itself rather than its recomputation.
        if hit.along_m >= seg.length_m {
            hit.foot = b;
        } else if hit.along_m <= 0.0 {
            hit.foot = a;
        }
        let better = match &best {
            None => true,
            Some((d, bk, _, _)) => hit.distance_m < *d || (hit.distance_m == *d && k < *bk),
        };
        if better {
            best = Some((hit.distance_m, k, edge, hit));
            candidates.limit(limit_2(hit.distance_m));
        }
    }
    match best {
        Some((d, k, edge, hit)) if d <= max_snap_m => {
            let (_, cum_k) = graph.geom_vertex(k);
            let length_m = graph.edge(edge).length_m;
            let along_m = (cum_k + hit.along_m).clamp(0.0, length_m);
            SnapStatus::OnRoad(Snap {
                edge,
                along_m,
                leg_m: d,
                foot: hit.foot,
            })
        }
        _ => SnapStatus::NoRoadWithin { max_snap_m },
    }
}

/// [`snap_point`] for each of `points`, in parallel, results in input order.
/// The searches run in Z-order of the points, so that consecutive ones
/// find the tree's nodes in cache (places come in any order; a national
/// segment index is far larger than the cache).
pub fn snap_points(graph: &RoadGraph, points: &[LonLat], max_snap_m: f64) -> Vec<SnapStatus> {
    let mut order: Vec<(u64, u32)> = points
        .par_iter()
        .enumerate()
        .map(|(i, &p)| (morton_key(p), i as u32))
        .collect();
    order.par_sort_unstable();
    let snapped: Vec<SnapStatus> = order
        .par_iter()
        .map(|&(_, i)| snap_point(graph, points[i as usize], max_snap_m))
        .collect();
    let mut out = vec![SnapStatus::NoRoadWithin { max_snap_m }; points.len()];
    for (&(_, i), s) in order.iter().zip(snapped) {
        out[i as usize] = s;
    }
    out
}
