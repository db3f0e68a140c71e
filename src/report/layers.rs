//! Map layers (GeoJSON) and the settlements table (CSV), written as the
//! results stream by, in input order.

use std::io::Write;
use std::path::Path;

use geo::{Geometry, MultiPolygon};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::geodesy::LonLat;
use crate::io::atomic::{finish, OutputSet, TempWriter};
use crate::io::geojson::FeatureCollectionWriter;
use crate::settlement::Settlement;
use crate::zone::Measurement;

/// Round metres to the millimetre for output (the computation is exact to
/// nanometres; the decision uses the unrounded value).
pub fn round_mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// How a settlement's zone membership was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// An exact distance to the border.
    Exact,
    /// A certified cell (see [`crate::zone::cells`]): proven without a
    /// distance for this point.
    Cell,
}

impl DecidedBy {
    /// The value of the `decided_by` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Exact => "exact",
            DecidedBy::Cell => "cell",
        }
    }
}

/// The zone result of one settlement for one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneResult {
    /// Exact measurement against the scenario's border selection; `None`
    /// when a certified cell decided and no distance was asked for.
    pub measurement: Option<Measurement>,
    /// The point reported as the settlement's lon/lat.
    pub representative: LonLat,
    /// How membership was established.
    pub decided_by: DecidedBy,
    /// Neighbour of the nearest border segment ("" when not measured).
    pub nearest_neighbour: String,
    /// Whether the settlement lies in the zone.
    pub in_zone: bool,
    /// Share of the polygon's area inside the zone (polygon share mode).
    pub zone_share: Option<f64>,
}

/// The fixed leading columns of `settlements.csv`.
pub const SETTLEMENT_COLUMNS: [&str; 9] = [
    "id",
    "name",
    "lon",
    "lat",
    "border_distance_m",
    "nearest_neighbour",
    "in_zone",
    "border_lon",
    "border_lat",
];

/// Optional parts of the settlements layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementLayout {
    /// Add `zone_share` (polygon share mode).
    pub share: bool,
    /// Add `decided_by` (exact / cell).
    pub decided_by: bool,
    /// Write `settlements.geojson` beside the CSV.
    pub geojson: bool,
}

impl Default for SettlementLayout {
    fn default() -> Self {
        SettlementLayout {
            share: false,
            decided_by: false,
            geojson: true,
        }
    }
}

/// Rows formatted by [`SettlementWriter::format`], ready to be written.
#[derive(Debug, Default)]
pub struct FormattedRows {
    geojson: Vec<u8>,
    csv: Vec<u8>,
}

/// Writes `settlements.geojson` and `settlements.csv` side by side.
pub struct SettlementWriter {
    geojson: Option<FeatureCollectionWriter<TempWriter>>,
    csv: TempWriter,
    extra: Vec<String>,
    share: bool,
    decided_by: bool,
    geojson_path: std::path::PathBuf,
    csv_path: std::path::PathBuf,
}

fn werr(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, "cannot write", e)
}

impl SettlementWriter {
    /// Start both files in `dir`; `extra` names additional columns /
    /// properties given with each row.
    pub fn create(
        out: &mut OutputSet,
        dir: &Path,
        extra: Vec<String>,
        layout: SettlementLayout,
    ) -> Result<Self> {
        let SettlementLayout {
            share,
            decided_by,
            geojson,
        } = layout;
        let geojson_path = dir.join("settlements.geojson");
        let csv_path = dir.join("settlements.csv");
        let geojson = if geojson {
            Some(
                FeatureCollectionWriter::new(out.create(&geojson_path)?, "settlements")
                    .map_err(werr(&geojson_path))?,
            )
        } else {
            None
        };
        let mut csv = csv::Writer::from_writer(out.create(&csv_path)?);
        let mut header: Vec<&str> = SETTLEMENT_COLUMNS.to_vec();
        if share {
            header.push("zone_share");
        }
        if decided_by {
            header.push("decided_by");
        }
        header.extend(extra.iter().map(String::as_str));
        csv.write_record(&header)
            .map_err(|e| Error::io(&csv_path, "cannot write", e.into()))?;
        let csv = csv
            .into_inner()
            .map_err(|e| Error::io(&csv_path, "cannot write", e.into_error()))?;
        Ok(SettlementWriter {
            geojson,
            csv,
            extra,
            share,
            decided_by,
            geojson_path,
            csv_path,
        })
    }

    /// Write one settlement; `extra` holds one value per extra column.
    pub fn write(&mut self, s: &Settlement, r: &ZoneResult, extra: &[Value]) -> Result<()> {
        let rows = self.format([(s, r, extra)])?;
        self.write_formatted(&rows)
    }

