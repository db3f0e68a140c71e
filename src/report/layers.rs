//! Map layers (GeoJSON) and the settlements table (CSV), written as the
//! results stream by, in input order.

use std::io::Write;
use std::path::Path;

use geo::{Geometry, MultiPolygon};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::geodesy::LonLat;
use crate::io::atomic::{finish, EarlySync, OutputSet, TempWriter};
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
pub struct ZoneResult<'a> {
    /// Exact measurement against the scenario's border selection; `None`
    /// when a certified cell decided and no distance was asked for.
    pub measurement: Option<Measurement>,
    /// The point reported as the settlement's lon/lat.
    pub representative: LonLat,
    /// How membership was established.
    pub decided_by: DecidedBy,
    /// Neighbour of the nearest border segment ("" when not measured),
    /// borrowed from the border index.
    pub nearest_neighbour: &'a str,
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
    /// The CSV, the larger file, goes to disk while it is written.
    csv_sync: EarlySync,
    rows: RowFormat,
}

/// Write every byte of `slices` to `w` (the buffer first, then the slices
/// straight to the file in as few calls as it takes).
fn write_all_vectored(
    w: &mut TempWriter,
    mut slices: &mut [std::io::IoSlice<'_>],
) -> std::io::Result<()> {
    w.flush()?;
    let file = w.get_mut();
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    "failed to write whole buffer",
                ))
            }
            Ok(n) => std::io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How [`SettlementWriter`] formats rows, apart from the writer: rows can be
/// formatted on other threads while the writer writes earlier ones.
#[derive(Debug, Clone)]
pub struct RowFormat {
    geojson: bool,
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
        let csv_sync = EarlySync::new(&csv).map_err(werr(&csv_path))?;
        Ok(SettlementWriter {
            csv_sync,
            rows: RowFormat {
                geojson: geojson.is_some(),
                extra,
                share,
                decided_by,
                geojson_path,
                csv_path,
            },
            geojson,
            csv,
        })
    }

    /// The row format, to format rows with while this writer writes.
    pub fn row_format(&self) -> RowFormat {
        self.rows.clone()
    }

    /// Write one settlement; `extra` holds one value per extra column.
    pub fn write(&mut self, s: &Settlement, r: &ZoneResult<'_>, extra: &[Value]) -> Result<()> {
        let rows = self.format([(s, r, extra)])?;
        self.write_formatted(&rows)
    }

    /// Format rows (no I/O, so chunks can be formatted in parallel and then
    /// written in order with [`Self::write_formatted`]).
    pub fn format<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a Settlement, &'a ZoneResult<'a>, &'a [Value])>,
    ) -> Result<FormattedRows> {
        self.rows.format(rows)
    }

    /// Write rows formatted by [`Self::format`].
    pub fn write_formatted(&mut self, rows: &FormattedRows) -> Result<()> {
        if let Some(g) = &mut self.geojson {
            g.write_formatted(&rows.geojson)
                .map_err(werr(&self.rows.geojson_path))?;
        }
        self.csv
            .write_all(&rows.csv)
            .and_then(|()| self.csv_sync.wrote(rows.csv.len()))
            .map_err(werr(&self.rows.csv_path))
    }

    /// Write the rows of several [`FormattedRows`], in order: as
    /// [`Self::write_formatted`] on each, but the CSV text goes to the file
    /// in one vectored write, without a copy through the buffer.
    pub fn write_formatted_parts<'a>(
        &mut self,
        parts: impl Iterator<Item = &'a FormattedRows> + Clone,
    ) -> Result<()> {
        if let Some(g) = &mut self.geojson {
            for rows in parts.clone() {
                g.write_formatted(&rows.geojson)
                    .map_err(werr(&self.rows.geojson_path))?;
            }
        }
        let mut slices: Vec<std::io::IoSlice<'_>> = parts
            .map(|rows| std::io::IoSlice::new(&rows.csv))
            .filter(|s| !s.is_empty())
            .collect();
        let total: usize = slices.iter().map(|s| s.len()).sum();
        write_all_vectored(&mut self.csv, &mut slices)
            .and_then(|()| self.csv_sync.wrote(total))
            .map_err(werr(&self.rows.csv_path))
    }

    /// Close both files.
    pub fn finish(mut self) -> Result<()> {
        if let Some(g) = self.geojson {
            let g = g.finish().map_err(werr(&self.rows.geojson_path))?;
            finish(g, &self.rows.geojson_path)?;
        }
        self.csv_sync.wait().map_err(werr(&self.rows.csv_path))?;
        finish(self.csv, &self.rows.csv_path)
    }
}

