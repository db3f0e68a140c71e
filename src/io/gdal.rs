//! GDAL (cargo feature `gdal`): read any vector source GDAL opens —
//! GeoPackage, Shapefile, FlatGeobuf, KML, GML, SQLite, MapInfo, CSV… — in
//! any coordinate reference system, reprojected to WGS84 lon/lat; write
//! layers as one GeoPackage or as FlatGeobuf files.
//!
//! # Reading
//! One layer is read (named with [`ReadOptions::layer`], else the only one).
//! Its CRS is the one it declares, or [`ReadOptions::crs`] when given (which
//! overrides a declared one, like `ogr2ogr -s_srs`); a layer with neither is
//! refused. Every geometry is reprojected to EPSG:4326 in traditional GIS
//! order (x = longitude, y = latitude, whatever the CRS's official axis
//! order), curves are linearised, Z and M are dropped. Attributes become JSON
//! values: integers, reals, strings, booleans (integer fields with the
//! boolean subtype), JSON (string fields with the JSON subtype), lists as
//! arrays, dates as ISO 8601 strings, null as null; fields of other types
//! (binary, time) are left out. Features stream one at a time from a reader
//! thread, since GDAL handles may not cross threads.
//!
//! # Classic mistakes caught
//! - No CRS: refused, naming the file and layer, asking for `--crs`.
//! - Latitude and longitude swapped: checked once per layer on its extent in
//!   WGS84 (see [`swapped_axes`]).
//! - Projected metres declared (or stated) as degrees: every coordinate is
//!   checked to be a valid lon/lat, and the error suggests `--crs`.
//!
//! # Writing
//! [`geojson_to_gpkg`] / [`geojson_to_fgb`] convert GeoJSON layers that a run
//! has just written into one GeoPackage (a table per layer) or one FlatGeobuf
//! file per layer, with typed fields and CRS EPSG:4326, through the run's
//! [`OutputSet`], so they are committed with the other outputs.

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{sync_channel, SyncSender};

use gdal::errors::GdalError;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{
    geometry_type_flatten, Feature, FieldValue, Geometry as GdalGeometry, Layer, LayerAccess,
    LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use gdal_sys::{OGRErr, OGRFieldSubType};
use geo::{coord, Geometry, Rect};
use serde_json::{Map, Number, Value};

use super::atomic::OutputSet;
use super::geojson::read_feature_collection;
use super::{
    property_text, validate_coordinates, FeatureStream, InputFeature, LayerFormat, ReadOptions,
};
use crate::error::{Error, Location, Result};

/// Features handed from the reader thread to the consumer at a time.
const CHANNEL_DEPTH: usize = 512;

/// Kazakhstan's extent with a margin of about a degree, lon/lat degrees
/// (the country spans 46.5–87.4°E, 40.6–55.5°N): the default area of
/// interest for [`swapped_axes`].
pub fn kazakhstan_lonlat() -> Rect<f64> {
    Rect::new(coord! { x: 45.0, y: 39.5 }, coord! { x: 89.0, y: 56.5 })
}

/// Whether `path` (with `options`) is read through GDAL rather than the
/// built-in GeoJSON/NDJSON/CSV readers: any other extension (or none), or
/// any read that names a layer or a CRS.
pub fn handles(path: &Path, options: &ReadOptions) -> bool {
    options.layer.is_some() || options.crs.is_some() || LayerFormat::from_path(path).is_err()
}

/// Stream one layer of any GDAL vector source as WGS84 lon/lat features,
/// checking for swapped axes against [`kazakhstan_lonlat`].
///
/// # Errors
/// See [`read_layer_in`].
pub fn read_layer(path: &Path, options: &ReadOptions) -> Result<FeatureStream> {
    read_layer_in(path, options, Some(kazakhstan_lonlat()))
}

/// Stream one layer of any GDAL vector source as WGS84 lon/lat features;
/// `area_of_interest` (lon/lat) drives the swapped-axes check (`None`: only
/// the validity half of it).
///
/// # Errors
/// Here: the source cannot be opened, the layer is missing or ambiguous (the
/// message lists the layers), no CRS is known, `crs` is not understood, no
/// transformation to WGS84 exists, the layer looks lat/lon-swapped. In the
/// stream, naming the feature: no geometry, an unconvertible geometry, a
/// failed reprojection, a coordinate that is not a valid lon/lat; the
/// stream ends after an error.
pub fn read_layer_in(
    path: &Path,
    options: &ReadOptions,
    area_of_interest: Option<Rect<f64>>,
) -> Result<FeatureStream> {
    let (ready_tx, ready_rx) = sync_channel::<Result<()>>(1);
    let (tx, rx) = sync_channel::<Result<InputFeature>>(CHANNEL_DEPTH);
    let thread_path = path.to_path_buf();
    let options = options.clone();
    std::thread::Builder::new()
        .name("gdal-reader".into())
        .spawn(move || run_reader(&thread_path, &options, area_of_interest, &ready_tx, &tx))
        .map_err(|e| Error::io("gdal-reader thread", "cannot start", e))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(Box::new(rx.into_iter())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::format(
            Location::file(path),
            "the GDAL reader stopped unexpectedly",
        )),
    }
}

