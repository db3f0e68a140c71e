//! Settlements: input features with a resolved id and name.

use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

use geo::{CoordsIter, Geometry, Polygon};
use serde_json::Value;

use crate::error::{Error, Location, Result};
use crate::geodesy::LonLat;
use crate::io::csv::{CsvColumns, PickedColumns, RecordBatch};
use crate::io::{push_property_text, InputFeature};
use crate::zone::validity::{first_self_intersection, SelfIntersection};

/// Which attributes identify a settlement.
#[derive(Debug, Clone, Default)]
pub struct IdentityFields {
    /// Attribute holding the id. `None`: the GeoJSON feature `id`, else the
    /// 0-based feature index.
    pub id_field: Option<String>,
    /// Attribute holding the name (default `name`; missing or null → empty).
    pub name_field: Option<String>,
}

/// A settlement as read: its id, name and the feature itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// Stable identifier used in every list.
    pub id: String,
    /// Display name (may be empty).
    pub name: String,
    /// Whether the feature has the name attribute (empty or null
    /// included): [`LayerCheck`] counts those that do not.
    pub named: bool,
    /// The input feature (geometry and attributes carried through).
    pub feature: InputFeature,
}

impl IdentityFields {
    /// Resolve the id and name of `feature`.
    ///
    /// # Errors
    /// The id attribute is missing, null or empty.
    pub fn identify(&self, feature: InputFeature, path: &Path) -> Result<Settlement> {
        let mut s = Settlement {
            id: String::new(),
            name: String::new(),
            named: false,
            feature,
        };
        self.identify_in_place(&mut s, path)?;
        Ok(s)
    }

    /// As [`Self::identify`], for a settlement whose `feature` was just
    /// replaced: its `id` and `name` are set from it, reusing their
    /// buffers (nothing moved, nothing allocated once they are large
    /// enough).
    ///
    /// # Errors
    /// As [`Self::identify`].
    pub fn identify_in_place(&self, s: &mut Settlement, path: &Path) -> Result<()> {
        let feature = &s.feature;
        s.id.clear();
        match &self.id_field {
            Some(field) => match property(&feature.properties, field) {
                None => return Err(missing_id(path, feature.index, field)),
                Some(v) => {
                    push_property_text(&mut s.id, v);
                    check_id(&s.id, path, feature.index, field)?;
                }
            },
            None => match &feature.feature_id {
                Some(Value::Null) | None => index_id(&mut s.id, feature.index),
                Some(v) => push_property_text(&mut s.id, v),
            },
        }
        s.name.clear();
        let name = property(&feature.properties, self.name_field());
        s.named = name.is_some();
        if let Some(v) = name {
            push_property_text(&mut s.name, v);
        }
        Ok(())
    }

    /// The name attribute (`name` unless given).
    pub fn name_field(&self) -> &str {
        self.name_field.as_deref().unwrap_or("name")
    }

    /// The columns of a CSV layer holding the id (if named) and name
    /// attributes, for [`Self::identify_csv_row`].
    pub fn csv_columns(&self, columns: &CsvColumns) -> PickedColumns<2> {
        columns.pick([self.id_field.as_deref(), Some(self.name_field())])
    }

    /// Decode row `row` of a CSV batch straight into `s`, its id and name
    /// read from the `picked` columns ([`Self::csv_columns`]) and its
    /// feature left without attributes: the settlement
    /// [`Self::identify_in_place`] gives after
    /// [`RecordBatch::decode_into`], but for the property map, with the
    /// same errors.
    ///
    /// # Errors
    /// As [`RecordBatch::decode_into`], then as [`Self::identify`].
    pub fn identify_csv_row(
        &self,
        batch: &RecordBatch,
        row: usize,
        picked: &PickedColumns<2>,
        s: &mut Settlement,
        path: &Path,
    ) -> Result<()> {
        batch.decode_picked_into(row, picked, &mut s.feature, [&mut s.id, &mut s.name])?;
        let [has_id, named] = picked.present();
        let index = s.feature.index;
        match &self.id_field {
            Some(field) if !has_id => return Err(missing_id(path, index, field)),
            Some(field) => check_id(&s.id, path, index, field)?,
            // A CSV row has no feature id: its index is the id.
            None => index_id(&mut s.id, index),
        }
        s.named = named;
        Ok(())
    }
}