impl RowFormat {
    /// Format rows (no I/O, so chunks can be formatted in parallel and then
    /// written in order with [`SettlementWriter::write_formatted`]).
    pub fn format<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a Settlement, &'a ZoneResult<'a>, &'a [Value])>,
    ) -> Result<FormattedRows> {
        let mut out = FormattedRows::default();
        self.format_into(rows, &mut out)?;
        Ok(out)
    }

    /// As [`Self::format`], into `out` (cleared first; its buffers are
    /// reused).
    pub fn format_into<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a Settlement, &'a ZoneResult<'a>, &'a [Value])>,
        out: &mut FormattedRows,
    ) -> Result<()> {
        out.geojson.clear();
        out.csv.clear();
        let mut computed: Vec<(&str, Value)> = Vec::new();
        for (s, r, extra) in rows {
            let m = r.measurement.as_ref();
            if self.geojson {
                // The computed fields override input attributes of the same
                // name (in place) or follow them: no copy of the properties.
                computed.clear();
                computed.push((
                    "border_distance_m",
                    m.map_or(Value::Null, |m| Value::from(round_mm(m.distance_m))),
                ));
                computed.push((
                    "nearest_neighbour",
                    m.map_or(Value::Null, |_| Value::from(r.nearest_neighbour)),
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
            // Field by field into the CSV text, no allocation per field.
            // Fixed-point numbers never need quoting: written straight in
            // (writing into a Vec cannot fail).
            let line = &mut out.csv;
            let number = |line: &mut Vec<u8>, args: std::fmt::Arguments| {
                let _ = std::io::Write::write_fmt(line, args);
            };
            csv_field(line, s.id.as_bytes());
            line.push(b',');
            csv_field(line, s.name.as_bytes());
            line.push(b',');
            shortest_decimal(line, r.representative.x);
            line.push(b',');
            shortest_decimal(line, r.representative.y);
            line.push(b',');
            if let Some(m) = m {
                number(line, format_args!("{:.3}", m.distance_m));
                line.push(b',');
                csv_field(line, r.nearest_neighbour.as_bytes());
            } else {
                line.push(b',');
            }
            line.extend_from_slice(if r.in_zone { b",true," } else { b",false," });
            if let Some(m) = m {
                shortest_decimal(line, m.nearest.foot.x);
                line.push(b',');
                shortest_decimal(line, m.nearest.foot.y);
            } else {
                line.push(b',');
            }
            if self.share {
                line.push(b',');
                if let Some(v) = r.zone_share {
                    number(line, format_args!("{v:.6}"));
                }
            }
            if self.decided_by {
                line.push(b',');
                csv_field(line, r.decided_by.as_str().as_bytes());
            }
            for v in extra {
                line.push(b',');
                match v {
                    Value::String(t) => csv_field(line, t.as_bytes()),
                    other => csv_field(line, crate::io::property_text(other).as_bytes()),
                }
            }
            line.push(b'\n');
        }
        Ok(())
    }
}

/// Append `field` to a CSV line as the `csv` crate writes it by default
/// (RFC 4180): quoted, with inner quotes doubled, when it holds a comma, a
/// quote or a line break; as is otherwise.
fn csv_field(line: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        line.push(b'"');
        for &b in field {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field);
    }
}

/// `v` = m × 2^e with m odd (or 0).
fn binary_parts(v: f64) -> (u64, i32) {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if m == 0 {
        return (0, 0);
    }
    (m >> m.trailing_zeros(), e + m.trailing_zeros() as i32)
}

/// A quick necessary condition for `v` (finite, non-zero) to be exactly
/// some whole number ending in 5 times 10^`q`: with `v` = m × 2^e, m odd,
/// e < 0, the exact decimal expansion of `v` ends exactly −e places after
/// the point, so it must end at 10^`q`; an integer below 2^53 is never
/// halfway between two shortest candidates (they would be within ½ of it).
fn may_be_halfway(v: f64, q: i32) -> bool {
    let (_, e) = binary_parts(v);
    if e < 0 {
        e == q
    } else {
        v.abs() >= 9_007_199_254_740_992.0
    }
}

/// Whether `v` (finite, non-negative) is exactly `n` × 10^`q` (`n` > 0).
///
/// `v` = m × 2^e exactly; both sides are split into 2^i × 5^j × (a number
/// prime to 10) and compared part by part.
fn is_exactly(v: f64, n: u64, q: i32) -> bool {
    fn split(x: u64) -> (u64, i32, i32) {
        let twos = x.trailing_zeros() as i32;
        let mut x = x >> twos;
        let mut fives = 0;
        while x.is_multiple_of(5) {
            x /= 5;
            fives += 1;
        }
        (x, twos, fives)
    }
    let (m, e) = binary_parts(v);
    if m == 0 || n == 0 {
        return m == n;
    }
    let (m_rest, m_twos, m_fives) = split(m);
    let (n_rest, n_twos, n_fives) = split(n);
    // m·2^e = n·2^q·5^q
    m_rest == n_rest && m_twos + e == n_twos + q && m_fives == n_fives + q
}

/// Decimals of the fast path of [`shortest_decimal`].
const SHORT_DECIMALS: i32 = 9;

/// "00", "01", …, "99".
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The fast path of [`shortest_decimal`], for values (coordinates,
/// millimetre distances) that are a decimal of at most 15 significant
/// digits with at most [`SHORT_DECIMALS`] decimals; `false` (nothing
/// appended) for any other value.
///
/// With m = |v|·10⁹ rounded, |v| < 10⁶ (so m < 10¹⁵ < 2⁵³, exact), the
/// quotient m / 10⁹ of two exact doubles is the correctly rounded value of
/// the decimal m·10⁻⁹ (Clinger's fast path). When it equals |v|, that
/// decimal reads back as v, and it is the only decimal of at most 15
/// significant digits that does (any two such decimals reading back as the
/// same double would be equal: 15 digits always survive the round trip),
/// so it is also the shortest: what `{}` prints, trailing zeros dropped.
fn short_decimal(line: &mut Vec<u8>, v: f64) -> bool {
    const SCALE: f64 = 1e9;
    let a = v.abs();
    if a.is_nan() || a >= 1e6 {
        return false;
    }
    // A candidate only (the check below decides): truncating a + ½ needs
    // no call to `round`.
    let m = (a * SCALE + 0.5) as u64;
    if m as f64 / SCALE != a {
        return false;
    }
    // [sign][integer digits].[9 fraction digits], built in place around
    // the point so that one copy appends the whole number.
    const POINT: usize = 16;
    let mut digits = [b'0'; POINT + 1 + SHORT_DECIMALS as usize];
    digits[POINT] = b'.';
    // m < 10¹⁵: both parts fit 32 bits, whose divisions are cheaper.
    let (mut int, mut frac) = ((m / 1_000_000_000) as u32, (m % 1_000_000_000) as u32);
    for pair in digits[POINT + 2..].chunks_exact_mut(2).rev() {
        let two = (frac % 100) as usize;
        frac /= 100;
        pair.copy_from_slice(&DIGIT_PAIRS[2 * two..2 * two + 2]);
    }
    digits[POINT + 1] = b'0' + frac as u8;
    // At least one digit before the point.
    let mut start = POINT - 1;
    digits[start] = b'0' + (int % 10) as u8;
    int /= 10;
    while int > 0 {
        start -= 1;
        digits[start] = b'0' + (int % 10) as u8;
        int /= 10;
    }
    let mut end = digits.len();
    while digits[end - 1] == b'0' {
        end -= 1;
    }
    if end == POINT + 1 {
        end = POINT; // no fraction: no point
    }
    if v.is_sign_negative() {
        start -= 1;
        digits[start] = b'-';
    }
    line.extend_from_slice(&digits[start..end]);
    true
}

/// Append `v` as Rust's `{}` prints an `f64`: the shortest digits that read
/// back as `v` (the nearest such; of two as near, the larger in magnitude),
/// never an exponent
/// (`80`, `0.0000001`, `-0`), `NaN`/`inf`/`-inf` when not finite.
///
/// The digits come from `ryu`: the same shortest, nearest digits as `{}`'s
/// except when `v` lies exactly halfway between the two nearest (then `ryu`
/// rounds to even and `{}` up: `2⁻²⁵` is `0.000000029802322387695313`);
/// that case is recognised exactly and left to `{}`. The layout (`ryu`'s
/// `1e-7`, `80.0`) is redone here. About twice as fast as `{}`.
fn shortest_decimal(line: &mut Vec<u8>, v: f64) {
    use std::io::Write as _;
    if short_decimal(line, v) {
        return;
    }
    if !v.is_finite() {
        let _ = write!(line, "{v}");
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(v).as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (
            &text[..e],
            std::str::from_utf8(&text[e + 1..])
                .ok()
                .and_then(|x| x.parse::<i32>().ok())
                .expect("ryu writes a decimal exponent"),
        ),
        None => (text, 0),
    };
    // The value is 0.DIGITS × 10^point: significant digits only.
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut point = exponent;
    let mut before_dot = true;
    for &b in mantissa {
        match b {
            b'.' => before_dot = false,
            b'0' if n == 0 => {
                if !before_dot {
                    point -= 1;
                }
            }
            _ => {
                digits[n] = b;
                n += 1;
                if before_dot {
                    point += 1;
                }
            }
        }
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    // The tie: v is exactly DIGITS followed by a 5.
    if !digits.is_empty() && may_be_halfway(v, point - n as i32 - 1) {
        let halfway = digits
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'))
            * 10
            + 5;
        if is_exactly(v.abs(), halfway, point - n as i32 - 1) {
            let _ = write!(line, "{v}");
            return;
        }
    }
    if negative {
        line.push(b'-');
    }
    if digits.is_empty() {
        line.push(b'0');
    } else if point <= 0 {
        line.extend_from_slice(b"0.");
        line.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        line.extend_from_slice(digits);
    } else if point as usize >= digits.len() {
        line.extend_from_slice(digits);
        line.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
    } else {
        let (int, frac) = digits.split_at(point as usize);
        line.extend_from_slice(int);
        line.push(b'.');
        line.extend_from_slice(frac);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shortest(v: f64) -> String {
        let mut line = Vec::new();
        shortest_decimal(&mut line, v);
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn shortest_decimal_prints_what_display_prints() {
        // Hand-checked layouts: integers without ".0", no exponents; a tie
        // (2⁻²⁵ = 0.0000000298023223876953125 exactly) rounds up.
        for (v, text) in [
            (2f64.powi(-25), "0.000000029802322387695313"),
            (80.0, "80"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e-7, "0.0000001"),
            (1.5e-7, "0.00000015"),
            (1e16, "10000000000000000"),
            (123456789012345680.0, "123456789012345680"),
            (78.8170534, "78.8170534"),
            (-100.05, "-100.05"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(shortest(v), text);
        }
        // Against `{}` itself: extremes, powers of ten and of two, values
        // with 1 to 9 decimals like coordinates, and random bit patterns
        // over the whole range (SplitMix64).
        let mut values = vec![
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            5e-324,
            f64::from_bits(0x000F_FFFF_FFFF_FFFF), // the largest subnormal
        ];
        for e in -325..=308 {
            values.push(format!("1e{e}").parse().unwrap());
            values.push(format!("9.999999999999999e{e}").parse().unwrap());
        }
        for e in -1074..=1023 {
            values.push(2f64.powi(e));
        }
        // Short exact expansions, where ties happen: odd k × 2^e.
        for e in -90..=-20 {
            for k in (1..4000).step_by(2) {
                values.push(f64::from(k) * 2f64.powi(e));
            }
        }
        let mut state = 0x1234_5678_u64;
        let mut next = || crate::test_rand::next_u64(&mut state);
        for _ in 0..300_000 {
            values.push(f64::from_bits(next()));
            let decimals = (next() % 10) as i32;
            let lon = (next() % 3_600_000_000) as f64 / 1e7 - 180.0;
            values.push((lon * 10f64.powi(decimals)).round() / 10f64.powi(decimals));
            values.push((next() % 100_000_000) as f64 / 1000.0);
            // Around the fast path's limits: 9 and 10 decimals, 10⁶.
            let k = (next() % 12) as i32;
            values.push((next() % 2_000_000_000_000_000) as f64 / 10f64.powi(k));
            values.push(1e6 - (next() % 1000) as f64 / 10f64.powi(k));
        }
        for v in values {
            for v in [v, -v] {
                assert_eq!(shortest(v), format!("{v}"), "{:#x}", v.to_bits());
            }
        }
    }

    #[test]
    fn exact_decimals_are_recognised() {
        assert!(is_exactly(0.5, 5, -1));
        assert!(is_exactly(80.0, 8, 1));
        assert!(is_exactly(2f64.powi(-25), 298023223876953125, -25));
        assert!(!is_exactly(0.1, 1, -1)); // 0.1 is not exactly a double
        assert!(!is_exactly(2f64.powi(-25), 298023223876953125, -24));
        assert!(is_exactly(1e22, 1, 22));
        assert!(!is_exactly(1e23, 1, 23)); // 1e23 rounds to a neighbour
                                           // The smallest subnormal, 2⁻¹⁰⁷⁴, is not 4.9e-324.
        assert!(!is_exactly(5e-324, 49, -325));
        assert!(is_exactly(2f64.powi(-3), 125, -3));
    }

    #[test]
    fn csv_fields_are_quoted_as_the_csv_crate_quotes_them() {
        let fields = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "Қорғас",
            " space ",
            "'",
            "#",
            "\"",
            ",",
        ];
        let mut ours = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                ours.push(b',');
            }
            csv_field(&mut ours, f.as_bytes());
        }
        ours.push(b'\n');
        let mut theirs = csv::Writer::from_writer(Vec::new());
        theirs.write_record(fields).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs.into_inner().unwrap()).unwrap()
        );
    }
}