/// The names of the vector layers of a GDAL source.
///
/// # Errors
/// The source cannot be opened.
pub fn layer_names(path: &Path) -> Result<Vec<String>> {
    let dataset = open_dataset(path, &ReadOptions::default())?;
    Ok(dataset.layers().map(|l| l.name()).collect())
}

/// The swapped-axes rule, on a layer's extent in WGS84 (x = lon, y = lat).
///
/// The layer looks lat/lon-swapped when either
/// 1. its extent is not a valid lon/lat extent but would be once swapped
///    (e.g. "latitudes" above 90° that are really longitudes), or
/// 2. with an area of interest: its extent does not lie inside the area but
///    would once swapped (Kazakhstan read lat-first lands in the Arctic at
///    40–56°E, 46–88°N; swapped back it lies inside the area).
///
/// A layer already inside the area is never flagged, so correct data cannot
/// trip the rule; a layer far from the area in both orders is left to the
/// per-coordinate checks.
pub fn swapped_axes(extent: Rect<f64>, area_of_interest: Option<Rect<f64>>) -> bool {
    let swapped = Rect::new(
        coord! { x: extent.min().y, y: extent.min().x },
        coord! { x: extent.max().y, y: extent.max().x },
    );
    let valid = |r: &Rect<f64>| {
        r.min().x >= -180.0 && r.max().x <= 180.0 && r.min().y >= -90.0 && r.max().y <= 90.0
    };
    let inside = |r: &Rect<f64>, a: &Rect<f64>| {
        r.min().x >= a.min().x
            && r.max().x <= a.max().x
            && r.min().y >= a.min().y
            && r.max().y <= a.max().y
    };
    if !valid(&extent) && valid(&swapped) {
        return true;
    }
    area_of_interest.is_some_and(|a| !inside(&extent, &a) && inside(&swapped, &a))
}

fn gdal_error(path: &Path, what: &str, e: GdalError) -> Error {
    Error::format(Location::file(path), format!("{what}: {e}"))
}

/// GDAL open options for a CSV source: where the coordinates are.
fn csv_open_options(options: &ReadOptions) -> Vec<String> {
    let x = options
        .lon_field
        .clone()
        .unwrap_or_else(|| "lon,lng,longitude,x".into());
    let y = options
        .lat_field
        .clone()
        .unwrap_or_else(|| "lat,latitude,y".into());
    vec![
        format!("X_POSSIBLE_NAMES={x}"),
        format!("Y_POSSIBLE_NAMES={y}"),
        "KEEP_GEOM_COLUMNS=NO".into(),
    ]
}

fn open_dataset(path: &Path, options: &ReadOptions) -> Result<Dataset> {
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let open_options = if is_csv {
        csv_open_options(options)
    } else {
        Vec::new()
    };
    let open_refs: Vec<&str> = open_options.iter().map(String::as_str).collect();
    let dataset_options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
        open_options: (!open_refs.is_empty()).then_some(open_refs.as_slice()),
        ..Default::default()
    };
    Dataset::open_ex(path, dataset_options).map_err(|e| match std::fs::metadata(path) {
        Err(io) if io.kind() == std::io::ErrorKind::NotFound => Error::io(path, "cannot open", io),
        _ => gdal_error(path, "GDAL cannot open this as a vector source", e),
    })
}

/// A short human label for a CRS: "EPSG:32644 (WGS 84 / UTM zone 44N)".
fn crs_label(srs: &SpatialRef) -> String {
    let name = srs.name().unwrap_or_else(|| "unnamed CRS".into());
    match (srs.auth_name(), srs.auth_code()) {
        (Some(auth), Ok(code)) => format!("{auth}:{code} ({name})"),
        _ => name,
    }
}

fn wgs84_lonlat() -> std::result::Result<SpatialRef, GdalError> {
    let mut srs = SpatialRef::from_epsg(4326)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// What a field's values become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Plain,
    Boolean,
    Json,
}

