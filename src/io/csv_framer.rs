//! Framing the rows of a CSV layer for [`super::csv::read_batches`]: where
//! each row and each field starts and ends, nothing decoded.
//!
//! Most point layers are *plain*: no quotes, rows ended by `\n` or `\r\n`,
//! every row with the header's number of fields. Their rows are framed
//! straight in the bytes read from the file, 64 bytes at a time: a bit mask
//! of the bytes that matter (`,` `\n` `\r` `"`), then only those bytes
//! looked at — no copy of the fields, no per-byte state machine.
//!
//! Anything else — a quote, a lone `\r`, a blank line, a row with another
//! number of fields — hands the rest of the layer over, from the start of
//! that row, to the `csv` crate's reader, seeked to the byte, line and
//! record number it would have reached itself. Its rows, values and errors
//! (positions included) are then exactly the `csv` crate's, as they are for
//! plain rows: the plain framing is the `csv` reader's on the inputs it
//! accepts. (That reader ends a record at the `\r` of a `\r\n` and takes the
//! `\n` as the start of the next one: the positions here count the same.)

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};

/// The `csv` crate's reader of a layer, its header read.
pub(super) type CsvReader = csv::Reader<std::io::BufReader<File>>;

/// The `csv` reader of `file` as borderzone configures it: a header row,
/// every row with as many fields as the header.
pub(super) fn reader_of(file: File) -> CsvReader {
    csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file))
}

/// The bytes of a batch's rows and where their fields end.
///
/// Within a row, consecutive fields are one byte apart (the delimiter):
/// field `k + 1` starts one byte after field `k` ends.
#[derive(Debug, Default)]
pub(super) struct Rows {
    /// The rows' text (and, after the last row, bytes of no row).
    pub bytes: Vec<u8>,
    /// Where each row's first field starts.
    pub starts: Vec<usize>,
    /// Where each field ends, row after row.
    pub field_ends: Vec<usize>,
}

impl Rows {
    /// Append a row framed by the `csv` reader, in the layout above.
    fn push_record(&mut self, record: &csv::ByteRecord) {
        self.starts.push(self.bytes.len());
        for field in record {
            self.bytes.extend_from_slice(field);
            self.field_ends.push(self.bytes.len());
            self.bytes.push(b',');
        }
    }
}

/// Frames rows: plain while it can, then through the `csv` reader.
pub(super) struct Framer {
    path: std::path::PathBuf,
    columns: usize,
    state: State,
    /// Whether the `csv` reader took over.
    handed_over: bool,
}

enum State {
    Plain(Plain),
    Csv(Box<CsvReader>, csv::ByteRecord),
    Done,
}

/// The plain framer's reading position.
struct Plain {
    file: File,
    /// Bytes read but not yet in a batch (the start of the next row on).
    carry: Vec<u8>,
    /// The file offset of `carry[0]`: where the `csv` reader's next record
    /// starts.
    offset: u64,
    /// Whether the last row ended with `\r`: a `\n` right after it ends it
    /// too (`\r\n`).
    after_cr: bool,
    /// The line and record numbers of the next row, as the `csv` reader
    /// counts them (1-based lines; the header is record 0).
    line: u64,
    record: u64,
    /// Bytes per row so far, to size the next batch's buffer.
    bytes_per_row: usize,
}

/// Read this much more when the buffered bytes run out.
const READ_BYTES: usize = 1 << 16;

/// The outcome of one batch.
pub(super) enum Filled {
    /// Up to `rows` rows; more may follow.
    More,
    /// The layer's last rows.
    End,
    /// A syntax error after the rows in the batch (the `csv` reader's).
    Error(csv::Error),
}

impl Framer {
    /// A framer for the rows after the header `reader` has read from
    /// `path`, each of `columns` fields.
    pub fn new(path: &Path, reader: CsvReader, columns: usize) -> Result<Self> {
        let pos = reader.position().clone();
        let mut file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
        // Whether the header ended with '\r' (of a "\r\n"): the byte before.
        let mut before = [0u8];
        let after_cr = pos.byte() > 0
            && file
                .seek(SeekFrom::Start(pos.byte() - 1))
                .and_then(|_| file.read_exact(&mut before))
                .is_ok()
            && before[0] == b'\r';
        file.seek(SeekFrom::Start(pos.byte()))
            .map_err(|e| Error::io(path, "cannot read", e))?;
        Ok(Framer {
            path: path.to_path_buf(),
            columns,
            state: State::Plain(Plain {
                file,
                carry: Vec::new(),
                offset: pos.byte(),
                after_cr,
                line: pos.line(),
                record: pos.record(),
                bytes_per_row: 32,
            }),
            handed_over: false,
        })
    }

