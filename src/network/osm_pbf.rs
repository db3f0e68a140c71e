//! Roads from an OpenStreetMap PBF file.
//!
//! Two passes, each decoding the blocks in parallel: the first keeps the
//! drivable `highway=*` ways (with their node ids, or their coordinates when
//! the file has `LocationsOnWays`), the second reads the coordinates of only
//! the nodes those ways use. Ways whose nodes are missing from the file
//! (clipped extracts) are split into the runs of consecutive present nodes;
//! the missing references are counted, not fatal.

use std::path::Path;

use osmpbf::{BlobDecode, BlobReader, PrimitiveBlock, Way};
use rayon::prelude::*;

use super::graph::{GraphBuilder, Oneway, RoadGraph, WayInfo, NONE};
use super::speeds::{parse_maxspeed_kmh, RoadClass, SpeedTable};
use crate::error::Location;
use crate::geodesy::{self, LonLat};
use crate::{Error, Result};

/// Which ways to read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OsmRoadOptions {
    /// Also read `highway=track` (default false).
    pub include_tracks: bool,
}

/// What the reader saw; every way it left out is counted here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsmReadStats {
    /// Nodes in the file.
    pub nodes: usize,
    /// Ways in the file.
    pub ways: usize,
    /// Ways with any `highway=*` tag (roads, paths, footways…).
    pub highway_ways: usize,
    /// Drivable ways kept.
    pub drivable_ways: usize,
    /// Drivable ways that reference at least one node missing from the file.
    pub ways_with_missing_nodes: usize,
    /// References to missing nodes, over all drivable ways.
    pub missing_node_refs: usize,
    /// Drivable ways of which nothing usable was left (fewer than two
    /// consecutive present nodes).
    pub ways_dropped: usize,
    /// Extra pieces made by splitting ways at missing nodes.
    pub extra_pieces: usize,
    /// Drivable ways with a usable numeric `maxspeed`.
    pub maxspeed_used: usize,
    /// Drivable ways whose `maxspeed` could not be used (symbolic values such
    /// as `RU:urban`, `none`): the class default applies.
    pub maxspeed_fallback: usize,
    /// Drivable ways that are one-way (tagged or implied).
    pub oneway_ways: usize,
}

struct RawWay {
    index: usize,
    info: WayInfo,
    refs: Vec<i64>,
    locations: Vec<LonLat>,
}

fn drivable(class: RoadClass, opts: &OsmRoadOptions) -> bool {
    class != RoadClass::Track || opts.include_tracks
}

/// The allowed direction from OSM tags: explicit `oneway` wins; motorways
/// and roundabouts are one-way by default.
pub fn oneway_from_tags(
    oneway: Option<&str>,
    class: Option<RoadClass>,
    junction: Option<&str>,
) -> Oneway {
    match oneway {
        Some("yes" | "1" | "true") => Oneway::Forward,
        Some("-1" | "reverse") => Oneway::Backward,
        Some("no" | "0" | "false") => Oneway::No,
        _ => {
            let implied = class == Some(RoadClass::Motorway)
                || matches!(junction, Some("roundabout" | "circular"));
            if implied {
                Oneway::Forward
            } else {
                Oneway::No
            }
        }
    }
}

/// The drivable ways of one PBF block (`index` counts the block's ways).
#[derive(Default)]
struct BlockWays {
    stats: OsmReadStats,
    raw: Vec<RawWay>,
    need_nodes: bool,
}

