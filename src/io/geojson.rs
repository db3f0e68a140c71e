//! GeoJSON: streaming FeatureCollection and newline-delimited readers, and a
//! streaming FeatureCollection writer.
//!
//! The FeatureCollection reader walks the top-level object with a serde
//! visitor and hands each element of `features` on as soon as it is parsed,
//! on a background thread feeding a bounded channel: memory holds one feature
//! (plus the channel's few hundred), never the whole tree, and parsing
//! overlaps with measuring. Files up to 32 MB are read whole first (parsing
//! from memory is faster); larger ones are streamed, never held.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};

use geo::Geometry;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::geojson_feature::FeatureSeed;
use super::{FeatureStream, InputFeature};
use crate::error::{Error, Location, Result};

/// Features handed from the parser thread to the consumer at a time.
const CHANNEL_DEPTH: usize = 512;

/// Files up to this size are read whole and parsed from memory; larger
/// ones are streamed, so that memory never holds more than this of text.
const WHOLE_FILE_MAX: u64 = 32 << 20;

/// Stream the features of a GeoJSON FeatureCollection file.
///
/// # Errors
/// Opening the file fails here; everything else (bad JSON, a top-level object
/// that is not a FeatureCollection, a feature without geometry, a coordinate
/// out of range) arrives as an `Err` item naming the feature, after which the
/// stream ends.
pub fn read_feature_collection(path: &Path) -> Result<FeatureStream> {
    read_collection(path, WHOLE_FILE_MAX)
}

/// As [`read_feature_collection`], reading files up to `whole_max` bytes
/// whole.
fn read_collection(path: &Path, whole_max: u64) -> Result<FeatureStream> {
    let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let (tx, rx) = sync_channel::<Result<InputFeature>>(CHANNEL_DEPTH);
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("geojson-reader".into())
        .spawn(move || {
            let mut state = ParseState {
                path,
                tx: &tx,
                count: 0,
                reported: false,
            };
            if file.metadata().is_ok_and(|m| m.len() <= whole_max) {
                // Read whole, then parsed by the same reader-based parser
                // (so errors name the same positions), from memory: no
                // buffered file read for every byte.
                let mut text = Vec::new();
                match std::io::Read::read_to_end(&mut &file, &mut text) {
                    Ok(_) => parse_input(text.as_slice(), &mut state),
                    Err(e) => {
                        let e = Error::io(&state.path, "cannot read", e);
                        state.send(Err(e));
                    }
                }
            } else {
                parse_input(BufReader::with_capacity(1 << 16, file), &mut state);
            }
        })
        .map_err(|e| Error::io("geojson-reader thread", "cannot start", e))?;
    Ok(Box::new(rx.into_iter()))
}

/// Parse the FeatureCollection `input` holds (a UTF-8 byte order mark
/// skipped), handing on its features and then its first error.
fn parse_input(mut input: impl BufRead, state: &mut ParseState<'_>) {
    match skip_bom(&mut input) {
        Ok(true) => {}
        Ok(false) => {
            let at = Location::file(&state.path);
            state.send(Err(Error::format(
                at,
                "the file is empty (0 bytes): not a GeoJSON FeatureCollection",
            )));
            return;
        }
        Err(e) => {
            state.send(Err(Error::io(&state.path, "cannot read", e)));
            return;
        }
    }
    let mut de = serde_json::Deserializer::from_reader(input);
    let outcome = (&mut de)
        .deserialize_map(CollectionVisitor { state: &mut *state })
        .and_then(|()| de.end());
    if let Err(e) = outcome {
        if !state.reported {
            let at = Location::file(&state.path);
            state.send(Err(json_error(at, &e)));
        }
    }
}

/// Skip a UTF-8 byte order mark (written by some Windows tools; JSON
/// parsers reject it). `Ok(false)` when the input is empty.
fn skip_bom(r: &mut impl BufRead) -> std::io::Result<bool> {
    let buf = r.fill_buf()?;
    if buf.is_empty() {
        return Ok(false);
    }
    if buf.starts_with(b"\xEF\xBB\xBF") {
        r.consume(3);
    }
    Ok(true)
}

