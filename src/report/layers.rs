//! Map layers (GeoJSON) and the settlements table (CSV), written as the
//! results stream by, in input order.

use std::io::Write;
use std::path::Path;

use geo::{Geometry, MultiPolygon};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::io::atomic::{finish, OutputSet, TempWriter};
use crate::io::geojson::FeatureCollectionWriter;
use crate::settlement::Settlement;
use crate::zone::Measurement;

/// Round metres to the millimetre for output (the computation is exact to
/// nanometres; the decision uses the unrounded value).
pub fn round_mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The zone result of one settlement for one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneResult {
    /// Exact measurement against the scenario's border selection.
    pub measurement: Measurement,
    /// Neighbour of the nearest border segment.
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

/// Writes `settlements.geojson` and `settlements.csv` side by side.
pub struct SettlementWriter {
    geojson: FeatureCollectionWriter<TempWriter>,
    csv: csv::Writer<TempWriter>,
    extra: Vec<String>,
    share: bool,
    geojson_path: std::path::PathBuf,
    csv_path: std::path::PathBuf,
}

fn werr(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, "cannot write", e)
}

impl SettlementWriter {
    /// Start both files in `dir`; `extra` names additional columns /
    /// properties given with each row; `share` adds `zone_share`.
    pub fn create(
        out: &mut OutputSet,
        dir: &Path,
        extra: Vec<String>,
        share: bool,
    ) -> Result<Self> {
        let geojson_path = dir.join("settlements.geojson");
        let csv_path = dir.join("settlements.csv");
        let geojson = FeatureCollectionWriter::new(out.create(&geojson_path)?, "settlements")
            .map_err(werr(&geojson_path))?;
        let mut csv = csv::Writer::from_writer(out.create(&csv_path)?);
        let mut header: Vec<&str> = SETTLEMENT_COLUMNS.to_vec();
        if share {
            header.push("zone_share");
        }
        header.extend(extra.iter().map(String::as_str));
        csv.write_record(&header)
            .map_err(|e| Error::io(&csv_path, "cannot write", e.into()))?;
        Ok(SettlementWriter {
            geojson,
            csv,
            extra,
            share,
            geojson_path,
            csv_path,
        })
    }

    /// Write one settlement; `extra` holds one value per extra column.
    pub fn write(&mut self, s: &Settlement, r: &ZoneResult, extra: &[Value]) -> Result<()> {
        let m = &r.measurement;
        let mut props: Map<String, Value> = s.feature.properties.clone();
        props.insert(
            "border_distance_m".into(),
            Value::from(round_mm(m.distance_m)),
        );
        props.insert(
            "nearest_neighbour".into(),
            Value::from(r.nearest_neighbour.as_str()),
        );
        props.insert("in_zone".into(), Value::from(r.in_zone));
        if self.share {
            props.insert(
                "zone_share".into(),
                r.zone_share
                    .map_or(Value::Null, |v| Value::from((v * 1e6).round() / 1e6)),
            );
        }
        for (k, v) in self.extra.iter().zip(extra) {
            props.insert(k.clone(), v.clone());
        }
        self.geojson
            .write(&props, &s.feature.geometry)
            .map_err(werr(&self.geojson_path))?;
        let mut row: Vec<String> = vec![
            s.id.clone(),
            s.name.clone(),
            m.representative.x.to_string(),
            m.representative.y.to_string(),
            format!("{:.3}", m.distance_m),
            r.nearest_neighbour.clone(),
            r.in_zone.to_string(),
            m.nearest.foot.x.to_string(),
            m.nearest.foot.y.to_string(),
        ];
        if self.share {
            row.push(r.zone_share.map_or(String::new(), |v| format!("{v:.6}")));
        }
        row.extend(extra.iter().map(crate::io::property_text));
        self.csv
            .write_record(&row)
            .map_err(|e| Error::io(&self.csv_path, "cannot write", e.into()))
    }

    /// Close both files.
    pub fn finish(self) -> Result<()> {
        let g = self.geojson.finish().map_err(werr(&self.geojson_path))?;
        finish(g, &self.geojson_path)?;
        let c = self
            .csv
            .into_inner()
            .map_err(|e| Error::io(&self.csv_path, "cannot write", e.into_error()))?;
        finish(c, &self.csv_path)
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