    /// Format rows (no I/O, so chunks can be formatted in parallel and then
    /// written in order with [`Self::write_formatted`]).
    pub fn format<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a Settlement, &'a ZoneResult, &'a [Value])>,
    ) -> Result<FormattedRows> {
        let mut out = FormattedRows::default();
        self.format_into(rows, &mut out)?;
        Ok(out)
    }

    /// As [`Self::format`], into `out` (cleared first; its buffers are
    /// reused).
    pub fn format_into<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a Settlement, &'a ZoneResult, &'a [Value])>,
        out: &mut FormattedRows,
    ) -> Result<()> {
        out.geojson.clear();
        out.csv.clear();
        let mut csv = csv::Writer::from_writer(std::mem::take(&mut out.csv));
        let mut computed: Vec<(&str, Value)> = Vec::new();
        let mut number = String::new();
        for (s, r, extra) in rows {
            let m = r.measurement.as_ref();
            if self.geojson.is_some() {
                // The computed fields override input attributes of the same
                // name (in place) or follow them: no copy of the properties.
                computed.clear();
                computed.push((
                    "border_distance_m",
                    m.map_or(Value::Null, |m| Value::from(round_mm(m.distance_m))),
                ));
                computed.push((
                    "nearest_neighbour",
                    m.map_or(Value::Null, |_| Value::from(r.nearest_neighbour.as_str())),
                ));
                computed.push(("in_zone", Value::from(r.in_zone)));
                if self.share {
                    computed.push((
                        "zone_share",
                        r.zone_share
                            .map_or(Value::Null, |v| Value::from((v * 1e6).round() / 1e6)),
                    ));
                }
                if self.decided_by {
                    computed.push(("decided_by", Value::from(r.decided_by.as_str())));
                }
                for (k, v) in self.extra.iter().zip(extra) {
                    computed.push((k.as_str(), v.clone()));
                }
                crate::io::geojson::format_feature(
                    &mut out.geojson,
                    &s.feature.properties,
                    &computed,
                    &s.feature.geometry,
                )
                .map_err(werr(&self.geojson_path))?;
            }
            // Field by field into the CSV writer, numbers through one
            // reused buffer: no allocation per field.
            let cerr = |e: csv::Error| Error::io(&self.csv_path, "cannot write", e.into());
            let mut num = |csv: &mut csv::Writer<Vec<u8>>, args: std::fmt::Arguments| {
                use std::fmt::Write as _;
                number.clear();
                let _ = number.write_fmt(args);
                csv.write_field(number.as_bytes())
            };
            csv.write_field(&s.id).map_err(cerr)?;
            csv.write_field(&s.name).map_err(cerr)?;
            num(&mut csv, format_args!("{}", r.representative.x)).map_err(cerr)?;
            num(&mut csv, format_args!("{}", r.representative.y)).map_err(cerr)?;
            match m {
                Some(m) => {
                    num(&mut csv, format_args!("{:.3}", m.distance_m)).map_err(cerr)?;
                    csv.write_field(&r.nearest_neighbour).map_err(cerr)?;
                }
                None => {
                    csv.write_field("").map_err(cerr)?;
                    csv.write_field("").map_err(cerr)?;
                }
            }
            csv.write_field(if r.in_zone { "true" } else { "false" })
                .map_err(cerr)?;
            match m {
                Some(m) => {
                    num(&mut csv, format_args!("{}", m.nearest.foot.x)).map_err(cerr)?;
                    num(&mut csv, format_args!("{}", m.nearest.foot.y)).map_err(cerr)?;
                }
                None => {
                    csv.write_field("").map_err(cerr)?;
                    csv.write_field("").map_err(cerr)?;
                }
            }
            if self.share {
                match r.zone_share {
                    Some(v) => num(&mut csv, format_args!("{v:.6}")).map_err(cerr)?,
                    None => csv.write_field("").map_err(cerr)?,
                }
            }
            if self.decided_by {
                csv.write_field(r.decided_by.as_str()).map_err(cerr)?;
            }
            for v in extra {
                csv.write_field(crate::io::property_text(v)).map_err(cerr)?;
            }
            csv.write_record(None::<&[u8]>).map_err(cerr)?;
        }
        out.csv = csv
            .into_inner()
            .map_err(|e| Error::io(&self.csv_path, "cannot write", e.into_error()))?;
        Ok(())
    }

    /// Write rows formatted by [`Self::format`].
    pub fn write_formatted(&mut self, rows: &FormattedRows) -> Result<()> {
        if let Some(g) = &mut self.geojson {
            g.write_formatted(&rows.geojson)
                .map_err(werr(&self.geojson_path))?;
        }
        self.csv.write_all(&rows.csv).map_err(werr(&self.csv_path))
    }

    /// Close both files.
    pub fn finish(self) -> Result<()> {
        if let Some(g) = self.geojson {
            let g = g.finish().map_err(werr(&self.geojson_path))?;
            finish(g, &self.geojson_path)?;
        }
        finish(self.csv, &self.csv_path)
    }
}

/// Write a one-feature layer holding `zone` with `properties`.
pub fn write_polygon_layer(
    out: &mut OutputSet,
    path: &Path,
    name: &str,
    features: &[(Map<String, Value>, MultiPolygon<f64>)],
) -> Result<()> {
    let mut w = FeatureCollectionWriter::new(out.create(path)?, name).map_err(werr(path))?;
    for (props, zone) in features {
        w.write(props, &Geometry::MultiPolygon(zone.clone()))
            .map_err(werr(path))?;
    }
    let inner = w.finish().map_err(werr(path))?;
    finish(inner, path)
}

/// Write raw text through `out`.
pub fn write_text(out: &mut OutputSet, path: &Path, text: &str) -> Result<()> {
    let mut w = out.create(path)?;
    w.write_all(text.as_bytes()).map_err(werr(path))?;
    finish(w, path)
}