fn json_error(at: Location, e: &impl fmt::Display) -> Error {
    let msg = e.to_string();
    let msg = if msg.starts_with("EOF while parsing") {
        format!("the file ends too early (truncated?): {msg}")
    } else if msg.contains("invalid unicode code point") {
        format!("invalid JSON: {msg} (the file must be UTF-8 text: re-save it as UTF-8)")
    } else {
        format!("invalid JSON: {msg}")
    };
    Error::format(at, msg)
}

struct ParseState<'a> {
    path: PathBuf,
    tx: &'a SyncSender<Result<InputFeature>>,
    count: usize,
    /// An error has already been sent: the serde error that unwinds the
    /// parse is only a stop signal.
    reported: bool,
}

impl ParseState<'_> {
    /// Send an item; `false` when the consumer has gone away.
    fn send(&mut self, item: Result<InputFeature>) -> bool {
        if item.is_err() {
            self.reported = true;
        }
        self.tx.send(item).is_ok()
    }
}

struct CollectionVisitor<'s, 'a> {
    state: &'s mut ParseState<'a>,
}

impl<'de> Visitor<'de> for CollectionVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut saw_features = false;
        let mut kind: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => {
                    let t: String = map.next_value()?;
                    if t != "FeatureCollection" {
                        let at = Location::file(&self.state.path);
                        self.state.send(Err(Error::format(
                            at,
                            format!("expected a GeoJSON FeatureCollection, found type '{t}'"),
                        )));
                        return Err(serde::de::Error::custom("not a FeatureCollection"));
                    }
                    kind = Some(t);
                }
                "features" => {
                    map.next_value_seed(FeaturesSeed {
                        state: &mut *self.state,
                    })?;
                    saw_features = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_features {
            let at = Location::file(&self.state.path);
            let what = if kind.is_some() {
                "a FeatureCollection without a 'features' array"
            } else {
                "an object without 'type' or 'features': not a GeoJSON FeatureCollection"
            };
            self.state.send(Err(Error::format(at, what)));
            return Err(serde::de::Error::custom("no features"));
        }
        Ok(())
    }
}

struct FeaturesSeed<'s, 'a> {
    state: &'s mut ParseState<'a>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of GeoJSON features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        loop {
            let index = self.state.count;
            let element = match seq.next_element_seed(FeatureSeed) {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(()),
                Err(e) => {
                    let at = Location::feature(&self.state.path, index);
                    self.state.send(Err(json_error(at, &e)));
                    return Err(e);
                }
            };
            let item = element.into_feature(&self.state.path, index);
            let failed = item.is_err();
            if !self.state.send(item) || failed {
                return Err(serde::de::Error::custom("stopped"));
            }
            self.state.count += 1;
        }
    }
}

/// A geometry object through the `geojson` crate (any type, its checks and
/// messages).
pub(crate) fn via_geojson(geometry: Value, path: &Path, index: usize) -> Result<Geometry<f64>> {
    let at = || Location::feature(path, index);
    let geometry: geojson::Geometry = serde_json::from_value(geometry).map_err(|e| {
        Error::format(
            at().with_field("geometry"),
            format!("invalid GeoJSON geometry: {e}"),
        )
    })?;
    Geometry::<f64>::try_from(geometry.value).map_err(|e| {
        Error::format(
            at().with_field("geometry"),
            format!("invalid GeoJSON geometry: {e}"),
        )
    })
}