/// Everything the feature loop needs, worked out once per layer.
struct Prepared {
    layer: String,
    crs: String,
    transform: Option<CoordTransform>,
    /// (index in the layer definition, name, kind), supported fields only.
    fields: Vec<(usize, String, FieldKind)>,
    /// The layer has a real FID column (GeoPackage, SQLite…): use it as id.
    fid_is_id: bool,
}

fn run_reader(
    path: &Path,
    options: &ReadOptions,
    area_of_interest: Option<Rect<f64>>,
    ready: &SyncSender<Result<()>>,
    tx: &SyncSender<Result<InputFeature>>,
) {
    let dataset = match open_dataset(path, options) {
        Ok(d) => d,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let (mut layer, prepared) = match prepare(&dataset, path, options, area_of_interest) {
        Ok(p) => p,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    for (index, feature) in layer.features().enumerate() {
        let item = convert_feature(&feature, index, &prepared, path);
        let failed = item.is_err();
        if tx.send(item).is_err() || failed {
            return;
        }
    }
}

fn choose_layer<'d>(dataset: &'d Dataset, path: &Path, options: &ReadOptions) -> Result<Layer<'d>> {
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let listed = || {
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &options.layer {
        Some(name) => dataset.layer_by_name(name).map_err(|_| {
            Error::config(format!(
                "{}: no layer '{name}'; its layers are: {}",
                path.display(),
                listed()
            ))
        }),
        None => match names.len() {
            0 => Err(Error::invalid(
                Location::file(path),
                "the source has no vector layer",
            )),
            1 => dataset
                .layer(0)
                .map_err(|e| gdal_error(path, "cannot read the layer", e)),
            _ => Err(Error::config(format!(
                "{} has {} layers: choose one with --layer ({})",
                path.display(),
                names.len(),
                listed()
            ))),
        },
    }
}

fn prepare<'d>(
    dataset: &'d Dataset,
    path: &Path,
    options: &ReadOptions,
    area_of_interest: Option<Rect<f64>>,
) -> Result<(Layer<'d>, Prepared)> {
    let layer = choose_layer(dataset, path, options)?;
    let name = layer.name();
    let at = || Location::file(path);
    if layer.defn().geom_fields().count() == 0 {
        return Err(Error::invalid(
            at(),
            format!("layer '{name}' has no geometry column"),
        ));
    }
    let mut source = match (&options.crs, layer.spatial_ref()) {
        (Some(given), declared) => {
            let srs = SpatialRef::from_definition(given)
                .map_err(|e| Error::config(format!("--crs '{given}' is not a CRS GDAL/PROJ knows: {e}")))?;
            if let Some(declared) = declared.filter(|d| *d != srs) {
                tracing::warn!(
                    "{}: layer '{name}' declares {}; using --crs {given} instead",
                    path.display(),
                    crs_label(&declared)
                );
            }
            srs
        }
        (None, Some(declared)) => declared,
        (None, None) => {
            return Err(Error::invalid(
                at(),
                format!(
                    "layer '{name}' declares no coordinate reference system: state it with --crs \
                     (e.g. --crs EPSG:4326 for lon/lat degrees, --crs EPSG:32642 for UTM 42N metres)"
                ),
            ))
        }
    };
    source.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let crs = crs_label(&source);
    let target = wgs84_lonlat().map_err(|e| gdal_error(path, "cannot set up WGS84", e))?;
    let is_wgs84 = source == target
        || SpatialRef::from_definition("OGC:CRS84").is_ok_and(|crs84| source == crs84);
    let transform = if is_wgs84 {
        None
    } else {
        Some(CoordTransform::new(&source, &target).map_err(|e| {
            Error::invalid(
                at(),
                format!("layer '{name}': no transformation from {crs} to WGS84: {e}"),
            )
        })?)
    };
    // The swapped-axes check, on the layer's extent in WGS84.
    if let Ok(env) = layer.get_extent() {
        let bounds = [env.MinX, env.MinY, env.MaxX, env.MaxY];
        let lonlat = match &transform {
            None => Some(bounds),
            Some(t) => t.transform_bounds(&bounds, 21).ok(),
        };
        if let Some([x0, y0, x1, y1]) = lonlat.filter(|b| b.iter().all(|v| v.is_finite())) {
            let extent = Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 });
            if swapped_axes(extent, area_of_interest) {
                return Err(Error::invalid(
                    at(),
                    format!(
                        "layer '{name}', read as {crs}, looks latitude/longitude-swapped: its extent in WGS84 is \
                         x {x0:.4}..{x1:.4}, y {y0:.4}..{y1:.4}, which makes sense only with the axes exchanged. \
                         borderzone reads x as longitude and y as latitude: swap the coordinates in the source \
                         (for a CSV, swap the lon/lat columns)"
                    ),
                ));
            }
        }
    }
    let mut fields = Vec::new();
    // SAFETY: the layer and its definition live as long as `dataset`; the
    // index is below the field count.
    unsafe {
        let defn = gdal_sys::OGR_L_GetLayerDefn(layer.c_layer());
        for (i, field) in layer.defn().fields().enumerate() {
            let subtype =
                gdal_sys::OGR_Fld_GetSubType(gdal_sys::OGR_FD_GetFieldDefn(defn, i as i32));
            let ty = field.field_type();
            let supported = matches!(
                ty,
                OGRFieldType::OFTInteger
                    | OGRFieldType::OFTInteger64
                    | OGRFieldType::OFTReal
                    | OGRFieldType::OFTString
                    | OGRFieldType::OFTIntegerList
                    | OGRFieldType::OFTInteger64List
                    | OGRFieldType::OFTRealList
                    | OGRFieldType::OFTStringList
                    | OGRFieldType::OFTDate
                    | OGRFieldType::OFTDateTime
            );
            if !supported {
                tracing::warn!(
                    "{}: layer '{name}': field '{}' has an unsupported type, left out",
                    path.display(),
                    field.name()
                );
                continue;
            }
            let kind = match subtype {
                OGRFieldSubType::OFSTBoolean => FieldKind::Boolean,
                OGRFieldSubType::OFSTJSON => FieldKind::Json,
                _ => FieldKind::Plain,
            };
            fields.push((i, field.name(), kind));
        }
    }
    // SAFETY: a valid layer handle; the returned string is owned by GDAL.
    let fid_is_id = unsafe {
        let c = gdal_sys::OGR_L_GetFIDColumn(layer.c_layer());
        !c.is_null() && *c != 0
    };
    Ok((
        layer,
        Prepared {
            layer: name,
            crs,
            transform,
            fields,
            fid_is_id,
        },
    ))
}

