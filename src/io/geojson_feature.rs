//! One GeoJSON Feature object parsed straight into its parts, its
//! coordinates into flat vectors of positions rather than a JSON tree.
//!
//! A `serde_json::Value` tree spends ~250 bytes and two allocations on every
//! position (each number is an 80-byte `Value`, each position its own
//! `Vec`); the border of Kazakhstan (42 k positions) became ~10 MB of fresh
//! memory before a single segment was indexed. Here a run of positions is
//! one `Vec<Coord>`, 16 bytes a position.
//!
//! The result is exactly that of parsing the feature into a `Value` and
//! converting it (a plain geometry read straight from its positions,
//! anything else through the `geojson` crate, with its checks and
//! messages): whatever the coordinates do not hold in the flat form (a
//! position of fewer than two numbers, a string among numbers, arrays of
//! mixed depth) is kept as JSON, and a geometry the flat form cannot give
//! (a `bbox`, another type, a depth that does not fit the type) is rebuilt
//! as JSON for the crate. Only the rebuilt positions differ from the input:
//! their first two numbers, as `f64` (heights dropped, integers as floats),
//! which is what the crate reads of them.

use std::fmt;
use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::{validate_coordinates, InputFeature};
use crate::error::{Error, Location, Result};

/// A `features` element as parsed: a Feature's members, or not an object.
pub(crate) enum FeatureElement {
    Object(Box<RawFeature>),
    NotObject,
}

/// The members of a feature object that make an [`InputFeature`] (the last
/// of repeated members, as a JSON object keeps it).
#[derive(Default)]
pub(crate) struct RawFeature {
    kind: Option<Value>,
    properties: Option<Value>,
    id: Option<Value>,
    geometry: Option<GeometryMember>,
}

/// The `geometry` member.
enum GeometryMember {
    Object(GeometryObject),
    /// `null`, or anything that is not an object.
    Other(Value),
}

/// A geometry object's members in input order, `coordinates` parsed flat.
#[derive(Default)]
struct GeometryObject {
    members: Vec<(String, Member)>,
}

enum Member {
    Coordinates(Coords),
    Json(Value),
}

/// A `coordinates` array.
#[derive(Debug, PartialEq)]
enum Coords {
    /// An array of two or more numbers: a position (its first two).
    Position(Coord<f64>),
    /// A non-empty array of positions.
    Positions(Vec<Coord<f64>>),
    /// An array of arrays that are not all positions (or none at all).
    Arrays(Vec<Coords>),
    /// Anything else, as JSON.
    Json(Box<Value>),
}

/// Parses one `features` element (any JSON value) into a
/// [`FeatureElement`]: `FeatureSeed.deserialize(d)`, or
/// `SeqAccess::next_element_seed(FeatureSeed)`.
pub(crate) struct FeatureSeed;

/// `DeserializeSeed` for visitors that read any JSON value: the seed is
/// its own visitor.
macro_rules! seed_is_visitor {
    ($($seed:ty),*) => {$(
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = <$seed as Visitor<'de>>::Value;
            fn deserialize<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    )*};
}

seed_is_visitor!(FeatureSeed, GeometrySeed, ElementSeed);

/// A visitor's methods for the JSON scalars: each value becomes a [`Value`]
/// handed to `$wrap` (a function from `Value` to the visitor's output).
macro_rules! scalar_visits {
    ($wrap:expr) => {
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
            Ok($wrap(Value::Bool(v)))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
            // serde_json hands on only finite floats, as it would to `Value`.
            Ok($wrap(Value::from(v)))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
    };
}

impl<'de> Visitor<'de> for FeatureSeed {
    type Value = FeatureElement;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON Feature object")
    }

    scalar_visits!(|_| FeatureElement::NotObject);

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FeatureElement::NotObject)
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut f = RawFeature::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => f.kind = Some(map.next_value()?),
                "properties" => f.properties = Some(map.next_value()?),
                "id" => f.id = Some(map.next_value()?),
                "geometry" => f.geometry = Some(map.next_value_seed(GeometrySeed)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(FeatureElement::Object(Box::new(f)))
    }
}

struct GeometrySeed;

