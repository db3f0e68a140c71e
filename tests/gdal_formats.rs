//! GDAL formats and coordinate systems (cargo feature `gdal`).
//!
//! Fixtures are made here, with GDAL, from the embedded data
//! (`data/kz/settlements_geonames.geojson`, `data/kz/border_lines.geojson`):
//! copies as GeoPackage and Shapefile, reprojected copies, copies with no
//! CRS, with swapped axes, with metres declared as degrees.
#![cfg(feature = "gdal")]

mod common;

use std::path::{Path, PathBuf};

use borderzone::geodesy::distance_m;
use borderzone::io::atomic::OutputSet;
use borderzone::io::gdal::{convert_outputs, geojson_to_fgb, geojson_to_gpkg, VectorFormat};
use borderzone::io::geojson::FeatureCollectionWriter;
use borderzone::io::{read_all, InputFeature, ReadOptions};
use borderzone::jobs::zone::{run_zone, ZoneOptions};
use borderzone::settlement::IdentityFields;
use borderzone::zone::{measure, Border, BorderIndex, PolygonMode};
use common::{embedded, read_csv, temp_dir};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{Feature, LayerAccess, LayerOptions, OGRFieldType, ToGdal};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use geo::{coord, CoordsIter, MapCoords};
use serde_json::Value;

/// How a fixture is copied from a GeoJSON layer.
struct Copy<'a> {
    driver: &'a str,
    layer: &'a str,
    /// Target CRS (`None`: write no CRS, coordinates as in `coords_epsg`).
    epsg: Option<u32>,
    /// CRS the coordinates are actually in (default: `epsg`, else 4326).
    coords_epsg: Option<u32>,
    /// Write (lat, lon) instead of (lon, lat).
    swap_xy: bool,
    /// Add a layer to an existing dataset.
    append: bool,
}

impl Default for Copy<'_> {
    fn default() -> Self {
        Copy {
            driver: "GPKG",
            layer: "layer",
            epsg: Some(4326),
            coords_epsg: None,
            swap_xy: false,
            append: false,
        }
    }
}

fn lonlat_srs(epsg: u32) -> SpatialRef {
    let mut s = SpatialRef::from_epsg(epsg).expect("known EPSG code");
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    s
}

/// Copy a GeoJSON layer with GDAL (scalar fields only: GDAL-written lists
/// are not portable across formats).
fn gdal_copy(src: &Path, dst: &Path, c: &Copy) {
    let mut ds = if c.append {
        let opts = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_UPDATE,
            ..Default::default()
        };
        Dataset::open_ex(dst, opts).expect("open for update")
    } else {
        DriverManager::get_driver_by_name(c.driver)
            .unwrap()
            .create_vector_only(dst)
            .expect("create")
    };
    if c.driver == "GPKG" {
        let mut txn = ds.start_transaction().unwrap();
        copy_layer(src, &mut txn, c);
        txn.commit().unwrap();
    } else {
        copy_layer(src, &mut ds, c);
    }
}

