//! CSV point layers: one row per place, longitude and latitude columns
//! (names configurable), every other column carried through as a text
//! attribute.
//!
//! Two ways in, with one decoder ([`CsvColumns::decode_into`]) and so the
//! same features and the same errors:
//! - [`read_points`] streams decoded features, one row at a time;
//! - [`read_batches`] only *frames* rows (the CSV syntax), many at a time,
//!   into [`RecordBatch`]es whose rows are decoded later, in parallel, by
//!   whoever consumes them — with the decoded features' buffers reused from
//!   row to row. Plain rows are framed in place, 64 bytes at a time, and
//!   the rest by the `csv` crate (see `csv_framer`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::{Geometry, Point};
use serde_json::Value;

use super::csv_framer::{reader_of, CsvReader, Filled, Framer, Rows};
use super::{validate_coordinates, FeatureStream, InputFeature, ReadOptions};
use crate::error::{Error, Location, Result};

const LON_NAMES: [&str; 5] = ["lon", "lng", "long", "longitude", "x"];
const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];

/// The columns of a CSV point layer, as its header names them.
#[derive(Debug)]
pub struct CsvColumns {
    path: PathBuf,
    /// Column names (a leading byte-order mark removed).
    headers: Vec<String>,
    lat_col: usize,
    /// Attribute names in property order: the columns other than lon/lat,
    /// a repeated name kept at its first position.
    keys: Vec<String>,
    /// For each column, its position in `keys` (`None` for lon and lat);
    /// of two columns with one name, the later value wins, as with
    /// [`Map::insert`].
    key_of_column: Vec<Option<usize>>,
    /// Whether no two attribute columns share a name.
    unique_keys: bool,
}

/// Open `path` and read its header.
fn open(path: &Path, options: &ReadOptions) -> Result<(CsvReader, CsvColumns)> {
    let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let mut reader = reader_of(file);
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
    let mut keys: Vec<String> = Vec::new();
    let key_of_column: Vec<Option<usize>> = headers
        .iter()
        .enumerate()
        .map(|(col, name)| {
            (col != lon_col && col != lat_col).then(|| {
                keys.iter().position(|k| k == name).unwrap_or_else(|| {
                    keys.push(name.clone());
                    keys.len() - 1
                })
            })
        })
        .collect();
    let unique_keys = keys.len() == key_of_column.iter().flatten().count();
    let columns = CsvColumns {
        path: path.to_path_buf(),
        unique_keys,
        headers,
        lat_col,
        keys,
        key_of_column,
    };
    Ok((reader, columns))
}