impl<'de> Visitor<'de> for GeometrySeed {
    type Value = GeometryMember;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON geometry")
    }

    scalar_visits!(GeometryMember::Other);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(GeometryMember::Other)
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut g = GeometryObject::default();
        while let Some(key) = map.next_key::<String>()? {
            let member = if key == "coordinates" {
                Member::Coordinates(map.next_value_seed(CoordsSeed)?)
            } else {
                Member::Json(map.next_value()?)
            };
            // A repeated member keeps its first place and takes the later
            // value, as in a JSON object.
            match g.members.iter_mut().find(|(k, _)| *k == key) {
                Some((_, m)) => *m = member,
                None => g.members.push((key, member)),
            }
        }
        Ok(GeometryMember::Object(g))
    }
}

/// An element of a coordinates array: a number or a nested array (or
/// anything else, as JSON).
enum Element {
    Number(Number),
    Coords(Coords),
}

struct CoordsSeed;

impl<'de> DeserializeSeed<'de> for CoordsSeed {
    type Value = Coords;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Coords, D::Error> {
        match d.deserialize_any(ElementSeed)? {
            Element::Coords(c) => Ok(c),
            Element::Number(n) => Ok(Coords::Json(Box::new(Value::Number(n)))),
        }
    }
}

struct ElementSeed;

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("GeoJSON coordinates")
    }

    scalar_visits!(|v| match v {
        Value::Number(n) => Element::Number(n),
        other => json(other),
    });
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(json)
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        // The first element decides the kind; an element of another kind
        // turns the array (and the rest of it) into JSON.
        let Some(first) = seq.next_element_seed(ElementSeed)? else {
            return Ok(Element::Coords(Coords::Arrays(Vec::new())));
        };
        match first {
            Element::Number(first) => {
                // A position's first two numbers are held apart, so that
                // the usual [x, y] allocates nothing; a third and later
                // ones are kept only in case the array turns out not to
                // be a position.
                let mut second: Option<Number> = None;
                let mut more: Vec<Number> = Vec::new();
                while let Some(e) = seq.next_element_seed(ElementSeed)? {
                    match e {
                        Element::Number(n) if second.is_none() => second = Some(n),
                        Element::Number(n) => more.push(n),
                        other => {
                            let items = numbers_json(first, second, more);
                            return rest_as_json(&mut seq, items, other);
                        }
                    }
                }
                Ok(
                    match (first.as_f64(), second.as_ref().and_then(Number::as_f64)) {
                        (Some(x), Some(y)) => Element::Coords(Coords::Position(Coord { x, y })),
                        _ => json(Value::Array(numbers_json(first, second, more))),
                    },
                )
            }
            Element::Coords(Coords::Position(c)) => {
                let mut positions = vec![c];
                while let Some(e) = seq.next_element_seed(ElementSeed)? {
                    match e {
                        Element::Coords(Coords::Position(c)) => positions.push(c),
                        Element::Coords(other) => {
                            let mut arrays: Vec<Coords> =
                                positions.into_iter().map(Coords::Position).collect();
                            arrays.push(other);
                            return finish_arrays(&mut seq, arrays);
                        }
                        number => {
                            let items = positions.into_iter().map(position_value).collect();
                            return rest_as_json(&mut seq, items, number);
                        }
                    }
                }
                Ok(Element::Coords(Coords::Positions(positions)))
            }
            Element::Coords(c) => finish_arrays(&mut seq, vec![c]),
        }
    }
}

/// Collect the rest of an array of arrays (`arrays` so far).
fn finish_arrays<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    mut arrays: Vec<Coords>,
) -> std::result::Result<Element, A::Error> {
    while let Some(e) = seq.next_element_seed(ElementSeed)? {
        match e {
            Element::Coords(c) => arrays.push(c),
            number => {
                let items = arrays.into_iter().map(Coords::into_value).collect();
                return rest_as_json(seq, items, number);
            }
        }
    }
    Ok(Element::Coords(Coords::Arrays(arrays)))
}

/// An array found irregular at `next`: `items` so far, `next` and the
/// rest of the array, as JSON.
fn rest_as_json<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    mut items: Vec<Value>,
    next: Element,
) -> std::result::Result<Element, A::Error> {
    items.push(next.into_value());
    while let Some(e) = seq.next_element_seed(ElementSeed)? {
        items.push(e.into_value());
    }
    Ok(json(Value::Array(items)))
}

/// The numbers of an array, in order, as JSON.
fn numbers_json(first: Number, second: Option<Number>, more: Vec<Number>) -> Vec<Value> {
    std::iter::once(first)
        .chain(second)
        .chain(more)
        .map(Value::Number)
        .collect()
}