/// The error for a feature without the id attribute `field`.
fn missing_id(path: &Path, index: usize, field: &str) -> Error {
    Error::invalid(
        Location::feature(path, index).with_field(field.to_string()),
        "the id attribute is missing",
    )
}

/// Refuse a blank id.
fn check_id(id: &str, path: &Path, index: usize, field: &str) -> Result<()> {
    // (An id starting with a visible ASCII character is not blank: no need
    // to trim it.)
    let visible = id.as_bytes().first().is_some_and(u8::is_ascii_graphic);
    if !visible && id.trim().is_empty() {
        return Err(Error::invalid(
            Location::feature(path, index).with_field(field.to_string()),
            "the id attribute is empty",
        ));
    }
    Ok(())
}

/// The id of a feature without one: its 0-based index.
fn index_id(id: &mut String, index: usize) {
    use std::fmt::Write as _;
    id.clear();
    let _ = write!(id, "{index}");
}

/// `properties[key]`. A settlement usually has few attributes (a CSV
/// layer's few columns): those are scanned, which is faster than hashing
/// the key.
fn property<'a>(properties: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    if properties.len() <= 8 {
        properties.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        properties.get(key)
    }
}

/// Detects repeated ids: two settlements with one id would make an
/// eligibility list ambiguous.
///
/// Streaming-friendly: each id is recorded as a 64-bit hash (8 bytes an id:
/// 80 MB for ten million), [`Self::finish`] looks for equal ones and, only
/// if two hashes are equal, reads the layer again to find the two features
/// and compare their ids — so a hash collision between different ids is
/// recognised as such and never refuses a valid layer.
///
/// The hashes are kept in 256 buckets by their top byte (equal hashes
/// share a bucket), so that the buckets are searched in parallel at the
/// end, each with a hash set small enough to stay in cache, with no pass
/// to split them.
///
/// Sorted ids are not hashed. Layers usually come sorted by id (GeoNames
/// and OSM ids, KATO codes, row numbers), and ids that strictly increase
/// in *shortlex* order (shorter first, then byte by byte: a strict total
/// order in which numbers without leading zeros sort as numbers and codes
/// of one length as text) are all distinct. So the layer's leading run of
/// increasing ids is only counted, with its last (greatest) id. The ids
/// after it are hashed; when one of them is not greater than that last id
/// it may repeat an id of the run, and [`Self::finish`] then hashes the
/// run's ids too, from a second read of its rows.
#[derive(Debug)]
pub struct DuplicateIds {
    buckets: Vec<Vec<u64>>,
    /// Rows of the leading run of increasing ids (not hashed).
    sorted_rows: usize,
    /// The run's last id (empty while the run is).
    sorted_last: String,
    /// Whether the run still holds every row recorded.
    sorted_open: bool,
    /// Whether an id after the run is not greater than its last.
    sorted_rehash: bool,
}

impl Default for DuplicateIds {
    fn default() -> Self {
        DuplicateIds {
            buckets: vec![Vec::new(); 256],
            sorted_rows: 0,
            sorted_last: String::new(),
            sorted_open: true,
            sorted_rehash: false,
        }
    }
}

/// Whether `a` comes before `b` in shortlex order: the shorter first, then
/// byte by byte.
fn shortlex_lt(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() < b.len() || (a.len() == b.len() && a < b)
}

/// What [`DuplicateIds`] needs of a run of consecutive settlements (e.g. a
/// part of a chunk): computed where the caller likes, e.g. in parallel,
/// then given in layer order to [`DuplicateIds::add_run`]. Its buffers are
/// reused from run to run.
#[derive(Debug, Default)]
pub struct IdRun {
    rows: usize,
    /// Whether the ids strictly increase (shortlex).
    increasing: bool,
    first: String,
    last: String,
    /// The least id (shortlex).
    least: String,
    /// The ids' hashes in order, or none (an increasing run not asked to).
    hashes: Vec<u64>,
}

