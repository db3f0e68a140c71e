//! Roads from a GeoJSON layer of LineStrings / MultiLineStrings.
//!
//! Vertices with exactly equal coordinates are one node, so lines that share
//! an end coordinate are joined. With a snapping tolerance, line ends closer
//! than the tolerance to each other are joined too (near-miss digitising):
//! each group takes the position of its first-read end, moving the others by
//! at most the tolerance (groups chain, so a long run of close ends can move
//! further).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rstar::primitives::GeomWithData;
use rstar::RTree;

use super::graph::{GraphBuilder, Oneway, RoadGraph, WayInfo};
use super::osm_pbf::oneway_from_tags;
use super::speeds::{parse_maxspeed_kmh, RoadClass, SpeedTable};
use crate::error::Location;
use crate::geodesy::{self, LonLat};
use crate::{Error, Result};

/// Property names and options of a GeoJSON road layer. A property set to
/// `None`, or absent from a feature, is not used.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoJsonRoadOptions {
    /// Road class, with OSM `highway` values (default `"highway"`). Other
    /// values, or none, give [`RoadClass::Unknown`].
    pub class_property: Option<String>,
    /// Speed in km/h: a number, or an OSM `maxspeed` string (default
    /// `"maxspeed"`). Unusable values fall back to the class speed.
    pub speed_property: Option<String>,
    /// OSM-style `oneway` (`yes`/`1`/`true`/`-1`, or a boolean) (default
    /// `"oneway"`).
    pub oneway_property: Option<String>,
    /// Street name (default `"name"`).
    pub name_property: Option<String>,
    /// Join line ends closer than this (m); 0 joins only equal coordinates.
    pub snap_tolerance_m: f64,
}

impl Default for GeoJsonRoadOptions {
    fn default() -> Self {
        GeoJsonRoadOptions {
            class_property: Some("highway".into()),
            speed_property: Some("maxspeed".into()),
            oneway_property: Some("oneway".into()),
            name_property: Some("name".into()),
            snap_tolerance_m: 0.0,
        }
    }
}

/// What the reader saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoJsonReadStats {
    /// Features read.
    pub features: usize,
    /// Lines (LineStrings and MultiLineString parts) kept.
    pub lines: usize,
    /// Lines with fewer than two distinct vertices, skipped.
    pub degenerate_lines: usize,
    /// Features without a known class ([`RoadClass::Unknown`]).
    pub unknown_class: usize,
    /// Features with a usable speed value.
    pub speed_used: usize,
    /// Features with a speed value that could not be used.
    pub speed_fallback: usize,
    /// Line ends moved to join another end within the snapping tolerance.
    pub ends_joined: usize,
}

/// Read a GeoJSON road layer from `path` and freeze it.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened; [`Error::Format`] for bad JSON
/// or a feature whose geometry is not a (Multi)LineString (names the feature
/// index); [`Error::Invalid`] for a missing geometry, an invalid lon/lat, or a
/// negative snapping tolerance.
pub fn read_roads(
    path: &Path,
    opts: &GeoJsonRoadOptions,
    speeds: &SpeedTable,
) -> Result<(RoadGraph, GeoJsonReadStats)> {
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    read_roads_from(BufReader::new(file), path, opts, speeds)
}

