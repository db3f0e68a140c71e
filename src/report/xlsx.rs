//! Tables as Excel workbooks (`.xlsx`): one sheet, bold header, frozen top
//! row, autofilter, column widths from the content.
//!
//! # Determinism
//! An xlsx file is a zip archive; `rust_xlsxwriter` already gives every zip
//! entry a fixed timestamp, and the only clock reading left is the creation
//! date in `docProps/core.xml`, which is set here to [`CREATION_DATE`]. The
//! same table therefore gives byte-identical files on every run.

use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::io::atomic::OutputSet;

pub use super::table::Cell;

/// The creation date written into every workbook (year, month, day), for
/// byte-identical output.
pub const CREATION_DATE: (u16, u8, u8) = (2000, 1, 1);

/// Excel's sheet row limit (header included).
pub const MAX_ROWS: usize = 1_048_576;

/// Excel's column limit.
pub const MAX_COLUMNS: usize = 16_384;

/// A valid Excel sheet name from `name`: `[]:*?/\` replaced by `_`, leading
/// and trailing apostrophes removed, at most 31 characters, `Sheet1` when
/// nothing is left.
pub fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned: String = cleaned.trim_matches('\'').chars().take(31).collect();
    let cleaned = cleaned.trim_end_matches('\'').to_string();
    if cleaned.trim().is_empty() || cleaned.eq_ignore_ascii_case("history") {
        "Sheet1".into()
    } else {
        cleaned
    }
}

fn xerr(path: &Path) -> impl Fn(XlsxError) -> Error + '_ {
    move |e| {
        Error::io(
            path,
            "cannot build the xlsx workbook",
            std::io::Error::other(e.to_string()),
        )
    }
}

/// Column width (Excel character units) for a text of `chars` characters.
fn width_for(chars: usize) -> f64 {
    (chars as f64 + 2.0).clamp(6.0, 60.0)
}

/// The workbook bytes for one table; see [`write_table_xlsx`].
///
/// # Errors
/// More rows or columns than Excel allows, a text longer than 32,767
/// characters.
pub fn table_xlsx_bytes(
    path: &Path,
    sheet: &str,
    header: &[&str],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>> {
    let ncols = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(header.len());
    if rows.len() + 1 > MAX_ROWS || ncols > MAX_COLUMNS {
        return Err(Error::config(format!(
            "{}: {} rows × {} columns do not fit one Excel sheet (at most {} rows and {} columns): write CSV instead",
            path.display(),
            rows.len() + 1,
            ncols,
            MAX_ROWS,
            MAX_COLUMNS
        )));
    }
    let err = xerr(path);
    let mut workbook = Workbook::new();
    let (y, m, d) = CREATION_DATE;
    let date = ExcelDateTime::from_ymd(y, m, d).map_err(&err)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&date));
    let bold = Format::new().set_bold();
    let ws = workbook.add_worksheet();
    ws.set_name(sheet_name(sheet)).map_err(&err)?;

    let mut widths: Vec<usize> = vec![0; ncols];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(&err)?;
        widths[c] = h.chars().count();
    }
    for (r, row) in rows.iter().enumerate() {
        let r32 = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let c16 = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r32, c16, s).map_err(&err)?;
                }
                Cell::Number(v) if v.is_finite() => {
                    ws.write_number(r32, c16, *v).map_err(&err)?;
                }
                Cell::Bool(b) => {
                    ws.write_boolean(r32, c16, *b).map_err(&err)?;
                }
                Cell::Number(_) | Cell::Empty => {}
            }
            // Width from the longest line of the displayed value.
            let len = match cell {
                Cell::Text(s) => s.lines().map(|l| l.chars().count()).max().unwrap_or(0),
                Cell::Number(v) if v.is_finite() => format!("{v}").len().min(16),
                Cell::Bool(_) => 5,
                _ => 0,
            };
            widths[c] = widths[c].max(len);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // Room for the autofilter arrow in the header.
        let header_len = header.get(c).map_or(0, |h| h.chars().count() + 3);
        ws.set_column_width(c as u16, width_for((*w).max(header_len)))
            .map_err(&err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(&err)?;
    if ncols > 0 {
        ws.autofilter(0, 0, rows.len() as u32, (ncols - 1) as u16)
            .map_err(&err)?;
    }
    workbook.save_to_buffer().map_err(&err)
}

/// Write one table as a one-sheet workbook at `path` through `out`
/// (committed with the rest of the run).
///
/// The header row is bold, frozen and carries an autofilter; text keeps any
/// script (Cyrillic, Kazakh); numbers stay numbers. Rows may be shorter than
/// the header (the rest is empty). The sheet name is made valid with
/// [`sheet_name`].
///
/// # Errors
/// See [`table_xlsx_bytes`]; an unwritable file.
pub fn write_table_xlsx(
    out: &mut OutputSet,
    path: &Path,
    sheet_name: &str,
    header: &[&str],
    rows: &[Vec<Cell>],
) -> Result<()> {
    let bytes = table_xlsx_bytes(path, sheet_name, header, rows)?;
    out.write_bytes(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sheet_name("china/20km"), "china_20km");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name("'x'"), "x");
        assert_eq!(sheet_name(&"Ж".repeat(40)).chars().count(), 31);
    }

    #[test]
    fn cell_display() {
        assert_eq!(Cell::Number(12.0).display(), "12");
        assert_eq!(Cell::Number(12.34567).display(), "12.346");
        assert_eq!(Cell::Number(f64::NAN).display(), "");
        assert_eq!(Cell::Bool(true).display(), "yes");
    }

    #[test]
    fn same_table_same_bytes() {
        let rows = vec![vec![
            Cell::text("Қорғас"),
            Cell::Number(1.5),
            Cell::Bool(true),
        ]];
        let p = Path::new("t.xlsx");
        let a = table_xlsx_bytes(p, "t", &["name", "v", "b"], &rows).unwrap();
        let b = table_xlsx_bytes(p, "t", &["name", "v", "b"], &rows).unwrap();
        assert_eq!(a, b);
    }
}