impl BlockWays {
    fn add(&mut self, w: &Way<'_>, opts: &OsmRoadOptions) {
        let stats = &mut self.stats;
        let index = stats.ways;
        stats.ways += 1;
        let (mut highway, mut oneway, mut maxspeed, mut name, mut junction, mut area) =
            (None, None, None, None, None, false);
        for (k, v) in w.tags() {
            match k {
                "highway" => highway = Some(v),
                "oneway" => oneway = Some(v),
                "maxspeed" => maxspeed = Some(v),
                "name" => name = Some(v),
                "junction" => junction = Some(v),
                "area" => area = v == "yes",
                _ => {}
            }
        }
        let Some(highway) = highway else { return };
        stats.highway_ways += 1;
        let Some(class) = RoadClass::from_osm(highway).filter(|&c| drivable(c, opts)) else {
            return;
        };
        if area {
            return;
        }
        stats.drivable_ways += 1;
        let maxspeed_kmh = maxspeed.and_then(parse_maxspeed_kmh);
        match (maxspeed, maxspeed_kmh) {
            (Some(_), Some(_)) => stats.maxspeed_used += 1,
            (Some(_), None) => stats.maxspeed_fallback += 1,
            _ => {}
        }
        let oneway = oneway_from_tags(oneway, Some(class), junction);
        if oneway != Oneway::No {
            stats.oneway_ways += 1;
        }
        let refs: Vec<i64> = w.refs().collect();
        let locations: Vec<LonLat> = w
            .node_locations()
            .map(|l| LonLat {
                x: l.lon(),
                y: l.lat(),
            })
            .collect();
        if locations.len() != refs.len() {
            self.need_nodes = true;
        }
        let info = WayInfo {
            class: Some(class),
            maxspeed_kmh,
            oneway,
            name: name.map(str::to_string),
            source_id: w.id(),
        };
        self.raw.push(RawWay {
            index,
            info,
            refs,
            locations,
        });
    }
}

impl OsmReadStats {
    /// Add the counts of the first pass over one block.
    fn add(&mut self, block: &OsmReadStats) {
        self.nodes += block.nodes;
        self.ways += block.ways;
        self.highway_ways += block.highway_ways;
        self.drivable_ways += block.drivable_ways;
        self.maxspeed_used += block.maxspeed_used;
        self.maxspeed_fallback += block.maxspeed_fallback;
        self.oneway_ways += block.oneway_ways;
    }
}