/// As [`read_roads`], from any reader; `path` only names the input in errors.
///
/// # Errors
/// As [`read_roads`].
pub fn read_roads_from(
    reader: impl Read,
    path: &Path,
    opts: &GeoJsonRoadOptions,
    speeds: &SpeedTable,
) -> Result<(RoadGraph, GeoJsonReadStats)> {
    if !(opts.snap_tolerance_m >= 0.0 && opts.snap_tolerance_m.is_finite()) {
        return Err(Error::config(format!(
            "road snapping tolerance must be >= 0 m, got {}",
            opts.snap_tolerance_m
        )));
    }
    let mut stats = GeoJsonReadStats::default();
    let mut builder = GraphBuilder::new();
    let mut vertex_of: HashMap<(u64, u64), u32> = HashMap::new();
    let mut lines: Vec<(WayInfo, Vec<u32>)> = Vec::new();
    for (index, feature) in geojson::FeatureReader::from_reader(reader)
        .features()
        .enumerate()
    {
        let at = || Location::feature(path, index);
        let feature = feature.map_err(|e| Error::format(at(), e.to_string()))?;
        stats.features += 1;
        let prop = |name: &Option<String>| {
            name.as_deref()
                .and_then(|n| feature.property(n))
                .filter(|v| !v.is_null())
        };
        let class_value = prop(&opts.class_property).and_then(|v| v.as_str());
        let class = class_value.and_then(RoadClass::from_osm);
        if class.is_none() {
            stats.unknown_class += 1;
        }
        let maxspeed_kmh = match prop(&opts.speed_property) {
            None => None,
            Some(v) => {
                let kmh = match v {
                    serde_json::Value::Number(n) => n.as_f64().filter(|&x| x > 0.0 && x <= 250.0),
                    serde_json::Value::String(s) => parse_maxspeed_kmh(s),
                    _ => None,
                };
                if kmh.is_some() {
                    stats.speed_used += 1;
                } else {
                    stats.speed_fallback += 1;
                }
                kmh
            }
        };
        let oneway = match prop(&opts.oneway_property) {
            Some(serde_json::Value::Bool(true)) => Oneway::Forward,
            Some(serde_json::Value::Bool(false)) => Oneway::No,
            Some(serde_json::Value::Number(n)) => match n.as_i64() {
                Some(1) => Oneway::Forward,
                Some(-1) => Oneway::Backward,
                _ => Oneway::No,
            },
            Some(serde_json::Value::String(s)) => oneway_from_tags(Some(s), class, None),
            _ => oneway_from_tags(None, class, None),
        };
        let name = prop(&opts.name_property)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        let info = WayInfo {
            class,
            maxspeed_kmh,
            oneway,
            name,
            source_id: index as i64,
        };
        let Some(geometry) = &feature.geometry else {
            return Err(Error::invalid(at(), "feature has no geometry"));
        };
        let parts: Vec<&Vec<Vec<f64>>> = match &geometry.value {
            geojson::Value::LineString(l) => vec![l],
            geojson::Value::MultiLineString(ls) => ls.iter().collect(),
            other => {
                return Err(Error::format(
                    at(),
                    format!(
                        "road geometry must be LineString or MultiLineString, found {}",
                        other.type_name()
                    ),
                ))
            }
        };
        for part in parts {
            let mut vs = Vec::with_capacity(part.len());
            for pos in part {
                let p = match pos.as_slice() {
                    [x, y, ..] => LonLat { x: *x, y: *y },
                    _ => {
                        return Err(Error::invalid(
                            at(),
                            format!("position {pos:?} has fewer than two numbers"),
                        ))
                    }
                };
                if !geodesy::is_valid_lonlat(p) {
                    return Err(Error::invalid(at(), format!("invalid lon/lat {p:?}")));
                }
                // +0.0 so that -0.0 and 0.0 are one node.
                let key = ((p.x + 0.0).to_bits(), (p.y + 0.0).to_bits());
                let v = *vertex_of
                    .entry(key)
                    .or_insert_with(|| builder.add_vertex(p));
                if vs.last() != Some(&v) {
                    vs.push(v);
                }
            }
            if vs.len() < 2 {
                stats.degenerate_lines += 1;
                continue;
            }
            lines.push((info.clone(), vs));
        }
    }
    drop(vertex_of);
    let rep = if opts.snap_tolerance_m > 0.0 {
        join_near_ends(&builder, &lines, opts.snap_tolerance_m, &mut stats)
    } else {
        (0..builder.vertex_count() as u32).collect()
    };
    for (info, vs) in lines {
        if builder.add_way(info, vs.into_iter().map(|v| rep[v as usize])) {
            stats.lines += 1;
        } else {
            stats.degenerate_lines += 1;
        }
    }
    Ok((builder.freeze(speeds), stats))
}

/// Union line ends within `tol_m` (exact geodesic test after an ECEF chord
/// filter, chord ≤ geodesic); returns the representative of every vertex.
fn join_near_ends(
    builder: &GraphBuilder,
    lines: &[(WayInfo, Vec<u32>)],
    tol_m: f64,
    stats: &mut GeoJsonReadStats,
) -> Vec<u32> {
    let mut ends: Vec<u32> = lines
        .iter()
        .flat_map(|(_, vs)| [vs[0], vs[vs.len() - 1]])
        .collect();
    ends.sort_unstable();
    ends.dedup();
    let tree = RTree::bulk_load(
        ends.iter()
            .map(|&v| GeomWithData::new(geodesy::ecef(builder.vertex(v)), v))
            .collect(),
    );
    let mut parent: Vec<u32> = (0..builder.vertex_count() as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for &v in &ends {
        let p = builder.vertex(v);
        for other in tree.locate_within_distance(geodesy::ecef(p), tol_m * tol_m) {
            let w = other.data;
            if w != v && geodesy::distance_m(p, builder.vertex(w)) <= tol_m {
                let (a, b) = (find(&mut parent, v), find(&mut parent, w));
                if a != b {
                    parent[a.max(b) as usize] = a.min(b);
                }
            }
        }
    }
    let rep: Vec<u32> = (0..parent.len() as u32)
        .map(|v| find(&mut parent, v))
        .collect();
    stats.ends_joined = ends.iter().filter(|&&v| rep[v as usize] != v).count();
    rep
}