    /// Frame up to `rows` more rows into `out` (which it clears).
    pub fn fill(&mut self, out: &mut Rows, rows: usize) -> Result<Filled> {
        out.bytes.clear();
        out.starts.clear();
        out.field_ends.clear();
        if let State::Plain(plain) = &mut self.state {
            match plain.fill(out, rows, self.columns) {
                Ok(PlainEnd::Full) => return Ok(Filled::More),
                Ok(PlainEnd::Eof) => {
                    self.state = State::Done;
                    return Ok(Filled::End);
                }
                Ok(PlainEnd::NotPlain) => {
                    let reader = plain
                        .hand_over(&self.path)
                        .map_err(|e| Error::io(&self.path, "cannot read", e))?;
                    self.state = State::Csv(Box::new(reader), csv::ByteRecord::new());
                    self.handed_over = true;
                }
                Err(e) => return Err(Error::io(&self.path, "cannot read", e)),
            }
        }
        let State::Csv(reader, record) = &mut self.state else {
            return Ok(Filled::End);
        };
        while out.starts.len() < rows {
            match reader.read_byte_record(record) {
                Ok(true) => out.push_record(record),
                Ok(false) => {
                    self.state = State::Done;
                    return Ok(Filled::End);
                }
                Err(e) => {
                    self.state = State::Done;
                    return Ok(Filled::Error(e));
                }
            }
        }
        Ok(Filled::More)
    }
}

/// Why the plain framer stopped.
enum PlainEnd {
    /// The batch is full.
    Full,
    /// The file ended (after the rows framed).
    Eof,
    /// The next row is not plain: the `csv` reader takes over there.
    NotPlain,
}

/// Whether the framing looks at byte `b`.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn is_special(b: u8) -> bool {
    matches!(b, b',' | b'\n' | b'\r' | b'"')
}

/// Bit `i` set where `block[i]` is a byte the framing looks at: four SSE2
/// compares and a movemask per 16 bytes (SSE2 is part of every x86-64).
#[cfg(target_arch = "x86_64")]
fn special_bytes(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut mask = 0u64;
    for (k, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, so the intrinsics
        // are available; `lane` is 16 readable bytes, and the unaligned
        // load needs no alignment.
        let lane_mask = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast());
            let hit = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                ),
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                ),
            );
            // 16 bits, one per byte of the lane.
            _mm_movemask_epi8(hit) as u16
        };
        mask |= u64::from(lane_mask) << (16 * k);
    }
    mask
}

/// Bit `i` set where `block[i]` is a byte the framing looks at.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn special_bytes_portable(block: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (i, &b) in block.iter().enumerate() {
        mask |= u64::from(is_special(b)) << i;
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
use special_bytes_portable as special_bytes;

