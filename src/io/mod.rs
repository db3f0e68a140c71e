//! Readers and writers, one module per format.
//!
//! Every reader yields [`InputFeature`]s one at a time (streaming: a layer is
//! never held as text and parsed tree at once), each carrying its 0-based
//! index in the layer so that any later error can name it. Coordinates are
//! validated on the way in: every position must be a finite WGS84 lon/lat.
//! For large batches, [`prefetch_raw_chunks`] reads a layer ahead on its own
//! thread; CSV rows are only framed there and decoded by the consumer, in
//! parallel ([`RawChunk`]).

pub mod atomic;
pub mod csv;
mod csv_framer;
#[cfg(feature = "gdal")]
pub mod gdal;
pub mod geojson;
mod geojson_feature;

use std::path::Path;

use geo::{CoordsIter, Geometry};
use serde_json::{Map, Value};

use crate::error::{Error, Location, Result};
use crate::geodesy::is_valid_lonlat;

/// One feature of an input layer.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFeature {
    /// 0-based position in the layer.
    pub index: usize,
    /// The GeoJSON feature `id` member, when present.
    pub feature_id: Option<Value>,
    /// Attributes, in input order.
    pub properties: Map<String, Value>,
    /// Geometry in WGS84 lon/lat degrees.
    pub geometry: Geometry<f64>,
}

impl InputFeature {
    /// A point feature with no attributes, to decode into (allocates
    /// nothing).
    pub fn blank() -> Self {
        InputFeature {
            index: 0,
            feature_id: None,
            properties: Map::new(),
            geometry: Geometry::Point(geo::Point::new(0.0, 0.0)),
        }
    }
}

/// A boxed stream of features.
pub type FeatureStream = Box<dyn Iterator<Item = Result<InputFeature>> + Send>;

/// The on-disk formats borderzone reads without GDAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerFormat {
    /// A GeoJSON FeatureCollection (`.geojson`, `.json`).
    GeoJson,
    /// Newline-delimited GeoJSON features (`.ndjson`, `.geojsonl`, `.geojsons`, `.jsonl`).
    NdJson,
    /// CSV with lon/lat columns (`.csv`).
    Csv,
}

impl LayerFormat {
    /// The format implied by a file's extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Ok(LayerFormat::GeoJson),
            "ndjson" | "geojsonl" | "geojsons" | "geojsonseq" | "jsonl" => Ok(LayerFormat::NdJson),
            "csv" => Ok(LayerFormat::Csv),
            _ => Err(Error::format(
                Location::file(path),
                format!(
                    "unknown file type '.{ext}': expected .geojson/.json, .ndjson/.geojsonl or .csv{}",
                    if cfg!(feature = "gdal") {
                        ""
                    } else {
                        " (GeoPackage, Shapefile and other GIS formats need borderzone built with --features gdal)"
                    }
                ),
            )),
        }
    }
}

/// How to read a layer.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// CSV longitude column (default: the first of lon, lng, longitude, x).
    pub lon_field: Option<String>,
    /// CSV latitude column (default: the first of lat, latitude, y).
    pub lat_field: Option<String>,
    /// Layer of a multi-layer source such as a GeoPackage (GDAL only;
    /// default: the only layer).
    pub layer: Option<String>,
    /// CRS of the input, e.g. `EPSG:32642`, for a layer that declares none
    /// or a wrong one (GDAL only; overrides the declared CRS).
    pub crs: Option<String>,
}

/// Open a layer for streaming, choosing the reader by extension.
///
/// With the `gdal` feature, any source that is not GeoJSON/NDJSON/CSV, and
/// any source read with a `layer` or `crs` option, goes to the `gdal` module.
///
/// # Errors
/// A missing or unreadable file, an unknown extension; format errors come
/// from the stream itself, each naming the feature.
pub fn read_layer(path: &Path, options: &ReadOptions) -> Result<FeatureStream> {
    match reader_for(path, options)? {
        #[cfg(feature = "gdal")]
        Reader::Gdal => gdal::read_layer(path, options),
        Reader::BuiltIn(LayerFormat::GeoJson) => geojson::read_feature_collection(path),
        Reader::BuiltIn(LayerFormat::NdJson) => geojson::read_ndjson(path),
        Reader::BuiltIn(LayerFormat::Csv) => csv::read_points(path, options),
    }
}

/// Which reader [`read_layer`] uses for a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The `gdal` module.
    #[cfg(feature = "gdal")]
    Gdal,
    /// One of the built-in readers.
    BuiltIn(LayerFormat),
}

/// The reader for `path` read with `options` (see [`read_layer`]).
fn reader_for(path: &Path, options: &ReadOptions) -> Result<Reader> {
    #[cfg(feature = "gdal")]
    if gdal::handles(path, options) {
        return Ok(Reader::Gdal);
    }
    #[cfg(not(feature = "gdal"))]
    if options.layer.is_some() || options.crs.is_some() {
        return Err(Error::config(
            "--layer and --crs need borderzone built with --features gdal",
        ));
    }
    LayerFormat::from_path(path).map(Reader::BuiltIn)
}

