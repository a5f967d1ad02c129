//! The cylinder CSV import's parser (`api::cylinders::parse_csv`, behind
//! `POST /api/v1/cylinders/import`) over thousands of generated files: valid rows with cells
//! replaced by random text (quotes, commas, line breaks, control characters, numbers out of
//! range), columns dropped or added, a byte-order mark, garbage lines. Nothing panics; a file
//! refused whole is a client error naming the column; otherwise every data row is either an
//! archive or an error naming its line (and its column when a cell is at fault), and every row
//! left untouched is an archive.

use cylwatch::api::cylinders::parse_csv;
use cylwatch::error::ApiError;
use proptest::prelude::*;
use shared::registry::CYLINDER_COLUMNS;
use shared::ErrorCode;

/// A valid row, in `CYLINDER_COLUMNS` order.
fn valid_row(n: usize) -> Vec<String> {
    let code = format!("C{n}");
    let tag = format!("T{n}");
    [
        code.as_str(),
        tag.as_str(),
        "LPG",
        "16.4",
        "35.5",
        "2.1",
        "3.2",
        "2.6",
        "14.5",
        "15",
        "江苏民生重工有限公司",
        "2020-04-01",
        "GB 5842",
        "TS2210001",
        "2024-04-01",
        "2028-04-01",
        "豫A-LPG-0001",
        "2020-05-01",
        "郑州市市场监督管理局",
        "ENT1",
        "ST1",
        "SN-1",
        "B-1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A random cell: awkward text or a number out of every range.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[\",\\r\\n\\x00-\\x1f ]{1,4}",
        prop_oneof![
            Just("-1"),
            Just("1e309"),
            Just("NaN"),
            Just("0"),
            Just("99999999"),
            Just("2026-02-30"),
            Just("'=1+1"),
            Just("\u{feff}"),
        ]
        .prop_map(str::to_owned),
    ]
}

#[derive(Debug, Clone)]
struct File {
    rows: usize,
    /// (row, column, new cell)
    cells: Vec<(prop::sample::Index, prop::sample::Index, String)>,
    drop_column: Option<prop::sample::Index>,
    add_column: Option<String>,
    bom: bool,
    garbage_line: Option<(prop::sample::Index, String)>,
}

fn file() -> impl Strategy<Value = File> {
    (
        1usize..6,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                cell(),
            ),
            0..4,
        ),
        prop::option::weighted(0.1, any::<prop::sample::Index>()),
        prop::option::weighted(0.1, "[a-z_]{1,10}"),
        any::<bool>(),
        prop::option::weighted(0.15, (any::<prop::sample::Index>(), "\\PC{0,20}")),
    )
        .prop_map(
            |(rows, cells, drop_column, add_column, bom, garbage_line)| File {
                rows,
                cells,
                drop_column,
                add_column,
                bom,
                garbage_line,
            },
        )
}

/// The file's bytes, and which data rows were left untouched.
fn render(f: &File) -> (Vec<u8>, Vec<bool>) {
    let mut header: Vec<String> = CYLINDER_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let mut rows: Vec<Vec<String>> = (0..f.rows).map(valid_row).collect();
    let mut untouched = vec![true; f.rows];
    for (r, c, value) in &f.cells {
        let (r, c) = (r.index(f.rows), c.index(header.len()));
        rows[r][c] = value.clone();
        untouched[r] = false;
    }
    if let Some(c) = f.drop_column {
        let c = c.index(header.len());
        header.remove(c);
        for row in &mut rows {
            row.remove(c);
        }
    }
    if let Some(extra) = &f.add_column {
        header.push(extra.clone());
        for row in &mut rows {
            row.push("x".to_owned());
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for row in &rows {
        w.write_record(row).unwrap();
    }
    let mut bytes = w.into_inner().unwrap();
    if let Some((at, line)) = &f.garbage_line {
        // Inserted between two records (after the header), never inside a quoted cell.
        let text = String::from_utf8(bytes).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() == f.rows + 1 {
            let i = 1 + at.index(f.rows);
            lines.insert(i, line.clone());
            untouched.iter_mut().for_each(|u| *u = false);
        }
        bytes = (lines.join("\n") + "\n").into_bytes();
    }
    if f.bom {
        let mut with = "\u{feff}".as_bytes().to_vec();
        with.extend(bytes);
        bytes = with;
    }
    (bytes, untouched)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_an_archive_or_an_error_naming_where(f in file()) {
        let (bytes, untouched) = render(&f);
        match parse_csv(&bytes) {
            Err(ApiError::Client(e)) => {
                if matches!(e.code, ErrorCode::UnknownField | ErrorCode::MissingField) {
                    prop_assert!(e.field.is_some(), "{:?}", e);
                }
                // Refused whole only for what concerns the whole file.
                prop_assert!(
                    f.drop_column.is_some() || f.add_column.is_some() || f.garbage_line.is_some(),
                    "a file with the archive's columns refused whole: {:?}", e
                );
            }
            Err(other) => prop_assert!(false, "not a client error: {:?}", other),
            Ok((good, errors)) => {
                let lines: Vec<usize> = good.iter().map(|(l, _)| *l)
                    .chain(errors.iter().map(|e| e.row)).collect();
                for l in &lines {
                    prop_assert!(*l >= 2, "line {} is the header", l);
                }
                for e in &errors {
                    prop_assert!(!e.reason.is_empty());
                    if e.code == ErrorCode::InvalidField {
                        let column = e.column.as_deref().unwrap_or_default();
                        prop_assert!(CYLINDER_COLUMNS.contains(&column), "{:?}", e);
                    }
                }
                if f.garbage_line.is_none() {
                    prop_assert_eq!(lines.len(), f.rows);
                    for (i, clean) in untouched.iter().enumerate() {
                        if *clean && f.drop_column.is_none() && f.add_column.is_none() {
                            prop_assert!(good.iter().any(|(l, _)| *l == i + 2),
                                "untouched row {} refused: {:?}", i + 2, errors);
                        }
                    }
                }
            }
        }
    }
}
