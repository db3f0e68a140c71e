//! Criterion benchmarks of the zone classification (filter + exact refine)
//! on the real Kazakh border (`data/kz/border_lines.geojson`, 30,459
//! segments).
//!
//! Groups (throughput in points/second; every group measures one thread):
//! - `osm_9899/{all,CHN}`: the 9,899 real OSM settlements
//!   (`../shared/data/kz-extra/settlements_osm.geojson`, skipped with a message
//!   when absent), R-tree + exact refine.
//! - `sample/{all,CHN}`: a small sample of those settlements (or of the
//!   generated points when the OSM file is absent), R-tree + exact vs brute
//!   force over every segment, so the per-point ratio is meaningful.
//! - `generated/{all,CHN}`: 100,000 GENERATED points (not settlements;
//!   China only: the first 5,000 of them), seeded: alternately uniform in the
//!   country's bounding box and 0–40 km from a random border vertex in a
//!   random direction.
//! - `index_build/{all,CHN}`: freezing the border into the segment index.
//! - `duplicate_ids/{sorted,shuffled}`: the duplicate-id check over 200,000
//!   ids (0, 1, 2, … in order, or the same shuffled), recorded in runs of
//!   512 as the zone job does, then finished: sorted ids are only compared,
//!   shuffled ones hashed and searched (the search's 256 buckets on every
//!   thread).
//! - `strip/*`: the zone strip polygon at 20 km of every border, by
//!   `zone_band` (core and shells) and `zone_band_reference` (the union of
//!   every exact piece, the construction before it), and `zone_strip` with
//!   the embedded country (the `run` job's strips). These use every thread.
//!
//! Run: `cargo bench --bench zone` (a few minutes on 2 cores).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use geo::{BoundingRect, Coord, Geometry};

use borderzone::geodesy::{direct, LonLat};
use borderzone::io::InputFeature;
use borderzone::io::{read_all, ReadOptions};
use borderzone::jobs::zone::read_area;
use borderzone::settlement::{DuplicateIds, IdRun, IdentityFields, Settlement};
use borderzone::zone::cells::{Verdict, ZoneCells};
use borderzone::zone::strip::{zone_band, zone_band_reference, zone_strip};
use borderzone::zone::{Border, BorderIndex};

const BORDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/kz/border_lines.geojson");
const COUNTRY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/kz/country.geojson");
const OSM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/kz-extra/settlements_osm.geojson"
);
/// Points measured by brute force per iteration: every one costs a full pass
/// over all 30,459 segments (~0.1 s), so the sample stays small.
const BRUTE_SAMPLE: usize = 24;
const GENERATED: usize = 100_000;
const GENERATED_CHN: usize = 5_000;
const SEED: u64 = 20_240_601;

/// SplitMix64: a tiny seeded generator, so the points are the same on every
/// machine and run.
struct SplitMix(u64);

impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The two border selections benchmarked: the whole border and China only.
fn selections() -> Vec<(&'static str, BorderIndex)> {
    let path = Path::new(BORDER);
    let border = Border::read(path, "neighbour").expect("embedded border reads");
    let china = border
        .select(&["CHN".to_string()], path)
        .expect("the border has a CHN part");
    vec![
        ("all", BorderIndex::build(&border)),
        ("CHN", BorderIndex::build(&china)),
    ]
}

/// The real OSM settlements, or `None` (with a message) when the shared
/// data folder is absent.
fn osm_points() -> Option<Vec<LonLat>> {
    let path = PathBuf::from(OSM);
    if !path.is_file() {
        eprintln!("skipping the OSM settlement benches: {} not found (it lives in the shared data folder)", path.display());
        return None;
    }
    let features = read_all(&path, &ReadOptions::default()).expect("OSM settlements read");
    Some(
        features
            .iter()
            .filter_map(|f| match &f.geometry {
                Geometry::Point(p) => Some(p.0),
                _ => None,
            })
            .collect(),
    )
}

/// GENERATED points: half uniform in the country's lon/lat bounding box, half
/// 0–40 km (uniform) from a random border vertex in a random direction.
fn generated_points(n: usize) -> Vec<LonLat> {
    let country = read_area(Path::new(COUNTRY)).expect("embedded country reads");
    let bbox = country.bounding_rect().expect("country is not empty");
    let border = Border::read(Path::new(BORDER), "neighbour").expect("embedded border reads");
    let vertices: Vec<LonLat> = border
        .parts
        .iter()
        .flat_map(|p| p.coords.iter().copied())
        .collect();
    let mut rng = SplitMix(SEED);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                Coord {
                    x: bbox.min().x + rng.next_f64() * bbox.width(),
                    y: bbox.min().y + rng.next_f64() * bbox.height(),
                }
            } else {
                let v = vertices
                    [((rng.next_f64() * vertices.len() as f64) as usize).min(vertices.len() - 1)];
                direct(v, 360.0 * rng.next_f64(), 40_000.0 * rng.next_f64()).0
            }
        })
        .collect()
}

/// Every `len / k`-th point.
fn sample(points: &[LonLat], k: usize) -> Vec<LonLat> {
    let step = (points.len() / k).max(1);
    points.iter().step_by(step).take(k).copied().collect()
}

fn classify_all(index: &BorderIndex, points: &[LonLat]) -> usize {
    points
        .iter()
        .filter(|&&p| index.nearest(p).is_some_and(|n| n.distance_m <= 20_000.0))
        .count()
}