impl CsvColumns {
    /// Decode row `index` (0-based, the header not counted) from its
    /// `fields` into `feature`, reusing `feature`'s property map and text
    /// buffers when the map already holds this layer's attribute names (as
    /// it does after decoding an earlier row). The result is the same as
    /// decoding into a fresh feature.
    ///
    /// # Errors
    /// A field that is not UTF-8, a coordinate that is not a number or not
    /// a valid lon/lat: each names the file, the row and the column. On an
    /// error, `feature` holds a partly decoded row.
    pub fn decode_into<'r>(
        &self,
        index: usize,
        fields: impl IntoIterator<Item = &'r [u8]>,
        feature: &mut InputFeature,
    ) -> Result<()> {
        let properties = &mut feature.properties;
        let coord = if self.unique_keys {
            // One property per column, in column order: values overwritten
            // in place.
            if !properties.keys().eq(self.keys.iter()) {
                properties.clear();
                for k in &self.keys {
                    properties.insert(k.clone(), Value::Null);
                }
            }
            let mut values = properties.values_mut();
            self.read_fields(index, fields, |_, text| {
                match values.next().expect("one property per column") {
                    Value::String(v) => {
                        v.clear();
                        v.push_str(text);
                    }
                    other => *other = Value::from(text),
                }
            })?
        } else {
            // A repeated column name: the later value replaces the earlier
            // one at its first position.
            properties.clear();
            self.read_fields(index, fields, |col, text| {
                properties.insert(self.headers[col].clone(), Value::from(text));
            })?
        };
        self.set_point(index, coord, feature)
    }

    /// Read row `index` from its `fields`: the two coordinates parsed and
    /// returned, every other field checked as UTF-8 and handed, in column
    /// order, to `attribute` with its column.
    fn read_fields<'r>(
        &self,
        index: usize,
        fields: impl IntoIterator<Item = &'r [u8]>,
        mut attribute: impl FnMut(usize, &'r str),
    ) -> Result<[f64; 2]> {
        let mut coord = [f64::NAN; 2];
        for (col, (raw, name)) in fields.into_iter().zip(&self.headers).enumerate() {
            if self.key_of_column[col].is_none() {
                coord[usize::from(col == self.lat_col)] = self.coordinate(index, raw, name)?;
            } else {
                attribute(col, self.text_of(index, raw, name)?);
            }
        }
        Ok(coord)
    }

    /// The point of row `index` from its `coord`inates, checked.
    fn set_point(&self, index: usize, coord: [f64; 2], feature: &mut InputFeature) -> Result<()> {
        feature.index = index;
        feature.feature_id = None;
        feature.geometry = Geometry::Point(Point::new(coord[0], coord[1]));
        validate_coordinates(&feature.geometry, &self.path, index)
    }

    /// Field `raw` of column `name` in row `index` as text.
    fn text_of<'r>(&self, index: usize, raw: &'r [u8], name: &str) -> Result<&'r str> {
        std::str::from_utf8(raw).map_err(|e| {
            Error::format(
                Location::feature(&self.path, index).with_field(name.to_string()),
                format!("value is not UTF-8: {e}"),
            )
        })
    }

    /// The coordinate `text` of column `name` in row `index`.
    fn number(&self, index: usize, text: &str, name: &str) -> Result<f64> {
        text.trim().parse().map_err(|_| {
            Error::invalid(
                Location::feature(&self.path, index).with_field(name.to_string()),
                format!("'{text}' is not a number"),
            )
        })
    }

    /// The coordinate in field `raw` of column `name` in row `index`: a
    /// plain decimal read at once, anything else as [`Self::number`].
    fn coordinate(&self, index: usize, raw: &[u8], name: &str) -> Result<f64> {
        match plain_decimal(raw) {
            Some(v) => Ok(v),
            None => self.number(index, self.text_of(index, raw, name)?, name),
        }
    }

    /// Where the attributes `names` are (of two columns with one name, the
    /// later, whose value [`Self::decode_into`] keeps); `None` picks
    /// nothing.
    pub fn pick<const N: usize>(&self, names: [Option<&str>; N]) -> PickedColumns<N> {
        PickedColumns(names.map(|name| {
            (0..self.headers.len()).rev().find(|&col| {
                self.key_of_column[col].is_some() && Some(self.headers[col].as_str()) == name
            })
        }))
    }
}

/// Attribute columns of a CSV layer, picked by name ([`CsvColumns::pick`]):
/// for each, its column, `None` when the layer has no such attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickedColumns<const N: usize>([Option<usize>; N]);

impl<const N: usize> PickedColumns<N> {
    /// Whether the layer has each attribute.
    pub fn present(&self) -> [bool; N] {
        self.0.map(|c| c.is_some())
    }
}

/// Exact powers of ten, 10⁰ … 10²².
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a plain decimal (`80`, `-12.345`, `.5`; spaces or tabs
/// around it allowed), as `str::parse::<f64>` reads it, when Clinger's fast
/// path gives it: an integer of digits m ≤ 2⁵³ and at most 22 decimals k,
/// so that m and 10ᵏ are exact doubles and m / 10ᵏ, one correctly rounded
/// division, is the correctly rounded value of the decimal. `None` for
/// anything else, which the caller parses (and reports) with `str::parse`.
fn plain_decimal(raw: &[u8]) -> Option<f64> {
    let mut s = raw;
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    let (negative, s) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let mut m: u64 = 0;
    let mut digits = 0u32;
    let mut decimals: Option<u32> = None;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                if digits == 19 {
                    return None;
                }
                m = m * 10 + u64::from(b - b'0');
                digits += 1;
                if let Some(k) = &mut decimals {
                    *k += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    let k = decimals.unwrap_or(0) as usize;
    if digits == 0 || m > 1 << 53 || k >= POW10.len() {
        return None;
    }
    let v = m as f64 / POW10[k];
    Some(if negative { -v } else { v })
}

fn bad_row(path: &Path, index: usize, e: &csv::Error) -> Error {
    Error::format(Location::feature(path, index), format!("bad CSV row: {e}"))
}

/// Stream the rows of a CSV file as point features. Feature indices are
/// 0-based data rows (the header is not counted).
///
/// # Errors
/// A missing file, a missing header or lon/lat column, a row that is not
/// UTF-8, has the wrong number of fields or a coordinate that is not a
/// number in range: each names the file, the row and the column.
pub fn read_points(path: &Path, options: &ReadOptions) -> Result<FeatureStream> {
    let (reader, columns) = open(path, options)?;
    let mut records = reader.into_byte_records().enumerate();
    let mut done = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let (index, record) = records.next()?;
        let item = record
            .map_err(|e| bad_row(&columns.path, index, &e))
            .and_then(|record| {
                let mut feature = InputFeature::blank();
                columns.decode_into(index, &record, &mut feature)?;
                Ok(feature)
            });
        done = item.is_err();
        Some(item)
    })))
}