impl IdRun {
    /// Look at the ids of `settlements`, and hash them unless they increase
    /// and `hash_increasing` is false.
    pub fn look_at(&mut self, settlements: &[Settlement], hash_increasing: bool) {
        self.rows = settlements.len();
        self.hashes.clear();
        self.first.clear();
        self.last.clear();
        self.least.clear();
        let (Some(first), Some(last)) = (settlements.first(), settlements.last()) else {
            self.increasing = true;
            return;
        };
        self.first.push_str(&first.id);
        self.last.push_str(&last.id);
        self.increasing = settlements
            .windows(2)
            .all(|w| shortlex_lt(&w[0].id, &w[1].id));
        if self.increasing {
            self.least.push_str(&first.id);
            if !hash_increasing {
                return;
            }
        } else {
            let least = settlements
                .iter()
                .map(|s| s.id.as_str())
                .reduce(|a, b| if shortlex_lt(b, a) { b } else { a })
                .unwrap_or_default();
            self.least.push_str(least);
        }
        self.hashes
            .extend(settlements.iter().map(settlement_id_hash));
    }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same on every run.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The hash [`DuplicateIds`] records for `s`.
fn settlement_id_hash(s: &Settlement) -> u64 {
    id_hash(&s.id)
}

/// The values that occur more than once in `hashes` (once each for every
/// repeat), found with an open-addressing set in `table` (reused between
/// calls): the hashes are uniformly spread, so their low bits index it.
fn repeated_in(hashes: &[u64], table: &mut Vec<u64>) -> Vec<u64> {
    let slots = (2 * hashes.len()).next_power_of_two().max(16);
    table.clear();
    // 0 marks an empty slot; the hash 0 itself is counted apart.
    table.resize(slots, 0);
    let mask = slots - 1;
    let mut repeated = Vec::new();
    let mut zeros = 0usize;
    for &h in hashes {
        if h == 0 {
            zeros += 1;
            if zeros > 1 {
                repeated.push(0);
            }
            continue;
        }
        let mut i = h as usize & mask;
        loop {
            match table[i] {
                0 => {
                    table[i] = h;
                    break;
                }
                t if t == h => {
                    repeated.push(h);
                    break;
                }
                _ => i = (i + 1) & mask,
            }
        }
    }
    repeated
}

impl DuplicateIds {
    /// Record `s`'s id.
    pub fn check(&mut self, s: &Settlement) {
        if self.extends_sorted(&s.id, &s.id, true, 1) {
            return;
        }
        self.after_sorted(&s.id);
        self.push(id_hash(&s.id));
    }

    /// Record the ids of `run`, looked at in `settlements` (the next rows of
    /// the layer, in order).
    pub fn add_run(&mut self, run: &IdRun, settlements: &[Settlement]) {
        debug_assert_eq!(run.rows, settlements.len());
        if run.rows == 0 || self.extends_sorted(&run.first, &run.last, run.increasing, run.rows) {
            return;
        }
        self.after_sorted(&run.least);
        if run.hashes.len() == run.rows {
            run.hashes.iter().for_each(|&h| self.push(h));
        } else {
            settlements
                .iter()
                .for_each(|s| self.push(settlement_id_hash(s)));
        }
    }

    /// Whether the ids recorded next should be hashed even when they
    /// increase: the leading run of increasing ids has ended.
    pub fn wants_hashes(&self) -> bool {
        !self.sorted_open
    }

    /// Take `rows` ids from `first` to `last` into the leading run if it is
    /// open and they continue it; else close it.
    fn extends_sorted(&mut self, first: &str, last: &str, increasing: bool, rows: usize) -> bool {
        if self.sorted_open
            && increasing
            && (self.sorted_rows == 0 || shortlex_lt(&self.sorted_last, first))
        {
            self.sorted_rows += rows;
            self.sorted_last.clear();
            self.sorted_last.push_str(last);
            return true;
        }
        self.sorted_open = false;
        false
    }

    /// Note ids after the leading run whose least is `least`: one not
    /// greater than the run's last may repeat an id of the run.
    fn after_sorted(&mut self, least: &str) {
        if self.sorted_rows > 0 && !shortlex_lt(&self.sorted_last, least) {
            self.sorted_rehash = true;
        }
    }

    fn push(&mut self, h: u64) {
        self.buckets[(h >> 56) as usize].push(h);
    }

