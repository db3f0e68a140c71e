//! Property tests (proptest) of the distance engine on random borders,
//! points and polygons around Central Asia.
//!
//! - the R-tree branch and bound agrees with brute force, and so does every
//!   in/out decision at any threshold;
//! - distances are never negative (nor NaN);
//! - moving a point toward its foot on the border never increases its
//!   distance;
//! - for polygons, any-part ⊇ centroid: whenever the centroid is within a
//!   distance, some part of the polygon is.

use geo::{Geometry, LineString, Polygon};
use proptest::prelude::*;

use borderzone::geodesy::{direct, distance_m, inverse, LonLat};
use borderzone::zone::border::BorderPart;
use borderzone::zone::index::SegmentIndex;
use borderzone::zone::{measure, Border, BorderIndex, PolygonMode};

/// Geodesics are slow in debug builds: a modest number of cases, each with
/// several points.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn lonlat() -> impl Strategy<Value = LonLat> {
    (60.0f64..85.0, 38.0f64..52.0).prop_map(|(x, y)| LonLat { x, y })
}

/// A random border: 1–3 polylines, each a random walk of 2–25 vertices
/// (steps up to ±0.5°, repeated vertices possible).
fn border_parts() -> impl Strategy<Value = Vec<Vec<LonLat>>> {
    let part = (
        lonlat(),
        prop::collection::vec((-0.5f64..0.5, -0.5f64..0.5, 0u8..10), 1..25),
    )
        .prop_map(|(start, steps)| {
            let mut v = vec![start];
            let mut p = start;
            for (dx, dy, repeat) in steps {
                if repeat != 0 {
                    p = LonLat {
                        x: (p.x + dx).clamp(-180.0, 180.0),
                        y: (p.y + dy).clamp(-89.0, 89.0),
                    };
                }
                v.push(p);
            }
            v
        });
    prop::collection::vec(part, 1..4)
}

fn border_index(parts: &[Vec<LonLat>]) -> BorderIndex {
    let border = Border {
        parts: parts
            .iter()
            .enumerate()
            .map(|(i, coords)| BorderPart {
                neighbour: format!("N{i}"),
                coords: coords.clone(),
                feature: i,
            })
            .collect(),
    };
    BorderIndex::build(&border)
}

/// A convex polygon (points on an ellipse, sorted by angle) around `centre`.
fn convex_polygon() -> impl Strategy<Value = Polygon<f64>> {
    (
        lonlat(),
        0.005f64..0.4,
        0.005f64..0.4,
        prop::collection::btree_set(0u32..3600, 3..40),
    )
        .prop_map(|(c, rx, ry, angles)| {
            let mut ring: Vec<LonLat> = angles
                .iter()
                .map(|&a| {
                    let t = (a as f64 / 10.0).to_radians();
                    LonLat {
                        x: c.x + rx * t.cos(),
                        y: c.y + ry * t.sin(),
                    }
                })
                .collect();
            ring.push(ring[0]);
            Polygon::new(LineString(ring), vec![])
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn index_agrees_with_brute_force(
        parts in border_parts(),
        points in prop::collection::vec(lonlat(), 1..8),
        thresholds_m in prop::collection::vec(0.0f64..300_000.0, 1..4),
    ) {
        let slices: Vec<&[LonLat]> = parts.iter().map(Vec::as_slice).collect();
        let index = SegmentIndex::build(slices.iter().copied());
        prop_assume!(!index.is_empty());
        for p in points {
            let fast = index.nearest(p).expect("non-empty");
            let slow = index.nearest_brute_force(p).expect("non-empty");
            prop_assert_eq!(fast.distance_m, slow.distance_m);
            prop_assert_eq!(fast.segment, slow.segment);
            for &t in &thresholds_m {
                prop_assert_eq!(fast.distance_m <= t, slow.distance_m <= t);
            }
            // A lower bound of nearest_within never hides the answer.
            let within = index.nearest_within(p, fast.distance_m);
            prop_assert_eq!(within.map(|n| n.distance_m), Some(fast.distance_m));
        }
    }

    #[test]
    fn distances_are_never_negative(
        parts in border_parts(),
        points in prop::collection::vec(lonlat(), 1..8),
    ) {
        let index = border_index(&parts);
        prop_assume!(!index.segments().is_empty());
        for p in points {
            let g = Geometry::Point(geo::Point(p));
            let m = measure(&index, &g, PolygonMode::AnyPart).expect("point");
            prop_assert!(m.distance_m >= 0.0 && m.distance_m.is_finite(), "{}", m.distance_m);
            // The foot is on the border, at the reported distance.
            let back = distance_m(p, m.nearest.foot);
            prop_assert!((back - m.distance_m).abs() < 1e-6, "{} vs {}", back, m.distance_m);
        }
    }

    #[test]
    fn moving_toward_the_foot_never_increases_the_distance(
        parts in border_parts(),
        p in lonlat(),
        fractions in prop::collection::vec(0.0f64..1.0, 1..6),
    ) {
        let index = border_index(&parts);
        prop_assume!(!index.segments().is_empty());
        let n = index.nearest(p).expect("non-empty");
        prop_assume!(n.distance_m > 1.0);
        let inv = inverse(p, n.foot);
        for f in fractions {
            let q = direct(p, inv.azimuth1_deg, f * inv.distance_m).0;
            let d = index.nearest(q).expect("non-empty").distance_m;
            // Never farther than the foot itself, which is (1 − f)·d away.
            prop_assert!(
                d <= (1.0 - f) * n.distance_m + 1e-6,
                "moved {f} of the way: {d} > {}", (1.0 - f) * n.distance_m
            );
            prop_assert!(d <= n.distance_m + 1e-6);
        }
    }

    #[test]
    fn any_part_contains_centroid(
        parts in border_parts(),
        polygon in convex_polygon(),
        thresholds_m in prop::collection::vec(0.0f64..200_000.0, 1..4),
    ) {
        let index = border_index(&parts);
        prop_assume!(!index.segments().is_empty());
        let g = Geometry::Polygon(polygon);
        let any = measure(&index, &g, PolygonMode::AnyPart).expect("polygon");
        let centroid = measure(&index, &g, PolygonMode::Centroid).expect("polygon");
        prop_assert!(any.distance_m >= 0.0);
        // 1 mm: polygon edges are geodesics, the centroid is a lon/lat mean.
        prop_assert!(
            any.distance_m <= centroid.distance_m + 1e-3,
            "any-part {} > centroid {}", any.distance_m, centroid.distance_m
        );
        for t in thresholds_m {
            if centroid.distance_m <= t {
                prop_assert!(any.distance_m <= t + 1e-3);
            }
        }
    }
}