/// Stream newline-delimited GeoJSON features (one Feature per line; blank
/// lines are skipped; RFC 8142 record separators are accepted).
pub fn read_ndjson(path: &Path) -> Result<FeatureStream> {
    let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let path = path.to_path_buf();
    let mut lines = BufReader::with_capacity(1 << 16, file)
        .split(b'\n')
        .enumerate();
    let mut index = 0usize;
    let mut done = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        loop {
            let (line_no, line) = lines.next()?;
            let item = (|| {
                let bytes = line.map_err(|e| Error::io(&path, "cannot read", e))?;
                let text = std::str::from_utf8(&bytes).map_err(|e| {
                    Error::format(
                        Location::feature(&path, index),
                        format!("line {} is not UTF-8: {e}", line_no + 1),
                    )
                })?;
                // RFC 8142 record separators, and a byte order mark on the first line.
                let text = text
                    .trim_matches(|c: char| c == '\u{1e}' || c == '\u{feff}' || c.is_whitespace());
                if text.is_empty() {
                    return Ok(None);
                }
                let mut de = serde_json::Deserializer::from_str(text);
                let element = FeatureSeed
                    .deserialize(&mut de)
                    .and_then(|f| de.end().map(|()| f))
                    .map_err(|e| {
                        Error::format(
                            Location::feature(&path, index),
                            format!("line {}: invalid JSON: {e}", line_no + 1),
                        )
                    })?;
                element.into_feature(&path, index).map(Some)
            })();
            match item {
                Ok(None) => continue,
                Ok(Some(f)) => {
                    index += 1;
                    return Some(Ok(f));
                }
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            }
        }
    })))
}

/// Writes a GeoJSON FeatureCollection one feature at a time, one feature per
/// line, in the order given. RFC 7946: WGS84 lon/lat, no `crs` member.
pub struct FeatureCollectionWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> FeatureCollectionWriter<W> {
    /// Start a collection; `name` becomes the collection's `name` member
    /// (QGIS shows it as the layer name).
    pub fn new(mut out: W, name: &str) -> std::io::Result<Self> {
        write!(
            out,
            "{{\"type\":\"FeatureCollection\",\"name\":{},\"features\":[",
            Value::from(name)
        )?;
        Ok(FeatureCollectionWriter { out, first: true })
    }

    /// Append one feature.
    pub fn write(
        &mut self,
        properties: &Map<String, Value>,
        geometry: &Geometry<f64>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        format_feature(&mut buf, properties, &[], geometry)?;
        self.write_formatted(&buf)
    }

    /// Append features formatted by [`format_feature`] (any number,
    /// concatenated): formatting can then run in parallel, writing in order.
    pub fn write_formatted(&mut self, features: &[u8]) -> std::io::Result<()> {
        if features.is_empty() {
            return Ok(());
        }
        if self.first {
            self.first = false;
            // Drop the leading comma of the first feature.
            self.out.write_all(&features[1..])
        } else {
            self.out.write_all(features)
        }
    }

    /// Close the collection and return the sink.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        Ok(self.out)
    }
}

/// Format one feature for [`FeatureCollectionWriter::write_formatted`]
/// (with its leading `",\n"`), its properties being `base` with `computed`
/// merged in exactly as if each `(key, value)` of `computed` had been
/// inserted into a copy of `base` (an existing key keeps its place and takes
/// the new value; new keys follow in order) — without the copy.
pub fn format_feature(
    buf: &mut Vec<u8>,
    base: &Map<String, Value>,
    computed: &[(&str, Value)],
    geometry: &Geometry<f64>,
) -> std::io::Result<()> {
    buf.extend_from_slice(b",\n{\"type\":\"Feature\",\"properties\":");
    serde_json::to_writer(&mut *buf, &Merged { base, computed })?;
    buf.extend_from_slice(b",\"geometry\":");
    match geometry {
        // Points are most of a large batch: no intermediate geojson value.
        Geometry::Point(p) => {
            buf.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":");
            serde_json::to_writer(&mut *buf, &[p.x(), p.y()])?;
            buf.push(b'}');
        }
        g => serde_json::to_writer(&mut *buf, &geojson::Geometry::from(g))?,
    }
    buf.push(b'}');
    Ok(())
}