    /// Check the recorded ids of `path` (read with `read` and `identity`,
    /// as they were recorded).
    ///
    /// # Errors
    /// Two features share an id (the message names both and the id); an
    /// error re-reading the layer.
    pub fn finish(
        mut self,
        path: &Path,
        read: &crate::io::ReadOptions,
        identity: &IdentityFields,
    ) -> Result<()> {
        if self.sorted_rehash {
            // A later id may repeat one of the leading run's: hash those too.
            for s in reread(path, read, identity)?.take(self.sorted_rows) {
                self.push(id_hash(&s?.id));
            }
        }
        let repeated: Vec<u64> = self
            .buckets
            .par_iter()
            .map_init(Vec::new, |table, bucket| repeated_in(bucket, table))
            .flatten_iter()
            .collect();
        if repeated.is_empty() {
            return Ok(());
        }
        drop(self.buckets);
        let repeated: std::collections::HashSet<u64> = repeated.into_iter().collect();
        // Second pass, only over the features whose hash repeats.
        let mut first: HashMap<String, usize> = HashMap::new();
        for s in reread(path, read, identity)? {
            let s = s?;
            if !repeated.contains(&id_hash(&s.id)) {
                continue;
            }
            if let Some(&earlier) = first.get(&s.id) {
                return Err(Error::invalid(
                    Location::feature(path, s.feature.index),
                    format!(
                        "duplicate id '{}' (also feature #{earlier}); ids must be unique",
                        s.id
                    ),
                ));
            }
            first.insert(s.id.clone(), s.feature.index);
        }
        // Equal hashes of different ids: a collision, not a duplicate.
        Ok(())
    }
}

/// The settlements of `path` read again, identified as when they were
/// recorded.
fn reread<'a>(
    path: &'a Path,
    read: &crate::io::ReadOptions,
    identity: &'a IdentityFields,
) -> Result<impl Iterator<Item = Result<Settlement>> + 'a> {
    Ok(crate::io::read_layer(path, read)?.map(move |f| identity.identify(f?, path)))
}

/// A lon/lat box (degrees) that settlements are expected to lie in: the
/// country outline's or the whole border's bounding box, padded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// West edge (degrees).
    pub min_lon: f64,
    /// South edge (degrees).
    pub min_lat: f64,
    /// East edge (degrees).
    pub max_lon: f64,
    /// North edge (degrees).
    pub max_lat: f64,
    /// Whether the box comes from a country outline (else from the border).
    pub from_country: bool,
}

/// Padding of an [`Extent`] (degrees, about 220 km): settlements a little
/// beyond the border are normal, thousands of kilometres away are not.
pub const EXTENT_PAD_DEG: f64 = 2.0;

impl Extent {
    /// The padded bounding box of `coords`; `None` when there are none.
    pub fn around(coords: impl IntoIterator<Item = LonLat>, from_country: bool) -> Option<Self> {
        let mut e = Extent {
            min_lon: f64::INFINITY,
            min_lat: f64::INFINITY,
            max_lon: f64::NEG_INFINITY,
            max_lat: f64::NEG_INFINITY,
            from_country,
        };
        for c in coords {
            e.min_lon = e.min_lon.min(c.x);
            e.min_lat = e.min_lat.min(c.y);
            e.max_lon = e.max_lon.max(c.x);
            e.max_lat = e.max_lat.max(c.y);
        }
        e.min_lon.is_finite().then_some(Extent {
            min_lon: e.min_lon - EXTENT_PAD_DEG,
            min_lat: e.min_lat - EXTENT_PAD_DEG,
            max_lon: e.max_lon + EXTENT_PAD_DEG,
            max_lat: e.max_lat + EXTENT_PAD_DEG,
            from_country,
        })
    }

    /// Whether `p` lies in the box.
    pub fn contains(&self, p: LonLat) -> bool {
        (self.min_lon..=self.max_lon).contains(&p.x) && (self.min_lat..=self.max_lat).contains(&p.y)
    }

    fn describe(&self) -> String {
        format!(
            "the {} (lon {:.1}..{:.1}, lat {:.1}..{:.1}, padded by {EXTENT_PAD_DEG}°)",
            if self.from_country {
                "country outline's extent"
            } else {
                "border's extent"
            },
            self.min_lon,
            self.max_lon,
            self.min_lat,
            self.max_lat
        )
    }
}