/// Read the drivable road network of an OSM PBF file and freeze it.
///
/// Kept: `highway` = motorway, trunk, primary, secondary, tertiary (and
/// their `_link`s), unclassified, residential, living_street, service, and
/// track when [`OsmRoadOptions::include_tracks`]; not `area=yes`. Speeds:
/// a numeric `maxspeed` when [`SpeedTable::use_maxspeed`], else the class
/// default. `oneway=reversible/alternating` is taken as two-way.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened; [`Error::Format`] for a
/// corrupt block or a file that needs a feature this reader lacks (history
/// files, `HistoricalInformation`); [`Error::Invalid`] for a node of a road
/// with coordinates out of range (names the way index and node id).
pub fn read_roads(
    path: &Path,
    opts: &OsmRoadOptions,
    speeds: &SpeedTable,
) -> Result<(RoadGraph, OsmReadStats)> {
    check_header(path)?;
    // Pass 1: ways; each block's ways are numbered within it, then in file
    // order.
    let blocks = map_data_blocks(path, |block| {
        let mut out = BlockWays::default();
        for group in block.groups() {
            // Nodes are only counted here (not decoded).
            out.stats.nodes += group.nodes().len() + group.dense_nodes().len();
            for way in group.ways() {
                out.add(&way, opts);
            }
        }
        out
    })?;
    let mut stats = OsmReadStats::default();
    let mut raw = Vec::with_capacity(blocks.iter().map(|b| b.raw.len()).sum());
    let mut need_nodes = false;
    for block in blocks {
        let first_way = stats.ways;
        stats.add(&block.stats);
        need_nodes |= block.need_nodes;
        raw.extend(block.raw.into_iter().map(|mut w| {
            w.index += first_way;
            w
        }));
    }
    // Every node id the ways use, sorted: a node's place in this list is its
    // index in the arrays below (no hash maps over node ids).
    let mut used_ids: Vec<i64> = Vec::with_capacity(raw.iter().map(|w| w.refs.len()).sum());
    for w in &raw {
        used_ids.extend_from_slice(&w.refs);
    }
    used_ids.par_sort_unstable();
    used_ids.dedup();
    let ids = &used_ids;
    // A way's nodes mostly have nearby ids: each is searched for from the
    // place of the one before.
    let refs: Vec<Vec<u32>> = raw
        .par_iter()
        .map(|w| {
            let mut at = 0;
            w.refs
                .iter()
                .map(|&r| {
                    at = gallop(ids, at, r).expect("every ref is listed");
                    at as u32
                })
                .collect()
        })
        .collect();
    // Pass 2: the coordinates of the nodes the ways use.
    let missing_pos = LonLat {
        x: f64::NAN,
        y: f64::NAN,
    };
    let mut positions: Vec<LonLat> = Vec::new();
    if need_nodes {
        positions = vec![missing_pos; ids.len()];
        let found = map_data_blocks(path, |block| {
            let mut out = Vec::new();
            // Nodes come sorted by id in most files: searched for from the
            // place of the one before.
            let mut at = 0;
            let mut keep = |id: i64, lon: f64, lat: f64| match gallop(ids, at, id) {
                Ok(i) => {
                    out.push((i as u32, LonLat { x: lon, y: lat }));
                    at = i;
                }
                // (`gallop` clamps a start past the end.)
                Err(i) => at = i,
            };
            for group in block.groups() {
                for n in group.nodes() {
                    keep(n.id(), n.lon(), n.lat());
                }
                for n in group.dense_nodes() {
                    keep(n.id(), n.lon(), n.lat());
                }
            }
            out
        })?;
        for (i, p) in found.into_iter().flatten() {
            positions[i as usize] = p;
        }
    }
    // Build: one vertex per OSM node used (the first way to use it places
    // it), ways split at missing nodes.
    let mut builder = GraphBuilder::new();
    let mut vertex_of = vec![NONE; ids.len()];
    let mut run: Vec<u32> = Vec::new();
    for (w, refs) in raw.into_iter().zip(refs) {
        let on_way = w.locations.len() == w.refs.len();
        let mut missing = 0;
        let mut pieces = 0;
        run.clear();
        for (i, &j) in refs.iter().enumerate() {
            let p = if on_way {
                w.locations[i]
            } else {
                positions[j as usize]
            };
            if p.x.is_nan() {
                missing += 1;
                if builder.add_way(w.info.clone(), run.drain(..)) {
                    pieces += 1;
                }
                continue;
            }
            if !geodesy::is_valid_lonlat(p) {
                let at = Location::feature(path, w.index);
                return Err(Error::invalid(
                    at,
                    format!(
                        "way {}: node {} has invalid lon/lat {p:?}",
                        w.info.source_id, w.refs[i]
                    ),
                ));
            }
            let v = &mut vertex_of[j as usize];
            if *v == NONE {
                *v = builder.add_vertex(p);
            }
            run.push(*v);
        }
        if builder.add_way(w.info, run.drain(..)) {
            pieces += 1;
        }
        if missing > 0 {
            stats.ways_with_missing_nodes += 1;
            stats.missing_node_refs += missing;
        }
        match pieces {
            0 => stats.ways_dropped += 1,
            n => stats.extra_pieces += n - 1,
        }
    }
    // The graph is frozen without the lookup tables above.
    drop((used_ids, positions, vertex_of));
    Ok((builder.freeze(speeds), stats))
}

/// `sorted.binary_search(&x)`, searched for outwards from index `from`
/// (doubling steps, then bisection): O(log d) for an answer d places away,
/// so a run of nearby, mostly increasing values is looked up in near-linear
/// time.
fn gallop(sorted: &[i64], from: usize, x: i64) -> std::result::Result<usize, usize> {
    let n = sorted.len();
    if n == 0 {
        return Err(0);
    }
    let from = from.min(n - 1);
    // A range [lo, hi) of `sorted` that holds x's place.
    let (lo, hi) = if sorted[from] <= x {
        let mut step = 1;
        let mut lo = from;
        loop {
            let probe = from + step;
            if probe >= n || sorted[probe] > x {
                break (lo, probe.min(n));
            }
            lo = probe;
            step *= 2;
        }
    } else {
        let mut step = 1;
        let mut hi = from;
        loop {
            if step > from || sorted[from - step] <= x {
                break (from.saturating_sub(step), hi);
            }
            hi = from - step;
            step *= 2;
        }
    };
    sorted[lo..hi]
        .binary_search(&x)
        .map(|i| lo + i)
        .map_err(|i| lo + i)
}