impl Plain {
    /// Frame plain rows into `out` until it holds `rows`, the file ends or
    /// a row is not plain; the bytes after the last row framed are kept
    /// for the next call.
    fn fill(&mut self, out: &mut Rows, rows: usize, columns: usize) -> std::io::Result<PlainEnd> {
        let bytes = &mut out.bytes;
        bytes.reserve(rows.saturating_mul(self.bytes_per_row) + 2 * READ_BYTES);
        bytes.append(&mut self.carry);
        // bytes[..scanned] are framed.
        let mut scanned = 0;
        // The current row: where the csv reader's record starts (the `\n`
        // of a `\r\n` included), where its first field starts, its fields
        // so far and the lines (`\n`) it has taken.
        let mut row_pos = 0;
        let mut row_start = 0;
        let mut fields = 0;
        let mut row_lines = 0u64;
        let mut after_cr = self.after_cr;
        let mut lines = 0u64; // taken by the rows framed
        let mut eof = false;
        let end = loop {
            // Whole 64-byte blocks; at the end of the file, the rest too.
            let stop = if eof {
                bytes.len()
            } else {
                scanned + (bytes.len() - scanned) / 64 * 64
            };
            let mut verdict = None;
            'scan: while scanned < stop {
                let block_end = (scanned + 64).min(stop);
                let mut mask = match bytes[scanned..block_end].try_into() {
                    Ok(block) => special_bytes(block),
                    Err(_) => {
                        // The file's last bytes, padded.
                        let mut block = [0u8; 64];
                        block[..block_end - scanned].copy_from_slice(&bytes[scanned..block_end]);
                        special_bytes(&block)
                    }
                };
                while mask != 0 {
                    let at = scanned + mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let b = bytes[at];
                    if after_cr {
                        if at == row_pos && b == b'\n' {
                            // The `\n` of the last row's `\r\n`.
                            after_cr = false;
                            row_start = at + 1;
                            row_lines = 1;
                            continue;
                        }
                        // A lone `\r` ended the last row: not plain.
                        verdict = Some(PlainEnd::NotPlain);
                        break 'scan;
                    }
                    match b {
                        b',' => {
                            out.field_ends.push(at);
                            fields += 1;
                        }
                        b'\n' | b'\r' if fields + 1 == columns && at > row_start => {
                            out.field_ends.push(at);
                            out.starts.push(row_start);
                            lines += row_lines + u64::from(b == b'\n');
                            (row_pos, row_start, fields, row_lines) = (at + 1, at + 1, 0, 0);
                            after_cr = b == b'\r';
                            if out.starts.len() == rows {
                                verdict = Some(PlainEnd::Full);
                                break 'scan;
                            }
                        }
                        _ => {
                            // '"', a blank line or a short or long row:
                            // not plain.
                            verdict = Some(PlainEnd::NotPlain);
                            break 'scan;
                        }
                    }
                }
                scanned = block_end;
            }
            if verdict.is_none() && eof {
                verdict = Some(if row_start == bytes.len() {
                    // (At most the `\n` of a last `\r\n` after the rows.)
                    PlainEnd::Eof
                } else if !after_cr && fields + 1 == columns {
                    // A last row without a line end.
                    out.field_ends.push(bytes.len());
                    out.starts.push(row_start);
                    row_pos = bytes.len();
                    PlainEnd::Eof
                } else {
                    PlainEnd::NotPlain
                });
            }
            if let Some(v) = verdict {
                break v;
            }
            // Read more (straight into the batch's buffer).
            let n = (&mut self.file)
                .take(READ_BYTES as u64)
                .read_to_end(bytes)?;
            eof = n == 0;
        };
        // The fields of an unfinished row are not the batch's; its bytes
        // (from the reader's record start) are the next batch's.
        let framed: usize = out.starts.len();
        out.field_ends.truncate(framed * columns);
        self.carry = bytes[row_pos..].to_vec();
        bytes.truncate(row_pos);
        self.offset += row_pos as u64;
        self.after_cr = after_cr;
        self.line += lines;
        self.record += framed as u64;
        if framed > 0 {
            self.bytes_per_row = row_pos.div_ceil(framed);
        }
        Ok(end)
    }

    /// The `csv` reader, its header read, at the next row.
    fn hand_over(&mut self, path: &Path) -> std::io::Result<CsvReader> {
        let mut reader = reader_of(File::open(path)?);
        let mut pos = csv::Position::new();
        pos.set_byte(self.offset)
            .set_line(self.line)
            .set_record(self.record);
        reader.seek(pos).map_err(std::io::Error::other)?;
        Ok(reader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TempDir;
    use crate::test_rand::next_u64;

    /// What the `csv` crate reads from `path` after the header: the
    /// records' fields, then its error (with its position) if any.
    fn reference(path: &Path) -> (Vec<Vec<Vec<u8>>>, Option<String>) {
        let mut reader = reader_of(File::open(path).unwrap());
        reader.byte_headers().unwrap();
        let mut record = csv::ByteRecord::new();
        let mut rows = Vec::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => rows.push(record.iter().map(<[u8]>::to_vec).collect()),
                Ok(false) => return (rows, None),
                Err(e) => return (rows, Some(e.to_string())),
            }
        }
    }

    /// What the framer frames, `batch` rows at a time, and whether it
    /// framed every row plainly.
    fn framed(path: &Path, batch: usize) -> (Vec<Vec<Vec<u8>>>, Option<String>, bool) {
        let mut reader = reader_of(File::open(path).unwrap());
        let columns = reader.byte_headers().unwrap().len();
        let mut framer = Framer::new(path, reader, columns).unwrap();
        let mut rows = Vec::new();
        let mut out = Rows::default();
        loop {
            let filled = framer.fill(&mut out, batch).unwrap();
            assert!(out.starts.len() <= batch);
            assert_eq!(out.field_ends.len(), out.starts.len() * columns);
            for (r, &start) in out.starts.iter().enumerate() {
                let mut start = start;
                let mut fields = Vec::new();
                for &end in &out.field_ends[r * columns..(r + 1) * columns] {
                    fields.push(out.bytes[start..end].to_vec());
                    start = end + 1;
                }
                rows.push(fields);
            }
            let plain = matches!(framer.state, State::Plain(_) | State::Done)
                && !matches!(filled, Filled::Error(_));
            match filled {
                Filled::More => {}
                Filled::End => return (rows, None, plain && framer.was_plain()),
                Filled::Error(e) => return (rows, Some(e.to_string()), false),
            }
        }
    }

    impl Framer {
        /// Whether no row went through the `csv` reader (tests only).
        fn was_plain(&self) -> bool {
            !self.handed_over
        }
    }

    /// A random CSV text: a header of `columns` fields, then rows that are
    /// mostly plain, with some of everything the plain framer hands over.
    fn random_csv(state: &mut u64, columns: usize, rows: usize, odd: u64, crlf: bool) -> Vec<u8> {
        let line_end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut text: Vec<u8> = Vec::new();
        // (With one column an empty field is a blank line, which is not
        // plain: fields are then never empty.)
        let min_len = usize::from(columns == 1);
        let field = |state: &mut u64, text: &mut Vec<u8>| {
            let r = next_u64(state);
            let len = min_len.max((r % 12) as usize);
            for i in 0..len {
                let c = match (r >> (8 + 3 * i)) % 8 {
                    0 => b' ',
                    1 => b'.',
                    2 => b'-',
                    3 => b'a' + (r % 26) as u8,
                    _ => b'0' + ((r >> (4 * i)) % 10) as u8,
                };
                text.push(c);
            }
            if r.is_multiple_of(97) {
                text.extend_from_slice("Қорғас".as_bytes());
            }
        };
        for c in 0..columns {
            if c > 0 {
                text.push(b',');
            }
            text.extend_from_slice(format!("h{c}").as_bytes());
        }
        text.extend_from_slice(line_end);
        for _ in 0..rows {
            let r = next_u64(state);
            // 1 in `odd` rows is odd, in one of several ways.
            let kind = if r.is_multiple_of(odd) {
                1 + (r >> 32) % 6
            } else {
                0
            };
            let n = match kind {
                1 => columns + 1,
                2 if columns > 1 => columns - 1,
                _ => columns,
            };
            for c in 0..n {
                if c > 0 {
                    text.push(b',');
                }
                if kind == 3 && c == 0 {
                    // A quoted field with a delimiter, a line end and a
                    // doubled quote in it.
                    text.extend_from_slice(b"\"a,b\n\"\"c\"");
                } else {
                    field(state, &mut text);
                }
            }
            match kind {
                4 => text.extend_from_slice(b"\r\n"),
                5 => text.extend_from_slice(b"\n\n"),
                6 => text.push(b'\r'),
                _ => text.extend_from_slice(line_end),
            }
        }
        if next_u64(state).is_multiple_of(2) {
            // No line end after the last row, or only its `\r`.
            text.pop();
        }
        text
    }

    #[test]
    fn frames_what_the_csv_crate_reads() {
        let dir = TempDir::new("csv-framer");
        let mut state = 11u64;
        let mut plain_files = 0;
        for case in 0..400 {
            let columns = 1 + (case % 4);
            // Small files, and files of several reads (64 KB) each.
            let rows = if case % 10 == 0 {
                5_000
            } else {
                (case * 7) % 60
            };
            let odd = [u64::MAX, 3, 50, 1_000][(case / 4) % 4];
            // Row ends `\n` or `\r\n` (the header's too).
            let crlf = (case / 16) % 2 == 1;
            let text = random_csv(&mut state, columns, rows, odd, crlf);
            let path = dir.file(&format!("c{case}.csv"), &text);
            let want = reference(&path);
            for batch in [1, 3, 64, 4_096] {
                let (rows, error, plain) = framed(&path, batch);
                assert_eq!(
                    (&rows, &error),
                    (&want.0, &want.1),
                    "case {case}, batch {batch}: {:?}",
                    String::from_utf8_lossy(&text[..text.len().min(300)])
                );
                // Plain text is framed without the csv reader.
                if odd == u64::MAX && batch == 64 {
                    assert!(plain, "case {case}");
                    plain_files += 1;
                }
            }
        }
        assert_eq!(plain_files, 100);
    }

    #[test]
    fn the_sse2_mask_is_the_byte_by_byte_mask() {
        let mut state = 5u64;
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                let r = next_u64(&mut state);
                *b = match r % 4 {
                    0 => b",\n\r\"a0 \xff"[(r >> 8) as usize % 8],
                    _ => (r >> 16) as u8,
                };
            }
            assert_eq!(special_bytes(&block), special_bytes_portable(&block));
        }
    }
}