fn json_number(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// One GDAL field value as JSON.
fn field_json(value: Option<FieldValue>, kind: FieldKind) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    match value {
        FieldValue::IntegerValue(i) if kind == FieldKind::Boolean => Value::Bool(i != 0),
        FieldValue::IntegerValue(i) => Value::from(i),
        FieldValue::Integer64Value(i) => Value::from(i),
        FieldValue::RealValue(v) => json_number(v),
        FieldValue::StringValue(s) if kind == FieldKind::Json => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        FieldValue::StringValue(s) => Value::String(s),
        FieldValue::IntegerListValue(v) if kind == FieldKind::Boolean => {
            v.into_iter().map(|i| Value::Bool(i != 0)).collect()
        }
        FieldValue::IntegerListValue(v) => v.into_iter().map(Value::from).collect(),
        FieldValue::Integer64ListValue(v) => v.into_iter().map(Value::from).collect(),
        FieldValue::RealListValue(v) => v.into_iter().map(json_number).collect(),
        FieldValue::StringListValue(v) => v.into_iter().map(Value::String).collect(),
        FieldValue::DateValue(d) => Value::String(d.to_string()),
        FieldValue::DateTimeValue(t) => Value::String(iso_datetime(&t.to_string())),
    }
}

/// chrono's "2024-05-01 12:30:00 +05:00" as ISO 8601 "2024-05-01T12:30:00+05:00".
fn iso_datetime(display: &str) -> String {
    match display.split_once(' ') {
        Some((date, rest)) => format!("{date}T{}", rest.replacen(' ', "", 1)),
        None => display.to_string(),
    }
}