/// The error of a PBF file that cannot be read or decoded.
fn pbf_error(path: &Path, e: osmpbf::Error) -> Error {
    match e.kind() {
        osmpbf::ErrorKind::Io(_) => {
            Error::format(Location::file(path), format!("cannot read PBF: {e}"))
        }
        _ => Error::format(Location::file(path), format!("corrupt PBF: {e}")),
    }
}

/// Decode the data blocks of `path` in parallel and map each with `f`: the
/// results in file order, or the first error in file order, whatever the
/// number of threads.
fn map_data_blocks<T: Send>(
    path: &Path,
    f: impl Fn(&PrimitiveBlock) -> T + Sync,
) -> Result<Vec<T>> {
    let err = |e| pbf_error(path, e);
    let mut blocks: Vec<(usize, Result<Option<T>>)> = BlobReader::from_path(path)
        .map_err(err)?
        .enumerate()
        .par_bridge()
        .map(|(seq, blob)| {
            let mapped = blob.map_err(err).and_then(|blob| {
                Ok(match blob.decode().map_err(err)? {
                    BlobDecode::OsmData(block) => Some(f(&block)),
                    _ => None,
                })
            });
            (seq, mapped)
        })
        .collect();
    blocks.sort_unstable_by_key(|(seq, _)| *seq);
    blocks
        .into_iter()
        .filter_map(|(_, mapped)| mapped.transpose())
        .collect()
}

/// Reject files that need features this reader does not implement.
fn check_header(path: &Path) -> Result<()> {
    let mut reader = BlobReader::from_path(path).map_err(|e| match e.into_kind() {
        osmpbf::ErrorKind::Io(io) => Error::io(path, "open", io),
        k => Error::format(Location::file(path), format!("not an OSM PBF file: {k:?}")),
    })?;
    let Some(first) = reader.next() else {
        return Err(Error::format(
            Location::file(path),
            "empty file, not an OSM PBF file",
        ));
    };
    let blob = first
        .map_err(|e| Error::format(Location::file(path), format!("not an OSM PBF file: {e}")))?;
    if let Ok(BlobDecode::OsmHeader(header)) = blob.decode() {
        for feature in header.required_features() {
            match feature.as_str() {
                "OsmSchema-V0.6" | "DenseNodes" => {}
                "HistoricalInformation" => {
                    return Err(Error::format(
                        Location::file(path),
                        "this is an OSM history file (.osh.pbf, required feature HistoricalInformation); \
                         give a current-state extract (.osm.pbf) instead",
                    ))
                }
                other => {
                    return Err(Error::format(
                        Location::file(path),
                        format!("the file requires the PBF feature '{other}', which this reader does not support"),
                    ))
                }
            }
        }
    } else {
        return Err(Error::format(
            Location::file(path),
            "the first block is not an OSMHeader: not an OSM PBF file",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallop_answers_as_binary_search_from_any_start() {
        let mut st = 3u64;
        for n in [0usize, 1, 2, 3, 7, 100, 1000] {
            let mut v: Vec<i64> = (0..n)
                .map(|_| (crate::test_rand::next_u64(&mut st) % 5000) as i64 - 2500)
                .collect();
            v.sort_unstable();
            v.dedup();
            for _ in 0..300 {
                let x = (crate::test_rand::next_u64(&mut st) % 5200) as i64 - 2600;
                let from = (crate::test_rand::next_u64(&mut st) % (n as u64 + 3)) as usize;
                assert_eq!(
                    gallop(&v, from, x),
                    v.binary_search(&x),
                    "n {n} from {from} x {x}"
                );
            }
            for (i, &x) in v.iter().enumerate() {
                assert_eq!(gallop(&v, 0, x), Ok(i));
                assert_eq!(gallop(&v, v.len(), x), Ok(i));
            }
        }
    }
}