fn brute_all(index: &BorderIndex, points: &[LonLat]) -> usize {
    points
        .iter()
        .filter(|&&p| {
            index
                .segments()
                .nearest_brute_force(p)
                .is_some_and(|n| n.distance_m <= 20_000.0)
        })
        .count()
}

fn zone(c: &mut Criterion) {
    let indexes = selections();
    let osm = osm_points();
    let generated = generated_points(GENERATED);

    let mut g = c.benchmark_group("index_build");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let path = Path::new(BORDER);
    let border = Border::read(path, "neighbour").expect("embedded border reads");
    for (name, sel) in [("all", vec![]), ("CHN", vec!["CHN".to_string()])] {
        let b = border.select(&sel, path).expect("selection");
        g.bench_function(name, |bench| {
            bench.iter(|| BorderIndex::build(black_box(&b)))
        });
    }
    g.finish();

    if let Some(osm) = &osm {
        let mut g = c.benchmark_group(format!("osm_{}", osm.len()));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(osm.len() as u64));
        for (name, index) in &indexes {
            g.bench_with_input(BenchmarkId::new("rtree_exact", name), osm, |b, pts| {
                b.iter(|| classify_all(index, pts))
            });
        }
        g.finish();
    }

    let small = sample(osm.as_deref().unwrap_or(&generated), BRUTE_SAMPLE);
    let mut g = c.benchmark_group(format!("sample_{}", small.len()));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(small.len() as u64));
    for (name, index) in &indexes {
        assert_eq!(
            classify_all(index, &small),
            brute_all(index, &small),
            "filter + refine must equal brute force"
        );
        g.bench_with_input(BenchmarkId::new("rtree_exact", name), &small, |b, pts| {
            b.iter(|| classify_all(index, pts))
        });
        g.bench_with_input(BenchmarkId::new("brute_force", name), &small, |b, pts| {
            b.iter(|| brute_all(index, pts))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("generated");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.sampling_mode(SamplingMode::Flat);
    for (name, index) in &indexes {
        // China only costs more per point (most points are far from
        // China: ~2.4x since the tangent-ball bounds, ~5x before, ~20x
        // before the node balls), so it measures a prefix of the same mixed
        // sequence.
        let n = if *name == "all" {
            GENERATED
        } else {
            GENERATED_CHN
        };
        let pts = &generated[..n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("rtree_exact_{n}"), name),
            pts,
            |b, pts| b.iter(|| classify_all(index, pts)),
        );
        // Membership only, through certified cells (built afresh in every
        // iteration, so the cost of certifying is included).
        let exact = classify_all(index, pts);
        assert_eq!(classify_cells(index, pts), exact, "cells must equal exact");
        g.bench_with_input(
            BenchmarkId::new(format!("cells_{n}"), name),
            pts,
            |b, pts| b.iter(|| classify_cells(index, pts)),
        );
    }
    g.finish();
}

/// Membership through [`ZoneCells`]; the points near the edge are measured
/// exactly.
fn classify_cells(index: &BorderIndex, points: &[LonLat]) -> usize {
    let cells = ZoneCells::new(index.segments(), 20_000.0);
    points
        .iter()
        .filter(|&&p| match cells.verdict(p) {
            Verdict::Inside { .. } => true,
            Verdict::Outside => false,
            Verdict::Undecided => index.segments().nearest_within(p, 20_000.0).is_some(),
        })
        .count()
}

fn strip(c: &mut Criterion) {
    let path = Path::new(BORDER);
    let border = Border::read(path, "neighbour").expect("embedded border reads");
    let country = read_area(Path::new(COUNTRY)).expect("embedded country reads");
    let mut g = c.benchmark_group("strip");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("zone_band_all_20km", |b| {
        b.iter(|| zone_band(black_box(&border), 20_000.0))
    });
    g.bench_function("zone_band_reference_all_20km", |b| {
        b.iter(|| zone_band_reference(black_box(&border), 20_000.0))
    });
    g.bench_function("zone_strip_all_20km", |b| {
        b.iter(|| zone_strip(black_box(&border), 20_000.0, &country))
    });
    g.finish();
}

/// Settlements with the ids 0 … n − 1, in order or shuffled.
fn id_settlements(n: usize, shuffled: bool) -> Vec<Settlement> {
    let mut ids: Vec<usize> = (0..n).collect();
    if shuffled {
        let mut rng = SplitMix(SEED);
        for i in (1..n).rev() {
            ids.swap(i, (rng.next_f64() * (i + 1) as f64) as usize);
        }
    }
    ids.into_iter()
        .enumerate()
        .map(|(index, id)| Settlement {
            id: id.to_string(),
            name: String::new(),
            named: false,
            feature: InputFeature {
                index,
                ..InputFeature::blank()
            },
        })
        .collect()
}

fn duplicate_ids(c: &mut Criterion) {
    const IDS: usize = 200_000;
    let mut g = c.benchmark_group("duplicate_ids");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(IDS as u64));
    let identity = IdentityFields {
        id_field: Some("id".into()),
        name_field: None,
    };
    for shuffled in [false, true] {
        let settlements = id_settlements(IDS, shuffled);
        let name = if shuffled { "shuffled" } else { "sorted" };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut dups = DuplicateIds::default();
                let mut run = IdRun::default();
                for part in settlements.chunks(512) {
                    run.look_at(part, dups.wants_hashes());
                    dups.add_run(&run, part);
                }
                // No repeated id: the layer is not read again.
                dups.finish(Path::new("unread.csv"), &ReadOptions::default(), &identity)
                    .expect("distinct ids")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, zone, duplicate_ids, strip);
criterion_main!(benches);
