//! The zone engine on the real embedded Kazakh data.

mod common;

use std::collections::HashMap;
use std::path::Path;

use borderzone::io::{read_all, ReadOptions};
use borderzone::zone::{measure, Border, BorderIndex, PolygonMode};
use common::{embedded, rand01, read_csv, shared};
use geo::{Coord, Geometry};

fn border_index(neighbours: &[&str]) -> BorderIndex {
    let path = embedded("border_lines.geojson");
    let border = Border::read(&path, "neighbour").unwrap();
    let sel: Vec<String> = neighbours.iter().map(|s| s.to_string()).collect();
    BorderIndex::build(&border.select(&sel, &path).unwrap())
}

/// Reference distances from Python GeographicLib with an independent
/// minimisation (tests/reference/border_reference.py).
fn reference() -> Vec<(String, Coord<f64>, String, f64)> {
    let (_, rows) = read_csv(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/border_distances.csv"
    )));
    rows.into_iter()
        .map(|r| {
            (
                r[0].clone(),
                Coord {
                    x: r[1].parse().unwrap(),
                    y: r[2].parse().unwrap(),
                },
                r[3].clone(),
                r[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn distances_match_independent_geographiclib_reference() {
    let all = border_index(&[]);
    let china = border_index(&["CHN"]);
    let rows = reference();
    assert_eq!(rows.len(), 20);
    for (name, p, sel, expected_m) in rows {
        let idx = if sel == "all" { &all } else { &china };
        let got = idx.nearest(p).unwrap().distance_m;
        // The reference is printed to the micrometre; the goal is 1 mm.
        assert!(
            (got - expected_m).abs() < 1e-5,
            "{name} ({sel}): {got} vs reference {expected_m}"
        );
    }
}

#[test]
fn known_places_in_and_out_of_the_china_zone() {
    let china = border_index(&["CHN"]);
    let all = border_index(&[]);
    let places = [
        ("Khorgos", 80.38522, 44.22335, true),
        ("Narynkol", 80.17495, 42.72636, true),
        ("Almaty", 76.9115, 43.25249, false),
        ("Ust-Kamenogorsk", 82.60586, 49.97143, false),
        ("Zharkent", 80.00736, 44.16619, false),
    ];
    for (name, lon, lat, inside) in places {
        let d = china.nearest(Coord { x: lon, y: lat }).unwrap().distance_m;
        assert_eq!(d <= 20_000.0, inside, "{name}: {d} m from China");
        let n = all.nearest(Coord { x: lon, y: lat }).unwrap();
        if inside {
            assert_eq!(all.neighbour_of(n.segment), "CHN", "{name}");
        }
    }
    // Almaty and Ust-Kamenogorsk are outside the 20 km zone of the whole border too.
    for (lon, lat) in [(76.9115, 43.25249), (82.60586, 49.97143)] {
        assert!(all.nearest(Coord { x: lon, y: lat }).unwrap().distance_m > 20_000.0);
    }
}

#[test]
fn rtree_equals_brute_force_on_geonames_settlements() {
    use rayon::prelude::*;
    let feats = read_all(
        &embedded("settlements_geonames.geojson"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(feats.len(), 351);
    // Every 4th settlement (88) against both selections: 3.6 M exact
    // segment distances for the brute force.
    for idx in [border_index(&[]), border_index(&["CHN"])] {
        feats.par_iter().step_by(4).for_each(|f| {
            let Geometry::Point(p) = f.geometry else {
                panic!("points expected")
            };
            let fast = idx.nearest(p.0).unwrap();
            let slow = idx.segments().nearest_brute_force(p.0).unwrap();
            assert_eq!(fast.distance_m, slow.distance_m, "feature #{}", f.index);
            assert_eq!(fast.segment, slow.segment);
        });
    }
}

#[test]
fn rtree_equals_brute_force_on_osm_settlements_sample() {
    let Some(path) = shared("kz-extra/settlements_osm.geojson") else {
        return;
    };
    let feats = read_all(&path, &ReadOptions::default()).unwrap();
    assert_eq!(feats.len(), 9_899);
    let idx = border_index(&[]);
    use rayon::prelude::*;
    feats.par_iter().step_by(99).for_each(|f| {
        let Geometry::Point(p) = f.geometry else {
            panic!("points expected")
        };
        let fast = idx.nearest(p.0).unwrap();
        let slow = idx.segments().nearest_brute_force(p.0).unwrap();
        assert_eq!(
            (fast.distance_m, fast.segment),
            (slow.distance_m, slow.segment),
            "feature #{}",
            f.index
        );
    });
}

#[test]
fn polygon_settlement_any_part_centroid_and_touching() {
    let china = border_index(&["CHN"]);
    // A square around Khorgos, 0.02° wide: any part is nearer than the
    // centroid, and no nearer than the nearest vertex allows.
    let c = Coord {
        x: 80.38522,
        y: 44.22335,
    };
    let h = 0.01;
    let ring = vec![
        Coord {
            x: c.x - h,
            y: c.y - h,
        },
        Coord {
            x: c.x + h,
            y: c.y - h,
        },
        Coord {
            x: c.x + h,
            y: c.y + h,
        },
        Coord {
            x: c.x - h,
            y: c.y + h,
        },
        Coord {
            x: c.x - h,
            y: c.y - h,
        },
    ];
    let poly = Geometry::Polygon(geo::Polygon::new(geo::LineString(ring.clone()), vec![]));
    let any = measure(&china, &poly, PolygonMode::AnyPart).unwrap();
    let cen = measure(&china, &poly, PolygonMode::Centroid).unwrap();
    let vertex_min = ring
        .iter()
        .map(|v| china.nearest(*v).unwrap().distance_m)
        .fold(f64::INFINITY, f64::min);
    assert!(any.distance_m <= vertex_min);
    assert!(any.distance_m < cen.distance_m);
    // The border runs ~1.3 km east of Khorgos; a square reaching 2 km east
    // of it crosses the border: distance zero.
    let wide = Geometry::Polygon(geo::Polygon::new(
        geo::LineString(vec![
            Coord {
                x: c.x - h,
                y: c.y - h,
            },
            Coord {
                x: c.x + 0.03,
                y: c.y - h,
            },
            Coord {
                x: c.x + 0.03,
                y: c.y + h,
            },
            Coord {
                x: c.x - h,
                y: c.y + h,
            },
            Coord {
                x: c.x - h,
                y: c.y - h,
            },
        ]),
        vec![],
    ));
    assert_eq!(
        measure(&china, &wide, PolygonMode::AnyPart)
            .unwrap()
            .distance_m,
        0.0
    );
}

#[test]
fn polygon_any_part_equals_dense_sampling_of_its_boundary() {
    // Independent check: the polygon's distance is the minimum over its
    // boundary, sampled every ~20 m along each geodesic edge.
    let china = border_index(&["CHN"]);
    let ring = vec![
        Coord { x: 80.10, y: 44.05 },
        Coord { x: 80.25, y: 44.02 },
        Coord { x: 80.28, y: 44.20 },
        Coord { x: 80.12, y: 44.18 },
        Coord { x: 80.10, y: 44.05 },
    ];
    let poly = Geometry::Polygon(geo::Polygon::new(geo::LineString(ring.clone()), vec![]));
    let got = measure(&china, &poly, PolygonMode::AnyPart)
        .unwrap()
        .distance_m;
    let mut sampled = f64::INFINITY;
    for w in ring.windows(2) {
        let seg = borderzone::geodesy::GeodesicSegment::new(w[0], w[1]);
        let n = (seg.length_m / 20.0).ceil() as usize;
        for k in 0..=n {
            let p = seg.position(seg.length_m * k as f64 / n as f64).0;
            sampled = sampled.min(china.nearest(p).unwrap().distance_m);
        }
    }
    assert!(got <= sampled + 1e-6, "{got} > sampled {sampled}");
    assert!(
        sampled - got < 0.05,
        "sampling every 20 m cannot be 5 cm above the minimum: {got} vs {sampled}"
    );
}

#[test]
fn zone_counts_by_neighbour_are_consistent() {
    let feats = read_all(
        &embedded("settlements_geonames.geojson"),
        &ReadOptions::default(),
    )
    .unwrap();
    let all = border_index(&[]);
    let china = border_index(&["CHN"]);
    let mut by: HashMap<String, usize> = HashMap::new();
    for f in &feats {
        let m_all = measure(&all, &f.geometry, PolygonMode::AnyPart).unwrap();
        let m_chn = measure(&china, &f.geometry, PolygonMode::AnyPart).unwrap();
        // The whole border is never farther than a part of it.
        assert!(m_all.distance_m <= m_chn.distance_m);
        if m_all.distance_m <= 20_000.0 {
            *by.entry(all.neighbour_of(m_all.nearest.segment).to_string())
                .or_default() += 1;
        }
        // Whoever is nearest to China overall has the same distance both ways.
        if all.neighbour_of(m_all.nearest.segment) == "CHN" {
            assert_eq!(m_all.distance_m, m_chn.distance_m);
        }
    }
    assert!(by["CHN"] >= 2, "Khorgos and Narynkol at least: {by:?}");
}

#[test]
fn certified_cells_agree_with_brute_force_on_the_real_border() {
    use borderzone::geodesy::{direct, inverse};
    use borderzone::zone::cells::{Verdict, ZoneCells};
    // GENERATED points: 300 on both sides of the China 20 km line (normal
    // offsets of 20 km ± 5 cm – 400 m from random border vertices) and 300
    // spread over Kazakhstan's box. The reference is the brute-force exact
    // minimum over all 11,454 China segments.
    let index = border_index(&["CHN"]);
    let segments = index.segments();
    let cells = ZoneCells::new(segments, 20_000.0);
    let mut s = 7u64;
    let mut pts = Vec::new();
    for _ in 0..300 {
        let seg =
            &segments.segments()[(rand01(&mut s) * segments.segments().len() as f64) as usize];
        let az = inverse(seg.geodesic.a, seg.geodesic.b).azimuth1_deg;
        let side = if rand01(&mut s) < 0.5 { 90.0 } else { -90.0 };
        // Log-uniform 5 cm – 400 m, so that many points are very near.
        let off =
            0.05 * 8000f64.powf(rand01(&mut s)) * if rand01(&mut s) < 0.5 { -1.0 } else { 1.0 };
        // Start on the normal, then step twice from the nearest border
        // point along the line joining them, so that the distance lands
        // close to 20 km + off.
        let mut p = direct(seg.geodesic.a, az + side, 20_000.0 + off).0;
        for _ in 0..2 {
            let foot = segments.nearest(p).unwrap().foot;
            p = direct(foot, inverse(foot, p).azimuth1_deg, 20_000.0 + off).0;
        }
        pts.push(p);
    }
    for _ in 0..300 {
        pts.push(Coord {
            x: 46.5 + 41.0 * rand01(&mut s),
            y: 40.5 + 15.0 * rand01(&mut s),
        });
    }
    let (mut decided, mut near_edge) = (0, 0);
    for p in pts {
        let exact = segments.nearest_brute_force(p).unwrap().distance_m;
        match cells.verdict(p) {
            Verdict::Inside { upper_m } => {
                assert!(exact <= 20_000.0 && exact <= upper_m, "{p:?}: {exact} m");
                decided += 1;
            }
            Verdict::Outside => {
                assert!(exact > 20_000.0, "{p:?}: {exact} m");
                decided += 1;
            }
            Verdict::Undecided => {
                near_edge += 1;
                assert!(
                    (exact - 20_000.0).abs() < 200.0,
                    "{p:?}: {exact} m undecided"
                );
            }
        }
    }
    // Most points are decided by the cells; only those very near the line
    // are left to the exact measurement.
    assert!(
        decided > 350 && near_edge > 100,
        "{decided} decided, {near_edge} near the edge"
    );
}