/// Checks over a whole settlements layer that no single feature shows:
/// settlements far from the country or border (lon/lat swapped, wrong
/// layer, projected coordinates that happen to be in range), a name
/// attribute that is missing, polygons whose rings cross themselves.
///
/// # Decisions
/// - *Every* settlement outside the [`Extent`], or *most* of them outside
///   while most would be inside with longitude and latitude swapped: an
///   error (the lists would be silently empty or wrong).
/// - Some outside: a warning with the count and the first feature.
/// - Missing name attribute, self-intersecting polygon: a warning with the
///   count and the first feature; the settlement is still measured (the
///   distance to a crossing ring is well defined; its centroid may not be
///   what was meant).
#[derive(Debug, Clone)]
pub struct LayerCheck {
    extent: Option<Extent>,
    name_field: String,
    total: usize,
    inside: usize,
    swapped_inside: usize,
    outside: usize,
    first_outside: Option<(usize, LonLat)>,
    missing_name: usize,
    first_missing_name: Option<usize>,
    self_intersecting: usize,
    first_self_intersecting: Option<(usize, SelfIntersection)>,
}

impl LayerCheck {
    /// A check against `extent` (none: no location check), with the name
    /// attribute `name_field`.
    pub fn new(extent: Option<Extent>, name_field: &str) -> Self {
        LayerCheck {
            extent,
            name_field: name_field.to_string(),
            total: 0,
            inside: 0,
            swapped_inside: 0,
            outside: 0,
            first_outside: None,
            missing_name: 0,
            first_missing_name: None,
            self_intersecting: 0,
            first_self_intersecting: None,
        }
    }

    /// A check like this one with nothing looked at yet (for a part of the
    /// layer, to be [`Self::merge`]d back in order).
    pub fn fresh(&self) -> Self {
        LayerCheck::new(self.extent, &self.name_field)
    }

    /// Take in the settlements `later` looked at, which come after this
    /// one's in the layer: the same as if this one had looked at them.
    pub fn merge(&mut self, later: &LayerCheck) {
        self.total += later.total;
        self.inside += later.inside;
        self.swapped_inside += later.swapped_inside;
        self.outside += later.outside;
        self.missing_name += later.missing_name;
        self.self_intersecting += later.self_intersecting;
        self.first_outside = self.first_outside.or(later.first_outside);
        self.first_missing_name = self.first_missing_name.or(later.first_missing_name);
        self.first_self_intersecting = self
            .first_self_intersecting
            .or(later.first_self_intersecting);
    }

    /// Look at one settlement.
    pub fn add(&mut self, s: &Settlement) {
        self.total += 1;
        let index = s.feature.index;
        if !s.named {
            self.missing_name += 1;
            self.first_missing_name.get_or_insert(index);
        }
        if let Some(extent) = &self.extent {
            let first = match &s.feature.geometry {
                Geometry::Point(p) => Some(p.0),
                g => g.coords_iter().next(),
            };
            if let Some(p) = first {
                if extent.contains(p) {
                    self.inside += 1;
                } else {
                    self.outside += 1;
                    self.first_outside.get_or_insert((index, p));
                }
                if p.x.abs() <= 90.0 && extent.contains(LonLat { x: p.y, y: p.x }) {
                    self.swapped_inside += 1;
                }
            }
        }
        let polygons: &[Polygon<f64>] = match &s.feature.geometry {
            Geometry::Polygon(p) => std::slice::from_ref(p),
            Geometry::MultiPolygon(mp) => &mp.0,
            _ => &[],
        };
        if let Some(hit) = polygons.iter().find_map(first_self_intersection) {
            self.self_intersecting += 1;
            self.first_self_intersecting.get_or_insert((index, hit));
        }
    }

    /// Settlements looked at.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The verdict: warnings to report (each a full sentence naming the
    /// file and the first feature concerned).
    ///
    /// # Errors
    /// Every settlement lies outside the extent, or most do while most would
    /// lie inside with longitude and latitude swapped.
    pub fn finish(&self, path: &Path) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        if let (Some(extent), Some((first, p))) = (&self.extent, self.first_outside) {
            let swapped =
                self.swapped_inside > self.inside && 2 * self.swapped_inside >= self.total;
            let counted = self.inside + self.outside;
            let what = format!(
                "{} of {counted} settlements lie outside {}; the first is feature #{first} at ({}, {})",
                self.outside,
                extent.describe(),
                p.x,
                p.y
            );
            if swapped {
                return Err(Error::invalid(
                    Location::file(path),
                    format!(
                        "{what}. With longitude and latitude swapped, {} would lie inside: \
                         the coordinates look swapped (GeoJSON and borderzone use lon, lat order; \
                         for CSV check --lon-field/--lat-field)",
                        self.swapped_inside
                    ),
                ));
            }
            if self.inside == 0 {
                return Err(Error::invalid(
                    Location::file(path),
                    format!(
                        "{what}. No settlement is near the country or border: wrong layer, \
                         or coordinates not in WGS84 lon/lat degrees?"
                    ),
                ));
            }
            warnings.push(format!(
                "{}: {what}; they are measured as given",
                path.display()
            ));
        }
        if let Some(first) = self.first_missing_name {
            warnings.push(format!(
                "{}: {} of {} settlements have no '{}' attribute (the first is feature #{first}): their name is empty in the lists",
                path.display(),
                self.missing_name,
                self.total,
                self.name_field
            ));
        }
        if let Some((first, hit)) = self.first_self_intersecting {
            warnings.push(format!(
                "{}: {} settlement polygons have a ring that crosses itself (the first is feature #{first}, ring {}, edges {} and {}); \
                 they are measured as given (distance to their edges; the centroid and area share may be off)",
                path.display(),
                self.self_intersecting,
                hit.ring,
                hit.edge,
                hit.other_edge
            ));
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Point};

