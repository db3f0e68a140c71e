//! CSV point layers: one row per place, longitude and latitude columns
//! (names configurable), every other column carried through as a text
//! attribute.

use std::fs::File;
use std::path::Path;

use geo::{Geometry, Point};
use serde_json::{Map, Value};

use super::{validate_coordinates, FeatureStream, InputFeature, ReadOptions};
use crate::error::{Error, Location, Result};

const LON_NAMES: [&str; 5] = ["lon", "lng", "long", "longitude", "x"];
const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];

/// Stream the rows of a CSV file as point features. Feature indices are
/// 0-based data rows (the header is not counted).
///
/// # Errors
/// A missing file, a missing header or lon/lat column, a row that is not
/// UTF-8, has the wrong number of fields or a coordinate that is not a
/// number in range: each names the file, the row and the column.
pub fn read_points(path: &Path, options: &ReadOptions) -> Result<FeatureStream> {
    let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let headers = reader
        .headers()
        .map_err(|e| {
            Error::format(
                Location::file(path),
                format!("cannot read the CSV header: {e}"),
            )
        })?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(Error::format(
            Location::file(path),
            "the CSV file is empty (no header row)",
        ));
    }
    let headers: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let find = |given: &Option<String>, defaults: &[&str], what: &str| -> Result<usize> {
        match given {
            Some(name) => headers.iter().position(|h| h == name).ok_or_else(|| {
                Error::invalid(
                    Location::file(path).with_field(name.clone()),
                    format!("no {what} column '{name}' (columns: {})", headers.join(", ")),
                )
            }),
            None => headers
                .iter()
                .position(|h| defaults.contains(&h.to_ascii_lowercase().as_str()))
                .ok_or_else(|| {
                    Error::invalid(
                        Location::file(path),
                        format!(
                            "no {what} column: looked for {} (columns: {}); name it with --{what}-field",
                            defaults.join("/"),
                            headers.join(", ")
                        ),
                    )
                }),
        }
    };
    let lon_col = find(&options.lon_field, &LON_NAMES, "lon")?;
    let lat_col = find(&options.lat_field, &LAT_NAMES, "lat")?;
    let path = path.to_path_buf();
    let mut records = reader.into_byte_records().enumerate();
    let mut done = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let (index, record) = records.next()?;
        let item = (|| {
            let at = || Location::feature(&path, index);
            let record = record.map_err(|e| Error::format(at(), format!("bad CSV row: {e}")))?;
            let mut properties = Map::new();
            let mut coord = [f64::NAN; 2];
            for (col, raw) in record.iter().enumerate() {
                let name = &headers[col];
                let text = std::str::from_utf8(raw).map_err(|e| {
                    Error::format(
                        at().with_field(name.clone()),
                        format!("value is not UTF-8: {e}"),
                    )
                })?;
                if col == lon_col || col == lat_col {
                    let v: f64 = text.trim().parse().map_err(|_| {
                        Error::invalid(
                            at().with_field(name.clone()),
                            format!("'{text}' is not a number"),
                        )
                    })?;
                    coord[usize::from(col == lat_col)] = v;
                } else {
                    properties.insert(name.clone(), Value::from(text));
                }
            }
            let geometry = Geometry::Point(Point::new(coord[0], coord[1]));
            validate_coordinates(&geometry, &path, index)?;
            Ok(InputFeature {
                index,
                feature_id: None,
                properties,
                geometry,
            })
        })();
        done = item.is_err();
        Some(item)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str, text: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("bz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::File::create(&p).unwrap().write_all(text).unwrap();
        p
    }

    #[test]
    fn reads_points_and_attributes() {
        let p = tmp(
            "a.csv",
            "\u{feff}id,name,Longitude,Latitude\n1,Қорғас,80.384232,44.22364\n".as_bytes(),
        );
        let fs: Vec<_> = read_points(&p, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            fs[0].geometry,
            Geometry::Point(Point::new(80.384232, 44.22364))
        );
        assert_eq!(fs[0].properties["name"], "Қорғас");
        assert_eq!(fs[0].properties["id"], "1");
    }

    #[test]
    fn names_row_and_column_of_bad_numbers() {
        let p = tmp("b.csv", b"id,x,y\n1,80,44\n2,abc,44\n");
        let items: Vec<_> = read_points(&p, &ReadOptions::default()).unwrap().collect();
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("feature #1") && err.contains("'x'") && err.contains("abc"),
            "{err}"
        );
    }

    #[test]
    fn missing_column_is_an_error() {
        let p = tmp("c.csv", b"id,a,b\n1,80,44\n");
        let err = read_points(&p, &ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no lon column"), "{err}");
        let opts = ReadOptions {
            lon_field: Some("a".into()),
            lat_field: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(read_points(&p, &opts).unwrap().count(), 1);
    }
}