fn json(v: Value) -> Element {
    Element::Coords(Coords::Json(Box::new(v)))
}

fn position_value(c: Coord<f64>) -> Value {
    Value::Array(vec![Value::from(c.x), Value::from(c.y)])
}

impl Element {
    fn into_value(self) -> Value {
        match self {
            Element::Number(n) => Value::Number(n),
            Element::Coords(c) => c.into_value(),
        }
    }
}

impl Coords {
    /// The coordinates as JSON (positions as their first two numbers).
    fn into_value(self) -> Value {
        match self {
            Coords::Position(c) => position_value(c),
            Coords::Positions(cs) => Value::Array(cs.into_iter().map(position_value).collect()),
            Coords::Arrays(a) => Value::Array(a.into_iter().map(Coords::into_value).collect()),
            Coords::Json(v) => *v,
        }
    }
}

// Each shape a geometry type needs is checked whole first (`is_*`), then
// taken (`*_of`, only on checked coordinates), so that coordinates of the
// wrong shape are given back whole, for the crate.

fn is_position(c: &Coords) -> bool {
    matches!(c, Coords::Position(_))
}

/// An array of positions (an empty array is an empty one).
fn is_line(c: &Coords) -> bool {
    matches!(c, Coords::Positions(_)) || matches!(c, Coords::Arrays(a) if a.is_empty())
}

/// An array of `item`s.
fn is_many(c: &Coords, item: fn(&Coords) -> bool) -> bool {
    matches!(c, Coords::Arrays(a) if a.iter().all(item))
}

fn is_polygon(c: &Coords) -> bool {
    is_many(c, is_line)
}

fn position_of(c: Coords) -> Coord<f64> {
    match c {
        Coords::Position(c) => c,
        _ => unreachable!("checked by is_position"),
    }
}

fn line_of(c: Coords) -> LineString<f64> {
    match c {
        Coords::Positions(cs) => LineString(cs),
        Coords::Arrays(a) if a.is_empty() => LineString(Vec::new()),
        _ => unreachable!("checked by is_line"),
    }
}

fn many_of<T>(c: Coords, item: fn(Coords) -> T) -> Vec<T> {
    match c {
        Coords::Arrays(a) => a.into_iter().map(item).collect(),
        _ => unreachable!("checked by is_many"),
    }
}

fn polygon_of(c: Coords) -> Polygon<f64> {
    let mut rings = many_of(c, line_of).into_iter();
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Polygon::new(exterior, rings.collect())
}

/// `of(c)` when `c` has the shape `is` checks, else `c` back.
fn checked<T>(
    c: Coords,
    is: impl Fn(&Coords) -> bool,
    of: impl Fn(Coords) -> T,
) -> std::result::Result<T, Coords> {
    if is(&c) {
        Ok(of(c))
    } else {
        Err(c)
    }
}

impl GeometryObject {
    /// The geometry of a plain geometry object (no `bbox`, one of the six
    /// simple types, coordinates of the type's depth), as
    /// the `geojson` crate reads it; else the object rebuilt as JSON.
    fn direct(mut self) -> std::result::Result<Geometry<f64>, Value> {
        let plain = !self.members.iter().any(|(k, _)| k == "bbox");
        let kind = self.members.iter().find_map(|(k, m)| match m {
            Member::Json(Value::String(s)) if k == "type" => Some(s.clone()),
            _ => None,
        });
        let at = self.members.iter().position(|(k, m)| {
            k == "coordinates"
                && matches!(m, Member::Coordinates(c) if !matches!(c, Coords::Json(_)))
        });
        if let (true, Some(kind), Some(at)) = (plain, kind, at) {
            let Member::Coordinates(coords) =
                std::mem::replace(&mut self.members[at].1, Member::Json(Value::Null))
            else {
                unreachable!("found above")
            };
            let made = match kind.as_str() {
                "Point" => checked(coords, is_position, |c| {
                    Geometry::Point(Point(position_of(c)))
                }),
                "MultiPoint" => checked(coords, is_line, |c| {
                    Geometry::MultiPoint(line_of(c).into_points().into())
                }),
                "LineString" => checked(coords, is_line, |c| Geometry::LineString(line_of(c))),
                "MultiLineString" => checked(
                    coords,
                    |c| is_many(c, is_line),
                    |c| Geometry::MultiLineString(MultiLineString(many_of(c, line_of))),
                ),
                "Polygon" => checked(coords, is_polygon, |c| Geometry::Polygon(polygon_of(c))),
                "MultiPolygon" => checked(
                    coords,
                    |c| is_many(c, is_polygon),
                    |c| Geometry::MultiPolygon(MultiPolygon(many_of(c, polygon_of))),
                ),
                _ => Err(coords),
            };
            match made {
                Ok(g) => return Ok(g),
                Err(coords) => self.members[at].1 = Member::Coordinates(coords),
            }
        }
        Err(self.into_value())
    }