/// Run `items` on its own thread, at most two items ahead of the consumer.
fn read_ahead<T: Send + 'static>(
    items: impl Iterator<Item = T> + Send + 'static,
) -> impl Iterator<Item = T> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<T>(2);
    std::thread::spawn(move || {
        for item in items {
            if tx.send(item).is_err() {
                return;
            }
        }
    });
    rx.into_iter()
}

/// Read `stream` on its own thread, `chunk` features at a time, at most two
/// chunks ahead: parsing then overlaps with whatever consumes the chunks.
/// The stream ends after the first error, as the underlying readers do.
pub fn prefetch_chunks(
    mut stream: FeatureStream,
    chunk: usize,
) -> impl Iterator<Item = Vec<Result<InputFeature>>> {
    let mut failed = false;
    read_ahead(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let mut batch = Vec::with_capacity(chunk);
        for item in stream.by_ref().take(chunk) {
            failed = item.is_err();
            batch.push(item);
            if failed {
                break;
            }
        }
        (!batch.is_empty()).then_some(batch)
    }))
}

/// A chunk of a layer as read: decoded features, or CSV rows only framed
/// (their decoding, the bulk of reading a CSV, is left to the consumer,
/// which can spread it over threads).
#[derive(Debug)]
pub enum RawChunk {
    /// Features as the reader decoded them; the chunk ends after the first
    /// error.
    Features(Vec<Result<InputFeature>>),
    /// CSV rows to decode with [`csv::RecordBatch::decode_into`].
    Csv(csv::RecordBatch),
}

/// Read the layer at `path` on its own thread, `chunk` features or rows at
/// a time, at most two chunks ahead, as [`prefetch_chunks`] does; a CSV
/// layer is only framed there (see [`RawChunk`]).
///
/// # Errors
/// As [`read_layer`].
pub fn prefetch_raw_chunks(
    path: &Path,
    options: &ReadOptions,
    chunk: usize,
) -> Result<Box<dyn Iterator<Item = RawChunk>>> {
    if reader_for(path, options)? != Reader::BuiltIn(LayerFormat::Csv) {
        let stream = read_layer(path, options)?;
        return Ok(Box::new(
            prefetch_chunks(stream, chunk).map(RawChunk::Features),
        ));
    }
    let batches = csv::read_batches(path, options, chunk)?;
    Ok(Box::new(read_ahead(batches).map(RawChunk::Csv)))
}

/// Read a whole (small) layer into memory, e.g. borders or a country outline.
pub fn read_all(path: &Path, options: &ReadOptions) -> Result<Vec<InputFeature>> {
    read_layer(path, options)?.collect()
}

/// Check that every position of `geometry` is a finite WGS84 lon/lat.
pub(crate) fn validate_coordinates(
    geometry: &Geometry<f64>,
    file: &Path,
    index: usize,
) -> Result<()> {
    if let Geometry::Point(p) = geometry {
        if is_valid_lonlat(p.0) {
            return Ok(());
        }
    }
    for c in geometry.coords_iter() {
        if !is_valid_lonlat(c) {
            let hint = if c.x.is_finite()
                && c.y.is_finite()
                && (c.x.abs() > 180.0 || c.y.abs() > 90.0)
            {
                if c.x.abs() > 1000.0 || c.y.abs() > 1000.0 {
                    if cfg!(feature = "gdal") {
                        " (this looks like projected metres: borderzone expects WGS84 lon/lat degrees; \
                         give the layer's CRS with --crs, e.g. --crs EPSG:32642)"
                    } else {
                        " (this looks like projected metres: borderzone expects WGS84 lon/lat degrees; \
                         reproject to EPSG:4326, or build borderzone with --features gdal and give the \
                         layer's CRS with --crs)"
                    }
                } else {
                    " (longitude must be within ±180 and latitude within ±90)"
                }
            } else {
                ""
            };
            return Err(Error::invalid(
                Location::feature(file, index),
                format!(
                    "coordinate ({}, {}) is not a valid WGS84 lon/lat{hint}",
                    c.x, c.y
                ),
            ));
        }
    }
    Ok(())
}

/// A property rendered as plain text (strings unquoted, null as empty).
pub fn property_text(value: &Value) -> String {
    let mut text = String::new();
    push_property_text(&mut text, value);
    text
}

/// Append [`property_text`] of `value` to `text` (into a buffer that is
/// reused from feature to feature).
pub fn push_property_text(text: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(v) => text.push_str(v),
        other => {
            use std::fmt::Write as _;
            let _ = write!(text, "{other}");
        }
    }
}