    /// Settlements of every kind the check counts: inside and outside the
    /// extent, swapped, with and without a name, and a bow-tie polygon.
    fn settlements(n: usize) -> Vec<Settlement> {
        let mut state = 5u64;
        (0..n)
            .map(|index| {
                let r = crate::test_rand::next_u64(&mut state);
                let (x, y) = match r % 5 {
                    0 => (10.0, 10.0), // outside
                    1 => (45.0, 70.0), // swapped
                    _ => (60.0 + (r % 20) as f64, 45.0 + (r % 7) as f64),
                };
                let geometry = if r.is_multiple_of(97) {
                    let ring = LineString::from(vec![
                        (x, y),
                        (x + 1.0, y + 1.0),
                        (x + 1.0, y),
                        (x, y + 1.0),
                        (x, y),
                    ]);
                    Geometry::Polygon(Polygon::new(ring, vec![]))
                } else {
                    Geometry::Point(Point::new(x, y))
                };
                let mut properties = serde_json::Map::new();
                if !r.is_multiple_of(3) {
                    properties.insert("name".into(), Value::from(format!("s{index}")));
                }
                Settlement {
                    id: index.to_string(),
                    name: String::new(),
                    named: properties.contains_key("name"),
                    feature: InputFeature {
                        index,
                        feature_id: None,
                        properties,
                        geometry,
                    },
                }
            })
            .collect()
    }

