//! `aispend ledger export --format parquet`: typed FOCUS Parquet, read back with the parquet crate.

use std::path::{Path, PathBuf};

use parquet::basic::{ConvertedType, LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rust_decimal::Decimal;

use crate::backends::on_each_backend;
use crate::{fixture, money, Workdir};

const HAIKU: &str = "anthropic:msg_01FxAnthropic0000000003";

fn logs() -> [String; 2] {
    [
        fixture("api-log/anthropic-messages.jsonl"),
        fixture("api-log/unknown-model.jsonl"),
    ]
}

/// Every row of a Parquet file, as (column, value) pairs.
fn read_rows(path: &Path) -> Vec<Vec<(String, Field)>> {
    let reader =
        SerializedFileReader::new(std::fs::File::open(path).expect("open")).expect("parquet");
    reader
        .get_row_iter(None)
        .expect("rows")
        .map(|row| row.expect("row").into_columns())
        .collect()
}

fn get<'a>(row: &'a [(String, Field)], column: &str) -> &'a Field {
    &row.iter()
        .find(|(c, _)| c == column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .1
}

/// A DECIMAL field as an exact decimal (the unscaled big-endian integer and its scale).
fn decimal(f: &Field) -> Decimal {
    let Field::Decimal(d) = f else {
        panic!("not a decimal: {f:?}")
    };
    let bytes: [u8; 16] = d.data().try_into().expect("16 bytes");
    Decimal::from_i128_with_scale(i128::from_be_bytes(bytes), d.scale() as u32).normalize()
}

fn total(rows: &[Vec<(String, Field)>], column: &str) -> Decimal {
    rows.iter()
        .map(|r| decimal(get(r, column)))
        .sum::<Decimal>()
        .normalize()
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn parquet_has_typed_focus_columns_and_the_report_total() {
    on_each_backend(|w, _| {
        let [a, u] = logs();
        w.stdout(&["import", &a, &u]);
        w.stdout(&[
            "ledger",
            "export",
            "--format",
            "parquet",
            "-o",
            "focus.parquet",
        ]);
        let path = w.path().join("focus.parquet");

        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let column = |name: &str| {
            schema
                .columns()
                .iter()
                .find(|c| c.name() == name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .clone()
        };
        // 57 FOCUS columns and 37 extras.
        assert_eq!(schema.num_columns(), 94);
        for money_column in ["BilledCost", "ListCost", "EffectiveCost", "x_ComputedCost"] {
            let c = column(money_column);
            assert_eq!(
                (c.converted_type(), c.type_precision(), c.type_scale()),
                (ConvertedType::DECIMAL, 38, 18),
                "{money_column}"
            );
        }
        assert_eq!(
            column("ChargePeriodStart").logical_type_ref(),
            Some(&LogicalType::timestamp(true, TimeUnit::MICROS))
        );
        assert_eq!(
            column("x_InputTokens").physical_type(),
            parquet::basic::Type::INT64
        );

        // The two gpt-9-preview records have no price: left out, as in the focus CSV.
        let rows = read_rows(&path);
        assert_eq!(rows.len(), 7);
        let h = rows
            .iter()
            .find(|r| matches!(get(r, "x_RecordId"), Field::Str(s) if s == HAIKU))
            .expect("haiku row");
        // claude-haiku-4-5, line 3 of anthropic-messages.jsonl ($1 in, $0.10 read, $1.25 5m write, $2 1h
        // write, $5 out per million): 100 × 1 + 10_000 × 0.10 + 2_000 × 1.25 + 4_000 × 2 + 400 × 5
        // = 13_600 µ$ = $0.0136.
        assert_eq!(decimal(get(h, "ListCost")).to_string(), "0.0136");
        assert_eq!(decimal(get(h, "BilledCost")).to_string(), "0.0136");
        // 2026-10-07T08:10:00Z, in microseconds since the epoch.
        assert_eq!(
            get(h, "ChargePeriodStart"),
            &Field::TimestampMicros(1_791_360_600_000_000)
        );
        assert_eq!(get(h, "x_InputTokens"), &Field::Long(100));
        assert_eq!(get(h, "x_Batch"), &Field::Bool(false));
        assert_eq!(get(h, "AvailabilityZone"), &Field::Null);

        // Anthropic 1.58535 + 0.0136 + 0.27075 + 0.03 = $1.8997, plus gpt-4o 1_000 × 2.50 + 100 × 10 per
        // million = $0.0035: $1.9032, which is also what `report` says.
        assert_eq!(total(&rows, "ListCost").to_string(), "1.9032");
        let report = w.json(&["report", "--month", "2026-10"]);
        assert_eq!(money(&report["total"]["cost"]), "1.9032");
    });
}

#[test]
fn partitioned_parquet_is_a_hive_tree_with_the_same_total() {
    on_each_backend(|w, _| {
        let [a, u] = logs();
        w.stdout(&["import", &a, &u]);
        let args = [
            "ledger",
            "export",
            "--format",
            "parquet",
            "--partition",
            "month,provider",
            "--output",
            "lake",
        ];
        w.stdout(&args);
        let lake = w.path().join("lake");
        let files = parquet_files(&lake);
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&lake).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "BillingPeriodStart=2026-10/ProviderName=anthropic/part-0.parquet",
                "BillingPeriodStart=2026-10/ProviderName=openai/part-0.parquet",
            ]
        );
        let rows: Vec<_> = files.iter().flat_map(|f| read_rows(f)).collect();
        assert_eq!(rows.len(), 7);
        // The partition columns are the folder names, not file columns.
        assert!(rows[0].iter().all(|(c, _)| c != "ProviderName"));
        assert!(rows[0].iter().all(|(c, _)| c != "BillingPeriodStart"));
        // The same $1.9032 as the single file (see above).
        assert_eq!(total(&rows, "ListCost").to_string(), "1.9032");

        // A second export into the same folder would mix two exports: refused.
        let again = w.run(&args);
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    });
}

#[test]
fn partition_needs_parquet_and_a_folder() {
    let w = Workdir::new();
    let [a, _] = logs();
    for (args, message) in [
        (
            vec!["--format", "parquet", "--partition", "month"],
            "--output DIR",
        ),
        (
            vec!["--format", "csv", "--partition", "month", "-o", "x"],
            "--partition applies to --format parquet",
        ),
    ] {
        let mut all = vec!["ledger", "export"];
        all.extend(args);
        all.push(&a);
        let out = w.run(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{err}");
    }
}