/// Reproject, linearise, drop Z/M and convert to `geo`.
fn to_lonlat(
    g: &GdalGeometry,
    transform: Option<&CoordTransform>,
) -> std::result::Result<Geometry<f64>, String> {
    let mut g = match transform {
        Some(t) => g
            .transform(t)
            .map_err(|e| format!("cannot reproject to WGS84: {e}"))?,
        None => g.clone(),
    };
    let flat = geometry_type_flatten(g.geometry_type());
    let linear = matches!(
        flat,
        OGRwkbGeometryType::wkbPoint
            | OGRwkbGeometryType::wkbLineString
            | OGRwkbGeometryType::wkbPolygon
            | OGRwkbGeometryType::wkbMultiPoint
            | OGRwkbGeometryType::wkbMultiLineString
            | OGRwkbGeometryType::wkbMultiPolygon
    );
    if !linear && flat != OGRwkbGeometryType::wkbGeometryCollection {
        // SAFETY: `g` holds a valid geometry; GetLinearGeometry returns a new
        // one that we copy into an owned wrapper and then destroy.
        g = unsafe {
            let h = gdal_sys::OGR_G_GetLinearGeometry(g.c_geometry(), 0.0, std::ptr::null_mut());
            if h.is_null() {
                return Err(format!("cannot linearise a {}", g.geometry_name()));
            }
            let view = GdalGeometry::lazy_feature_geometry();
            view.set_c_geometry(h);
            let owned = view.clone();
            drop(view);
            gdal_sys::OGR_G_DestroyGeometry(h);
            owned
        };
    }
    g.flatten_to_2d();
    g.to_geo()
        .map_err(|e| format!("unsupported geometry {}: {e}", g.geometry_name()))
}

fn convert_feature(
    feature: &Feature,
    index: usize,
    p: &Prepared,
    path: &Path,
) -> Result<InputFeature> {
    let at = || Location::feature(path, index);
    let mut properties = Map::with_capacity(p.fields.len());
    for (i, name, kind) in &p.fields {
        let value = feature.field(*i).map_err(|e| {
            Error::format(
                at().with_field(name.as_str()),
                format!("layer '{}': {e}", p.layer),
            )
        })?;
        properties.insert(name.clone(), field_json(value, *kind));
    }
    let geometry = match feature.geometry() {
        Some(g) if !g.is_empty() => g,
        _ => {
            return Err(Error::invalid(
                at(),
                format!("layer '{}': feature has no geometry", p.layer),
            ))
        }
    };
    let geometry = to_lonlat(geometry, p.transform.as_ref())
        .map_err(|msg| Error::invalid(at(), format!("layer '{}' ({}): {msg}", p.layer, p.crs)))?;
    validate_coordinates(&geometry, path, index).map_err(|e| match e {
        Error::Invalid { at, message } => {
            let hint = if message.contains("--crs") {
                ""
            } else {
                "; if the layer's CRS is wrong, give the right one with --crs"
            };
            Error::invalid(
                at,
                format!("layer '{}', read as {}: {message}{hint}", p.layer, p.crs),
            )
        }
        other => other,
    })?;
    let feature_id = if p.fid_is_id {
        feature.fid().map(Value::from)
    } else {
        None
    };
    Ok(InputFeature {
        index,
        feature_id,
        properties,
        geometry,
    })
}

// ---------------------------------------------------------------- writing

/// Vector formats written through GDAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorFormat {
    /// One GeoPackage holding a table per layer.
    GeoPackage,
    /// One FlatGeobuf file per layer.
    FlatGeobuf,
}

impl FromStr for VectorFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "gpkg" | "geopackage" => Ok(VectorFormat::GeoPackage),
            "fgb" | "flatgeobuf" => Ok(VectorFormat::FlatGeobuf),
            other => Err(format!(
                "unknown output format '{other}': expected gpkg or fgb"
            )),
        }
    }
}

/// The type of one output field, widened over all the layer's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// Only nulls so far.
    Null,
    Bool,
    Integer,
    Integer64,
    Real,
    Text,
    /// Arrays and objects, stored as JSON text.
    Json,
}

impl Column {
    fn of(v: &Value) -> Column {
        match v {
            Value::Null => Column::Null,
            Value::Bool(_) => Column::Bool,
            Value::Number(n) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => Column::Integer,
                Some(_) => Column::Integer64,
                None => Column::Real,
            },
            Value::String(_) => Column::Text,
            Value::Array(_) | Value::Object(_) => Column::Json,
        }
    }

    fn widen(self, other: Column) -> Column {
        use Column::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Null, b) | (b, Null) => b,
            (Integer, Integer64) | (Integer64, Integer) => Integer64,
            (Integer | Integer64 | Real, Integer | Integer64 | Real) => Real,
            _ => Text,
        }
    }

    fn ogr(self) -> (OGRFieldType::Type, OGRFieldSubType::Type) {
        match self {
            Column::Bool => (OGRFieldType::OFTInteger, OGRFieldSubType::OFSTBoolean),
            Column::Integer => (OGRFieldType::OFTInteger, OGRFieldSubType::OFSTNone),
            Column::Integer64 => (OGRFieldType::OFTInteger64, OGRFieldSubType::OFSTNone),
            Column::Real => (OGRFieldType::OFTReal, OGRFieldSubType::OFSTNone),
            Column::Null | Column::Text => (OGRFieldType::OFTString, OGRFieldSubType::OFSTNone),
            Column::Json => (OGRFieldType::OFTString, OGRFieldSubType::OFSTJSON),
        }
    }
}