    #[test]
    fn repeated_hashes_are_found_as_sorting_finds_them() {
        // Random buckets (sizes 0 to 5,000) with repeats, triples and the
        // hash 0 mixed in; the reference sorts and compares neighbours.
        let mut state = 21u64;
        let mut table = Vec::new();
        let mut found = 0;
        for case in 0..300 {
            let n = (crate::test_rand::next_u64(&mut state) % 5_000) as usize;
            let mut hashes: Vec<u64> = (0..n)
                .map(|_| crate::test_rand::next_u64(&mut state))
                .collect();
            for k in 0..(case % 7) {
                if n > 0 {
                    let r = crate::test_rand::next_u64(&mut state) as usize;
                    hashes.push(hashes[r % n]);
                    if k % 3 == 0 {
                        hashes.push(0);
                    }
                }
            }
            let mut want = hashes.clone();
            want.sort_unstable();
            let mut want: Vec<u64> = want
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            let mut got = repeated_in(&hashes, &mut table);
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "case {case}");
            found += got.len();
        }
        assert!(found > 500, "{found}");
    }

    /// Ids in the orders the duplicate check tells apart, as strings.
    fn ids_of_kind(kind: u64, n: usize, state: &mut u64) -> Vec<String> {
        let mut r = || crate::test_rand::next_u64(state) as usize;
        let mut ids: Vec<usize> = (0..n).collect();
        match kind {
            // Sorted numbers, with a swap, descending, shuffled.
            0 => {}
            1 if n > 1 => {
                let (i, j) = (r() % n, r() % n);
                ids.swap(i, j);
            }
            2 => ids.reverse(),
            3 => {
                for i in (1..n).rev() {
                    ids.swap(i, r() % (i + 1));
                }
            }
            // Two sorted runs, the second from anywhere (overlapping the
            // first or after it).
            4 => {
                let (cut, start) = (r() % n, r() % (2 * n));
                ids = (0..cut).chain(start..start + n - cut).collect();
            }
            _ => {}
        }
        match kind {
            // Codes of one length; then mixed lengths in byte order, which
            // is not shortlex ("KZ10" < "KZ9").
            5 => ids.iter().map(|i| format!("KZ{i:06}")).collect(),
            6 => {
                let mut t: Vec<String> = ids.iter().map(|i| format!("KZ{i}")).collect();
                t.sort();
                t
            }
            _ => ids.iter().map(|i| i.to_string()).collect(),
        }
    }

    #[test]
    fn duplicate_ids_are_found_as_a_map_finds_them_sorted_or_not() {
        // Layers of every kind of order, half of them with an id repeated
        // (earlier or later than the sorted run ends), recorded one row at a
        // time and in runs of random length, hashed or not as a random
        // hint says. The verdict (the first repeat in layer order and its
        // first occurrence) is a map's over the ids.
        let dir = crate::test_dir::TempDir::new("duplicate-ids");
        let identity = IdentityFields {
            id_field: Some("id".into()),
            name_field: None,
        };
        let read = crate::io::ReadOptions::default();
        let mut state = 77u64;
        let (mut rehashed, mut not_rehashed, mut repeats) = (0, 0, 0);
        for case in 0..280u64 {
            let n = 1 + (crate::test_rand::next_u64(&mut state) % 3_000) as usize;
            let mut ids = ids_of_kind(case % 7, n, &mut state);
            if case % 2 == 1 && n > 1 {
                let j = 1 + (crate::test_rand::next_u64(&mut state) as usize) % (n - 1);
                let i = (crate::test_rand::next_u64(&mut state) as usize) % j;
                ids[j] = ids[i].clone();
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let want = ids.iter().enumerate().find_map(|(j, id)| {
                seen.insert(id, j)
                    .map(|i| format!("feature #{j}: duplicate id '{id}' (also feature #{i})"))
            });
            repeats += usize::from(want.is_some());
            let mut csv = String::from("id,lon,lat\n");
            for id in &ids {
                csv.push_str(&format!("{id},70,45\n"));
            }
            let path = dir.file(&format!("layer{case}.csv"), csv.as_bytes());
            let settlements: Vec<Settlement> = ids
                .iter()
                .enumerate()
                .map(|(index, id)| Settlement {
                    id: id.clone(),
                    name: String::new(),
                    named: false,
                    feature: InputFeature {
                        index,
                        ..InputFeature::blank()
                    },
                })
                .collect();
            let mut one_by_one = DuplicateIds::default();
            settlements.iter().for_each(|s| one_by_one.check(s));
            let mut in_runs = DuplicateIds::default();
            let mut run = IdRun::default();
            let mut rest = &settlements[..];
            while !rest.is_empty() {
                let len = 1 + (crate::test_rand::next_u64(&mut state) % 600) as usize;
                let (part, next) = rest.split_at(len.min(rest.len()));
                let hint = crate::test_rand::next_u64(&mut state).is_multiple_of(2);
                run.look_at(part, hint);
                in_runs.add_run(&run, part);
                rest = next;
            }
            for dups in [one_by_one, in_runs] {
                if dups.sorted_rehash {
                    rehashed += 1;
                } else if dups.sorted_rows > 0 && !dups.sorted_open {
                    not_rehashed += 1;
                }
                let got = dups
                    .finish(&path, &read, &identity)
                    .err()
                    .map(|e| e.to_string());
                match (&got, &want) {
                    (None, None) => {}
                    (Some(g), Some(w)) if g.ends_with(&format!("{w}; ids must be unique")) => {}
                    _ => panic!("case {case}: got {got:?}, want {want:?}"),
                }
            }
        }
        // Every path was taken: sorted runs later repeated or not, and
        // later ids that may or cannot repeat the run's.
        assert!(
            repeats > 100 && rehashed > 100 && not_rehashed > 15,
            "{repeats} {rehashed} {not_rehashed}"
        );
    }

    #[test]
    fn merged_parts_check_as_the_whole_layer() {
        let extent = Extent {
            min_lon: 46.0,
            min_lat: 40.0,
            max_lon: 88.0,
            max_lat: 56.0,
            from_country: true,
        };
        let all = settlements(5_000);
        let mut whole = LayerCheck::new(Some(extent), "name");
        for s in &all {
            whole.add(s);
        }
        for part_len in [1, 7, 512, 5_000] {
            let mut merged = whole.fresh();
            for part in all.chunks(part_len) {
                let mut c = merged.fresh();
                for s in part {
                    c.add(s);
                }
                merged.merge(&c);
            }
            assert_eq!(
                format!("{merged:?}"),
                format!("{whole:?}"),
                "parts of {part_len}"
            );
        }
        // The layer has something of every kind to report.
        let warnings = whole.finish(Path::new("layer.csv")).unwrap();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }
}

