//! Export the road graph that `borderzone access` builds, as plain arrays, so
//! that other tools (scipy csgraph, pgRouting) can answer exactly the same
//! question on exactly the same graph. Used by `benches/compare/access/`.
//!
//! ```text
//! cargo run --release --example export_graph -- --roads R.osm.pbf|R.geojson \
//!     --settlements S.geojson --services F.geojson --category-field amenity \
//!     [--off-road-kmh 15] [--max-snap-km 5] --out DIR
//! ```
//!
//! The exported graph is borderzone's frozen graph *augmented* with one
//! virtual node per settlement and per facility, so that a plain node-to-node
//! shortest path reproduces the access job's partial-edge snapping:
//!
//! - nodes `0..n`: the graph's junctions; one arc per drivable direction of
//!   every edge (`length_m`, `time_s` as borderzone computed them);
//! - node `n + i` for settlement `i`: arcs to the ends of its snapped edge that
//!   may be driven towards, weighted by the partial edge plus its access leg
//!   (off-road speed for the leg's time);
//! - node `n + S + j` for facility `j`: arcs from the ends of its edge from
//!   which its joining point may be reached, partial edge plus its leg;
//! - a direct arc settlement → facility when both join the same edge and the
//!   edge may be driven from one joining point to the other.
//!
//! Settlement nodes only have outgoing arcs and facility nodes only incoming
//! ones, so no path passes through them. Unsnapped places (no road within the
//! snap distance) get an isolated node.
//!
//! Files in DIR: `arcs.csv` (`tail,head,length_m,time_s`, forward direction),
//! the same columns as `arcs_tail.npy`, `arcs_head.npy` (u32),
//! `arcs_length_m.npy`, `arcs_time_s.npy` (f64), `settlements.csv`
//! (`index,id,node,snapped`), `facilities.csv` (`index,id,category,node,
//! snapped`) and `meta.json`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use borderzone::jobs::access::{read_places, read_roads, read_services, RoadInput, ServiceLayer};
use borderzone::network::snap::snap_point;
use borderzone::network::SnapStatus;

struct Args {
    roads: PathBuf,
    settlements: PathBuf,
    services: PathBuf,
    category_field: String,
    off_road_kmh: f64,
    max_snap_km: f64,
    out: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        roads: PathBuf::new(),
        settlements: PathBuf::new(),
        services: PathBuf::new(),
        category_field: "category".into(),
        off_road_kmh: 15.0,
        max_snap_km: 5.0,
        out: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k}: missing value"));
        match k.as_str() {
            "--roads" => a.roads = v.into(),
            "--settlements" => a.settlements = v.into(),
            "--services" => a.services = v.into(),
            "--category-field" => a.category_field = v,
            "--off-road-kmh" => a.off_road_kmh = v.parse().expect("--off-road-kmh"),
            "--max-snap-km" => a.max_snap_km = v.parse().expect("--max-snap-km"),
            "--out" => a.out = v.into(),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        !a.out.as_os_str().is_empty(),
        "usage: export_graph --roads R --settlements S --services F --out DIR"
    );
    a
}

/// Write a 1-D .npy file (format 1.0, little-endian).
fn write_npy<T: Copy>(path: &Path, descr: &str, values: &[T], to_le: impl Fn(T) -> Vec<u8>) {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({},), }}",
        values.len()
    );
    // Magic (6) + version (2) + header length (2) + header, padded to 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut w = BufWriter::new(File::create(path).expect("create npy"));
    w.write_all(b"\x93NUMPY\x01\x00").unwrap();
    w.write_all(&(header.len() as u16).to_le_bytes()).unwrap();
    w.write_all(header.as_bytes()).unwrap();
    for &v in values {
        w.write_all(&to_le(v)).unwrap();
    }
    w.flush().unwrap();
}