fn copy_layer(src: &Path, ds: &mut Dataset, c: &Copy) {
    let src_ds = Dataset::open(src).expect("open source");
    let mut src_layer = src_ds.layer(0).expect("source layer");
    let coords_epsg = c.coords_epsg.or(c.epsg).unwrap_or(4326);
    let transform = (coords_epsg != 4326)
        .then(|| CoordTransform::new(&lonlat_srs(4326), &lonlat_srs(coords_epsg)).unwrap());
    let srs = c.epsg.map(lonlat_srs);
    let fields: Vec<(usize, String, OGRFieldType::Type)> = src_layer
        .defn()
        .fields()
        .enumerate()
        .map(|(i, f)| (i, f.name(), f.field_type()))
        .filter(|(_, _, t)| {
            matches!(
                *t,
                OGRFieldType::OFTInteger
                    | OGRFieldType::OFTInteger64
                    | OGRFieldType::OFTReal
                    | OGRFieldType::OFTString
            )
        })
        .collect();
    let geometry_type = src_layer.defn().geometry_type();
    let options: &[&str] = if c.driver == "ESRI Shapefile" {
        &["ENCODING=UTF-8"]
    } else {
        &[]
    };
    let layer = ds
        .create_layer(LayerOptions {
            name: c.layer,
            srs: srs.as_ref(),
            ty: geometry_type,
            options: Some(options),
        })
        .expect("create layer");
    let names: Vec<(&str, OGRFieldType::Type)> =
        fields.iter().map(|(_, n, t)| (n.as_str(), *t)).collect();
    layer.create_defn_fields(&names).unwrap();
    for f in src_layer.features() {
        let mut g = f.geometry().unwrap().to_geo().unwrap();
        if let Some(t) = &transform {
            let mut gg = g.to_gdal().unwrap();
            gg.transform_inplace(t).unwrap();
            g = gg.to_geo().unwrap();
        }
        if c.swap_xy {
            g = g.map_coords(|p| coord! { x: p.y, y: p.x });
        }
        let mut out = Feature::new(layer.defn()).unwrap();
        for (k, (i, _, _)) in fields.iter().enumerate() {
            match f.field(*i).unwrap() {
                Some(v) => out.set_field(k, &v).unwrap(),
                None => out.set_field_null(k).unwrap(),
            }
        }
        out.set_geometry(g.to_gdal().unwrap()).unwrap();
        out.create(&layer).unwrap();
    }
}

fn read(
    path: &Path,
    layer: Option<&str>,
    crs: Option<&str>,
) -> borderzone::Result<Vec<InputFeature>> {
    let opts = ReadOptions {
        layer: layer.map(String::from),
        crs: crs.map(String::from),
        ..Default::default()
    };
    read_all(path, &opts)
}

/// Largest coordinate difference (degrees) between two layers, which must
/// have the same number of features and vertices.
fn max_coord_diff_deg(a: &[InputFeature], b: &[InputFeature]) -> f64 {
    assert_eq!(a.len(), b.len(), "feature count");
    let mut worst = 0.0f64;
    for (fa, fb) in a.iter().zip(b) {
        let ca: Vec<_> = fa.geometry.coords_iter().collect();
        let cb: Vec<_> = fb.geometry.coords_iter().collect();
        assert_eq!(ca.len(), cb.len(), "vertex count of feature #{}", fa.index);
        for (p, q) in ca.iter().zip(&cb) {
            worst = worst.max((p.x - q.x).abs()).max((p.y - q.y).abs());
        }
    }
    worst
}