    fn into_value(self) -> Value {
        let mut map = Map::new();
        for (k, m) in self.members {
            let v = match m {
                Member::Coordinates(c) => c.into_value(),
                Member::Json(v) => v,
            };
            map.insert(k, v);
        }
        Value::Object(map)
    }
}

impl FeatureElement {
    /// The feature, checked as [`super::geojson`]'s readers check it.
    ///
    /// # Errors
    /// Not an object, not of type Feature, properties that are not an
    /// object, no geometry, an invalid geometry or coordinate.
    pub(crate) fn into_feature(self, path: &Path, index: usize) -> Result<InputFeature> {
        let at = || Location::feature(path, index);
        let FeatureElement::Object(f) = self else {
            return Err(Error::format(at(), "a feature must be a JSON object"));
        };
        let properties = feature_properties(f.kind.as_ref(), f.properties, at)?;
        let geometry = match f.geometry {
            None | Some(GeometryMember::Other(Value::Null)) => {
                return Err(Error::invalid(at(), "feature has no geometry"))
            }
            Some(GeometryMember::Object(g)) => match g.direct() {
                Ok(g) => g,
                Err(v) => super::geojson::via_geojson(v, path, index)?,
            },
            Some(GeometryMember::Other(v)) => super::geojson::via_geojson(v, path, index)?,
        };
        validate_coordinates(&geometry, path, index)?;
        Ok(InputFeature {
            index,
            feature_id: f.id,
            properties,
            geometry,
        })
    }
}