/// Serializes `base` with `computed` merged in (see [`format_feature`]).
struct Merged<'a> {
    base: &'a Map<String, Value>,
    computed: &'a [(&'a str, Value)],
}

impl serde::Serialize for Merged<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let find = |k: &str| self.computed.iter().rev().find(|(c, _)| *c == k);
        let mut map = ser.serialize_map(None)?;
        for (k, v) in self.base {
            match find(k) {
                Some((_, c)) => map.serialize_entry(k, c)?,
                None => map.serialize_entry(k, v)?,
            }
        }
        for (i, (k, v)) in self.computed.iter().enumerate() {
            let later = self.computed[i + 1..].iter().any(|(c, _)| c == k);
            if !self.base.contains_key(*k) && !later {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TempDir;

    #[test]
    fn merged_properties_equal_inserting_into_a_copy() {
        let mut base = Map::new();
        base.insert("name".into(), Value::from("Khorgos"));
        base.insert("in_zone".into(), Value::from("input value"));
        base.insert("pop".into(), Value::from(5));
        let computed = vec![
            ("border_distance_m", Value::from(1294.194)),
            ("in_zone", Value::from(true)),
            ("extra", Value::Null),
            ("extra", Value::from(2)),
        ];
        let mut copy = base.clone();
        for (k, v) in &computed {
            copy.insert((*k).to_string(), v.clone());
        }
        let geoms = [
            Geometry::Point(geo::Point::new(80.4123456789, 44.2)),
            Geometry::LineString(geo::LineString::from(vec![(1.0, 2.0), (3.0, 4.5)])),
        ];
        for g in &geoms {
            // The copy, serialized by serde_json with the geometry through
            // the geojson crate, against the merged view written directly.
            let mut expected = b",\n{\"type\":\"Feature\",\"properties\":".to_vec();
            serde_json::to_writer(&mut expected, &copy).unwrap();
            expected.extend_from_slice(b",\"geometry\":");
            serde_json::to_writer(&mut expected, &geojson::Geometry::from(g)).unwrap();
            expected.push(b'}');
            let mut merged = Vec::new();
            format_feature(&mut merged, &base, &computed, g).unwrap();
            assert_eq!(
                String::from_utf8(expected).unwrap(),
                String::from_utf8(merged).unwrap()
            );
        }
    }

    #[test]
    fn streams_features_with_members_in_any_order() {
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "a.geojson",
            r#"{"features":[{"type":"Feature","properties":{"n":"a [x]"},"geometry":{"type":"Point","coordinates":[1,2]}},
               {"type":"Feature","id":7,"properties":null,"geometry":{"type":"Point","coordinates":[3,4]}}],
               "bbox":[1,2,3,4],"type":"FeatureCollection"}"#,
        );
        let fs: Vec<_> = read_feature_collection(&p)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0].properties["n"], "a [x]");
        assert_eq!(fs[1].feature_id, Some(Value::from(7)));
        assert_eq!(fs[1].index, 1);
    }

    #[test]
    fn files_read_whole_and_streamed_give_the_same_features_and_errors() {
        // Valid, odd and broken inputs, and every committed layer: the
        // whole-file parse (small files) and the streamed parse (large
        // ones) give equal features and equal error messages.
        let outcome =
            |p: &Path, whole_max: u64| -> Vec<std::result::Result<InputFeature, String>> {
                match read_collection(p, whole_max) {
                    Ok(stream) => stream.map(|r| r.map_err(|e| e.to_string())).collect(),
                    Err(e) => vec![Err(e.to_string())],
                }
            };
        let f = |body: &str| format!(r#"{{"type":"FeatureCollection","features":[{body}]}}"#);
        let point = r#"{"type":"Feature","properties":{"n":"Қорғас"},"geometry":{"type":"Point","coordinates":[80.4,44.2]}}"#;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("ok", f(&[point, point].join(",")).into_bytes()),
            (
                "bom",
                [b"\xEF\xBB\xBF".as_slice(), f(point).as_bytes()].concat(),
            ),
            ("only-bom", b"\xEF\xBB\xBF".to_vec()),
            ("empty", Vec::new()),
            ("truncated", f(point).as_bytes()[..70].to_vec()),
            ("trailing", [f(point).as_bytes(), b" x"].concat()),
            (
                "not-utf8",
                f(point)
                    .replace("Қорғас", "\u{1}")
                    .replace('\u{1}', "\\ud800")
                    .into_bytes(),
            ),
            ("bad-lat", f(&point.replace("44.2", "94.2")).into_bytes()),
            (
                "no-geometry",
                f(r#"{"type":"Feature","properties":{}}"#).into_bytes(),
            ),
            ("feature", point.as_bytes().to_vec()),
            ("array", b"[1,2]".to_vec()),
            (
                "features-number",
                br#"{"type":"FeatureCollection","features":5}"#.to_vec(),
            ),
            ("type-number", br#"{"type":1,"features":[]}"#.to_vec()),
            ("feature-number", f("1").into_bytes()),
            (
                "geometry-string",
                f(r#"{"type":"Feature","properties":{},"geometry":"x"}"#).into_bytes(),
            ),
            (
                "coordinates-string",
                f(&point.replace("[80.4,44.2]", r#""a""#)).into_bytes(),
            ),
            ("not-json", b"  x".to_vec()),
            ("string", b"\"s\"".to_vec()),
        ];
        for (name, bytes) in &cases {
            let (_dir, p) = TempDir::with_file("geojson-whole", &format!("{name}.geojson"), bytes);
            assert_eq!(outcome(&p, u64::MAX), outcome(&p, 0), "{name}");
        }
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kz");
        let mut layers = 0;
        for entry in std::fs::read_dir(&data).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "geojson") {
                let whole = outcome(&p, u64::MAX);
                assert!(whole.iter().all(|r| r.is_ok()), "{}", p.display());
                assert_eq!(whole, outcome(&p, 0), "{}", p.display());
                layers += 1;
            }
        }
        assert!(layers >= 5, "{layers}");
    }

    #[test]
    fn truncated_file_names_the_feature() {
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "t.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},{"type":"Feature","prop"#,
        );
        let items: Vec<_> = read_feature_collection(&p).unwrap().collect();
        assert!(items[0].is_ok());
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("feature #1"), "{err}");
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn rejects_feature_without_geometry_and_bad_coordinates() {
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "g.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#,
        );
        let err = read_feature_collection(&p)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("feature #0") && err.contains("no geometry"),
            "{err}"
        );
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "c.geojson",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500000,4800000]}}]}"#,
        );
        let err = read_feature_collection(&p)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("projected metres"), "{err}");
    }

    #[test]
    fn rejects_a_single_feature_file() {
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "f.geojson",
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}"#,
        );
        let err = read_feature_collection(&p)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("found type 'Feature'"), "{err}");
    }

    #[test]
    fn ndjson_reads_lines() {
        let (_dir, p) = TempDir::with_file(
            "geojson",
            "a.ndjson",
            "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}\n\n\u{1e}{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[3,4]}}\n{\"type\":",
        );
        let items: Vec<_> = read_ndjson(&p).unwrap().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap().index, 1);
        let err = items[2].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("feature #2") && err.contains("line 4"),
            "{err}"
        );
    }

    #[test]
    fn writer_round_trips() {
        let mut props = Map::new();
        props.insert("name".into(), Value::from("Қорғас"));
        let g = Geometry::Point(geo::Point::new(80.384232, 44.22364));
        let mut w = FeatureCollectionWriter::new(Vec::new(), "t").unwrap();
        w.write(&props, &g).unwrap();
        let bytes = w.finish().unwrap();
        let (_dir, p) =
            TempDir::with_file("geojson", "w.geojson", std::str::from_utf8(&bytes).unwrap());
        let back: Vec<_> = read_feature_collection(&p)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(back[0].geometry, g);
        assert_eq!(back[0].properties, props);
    }
}