/// Every scalar attribute of `original` is in `back` with the same value
/// (`name_len`: field names cut as a Shapefile does).
fn assert_same_attributes(original: &[InputFeature], back: &[InputFeature], name_len: usize) {
    for (o, b) in original.iter().zip(back) {
        for (k, v) in &o.properties {
            if v.is_array() || v.is_object() {
                continue;
            }
            let key: String = k.chars().take(name_len).collect();
            let got = b
                .properties
                .get(&key)
                .unwrap_or_else(|| panic!("feature #{}: no field '{key}'", o.index));
            match (v, got) {
                (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                    let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    assert!(
                        (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                        "feature #{} '{k}': {x} vs {y}",
                        o.index
                    );
                }
                _ => assert_eq!(v, got, "feature #{} '{k}'", o.index),
            }
        }
    }
}

#[test]
fn settlements_and_borders_round_trip_through_gpkg_and_shapefile() {
    let dir = temp_dir("gdal-roundtrip");
    for (name, file) in [
        ("settlements", "settlements_geonames.geojson"),
        ("border", "border_lines.geojson"),
    ] {
        let src = embedded(file);
        let original = read(&src, None, None).unwrap();
        for (driver, ext, name_len) in [("GPKG", "gpkg", usize::MAX), ("ESRI Shapefile", "shp", 10)]
        {
            let dst = dir.join(format!("{name}.{ext}"));
            gdal_copy(
                &src,
                &dst,
                &Copy {
                    driver,
                    layer: name,
                    ..Default::default()
                },
            );
            let back = read(&dst, None, None).unwrap();
            let diff = max_coord_diff_deg(&original, &back);
            assert!(
                diff <= 1e-9,
                "{driver} {name}: coordinates moved by {diff}°"
            );
            assert_same_attributes(&original, &back, name_len);
        }
    }
}

/// Distances of every settlement of `settlements` to the whole border,
/// unrounded (m).
fn exact_distances_m(settlements: &[InputFeature]) -> Vec<f64> {
    let border = Border::read(&embedded("border_lines.geojson"), "neighbour").unwrap();
    let index = BorderIndex::build(&border);
    settlements
        .iter()
        .map(|s| {
            measure(&index, &s.geometry, PolygonMode::AnyPart)
                .unwrap()
                .distance_m
        })
        .collect()
}

fn zone_run(
    settlements: &Path,
    read: ReadOptions,
    out: PathBuf,
) -> (Vec<String>, Vec<Vec<String>>) {
    let opts = ZoneOptions {
        border: embedded("border_lines.geojson"),
        neighbour_field: "neighbour".into(),
        neighbours: vec![],
        settlements: settlements.to_path_buf(),
        read,
        identity: IdentityFields {
            id_field: Some("geonameid".into()),
            name_field: Some("name".into()),
        },
        distance_m: 20_000.0,
        polygon_mode: PolygonMode::AnyPart,
        distances: Default::default(),
        geojson: true,
        country: None,
        out_dir: out.clone(),
    };
    run_zone(&opts).unwrap();
    read_csv(&out.join("settlements.csv"))
}

/// The national CRS to test: QazTRF-23 (EPSG:10941) when the installed
/// PROJ database knows it, else Pulkovo 1942 / Gauss-Krüger zone 13
/// (EPSG:28413, SK-42, central meridian 75°E: Kazakhstan's classic
/// national grid; a Helmert datum shift plus Transverse Mercator).
fn national_epsg() -> u32 {
    if SpatialRef::from_epsg(10941).is_ok() {
        10941
    } else {
        eprintln!("EPSG:10941 (QazTRF-23) is unknown to the installed PROJ: using EPSG:28413 (SK-42 / Gauss-Kruger zone 13)");
        28413
    }
}

#[test]
fn projected_settlements_give_the_same_distances_and_zone() {
    let dir = temp_dir("gdal-projected");
    let src = embedded("settlements_geonames.geojson");
    let original = read(&src, None, None).unwrap();
    let exact = exact_distances_m(&original);
    let (header, rows) = zone_run(&src, ReadOptions::default(), dir.join("wgs84"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (id, dist, in_zone) = (col("id"), col("border_distance_m"), col("in_zone"));
    for epsg in [32644, national_epsg()] {
        let dst = dir.join(format!("settlements_{epsg}.gpkg"));
        gdal_copy(
            &src,
            &dst,
            &Copy {
                layer: "settlements",
                epsg: Some(epsg),
                ..Default::default()
            },
        );
        // The file really is projected: metres, not degrees.
        let ds = Dataset::open(&dst).unwrap();
        let env = ds.layer(0).unwrap().get_extent().unwrap();
        assert!(
            env.MaxX.abs() > 1000.0 && env.MaxY.abs() > 1000.0,
            "EPSG:{epsg}: {env:?}"
        );

        let back = read(&dst, None, None).unwrap();
        let moved_m = original
            .iter()
            .zip(&back)
            .map(|(a, b)| {
                distance_m(
                    a.geometry.coords_iter().next().unwrap(),
                    b.geometry.coords_iter().next().unwrap(),
                )
            })
            .fold(0.0f64, f64::max);
        let distances = exact_distances_m(&back);
        let worst_m = exact
            .iter()
            .zip(&distances)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        eprintln!("EPSG:{epsg}: round trip moves a settlement by at most {moved_m:.3e} m; border distances differ by at most {worst_m:.3e} m");
        assert!(
            worst_m <= 1e-3,
            "EPSG:{epsg}: distances differ by {worst_m} m"
        );

        let (h2, rows2) = zone_run(
            &dst,
            ReadOptions::default(),
            dir.join(format!("out_{epsg}")),
        );
        assert_eq!(header, h2);
        assert_eq!(rows.len(), rows2.len());
        for (a, b) in rows.iter().zip(&rows2) {
            assert_eq!(a[id], b[id]);
            assert_eq!(a[in_zone], b[in_zone], "in_zone of {}", a[id]);
            let (da, db): (f64, f64) = (a[dist].parse().unwrap(), b[dist].parse().unwrap());
            assert!(
                (da - db).abs() <= 0.001 + 1e-9,
                "EPSG:{epsg} {}: {da} vs {db}",
                a[id]
            );
        }
    }
}

#[test]
fn a_layer_without_crs_is_refused_unless_one_is_given() {
    let dir = temp_dir("gdal-nocrs");
    let src = embedded("settlements_geonames.geojson");
    // A Shapefile without .prj, coordinates in UTM 44N.
    let dst = dir.join("settlements.shp");
    gdal_copy(
        &src,
        &dst,
        &Copy {
            driver: "ESRI Shapefile",
            layer: "settlements",
            epsg: None,
            coords_epsg: Some(32644),
            ..Default::default()
        },
    );
    assert!(!dir.join("settlements.prj").exists());
    let err = read(&dst, None, None).unwrap_err().to_string();
    assert!(
        err.contains("settlements.shp")
            && err.contains("layer 'settlements'")
            && err.contains("--crs"),
        "{err}"
    );
    let back = read(&dst, None, Some("EPSG:32644")).unwrap();
    let diff = max_coord_diff_deg(&read(&src, None, None).unwrap(), &back);
    assert!(diff < 1e-9, "{diff}");
    // A CRS that is not one.
    let err = read(&dst, None, Some("EPSG:99999999"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--crs 'EPSG:99999999'"), "{err}");
}

#[test]
fn swapped_latitude_and_longitude_are_detected() {
    let dir = temp_dir("gdal-swapped");
    let src = embedded("settlements_geonames.geojson");
    let dst = dir.join("swapped.gpkg");
    gdal_copy(
        &src,
        &dst,
        &Copy {
            layer: "towns",
            swap_xy: true,
            ..Default::default()
        },
    );
    let err = read(&dst, None, None).unwrap_err().to_string();
    assert!(
        err.contains("swapped.gpkg") && err.contains("layer 'towns'") && err.contains("swapped"),
        "{err}"
    );
    // The same layer the right way round reads.
    let ok = dir.join("ok.gpkg");
    gdal_copy(
        &src,
        &ok,
        &Copy {
            layer: "towns",
            ..Default::default()
        },
    );
    assert_eq!(read(&ok, None, None).unwrap().len(), 351);
}

#[test]
fn metres_declared_as_degrees_suggest_crs() {
    let dir = temp_dir("gdal-metres");
    let src = embedded("settlements_geonames.geojson");
    let dst = dir.join("metres.gpkg");
    gdal_copy(
        &src,
        &dst,
        &Copy {
            layer: "towns",
            epsg: Some(4326),
            coords_epsg: Some(32644),
            ..Default::default()
        },
    );
    let err = read(&dst, None, None).unwrap_err().to_string();
    assert!(
        err.contains("metres.gpkg")
            && err.contains("feature #0")
            && err.contains("projected metres")
            && err.contains("--crs"),
        "{err}"
    );
    // Stating the real CRS overrides the declared one.
    assert_eq!(read(&dst, None, Some("EPSG:32644")).unwrap().len(), 351);
}

#[test]
fn a_multi_layer_source_needs_a_layer_name() {
    let dir = temp_dir("gdal-layers");
    let dst = dir.join("kz.gpkg");
    gdal_copy(
        &embedded("settlements_geonames.geojson"),
        &dst,
        &Copy {
            layer: "settlements",
            ..Default::default()
        },
    );
    gdal_copy(
        &embedded("border_lines.geojson"),
        &dst,
        &Copy {
            layer: "border",
            append: true,
            ..Default::default()
        },
    );
    let err = read(&dst, None, None).unwrap_err().to_string();
    assert!(
        err.contains("--layer") && err.contains("'settlements'") && err.contains("'border'"),
        "{err}"
    );
    let err = read(&dst, Some("roads"), None).unwrap_err().to_string();
    assert!(
        err.contains("no layer 'roads'") && err.contains("'border'"),
        "{err}"
    );
    assert_eq!(read(&dst, Some("border"), None).unwrap().len(), 5);
    assert_eq!(read(&dst, Some("settlements"), None).unwrap().len(), 351);
    // A GeoPackage's fid is the feature id.
    assert_eq!(
        read(&dst, Some("border"), None).unwrap()[0].feature_id,
        Some(Value::from(1))
    );
}

#[test]
fn projected_csv_reads_with_crs() {
    let dir = temp_dir("gdal-csv");
    let original = read(&embedded("settlements_geonames.geojson"), None, None).unwrap();
    let t = CoordTransform::new(&lonlat_srs(4326), &lonlat_srs(32644)).unwrap();
    let mut text = String::from("geonameid,easting,northing\n");
    for f in &original {
        let c = f.geometry.coords_iter().next().unwrap();
        let (mut x, mut y) = ([c.x], [c.y]);
        t.transform_coords(&mut x, &mut y, &mut []).unwrap();
        text.push_str(&format!(
            "{},{:.4},{:.4}\n",
            f.properties["geonameid"], x[0], y[0]
        ));
    }
    let p = dir.join("utm.csv");
    std::fs::write(&p, text).unwrap();
    let opts = ReadOptions {
        lon_field: Some("easting".into()),
        lat_field: Some("northing".into()),
        crs: Some("EPSG:32644".into()),
        ..Default::default()
    };
    let back = read_all(&p, &opts).unwrap();
    assert_eq!(back.len(), original.len());
    let diff = max_coord_diff_deg(&original, &back);
    assert!(diff < 1e-6, "0.1 mm rounding in the CSV, got {diff}°");
    // Without --crs the CSV goes to the built-in reader, which sees metres.
    let opts = ReadOptions {
        lon_field: Some("easting".into()),
        lat_field: Some("northing".into()),
        ..Default::default()
    };
    let err = read_all(&p, &opts).unwrap_err().to_string();
    assert!(
        err.contains("projected metres") && err.contains("--crs"),
        "{err}"
    );
}

/// Field types of a layer as GDAL reports them, e.g. "in_zone: Integer(Boolean)".
fn field_types(path: &Path, layer: &str) -> Vec<String> {
    let ds = Dataset::open(path).unwrap();
    let layer = ds.layer_by_name(layer).unwrap();
    let out = layer
        .defn()
        .fields()
        .map(|f| {
            format!(
                "{}: {}",
                f.name(),
                gdal::vector::field_type_to_name(f.field_type())
            )
        })
        .collect();
    out
}

#[test]
fn outputs_convert_to_one_geopackage_and_to_flatgeobuf() {
    let dir = temp_dir("gdal-write");
    let out_dir = dir.join("out");
    let (_, rows) = zone_run(
        &embedded("settlements_geonames.geojson"),
        ReadOptions::default(),
        out_dir.clone(),
    );
    let settlements = out_dir.join("settlements.geojson");
    let written = read(&settlements, None, None).unwrap();
    assert!(
        written[0].properties["in_zone"].is_boolean()
            && written[0].properties["alternatenames"].is_array()
    );

    // A staged GeoJSON and the GeoPackage made from it commit together.
    let mut set = OutputSet::new();
    let extra = dir.join("pub/crossings.geojson");
    let mut w = FeatureCollectionWriter::new(set.create(&extra).unwrap(), "crossings").unwrap();
    let crossings = read(&embedded("crossings_china.geojson"), None, None).unwrap();
    for f in &crossings {
        w.write(&f.properties, &f.geometry).unwrap();
    }
    borderzone::io::atomic::finish(w.finish().unwrap(), &extra).unwrap();
    let gpkg = dir.join("pub/borderzone.gpkg");
    geojson_to_gpkg(
        &mut set,
        &gpkg,
        &[("settlements", &settlements), ("crossings", &extra)],
    )
    .unwrap();
    assert!(!gpkg.exists(), "nothing under the final name before commit");
    let files = set.commit().unwrap();
    assert_eq!(files, vec![extra.clone(), gpkg.clone()]);
    assert_eq!(
        std::fs::read_dir(dir.join("pub")).unwrap().count(),
        2,
        "no temporary file left"
    );

    let types = field_types(&gpkg, "settlements");
    for t in [
        "geonameid: Integer",
        "population: Integer",
        "border_distance_m: Real",
        "name: String",
        "alternatenames: String",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    // Boolean and JSON subtypes come back as JSON booleans and arrays.
    let back = read(&gpkg, Some("settlements"), None).unwrap();
    assert_eq!(back.len(), rows.len());
    assert!(max_coord_diff_deg(&written, &back) == 0.0);
    for (a, b) in written.iter().zip(&back) {
        assert_eq!(a.properties, b.properties);
    }
    let back = read(&gpkg, Some("crossings"), None).unwrap();
    assert_eq!(
        back.iter().map(|f| &f.properties).collect::<Vec<_>>(),
        crossings.iter().map(|f| &f.properties).collect::<Vec<_>>()
    );

    // FlatGeobuf: one file per layer.
    let fgb = convert_outputs(
        VectorFormat::FlatGeobuf,
        &out_dir,
        std::slice::from_ref(&settlements),
    )
    .unwrap();
    assert_eq!(fgb, vec![out_dir.join("settlements.fgb")]);
    let back = read(&fgb[0], None, None).unwrap();
    assert_eq!(back.len(), written.len());
    for (a, b) in written.iter().zip(&back) {
        for (k, v) in &a.properties {
            match (v, &b.properties[k]) {
                // GDAL 3.6 reads a FlatGeobuf JSON column back as text.
                (Value::Array(_), Value::String(s)) => {
                    assert_eq!(v, &serde_json::from_str::<Value>(s).unwrap())
                }
                (v, w) => assert_eq!(v, w, "'{k}'"),
            }
        }
        assert_eq!(a.geometry, b.geometry);
    }
    let mut set = OutputSet::new();
    geojson_to_fgb(
        &mut set,
        &dir.join("fgb"),
        &[("crossings", &embedded("crossings_china.geojson"))],
    )
    .unwrap();
    assert_eq!(set.commit().unwrap(), vec![dir.join("fgb/crossings.fgb")]);
}

#[test]
fn geopackage_is_reproducible_with_source_date_epoch() {
    let dir = temp_dir("gdal-reproducible");
    let src = embedded("border_lines.geojson");
    // The timestamp is read on the writing thread; other tests don't set it.
    std::env::set_var("SOURCE_DATE_EPOCH", "1700000000");
    let mut bytes = Vec::new();
    for name in ["a.gpkg", "b.gpkg"] {
        let mut set = OutputSet::new();
        geojson_to_gpkg(&mut set, &dir.join(name), &[("border", &src)]).unwrap();
        set.commit().unwrap();
        bytes.push(std::fs::read(dir.join(name)).unwrap());
    }
    assert!(bytes[0] == bytes[1], "two writes of the same layers differ");
    let ds = Dataset::open(dir.join("a.gpkg")).unwrap();
    let mut rs = ds
        .execute_sql(
            "SELECT last_change FROM gpkg_contents",
            None,
            gdal::vector::sql::Dialect::DEFAULT,
        )
        .unwrap()
        .unwrap();
    let stamp = rs
        .features()
        .next()
        .unwrap()
        .field_as_string(0)
        .unwrap()
        .unwrap();
    assert!(stamp.starts_with("2023/11/14 22:13:20"), "{stamp}");
}