fn wkb_type(g: &Geometry<f64>) -> OGRwkbGeometryType::Type {
    match g {
        Geometry::Point(_) => OGRwkbGeometryType::wkbPoint,
        Geometry::Line(_) | Geometry::LineString(_) => OGRwkbGeometryType::wkbLineString,
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => {
            OGRwkbGeometryType::wkbPolygon
        }
        Geometry::MultiPoint(_) => OGRwkbGeometryType::wkbMultiPoint,
        Geometry::MultiLineString(_) => OGRwkbGeometryType::wkbMultiLineString,
        Geometry::MultiPolygon(_) => OGRwkbGeometryType::wkbMultiPolygon,
        Geometry::GeometryCollection(_) => OGRwkbGeometryType::wkbGeometryCollection,
    }
}

/// A layer's fields (in first-seen order) and geometry type.
struct Schema {
    columns: Vec<(String, Column)>,
    geometry: Option<OGRwkbGeometryType::Type>,
}

fn infer_schema(source: &Path) -> Result<Schema> {
    let mut columns: Vec<(String, Column)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut geometry: Option<OGRwkbGeometryType::Type> = None;
    for f in read_feature_collection(source)? {
        let f = f?;
        for (k, v) in &f.properties {
            let c = Column::of(v);
            match position.get(k) {
                Some(&i) => columns[i].1 = columns[i].1.widen(c),
                None => {
                    position.insert(k.clone(), columns.len());
                    columns.push((k.clone(), c));
                }
            }
        }
        let t = wkb_type(&f.geometry);
        geometry = Some(match geometry {
            None => t,
            Some(g) if g == t => g,
            Some(_) => OGRwkbGeometryType::wkbUnknown,
        });
    }
    Ok(Schema { columns, geometry })
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, "cannot write", std::io::Error::other(e.to_string()))
}