#[cfg(test)]
mod csv_row_tests {
    use super::*;
    use crate::io::csv::read_batches;
    use crate::io::ReadOptions;
    use crate::test_dir::TempDir;
    use crate::test_rand::next_u64;

    /// A random CSV field: mostly ids, names and numbers, sometimes blank,
    /// quoted with a comma, not UTF-8 or not a number.
    fn field(state: &mut u64, coordinate: bool) -> Vec<u8> {
        let r = next_u64(state);
        match r % 23 {
            0 => Vec::new(),
            1 => b" ".to_vec(),
            2 => b"\"a, b\"".to_vec(),
            3 => vec![b'x', 0xff],
            4 => b"abc".to_vec(),
            5 => b"95".to_vec(),
            _ if coordinate => format!("{:.5}", 40.0 + (r >> 8) as f64 % 40.0 / 1.3).into_bytes(),
            _ => format!("v{}", r >> 40).into_bytes(),
        }
    }

    #[test]
    fn csv_rows_read_straight_into_settlements_as_through_the_attributes() {
        // Layouts with the id and name anywhere, missing, or repeated, and
        // random rows (blank ids, quoted fields, bytes that are not UTF-8,
        // bad or out-of-range coordinates): reading the id and name
        // straight from their columns gives the settlement, or the error,
        // that decoding every attribute then identifying gives.
        let dir = TempDir::new("csv-identity");
        let layouts = [
            "id,name,lon,lat",
            "lat,name,id,lon,extra",
            "id,lon,lat",
            "name,lon,lat",
            "id,name,lon,lat,name",
            "id,id,lon,lat,label",
            "lon,lat",
        ];
        let identities = [
            (Some("id"), None),
            (None, None),
            (Some("id"), Some("label")),
            (Some("extra"), Some("id")),
        ];
        let mut state = 11u64;
        let (mut compared, mut errors) = (0, 0);
        for (l, layout) in layouts.iter().enumerate() {
            let names: Vec<&str> = layout.split(',').collect();
            let mut text = format!("{layout}\n").into_bytes();
            for _ in 0..400 {
                let row: Vec<Vec<u8>> = names
                    .iter()
                    .map(|n| field(&mut state, *n == "lon" || *n == "lat"))
                    .collect();
                text.extend(row.join(&b","[..]));
                text.push(b'\n');
            }
            let path = dir.file(&format!("l{l}.csv"), &text);
            for (id_field, name_field) in identities {
                let identity = IdentityFields {
                    id_field: id_field.map(String::from),
                    name_field: name_field.map(String::from),
                };
                let batches = read_batches(&path, &ReadOptions::default(), 37).unwrap();
                for batch in batches {
                    let picked = identity.csv_columns(batch.columns());
                    for row in 0..batch.len() {
                        let mut through = Settlement {
                            id: "stale".into(),
                            name: "stale".into(),
                            named: true,
                            feature: InputFeature::blank(),
                        };
                        let mut straight = through.clone();
                        let want = batch
                            .decode_into(row, &mut through.feature)
                            .and_then(|()| identity.identify_in_place(&mut through, &path));
                        let got =
                            identity.identify_csv_row(&batch, row, &picked, &mut straight, &path);
                        compared += 1;
                        match (want, got) {
                            (Ok(()), Ok(())) => {
                                assert!(straight.feature.properties.is_empty());
                                through.feature.properties.clear();
                                assert_eq!(straight, through, "{layout} {identity:?} row {row}");
                            }
                            (Err(a), Err(b)) => {
                                errors += 1;
                                assert_eq!(a.to_string(), b.to_string(), "{layout} {identity:?}");
                            }
                            (a, b) => panic!("{layout} {identity:?} row {row}: {a:?} vs {b:?}"),
                        }
                    }
                }
            }
        }
        // Both outcomes were exercised.
        assert!(
            compared > 10_000 && errors > 1_000 && compared - errors > 1_000,
            "{compared} {errors}"
        );
    }
}