/// Consecutive rows of a CSV layer, framed but not decoded.
#[derive(Debug)]
pub struct RecordBatch {
    columns: Arc<CsvColumns>,
    /// Index of the first row in the layer.
    first_index: usize,
    /// The rows' text and where their fields are.
    rows: Rows,
    /// The CSV syntax error that ended the layer after these rows.
    error: Option<Error>,
}

impl RecordBatch {
    /// Rows in the batch (not counting a final syntax error).
    pub fn len(&self) -> usize {
        self.rows.starts.len()
    }

    /// Whether the batch holds no row.
    pub fn is_empty(&self) -> bool {
        self.rows.starts.is_empty()
    }

    /// Decode row `row` of the batch into `feature` (see
    /// [`CsvColumns::decode_into`]).
    ///
    /// # Errors
    /// As [`CsvColumns::decode_into`], naming the row's index in the layer.
    pub fn decode_into(&self, row: usize, feature: &mut InputFeature) -> Result<()> {
        self.columns
            .decode_into(self.first_index + row, self.fields(row), feature)
    }

    /// Decode row `row` of the batch as [`Self::decode_into`] does (the
    /// same point, the same checks of every field, the same errors) but
    /// without its attributes: `feature`'s property map is left empty, and
    /// the text of the `picked` attributes goes into `texts` instead
    /// (emptied for an attribute the layer does not have; see
    /// [`PickedColumns::present`]). For readers that need only a few
    /// attributes, e.g. a settlement's id and name.
    ///
    /// # Errors
    /// As [`Self::decode_into`].
    pub fn decode_picked_into<const N: usize>(
        &self,
        row: usize,
        picked: &PickedColumns<N>,
        feature: &mut InputFeature,
        mut texts: [&mut String; N],
    ) -> Result<()> {
        let index = self.first_index + row;
        for text in &mut texts {
            text.clear();
        }
        let coord = self
            .columns
            .read_fields(index, self.fields(row), |col, value| {
                for (text, _) in texts
                    .iter_mut()
                    .zip(&picked.0)
                    .filter(|(_, c)| **c == Some(col))
                {
                    text.push_str(value);
                }
            })?;
        feature.properties.clear();
        self.columns.set_point(index, coord, feature)
    }

    /// The columns of the batch's layer.
    pub fn columns(&self) -> &CsvColumns {
        &self.columns
    }

    /// The fields of row `row`.
    fn fields(&self, row: usize) -> impl Iterator<Item = &[u8]> {
        let n = self.columns.headers.len();
        let ends = &self.rows.field_ends[row * n..(row + 1) * n];
        let mut start = self.rows.starts[row];
        ends.iter().map(move |&end| {
            let field = &self.rows.bytes[start..end];
            // The next field starts after the delimiter.
            start = end + 1;
            field
        })
    }