/// Make GeoPackage timestamps reproducible when `SOURCE_DATE_EPOCH` is set
/// (GDAL stamps `gpkg_contents.last_change` with the current time otherwise).
fn pin_timestamp() {
    let Some(secs) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
    else {
        return;
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let stamp = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    let _ = gdal::config::set_thread_local_config_option("OGR_CURRENT_DATE", &stamp);
}

/// Create a field with an optional subtype (the `gdal` crate has no
/// subtype setter).
fn create_field(layer: &Layer, name: &str, column: Column) -> std::result::Result<(), String> {
    let (ty, subtype) = column.ogr();
    let c_name =
        CString::new(name).map_err(|_| format!("field name '{name}' contains a NUL byte"))?;
    // SAFETY: the field definition is created, used and destroyed here; the
    // layer handle is valid for the borrow.
    let rv = unsafe {
        let fld = gdal_sys::OGR_Fld_Create(c_name.as_ptr(), ty);
        if subtype != OGRFieldSubType::OFSTNone {
            gdal_sys::OGR_Fld_SetSubType(fld, subtype);
        }
        let rv = gdal_sys::OGR_L_CreateField(layer.c_layer(), fld, 1);
        gdal_sys::OGR_Fld_Destroy(fld);
        rv
    };
    if rv == OGRErr::OGRERR_NONE {
        Ok(())
    } else {
        Err(format!("cannot create field '{name}' (OGR error {rv})"))
    }
}

/// Write the GeoJSON layer at `source` as layer `name` of `dataset`.
fn write_layer(
    dataset: &mut Dataset,
    name: &str,
    source: &Path,
    target: &Path,
    transaction: bool,
    layer_options: &[&str],
) -> Result<()> {
    let werr = |e: GdalError| write_error(target, format!("layer '{name}': {e}"));
    if transaction {
        let mut txn = dataset.start_transaction().map_err(werr)?;
        fill_layer(&mut txn, name, source, target, layer_options)?;
        txn.commit().map_err(werr)
    } else {
        fill_layer(dataset, name, source, target, layer_options)
    }
}

fn fill_layer(
    ds: &mut Dataset,
    name: &str,
    source: &Path,
    target: &Path,
    layer_options: &[&str],
) -> Result<()> {
    let schema = infer_schema(source)?;
    let srs = wgs84_lonlat().map_err(|e| write_error(target, e))?;
    let werr = |e: GdalError| write_error(target, format!("layer '{name}': {e}"));
    {
        let layer = ds
            .create_layer(LayerOptions {
                name,
                srs: Some(&srs),
                ty: schema.geometry.unwrap_or(OGRwkbGeometryType::wkbUnknown),
                options: Some(layer_options),
            })
            .map_err(werr)?;
        for (field, column) in &schema.columns {
            create_field(&layer, field, *column)
                .map_err(|m| write_error(target, format!("layer '{name}': {m}")))?;
        }
        let indices: Vec<usize> = schema
            .columns
            .iter()
            .map(|(field, _)| layer.defn().field_index(field))
            .collect::<std::result::Result<_, _>>()
            .map_err(werr)?;
        for f in read_feature_collection(source)? {
            let f = f?;
            let mut out = Feature::new(layer.defn()).map_err(werr)?;
            for ((field, column), &i) in schema.columns.iter().zip(&indices) {
                let set = match f.properties.get(field) {
                    None | Some(Value::Null) => out.set_field_null(i),
                    Some(v) => match (column, v) {
                        (Column::Bool, Value::Bool(b)) => out.set_field_integer(i, i32::from(*b)),
                        (Column::Integer, Value::Number(n)) => out.set_field_integer(
                            i,
                            n.as_i64()
                                .and_then(|x| i32::try_from(x).ok())
                                .unwrap_or_default(),
                        ),
                        (Column::Integer64, Value::Number(n)) => {
                            out.set_field_integer64(i, n.as_i64().unwrap_or_default())
                        }
                        (Column::Real, Value::Number(n)) => {
                            out.set_field_double(i, n.as_f64().unwrap_or(f64::NAN))
                        }
                        (Column::Json, v) => out.set_field_string(i, &v.to_string()),
                        (_, v) => out.set_field_string(i, &property_text(v)),
                    },
                };
                set.map_err(werr)?;
            }
            out.set_geometry(f.geometry.to_gdal().map_err(werr)?)
                .map_err(werr)?;
            out.create(&layer).map_err(werr)?;
        }
    }
    Ok(())
}

/// The readable file behind `path`: its temporary file when it is pending in
/// `out`, else `path` itself.
fn source_of(out: &OutputSet, path: &Path) -> PathBuf {
    out.staged(path).unwrap_or(path).to_path_buf()
}

/// Write GeoJSON layers as one GeoPackage, a table per layer, CRS
/// EPSG:4326, field types inferred from the values (booleans as integers
/// with the boolean subtype, arrays/objects as JSON text).
///
/// `layers` pairs a table name with a GeoJSON file — typically one this run
/// has just written through `out` (its temporary file is read; finish its
/// writer first). The GeoPackage is written under a temporary name and
/// committed with `out`. `gpkg_contents.last_change` is the current time
/// unless `SOURCE_DATE_EPOCH` is set, which makes the file reproducible.
///
/// # Errors
/// An unreadable GeoJSON layer, a GDAL failure while writing.
pub fn geojson_to_gpkg(
    out: &mut OutputSet,
    gpkg_path: &Path,
    layers: &[(&str, &Path)],
) -> Result<()> {
    let sources: Vec<PathBuf> = layers.iter().map(|(_, p)| source_of(out, p)).collect();
    let tmp = out.reserve(gpkg_path)?;
    pin_timestamp();
    let driver =
        DriverManager::get_driver_by_name("GPKG").map_err(|e| write_error(gpkg_path, e))?;
    let mut dataset = driver
        .create_vector_only(&tmp)
        .map_err(|e| write_error(gpkg_path, e))?;
    for ((name, _), source) in layers.iter().zip(&sources) {
        write_layer(&mut dataset, name, source, gpkg_path, true, &[])?;
    }
    dataset.close().map_err(|e| write_error(gpkg_path, e))
}

/// Write each GeoJSON layer as `dir/<name>.fgb` (FlatGeobuf, CRS EPSG:4326,
/// features in input order, hence no spatial index), committed with `out`;
/// see [`geojson_to_gpkg`]. GDAL 3.6 reads JSON fields of a FlatGeobuf back
/// as plain text.
///
/// # Errors
/// An unreadable GeoJSON layer, a GDAL failure while writing.
pub fn geojson_to_fgb(
    out: &mut OutputSet,
    dir: &Path,
    layers: &[(&str, &Path)],
) -> Result<Vec<PathBuf>> {
    let driver =
        DriverManager::get_driver_by_name("FlatGeobuf").map_err(|e| write_error(dir, e))?;
    let mut written = Vec::with_capacity(layers.len());
    for (name, path) in layers {
        let source = source_of(out, path);
        let target = dir.join(format!("{name}.fgb"));
        let tmp = out.reserve(&target)?;
        let mut dataset = driver
            .create_vector_only(&tmp)
            .map_err(|e| write_error(&target, e))?;
        // No spatial index: it would reorder the features along a Hilbert
        // curve, and outputs keep input order.
        write_layer(
            &mut dataset,
            name,
            &source,
            &target,
            false,
            &["SPATIAL_INDEX=NO"],
        )?;
        dataset.close().map_err(|e| write_error(&target, e))?;
        written.push(target);
    }
    Ok(written)
}

/// Convert the GeoJSON files among `files` (e.g. a finished run's outputs)
/// to `format` in `out_dir`: `borderzone.gpkg` with a table per file, or one
/// `.fgb` per file; each layer is named after its file's stem. Committed as
/// a set of its own.
///
/// # Errors
/// As [`geojson_to_gpkg`].
pub fn convert_outputs(
    format: VectorFormat,
    out_dir: &Path,
    files: &[PathBuf],
) -> Result<Vec<PathBuf>> {
    let layers: Vec<(String, &Path)> = files
        .iter()
        .filter(|f| {
            f.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("geojson"))
        })
        .filter_map(|f| Some((f.file_stem()?.to_str()?.to_string(), f.as_path())))
        .collect();
    let refs: Vec<(&str, &Path)> = layers.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    let mut out = OutputSet::new();
    match format {
        VectorFormat::GeoPackage => {
            geojson_to_gpkg(&mut out, &out_dir.join("borderzone.gpkg"), &refs)?
        }
        VectorFormat::FlatGeobuf => {
            geojson_to_fgb(&mut out, out_dir, &refs)?;
        }
    }
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 })
    }

    #[test]
    fn swapped_kazakhstan_is_flagged_and_the_real_one_is_not() {
        let kz = rect(46.49, 40.57, 87.32, 55.44);
        let swapped = rect(40.57, 46.49, 55.44, 87.32);
        assert!(!swapped_axes(kz, Some(kazakhstan_lonlat())));
        assert!(swapped_axes(swapped, Some(kazakhstan_lonlat())));
        // Within the square where both orders fall in the area: never flagged.
        assert!(!swapped_axes(
            rect(50.0, 50.0, 52.0, 51.0),
            Some(kazakhstan_lonlat())
        ));
        // The world: not flagged.
        assert!(!swapped_axes(
            rect(-180.0, -90.0, 180.0, 90.0),
            Some(kazakhstan_lonlat())
        ));
        // Valid only once swapped, whatever the area.
        assert!(swapped_axes(rect(10.0, 100.0, 20.0, 120.0), None));
        // Metres: invalid both ways, left to the per-coordinate check.
        assert!(!swapped_axes(
            rect(500_000.0, 4_800_000.0, 600_000.0, 4_900_000.0),
            None
        ));
    }

    #[test]
    fn columns_widen() {
        assert_eq!(Column::Null.widen(Column::Bool), Column::Bool);
        assert_eq!(Column::Integer.widen(Column::Real), Column::Real);
        assert_eq!(Column::Integer.widen(Column::Integer64), Column::Integer64);
        assert_eq!(Column::Integer.widen(Column::Text), Column::Text);
        assert_eq!(Column::Bool.widen(Column::Integer), Column::Text);
        assert_eq!(
            Column::of(&Value::from(3_000_000_000i64)),
            Column::Integer64
        );
        assert_eq!(Column::of(&serde_json::json!(["a"])), Column::Json);
    }

    #[test]
    fn field_values_become_json() {
        assert_eq!(
            field_json(Some(FieldValue::IntegerValue(1)), FieldKind::Boolean),
            Value::Bool(true)
        );
        assert_eq!(
            field_json(
                Some(FieldValue::StringValue("[1,2]".into())),
                FieldKind::Json
            ),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            field_json(Some(FieldValue::RealValue(f64::NAN)), FieldKind::Plain),
            Value::Null
        );
        assert_eq!(field_json(None, FieldKind::Plain), Value::Null);
        assert_eq!(
            iso_datetime("2024-05-01 12:30:00.250 +05:00"),
            "2024-05-01T12:30:00.250+05:00"
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!("GPKG".parse::<VectorFormat>(), Ok(VectorFormat::GeoPackage));
        assert_eq!("fgb".parse::<VectorFormat>(), Ok(VectorFormat::FlatGeobuf));
        assert!("shp".parse::<VectorFormat>().is_err());
    }
}