/// A feature's properties once its `type` member is checked.
///
/// # Errors
/// A type other than "Feature" or none; properties that are neither an
/// object nor null.
fn feature_properties(
    kind: Option<&Value>,
    properties: Option<Value>,
    at: impl Fn() -> Location,
) -> Result<Map<String, Value>> {
    match kind.and_then(Value::as_str) {
        Some("Feature") => {}
        Some(other) => {
            return Err(Error::format(
                at(),
                format!("expected a GeoJSON Feature, found type '{other}'"),
            ))
        }
        None => return Err(Error::format(at(), "feature has no 'type' member")),
    }
    match properties {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(Error::format(
            at(),
            "'properties' must be an object or null",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The reference: the whole feature parsed into a `Value`, its geometry
    /// converted by the `geojson` crate (the conversion this module must
    /// equal), its other members checked as [`FeatureElement::into_feature`]
    /// checks them.
    fn through_the_crate(text: &str) -> Result<InputFeature> {
        let path = Path::new("t.geojson");
        let at = || Location::feature(path, 0);
        let v: Value = serde_json::from_str(text).unwrap();
        let Value::Object(mut obj) = v else {
            return Err(Error::format(at(), "a feature must be a JSON object"));
        };
        let kind = obj.remove("type");
        let properties = feature_properties(kind.as_ref(), obj.remove("properties"), at)?;
        let feature_id = obj.remove("id");
        let geometry = match obj.remove("geometry") {
            None | Some(Value::Null) => {
                return Err(Error::invalid(at(), "feature has no geometry"))
            }
            Some(g) => super::super::geojson::via_geojson(g, path, 0)?,
        };
        validate_coordinates(&geometry, path, 0)?;
        Ok(InputFeature {
            index: 0,
            feature_id,
            properties,
            geometry,
        })
    }

    fn typed(text: &str) -> Result<InputFeature> {
        let mut de = serde_json::Deserializer::from_str(text);
        let element = FeatureSeed.deserialize(&mut de).unwrap();
        de.end().unwrap();
        element.into_feature(Path::new("t.geojson"), 0)
    }

    fn assert_same(text: &str) {
        match (typed(text), through_the_crate(text)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.geometry, b.geometry, "{text}");
                assert_eq!(a.properties, b.properties, "{text}");
                assert_eq!(a.feature_id, b.feature_id, "{text}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            (a, b) => panic!("{text}: typed {:?} vs crate {:?}", a.err(), b.err()),
        }
    }

    fn feature(geometry: &str) -> String {
        format!(
            r#"{{"type":"Feature","id":7,"properties":{{"name":"x","n":1}},"geometry":{geometry}}}"#
        )
    }

    #[test]
    fn plain_geometries_are_read_flat_as_the_crate_reads_them() {
        // Every simple type, with heights, integers, an unclosed ring, a
        // hole, empty parts, a repeated member, a foreign member.
        let plain = [
            r#"{"type":"Point","coordinates":[76.9,43.2]}"#,
            r#"{"type":"Point","coordinates":[76,43,812.5]}"#,
            r#"{"coordinates":[76,43],"type":"Point"}"#,
            r#"{"type":"MultiPoint","coordinates":[[1,2],[3.5,4.25,9]]}"#,
            r#"{"type":"MultiPoint","coordinates":[]}"#,
            r#"{"type":"LineString","coordinates":[[80,44],[80.5,44.3],[81,44.1]]}"#,
            r#"{"type":"LineString","coordinates":[]}"#,
            r#"{"type":"MultiLineString","coordinates":[[[80,44],[81,45]],[[82,46],[83,47]]]}"#,
            r#"{"type":"MultiLineString","coordinates":[[],[[1,2],[3,4]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4]],[[1,1],[2,1],[2,2],[1,1]]]}"#,
            r#"{"type":"Polygon","coordinates":[]}"#,
            r#"{"type":"Polygon","coordinates":[[]]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6]]]],"name":"x"}"#,
            r#"{"type":"MultiPolygon","coordinates":[]}"#,
            r#"{"type":"Point","coordinates":[0,0],"coordinates":[1,2]}"#,
        ];
        for g in plain {
            let text = feature(g);
            let mut de = serde_json::Deserializer::from_str(&text);
            let FeatureElement::Object(f) = FeatureSeed.deserialize(&mut de).unwrap() else {
                panic!("{g}")
            };
            let Some(GeometryMember::Object(obj)) = f.geometry else {
                panic!("{g}")
            };
            assert!(obj.direct().is_ok(), "read flat: {g}");
            assert_same(&text);
        }
    }

    #[test]
    fn anything_else_is_left_to_the_crate_with_its_messages() {
        let left = [
            r#"{"type":"Point","coordinates":[76.9]}"#,
            r#"{"type":"Point","coordinates":[76.9,"43"]}"#,
            r#"{"type":"Point","coordinates":[]}"#,
            r#"{"type":"Point","coordinates":[[1,2]]}"#,
            r#"{"type":"Point","coordinates":7}"#,
            r#"{"type":"LineString","coordinates":[[1,2],[3]]}"#,
            r#"{"type":"LineString","coordinates":[[1,2],3]}"#,
            r#"{"type":"LineString","coordinates":[[1,2],[[3,4]]]}"#,
            r#"{"type":"LineString","coordinates":[[]]}"#,
            r#"{"type":"MultiPoint","coordinates":[[1,2],[null,4]]}"#,
            r#"{"type":"Polygon","coordinates":[[1,2],[3,4]]}"#,
            r#"{"type":"Polygon","coordinates":[[[1,2],[3,4],{"a":1}]]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[1,2]]]}"#,
            r#"{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]}"#,
            r#"{"type":"Point","coordinates":[1,2],"bbox":"x"}"#,
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}"#,
            r#"{"type":"GeometryCollection","geometries":[]}"#,
            r#"{"type":"Circle","coordinates":[1,2]}"#,
            r#"{"type":7,"coordinates":[1,2]}"#,
            r#"{"coordinates":[1,2]}"#,
            r#"{"type":"Point"}"#,
            r#"[1,2]"#,
            r#""Point""#,
            r#"null"#,
            r#"{"type":"Point","coordinates":[500000,4800000]}"#,
        ];
        for g in left {
            assert_same(&feature(g));
        }
        // The feature's own checks.
        for text in [
            r#"[1,2]"#,
            r#""x""#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}"#,
            r#"{"type":"Feature","properties":null,"geometry":{"type":"Point","coordinates":[1,2]}}"#,
            r#"{"type":"Feature","properties":[],"geometry":{"type":"Point","coordinates":[1,2]}}"#,
            r#"{"type":"Feature","properties":{}}"#,
            r#"{"type":"Feature","properties":{},"geometry":null}"#,
            r#"{"type":"Fature","properties":{},"geometry":null}"#,
            r#"{"properties":{},"geometry":null}"#,
            r#"{"type":"Feature","type":"Feature","id":"a","id":"b","geometry":{"type":"Point","coordinates":[1,2]},"x":{"deep":[1,[2]]}}"#,
        ] {
            assert_same(text);
        }
    }

    #[test]
    fn random_coordinates_read_as_the_crate_reads_them() {
        // Random nesting (0–4 deep), numbers of every JSON kind, heights,
        // empty arrays, and now and then a string, null or object where a
        // number or array belongs, under every type name: the typed reader
        // and the crate agree on every one (the geometry, or the message).
        let mut state = 0xC0FF_EE00_u64;
        let mut next = || crate::test_rand::next_u64(&mut state);
        fn value(depth: u32, next: &mut dyn FnMut() -> u64, out: &mut String) {
            let r = next() % 100;
            if r < 2 {
                out.push_str(["\"a\"", "null", "{}", "true"][(next() % 4) as usize]);
                return;
            }
            if depth == 0 {
                let n = next();
                match n % 4 {
                    0 => out.push_str(&format!("{}", (n >> 8) % 180)),
                    1 => out.push_str(&format!("-{}", (n >> 8) % 90)),
                    2 => out.push_str(&format!("{}.{}", (n >> 8) % 80, (n >> 20) % 10_000_000)),
                    _ => out.push_str(&format!("{:e}", ((n >> 8) % 1_000_000) as f64 / 7.0)),
                }
                return;
            }
            out.push('[');
            let len = match next() % 10 {
                0 => 0,
                1 => 1,
                2 => 3,
                _ => 2 + (next() % 4) as usize,
            };
            for i in 0..len {
                if i > 0 {
                    out.push(',');
                }
                // Mostly the same depth below; now and then one more or less.
                let d = match next() % 40 {
                    0 if depth > 0 => depth - 1,
                    1 => depth + 1,
                    _ => depth - 1,
                };
                value(d.min(4), next, out);
            }
            out.push(']');
        }
        let kinds = [
            "Point",
            "MultiPoint",
            "LineString",
            "MultiLineString",
            "Polygon",
            "MultiPolygon",
            "GeometryCollection",
        ];
        let mut flat = 0;
        for _ in 0..6_000 {
            let k = (next() % kinds.len() as u64) as usize;
            let depth = match k {
                0 => 1,
                1 | 2 => 2,
                3 | 4 => 3,
                _ => 4,
            };
            let mut coords = String::new();
            value(depth, &mut next, &mut coords);
            let bbox = if next() % 20 == 0 {
                r#","bbox":[0,0,1,1]"#
            } else {
                ""
            };
            let g = format!(r#"{{"type":"{}","coordinates":{coords}{bbox}}}"#, kinds[k]);
            let text = feature(&g);
            if typed(&text).is_ok() {
                flat += 1;
            }
            assert_same(&text);
        }
        // Both kinds of case were met.
        assert!(flat > 500 && flat < 5_500, "{flat}");
    }

    #[test]
    fn real_layers_read_as_the_crate_reads_them() {
        // Every committed layer, feature by feature, against the geojson
        // crate's own FeatureCollection parse.
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/kz");
        let mut positions = 0;
        for name in [
            "border_lines.geojson",
            "country.geojson",
            "roads_backbone.geojson",
            "railways.geojson",
            "settlements_geonames.geojson",
            "airports.geojson",
            "crossings_china.geojson",
        ] {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            let fc: geojson::FeatureCollection = text.parse().unwrap();
            let ours: Vec<InputFeature> = super::super::geojson::read_feature_collection(&path)
                .unwrap()
                .collect::<Result<_>>()
                .unwrap();
            assert_eq!(ours.len(), fc.features.len(), "{name}");
            for (a, b) in ours.iter().zip(&fc.features) {
                let g = Geometry::<f64>::try_from(b.geometry.clone().unwrap().value).unwrap();
                assert_eq!(a.geometry, g, "{name} #{}", a.index);
                assert_eq!(
                    Some(&a.properties),
                    b.properties.as_ref(),
                    "{name} #{}",
                    a.index
                );
                positions += geo::CoordsIter::coords_count(&g);
            }
        }
        assert!(positions > 100_000, "{positions}");
    }
}