    /// The CSV syntax error right after the batch's rows, which ends the
    /// layer (the row it names is not in the batch).
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

/// Frame the rows of a CSV file, `rows` at a time (see [`RecordBatch`]).
/// The batches end after the first CSV syntax error, which the last batch
/// carries; decoding errors are found when the rows are decoded.
///
/// # Errors
/// As [`read_points`] for the file and its header.
pub fn read_batches(
    path: &Path,
    options: &ReadOptions,
    rows: usize,
) -> Result<impl Iterator<Item = RecordBatch> + Send> {
    let (reader, columns) = open(path, options)?;
    let mut framer = Framer::new(path, reader, columns.headers.len())?;
    let columns = Arc::new(columns);
    let rows = rows.max(1);
    let mut next_index = 0;
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut batch = RecordBatch {
            columns: Arc::clone(&columns),
            first_index: next_index,
            rows: Rows::default(),
            error: None,
        };
        match framer.fill(&mut batch.rows, rows) {
            Ok(Filled::More) => {}
            Ok(Filled::End) => done = true,
            Ok(Filled::Error(e)) => {
                batch.error = Some(bad_row(&columns.path, next_index + batch.len(), &e));
                done = true;
            }
            Err(e) => {
                batch.error = Some(e);
                done = true;
            }
        }
        next_index += batch.len();
        (!batch.is_empty() || batch.error.is_some()).then_some(batch)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TempDir;
    use serde_json::Map;

    #[test]
    fn plain_decimals_read_as_str_parse_reads_them() {
        // Hand cases around the edges of the fast path, then random
        // strings of digits, points, signs and spaces: whenever the fast
        // path answers, `str::parse` gives the same bits.
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "80",
            "78.8170534",
            "-12.345",
            ".5",
            "5.",
            "-.5",
            " 43.25\t",
            "007.50",
            "9007199254740992",
            "9007199254740993",
            "0.0000000000000000000001",
            "1e5",
            "+1",
            "1.2.3",
            "",
            "-",
            ".",
            "1 2",
            "١",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut state = 3u64;
        for _ in 0..200_000 {
            let r = crate::test_rand::next_u64(&mut state);
            let len = 1 + (r % 24) as usize;
            let mut t = String::new();
            let mut bits = crate::test_rand::next_u64(&mut state);
            for i in 0..len {
                let c = match bits % 16 {
                    0 if i == 0 => '-',
                    1 => '.',
                    2 if i == 0 || i == len - 1 => ' ',
                    _ => char::from(b'0' + (bits / 16 % 10) as u8),
                };
                t.push(c);
                bits = bits.rotate_right(7) ^ r;
            }
            cases.push(t);
        }
        let mut fast = 0;
        for t in &cases {
            if let Some(v) = plain_decimal(t.as_bytes()) {
                fast += 1;
                let want: f64 = t.trim().parse().unwrap_or_else(|_| panic!("'{t}'"));
                assert_eq!(v.to_bits(), want.to_bits(), "'{t}'");
            }
        }
        assert!(fast > 100_000, "{fast}");
        for t in ["1e5", "+1", "1.2.3", "", "-", ".", "9007199254740993", "١"] {
            assert_eq!(plain_decimal(t.as_bytes()), None, "'{t}'");
        }
    }

    #[test]
    fn reads_points_and_attributes() {
        let (_dir, p) = TempDir::with_file(
            "csv",
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
        let (_dir, p) = TempDir::with_file("csv", "b.csv", b"id,x,y\n1,80,44\n2,abc,44\n");
        let items: Vec<_> = read_points(&p, &ReadOptions::default()).unwrap().collect();
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("feature #1") && err.contains("'x'") && err.contains("abc"),
            "{err}"
        );
    }

    #[test]
    fn missing_column_is_an_error() {
        let (_dir, p) = TempDir::with_file("csv", "c.csv", b"id,a,b\n1,80,44\n");
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

    /// Every row through [`read_batches`], `rows` a batch, decoded into one
    /// reused feature; the syntax error, if any, last.
    fn batched(p: &Path, opts: &ReadOptions, rows: usize) -> Vec<Result<InputFeature>> {
        let mut out = Vec::new();
        let mut feature = InputFeature::blank();
        for mut batch in read_batches(p, opts, rows).unwrap() {
            for row in 0..batch.len() {
                out.push(
                    batch
                        .decode_into(row, &mut feature)
                        .map(|()| feature.clone()),
                );
            }
            out.extend(batch.take_error().map(Err));
        }
        out
    }

    fn same(a: &[Result<InputFeature>], b: &[Result<InputFeature>]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            match (x, y) {
                (Ok(x), Ok(y)) => assert_eq!(x, y),
                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
                _ => panic!("{x:?} vs {y:?}"),
            }
        }
    }

    #[test]
    fn batches_decode_as_the_stream_does() {
        // Quoted commas, quotes and line breaks, CRLF, Cyrillic, a BOM.
        let text = "\u{feff}id,name,lon,lat,note\r\n\
                    1,\"Қорғас, өткел\",80.384232,44.22364,a\r\n\
                    2,\"say \"\"hi\"\"\",79.5, 43.25 ,\"two\r\nlines\"\r\n\
                    3,,-0.0,0,\r\n\
                    4,Алматы,76.9,43.2,x\r\n";
        let (_dir, p) = TempDir::with_file("csv", "batches.csv", text.as_bytes());
        let streamed: Vec<_> = read_points(&p, &ReadOptions::default()).unwrap().collect();
        for rows in [1, 2, 3, 100] {
            same(&batched(&p, &ReadOptions::default(), rows), &streamed);
        }
        let f: Vec<InputFeature> = streamed.into_iter().map(|f| f.unwrap()).collect();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].properties["name"], "Қорғас, өткел");
        assert_eq!(f[1].properties["name"], "say \"hi\"");
        assert_eq!(f[1].properties["note"], "two\r\nlines");
        assert_eq!(f[1].geometry, Geometry::Point(Point::new(79.5, 43.25)));
        assert_eq!(f[2].properties["name"], "");
        assert_eq!(f[3].index, 3);
        let keys: Vec<&String> = f[3].properties.keys().collect();
        assert_eq!(keys, ["id", "name", "note"]);
    }

    #[test]
    fn a_repeated_column_name_keeps_the_later_value_at_the_first_place() {
        let (_dir, p) = TempDir::with_file(
            "csv",
            "dup.csv",
            b"name,id,lon,lat,name\nA,1,80,44,B\nC,2,81,45,D\n",
        );
        let streamed: Vec<_> = read_points(&p, &ReadOptions::default()).unwrap().collect();
        same(&batched(&p, &ReadOptions::default(), 1), &streamed);
        let f = streamed[1].as_ref().unwrap();
        let props: Vec<(&String, &Value)> = f.properties.iter().collect();
        assert_eq!(
            props,
            [
                (&"name".to_string(), &Value::from("D")),
                (&"id".to_string(), &Value::from("2"))
            ]
        );
    }

    #[test]
    fn a_reused_feature_of_another_layer_is_rebuilt() {
        let (_dir, p) = TempDir::with_file("csv", "reuse.csv", b"code,x,y\n7,80,44\n");
        let mut feature = InputFeature::blank();
        feature.properties.insert("other".into(), Value::from(1));
        feature.properties.insert("code".into(), Value::from(2));
        feature.feature_id = Some(Value::from(9));
        let batch = read_batches(&p, &ReadOptions::default(), 10)
            .unwrap()
            .next()
            .unwrap();
        batch.decode_into(0, &mut feature).unwrap();
        let mut expected = Map::new();
        expected.insert("code".into(), Value::from("7"));
        assert_eq!(
            feature,
            InputFeature {
                index: 0,
                feature_id: None,
                properties: expected,
                geometry: Geometry::Point(Point::new(80.0, 44.0)),
            }
        );
    }

    #[test]
    fn batch_errors_name_the_row_and_column_as_the_stream_does() {
        // Row 1: not a number; row 2: not UTF-8; row 3: out of range;
        // row 4: a missing field (a syntax error that ends the layer).
        let (_dir, p) = TempDir::with_file(
            "csv",
            "errs.csv",
            b"id,name,lon,lat\n0,a,80,44\n1,b,abc,44\n2,\xff,80,44\n3,c,80,91\n4,d,80\n5,e,80,44\n",
        );
        let opts = ReadOptions::default();
        let got = batched(&p, &opts, 2);
        assert_eq!(got.len(), 5);
        let msg = |i: usize| got[i].as_ref().unwrap_err().to_string();
        assert!(got[0].is_ok());
        assert!(
            msg(1).contains("feature #1, field 'lon'") && msg(1).contains("'abc' is not a number"),
            "{}",
            msg(1)
        );
        assert!(
            msg(2).contains("feature #2, field 'name'") && msg(2).contains("not UTF-8"),
            "{}",
            msg(2)
        );
        assert!(
            msg(3).contains("feature #3") && msg(3).contains("(80, 91)"),
            "{}",
            msg(3)
        );
        assert!(
            msg(4).contains("feature #4") && msg(4).contains("found record with 3 fields"),
            "{}",
            msg(4)
        );
        // The stream stops at its first error; it is the same error.
        let streamed: Vec<_> = read_points(&p, &opts).unwrap().collect();
        same(&got[..2], &streamed);
    }
}
