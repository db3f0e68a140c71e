//! Tables for people: the eligibility lists, summaries and hub rankings,
//! written as CSV (UTF-8 with a byte-order mark, so Excel keeps Cyrillic
//! intact).

use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::atomic::{finish, OutputSet};

/// Rows formatted per parallel task by [`Table::write_csv`].
const CSV_ROWS_PER_TASK: usize = 2048;

/// One table cell, shared by the CSV, XLSX and HTML writers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as a string (never interpreted as a formula).
    Text(String),
    /// A number; NaN and infinities are written as empty cells.
    Number(f64),
    /// A boolean (`true`/`false` in CSV, `TRUE`/`FALSE` in Excel, yes/no in HTML).
    Bool(bool),
    /// Nothing.
    Empty,
}

impl Cell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A number cell, `Empty` for `None`.
    pub fn opt_number(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }

    /// The cell as display text (HTML): integers without decimals, other
    /// numbers with at most 3 decimals, booleans as `yes`/`no`.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(v) if !v.is_finite() => String::new(),
            Cell::Number(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
            Cell::Number(v) => {
                let s = format!("{v:.3}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                if s == "-0" {
                    "0".into()
                } else {
                    s.into()
                }
            }
            Cell::Bool(true) => "yes".into(),
            Cell::Bool(false) => "no".into(),
            Cell::Empty => String::new(),
        }
    }

    /// The CSV rendering: numbers in full (shortest round-trip) precision.
    pub fn to_text(&self) -> String {
        let mut buf = Vec::new();
        self.write_text(&mut buf);
        String::from_utf8(buf).expect("cells render as UTF-8")
    }

    /// Append the CSV rendering ([`Self::to_text`]) to `buf`, without
    /// allocating for the cell.
    pub fn write_text(&self, buf: &mut Vec<u8>) {
        match self {
            Cell::Text(s) => buf.extend_from_slice(s.as_bytes()),
            Cell::Number(v) if !v.is_finite() => {}
            Cell::Number(v) => write_number(buf, *v),
            Cell::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Empty => {}
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        if v.is_finite() {
            Cell::Number(v)
        } else {
            Cell::Empty
        }
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::from)
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Cell::Bool(b)
    }
}

/// Integers without a decimal point, other numbers in shortest form.
pub fn format_number(v: f64) -> String {
    let mut buf = Vec::new();
    write_number(&mut buf, v);
    String::from_utf8(buf).expect("numbers render as ASCII")
}

/// Append [`format_number`]'s rendering of `v` to `buf`.
pub fn write_number(buf: &mut Vec<u8>, v: f64) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = if v.fract() == 0.0 && v.abs() < 1e15 {
        write!(buf, "{}", v as i64)
    } else {
        write!(buf, "{v}")
    };
}

/// A table with a header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Write as CSV (UTF-8 with BOM).
    pub fn write_csv(&self, out: &mut OutputSet, path: &Path) -> Result<()> {
        let err = |e: csv::Error| Error::io(path, "cannot write", e.into());
        if let Some((i, row)) = self
            .rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != self.header.len())
        {
            return Err(Error::invalid(
                crate::error::Location::file(path),
                format!(
                    "table row {i} has {} fields, the header {}",
                    row.len(),
                    self.header.len()
                ),
            ));
        }
        // Rows formatted in parallel chunks, each through its own CSV writer
        // (quoting is per field, so the bytes are those of one writer),
        // written in order; one buffer for every field, no allocation per
        // cell.
        let chunks: Vec<std::result::Result<Vec<u8>, csv::Error>> = self
            .rows
            .par_chunks(CSV_ROWS_PER_TASK)
            .map(|rows| {
                let mut c = csv::Writer::from_writer(Vec::new());
                let mut field = Vec::with_capacity(64);
                for row in rows {
                    for cell in row {
                        field.clear();
                        cell.write_text(&mut field);
                        c.write_field(&field)?;
                    }
                    c.write_record(None::<&[u8]>)?;
                }
                c.into_inner().map_err(|e| e.into_error().into())
            })
            .collect();
        let mut w = out.create(path)?;
        std::io::Write::write_all(&mut w, "\u{feff}".as_bytes())
            .map_err(|e| Error::io(path, "cannot write", e))?;
        let mut c = csv::Writer::from_writer(w);
        c.write_record(&self.header).map_err(err)?;
        let mut w = c
            .into_inner()
            .map_err(|e| Error::io(path, "cannot write", e.into_error()))?;
        for chunk in chunks {
            std::io::Write::write_all(&mut w, &chunk.map_err(err)?)
                .map_err(|e| Error::io(path, "cannot write", e))?;
        }
        finish(w, path)
    }

    /// Write as an Excel workbook with one sheet.
    pub fn write_xlsx(&self, out: &mut OutputSet, path: &Path, sheet: &str) -> Result<()> {
        let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
        super::xlsx::write_table_xlsx(out, path, sheet, &header, &self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(t: &Table, name: &str) -> Result<Vec<u8>> {
        let dir = crate::test_dir::TempDir::new(&format!("table-{name}"));
        let path = dir.join("t.csv");
        let mut out = OutputSet::new();
        t.write_csv(&mut out, &path)?;
        out.commit()?;
        Ok(std::fs::read(&path).unwrap())
    }

    #[test]
    fn chunked_rows_give_the_bytes_of_one_csv_writer() {
        // Several parallel chunks, fields that need quoting, numbers, empty
        // cells: the reference is one csv::Writer over the whole table.
        let mut t = Table::new(&["id", "name", "value", "ok"]);
        for i in 0..(2 * CSV_ROWS_PER_TASK + 17) {
            t.rows.push(vec![
                Cell::text(format!("s{i}")),
                Cell::text(match i % 4 {
                    0 => "Қорғас, \"Khorgos\"".to_string(),
                    1 => "line\nbreak".to_string(),
                    2 => String::new(),
                    _ => format!("n{i}"),
                }),
                if i % 5 == 0 {
                    Cell::Empty
                } else {
                    Cell::Number(i as f64 / 7.0)
                },
                Cell::Bool(i % 2 == 0),
            ]);
        }
        let mut want = "\u{feff}".as_bytes().to_vec();
        let mut c = csv::Writer::from_writer(&mut want);
        c.write_record(&t.header).unwrap();
        for row in &t.rows {
            c.write_record(row.iter().map(Cell::to_text)).unwrap();
        }
        drop(c);
        assert!(written(&t, "chunks").unwrap() == want);
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        let mut t = Table::new(&["a", "b"]);
        t.rows.push(vec![Cell::text("x"), Cell::text("y")]);
        t.rows.push(vec![Cell::text("z")]);
        let e = written(&t, "width").unwrap_err().to_string();
        assert!(e.contains("table row 1 has 1 fields, the header 2"), "{e}");
    }
}