fn main() {
    // `export_graph --print-bbox ROADS`: the extent of the graph's nodes, as
    // `min_lon min_lat max_lon max_lat` (for generating points over it).
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--print-bbox") {
        let roads = read_roads(&RoadInput {
            path: argv[2].clone().into(),
            ..Default::default()
        })
        .expect("roads");
        let g = &roads.graph;
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for v in 0..g.node_count() as u32 {
            let p = g.node_position(v);
            lo = [lo[0].min(p.x), lo[1].min(p.y)];
            hi = [hi[0].max(p.x), hi[1].max(p.y)];
        }
        println!("{} {} {} {}", lo[0], lo[1], hi[0], hi[1]);
        return;
    }
    let a = args();
    let t0 = Instant::now();
    let roads = read_roads(&RoadInput {
        path: a.roads.clone(),
        ..Default::default()
    })
    .expect("roads");
    let g = &roads.graph;
    let places = read_places(
        &a.settlements,
        &Default::default(),
        &Default::default(),
        &Default::default(),
    )
    .expect("settlements");
    let (services, _) = read_services(
        &[ServiceLayer::with_field(&a.services, &a.category_field)],
        &[],
    )
    .expect("services");
    let max_snap_m = a.max_snap_km * 1000.0;
    let off_ms = a.off_road_kmh / 3.6;
    let read_s = t0.elapsed().as_secs_f64();

    let n = g.node_count() as u32;
    let s_count = places.len() as u32;
    let mut tail = Vec::new();
    let mut head = Vec::new();
    let mut len = Vec::new();
    let mut time = Vec::new();
    let mut push = |t: u32, h: u32, l: f64, s: f64| {
        tail.push(t);
        head.push(h);
        len.push(l);
        time.push(s);
    };
    for e in g.edges() {
        if e.forward {
            push(e.from, e.to, e.length_m, e.time_s);
        }
        if e.backward {
            push(e.to, e.from, e.length_m, e.time_s);
        }
    }
    // (distance, time) of `part_m` of edge `e`, as the access job computes it.
    let part = |e: u32, part_m: f64| {
        let e = g.edge(e);
        let t = if e.length_m > 0.0 {
            e.time_s * (part_m / e.length_m)
        } else {
            0.0
        };
        (part_m, t)
    };
    let s_snaps: Vec<SnapStatus> = places
        .iter()
        .map(|(_, p)| snap_point(g, p.position, max_snap_m))
        .collect();
    let f_snaps: Vec<SnapStatus> = services
        .iter()
        .map(|s| snap_point(g, s.facility.position, max_snap_m))
        .collect();
    let mut fac_on_edge: HashMap<u32, Vec<usize>> = HashMap::new();
    for (j, fs) in f_snaps.iter().enumerate() {
        let Some(s) = fs.snap() else { continue };
        fac_on_edge.entry(s.edge).or_default().push(j);
        let e = g.edge(s.edge);
        let node = n + s_count + j as u32;
        let leg = (s.leg_m, s.leg_m / off_ms);
        if e.forward {
            let (d, t) = part(s.edge, s.along_m);
            push(e.from, node, leg.0 + d, leg.1 + t);
        }
        if e.backward {
            let (d, t) = part(s.edge, e.length_m - s.along_m);
            push(e.to, node, leg.0 + d, leg.1 + t);
        }
    }
    let mut same_edge = 0usize;
    for (i, ss) in s_snaps.iter().enumerate() {
        let Some(s) = ss.snap() else { continue };
        let e = g.edge(s.edge);
        let node = n + i as u32;
        let leg = (s.leg_m, s.leg_m / off_ms);
        if e.forward {
            let (d, t) = part(s.edge, e.length_m - s.along_m);
            push(node, e.to, leg.0 + d, leg.1 + t);
        }
        if e.backward {
            let (d, t) = part(s.edge, s.along_m);
            push(node, e.from, leg.0 + d, leg.1 + t);
        }
        for &j in fac_on_edge.get(&s.edge).map(Vec::as_slice).unwrap_or(&[]) {
            let fs = f_snaps[j].snap().expect("snapped");
            let ok =
                (e.forward && fs.along_m >= s.along_m) || (e.backward && fs.along_m <= s.along_m);
            if ok {
                let (d, t) = part(s.edge, (fs.along_m - s.along_m).abs());
                push(
                    node,
                    n + s_count + j as u32,
                    leg.0 + fs.leg_m + d,
                    leg.1 + fs.leg_m / off_ms + t,
                );
                same_edge += 1;
            }
        }
    }
    let build_s = t0.elapsed().as_secs_f64() - read_s;

    std::fs::create_dir_all(&a.out).expect("out dir");
    let mut w = BufWriter::new(File::create(a.out.join("arcs.csv")).unwrap());
    writeln!(w, "tail,head,length_m,time_s").unwrap();
    for k in 0..tail.len() {
        // {:?} prints the shortest text that parses back to the same f64.
        writeln!(w, "{},{},{:?},{:?}", tail[k], head[k], len[k], time[k]).unwrap();
    }
    w.flush().unwrap();
    write_npy(&a.out.join("arcs_tail.npy"), "<u4", &tail, |v| {
        v.to_le_bytes().to_vec()
    });
    write_npy(&a.out.join("arcs_head.npy"), "<u4", &head, |v| {
        v.to_le_bytes().to_vec()
    });
    write_npy(&a.out.join("arcs_length_m.npy"), "<f8", &len, |v| {
        v.to_le_bytes().to_vec()
    });
    write_npy(&a.out.join("arcs_time_s.npy"), "<f8", &time, |v| {
        v.to_le_bytes().to_vec()
    });
    let mut w = BufWriter::new(File::create(a.out.join("settlements.csv")).unwrap());
    writeln!(w, "index,id,node,snapped").unwrap();
    for (i, ((_, p), ss)) in places.iter().zip(&s_snaps).enumerate() {
        let id = p.id.replace(['"', ','], "_");
        writeln!(w, "{i},{id},{},{}", n + i as u32, ss.snap().is_some()).unwrap();
    }
    w.flush().unwrap();
    let mut w = BufWriter::new(File::create(a.out.join("facilities.csv")).unwrap());
    writeln!(w, "index,id,category,node,snapped").unwrap();
    for (j, (s, fs)) in services.iter().zip(&f_snaps).enumerate() {
        let id = s.facility.id.replace(['"', ','], "_");
        let cat = s.facility.category.replace(['"', ','], "_");
        let node = n + s_count + j as u32;
        writeln!(w, "{j},{id},{cat},{node},{}", fs.snap().is_some()).unwrap();
    }
    w.flush().unwrap();
    let meta = serde_json::json!({
        "roads": a.roads,
        "roads_read": roads.description,
        "graph_nodes": n,
        "graph_edges": g.edge_count(),
        "components": g.component_count(),
        "settlements": s_count,
        "facilities": services.len(),
        "nodes_total": n as usize + s_count as usize + services.len(),
        "arcs": tail.len(),
        "same_edge_arcs": same_edge,
        "off_road_kmh": a.off_road_kmh,
        "max_snap_m": max_snap_m,
        "read_build_s": read_s,
        "augment_s": build_s,
        "total_s": t0.elapsed().as_secs_f64(),
    });
    std::fs::write(
        a.out.join("meta.json"),
        serde_json::to_string_pretty(&meta).unwrap(),
    )
    .unwrap();
    println!("{meta}");
}
