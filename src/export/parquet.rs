//! `--format parquet`: the FOCUS export (the same columns and values as `--format focus`) as typed
//! Parquet for a data lake: money as `DECIMAL(38,18)` (exact, never a float), FOCUS Date/Time columns as
//! timestamps adjusted to UTC (microseconds), token counts as `INT64`, flags as `BOOLEAN`, the rest as
//! UTF-8 strings; an empty value is null.
//!
//! Written with the parquet crate's column writers (no Arrow): rows are buffered column-wise up to
//! [`ROW_GROUP_ROWS`] in all, then written out as a row group, so memory stays flat however large the
//! ledger. The file writer writes into a byte buffer that is drained to the destination after each row
//! group, so standard output works as well as a file.
//!
//! `--partition month,provider` writes a Hive-style tree instead
//! (`BillingPeriodStart=2026-10/ProviderName=openai/part-0.parquet`): the partition columns live in the
//! folder names, not in the files, as Spark, Trino, Athena, BigQuery and DuckDB expect. A file is written
//! under a hidden name and renamed when complete, so a reader never sees half a file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use chrono::DateTime;
use parquet::basic::Compression;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rust_decimal::Decimal;

use super::focus::{self, MissingAccounts, FOCUS_COLUMNS, X_COLUMNS};
use super::partition::PartitionBy;
use super::{ExportRow, Exporter};
use crate::config::BillingAccounts;

/// Rows buffered in all (across partitions) before the largest buffer is written as a row group.
pub const ROW_GROUP_ROWS: usize = 32_768;

/// Money and other FOCUS Decimals: 38 digits, 18 after the point (every price table rate times a token
/// count fits with room to spare; Spark, Trino, Athena, BigQuery and DuckDB all read DECIMAL(38,18)).
pub const DECIMAL_SCALE: u32 = 18;

/// The Parquet type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Decimal,
    Time,
    Int,
    Bool,
}

fn kind(column: &str) -> Kind {
    match column {
        "BilledCost"
        | "CommitmentDiscountQuantity"
        | "ConsumedQuantity"
        | "ContractedCost"
        | "ContractedUnitPrice"
        | "EffectiveCost"
        | "ListCost"
        | "ListUnitPrice"
        | "PricingCurrencyContractedUnitPrice"
        | "PricingCurrencyEffectiveCost"
        | "PricingCurrencyListUnitPrice"
        | "PricingQuantity"
        | "x_ComputedCost"
        | "x_ReportedCost"
        | "x_ToolFees" => Kind::Decimal,
        "BillingPeriodEnd" | "BillingPeriodStart" | "ChargePeriodEnd" | "ChargePeriodStart" => {
            Kind::Time
        }
        "x_Batch" | "x_Unpriced" | "x_Failed" | "x_LongContext" => Kind::Bool,
        "x_Requests"
        | "x_Images"
        | "x_Seconds"
        | "x_WebSearchRequests"
        | "x_WebSearchPreviewCalls" => Kind::Int,
        c if c.starts_with("x_") && c.ends_with("Tokens") => Kind::Int,
        _ => Kind::Text,
    }
}

/// The Parquet message type of the given columns (all optional: FOCUS allows nulls in many).
pub fn schema(columns: &[&str]) -> String {
    let mut s = String::from("message focus {\n");
    for c in columns {
        let t = match kind(c) {
            Kind::Text => "BYTE_ARRAY",
            Kind::Decimal => "FIXED_LEN_BYTE_ARRAY (16)",
            Kind::Time | Kind::Int => "INT64",
            Kind::Bool => "BOOLEAN",
        };
        let logical = match kind(c) {
            Kind::Text => " (STRING)".to_string(),
            Kind::Decimal => format!(" (DECIMAL(38,{DECIMAL_SCALE}))"),
            Kind::Time => " (TIMESTAMP(MICROS,true))".to_string(),
            Kind::Int | Kind::Bool => String::new(),
        };
        s.push_str(&format!("  OPTIONAL {t} {c}{logical};\n"));
    }
    s.push('}');
    s
}

/// One buffered value.
#[derive(Debug)]
enum Value {
    Null,
    Text(String),
    /// A decimal's unscaled value at [`DECIMAL_SCALE`], a timestamp's microseconds, or a count.
    Int(i128),
    Bool(bool),
}

/// The typed value of a FOCUS cell (its CSV text): an empty cell is null.
fn typed(column: &str, text: String) -> std::io::Result<Value> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let bad = |what: &str| {
        std::io::Error::other(format!(
            "internal error: column {column}: {what} '{text}' does not convert"
        ))
    };
    Ok(match kind(column) {
        Kind::Text => Value::Text(text),
        Kind::Decimal => {
            let d = Decimal::from_str(&text).map_err(|_| bad("decimal"))?;
            Value::Int(unscaled(d).ok_or_else(|| bad("decimal"))?)
        }
        Kind::Time => {
            let t = DateTime::parse_from_rfc3339(&text).map_err(|_| bad("time"))?;
            Value::Int(t.timestamp_micros().into())
        }
        Kind::Int => Value::Int(text.parse::<i64>().map_err(|_| bad("count"))?.into()),
        Kind::Bool => Value::Bool(text == "true"),
    })
}

/// `d` as an integer number of 10^-18 (rounded half to even below that, which no price reaches).
pub fn unscaled(d: Decimal) -> Option<i128> {
    let d = d.round_dp(DECIMAL_SCALE);
    let factor = 10i128.checked_pow(DECIMAL_SCALE - d.scale())?;
    d.mantissa().checked_mul(factor)
}

/// One output file: its writer, the rows buffered for its next row group, where its bytes go.
struct Part<'w> {
    writer: SerializedFileWriter<Vec<u8>>,
    dest: Box<dyn Write + 'w>,
    /// Buffered rows, column-wise.
    columns: Vec<Vec<Value>>,
    kinds: Arc<Vec<Kind>>,
    rows: usize,
    /// A partition file: its hidden name while written, and its final name.
    rename: Option<(PathBuf, PathBuf)>,
}

impl Part<'_> {
    /// Writes the buffered rows as one row group and hands the bytes to the destination.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self
            .writer
            .next_row_group()
            .map_err(std::io::Error::other)?;
        for (values, &kind) in self.columns.iter_mut().zip(self.kinds.iter()) {
            let mut column = group
                .next_column()
                .map_err(std::io::Error::other)?
                .ok_or_else(|| std::io::Error::other("internal error: parquet column count"))?;
            let levels: Vec<i16> = values
                .iter()
                .map(|v| i16::from(!matches!(v, Value::Null)))
                .collect();
            let values = std::mem::take(values);
            let ints = |values: Vec<Value>| {
                values.into_iter().filter_map(|v| match v {
                    Value::Int(n) => Some(n),
                    _ => None,
                })
            };
            let written = match kind {
                Kind::Bool => {
                    let data: Vec<bool> = values
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Bool(b) => Some(b),
                            _ => None,
                        })
                        .collect();
                    column
                        .typed::<BoolType>()
                        .write_batch(&data, Some(&levels), None)
                }
                Kind::Int | Kind::Time => {
                    // Counts and microseconds came from i64 text or chrono: they fit.
                    let data: Vec<i64> = ints(values).map(|n| n as i64).collect();
                    column
                        .typed::<Int64Type>()
                        .write_batch(&data, Some(&levels), None)
                }
                Kind::Decimal => {
                    // DECIMAL in 16 bytes: the unscaled value, big-endian two's complement.
                    let data: Vec<FixedLenByteArray> = ints(values)
                        .map(|n| n.to_be_bytes().to_vec().into())
                        .collect();
                    column
                        .typed::<FixedLenByteArrayType>()
                        .write_batch(&data, Some(&levels), None)
                }
                Kind::Text => {
                    let data: Vec<ByteArray> = values
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Text(s) => Some(s.into_bytes().into()),
                            _ => None,
                        })
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&data, Some(&levels), None)
                }
            };
            written.map_err(std::io::Error::other)?;
            column.close().map_err(std::io::Error::other)?;
        }
        group.close().map_err(std::io::Error::other)?;
        self.rows = 0;
        self.drain()
    }

    /// Moves the bytes written so far to the destination.
    fn drain(&mut self) -> std::io::Result<()> {
        self.writer.flush()?;
        let bytes = std::mem::take(self.writer.inner_mut());
        self.dest.write_all(&bytes)
    }

    /// The last row group, the footer; the file renamed to its final name.
    fn finish(mut self) -> std::io::Result<()> {
        self.flush()?;
        self.writer.finish().map_err(std::io::Error::other)?;
        self.drain()?;
        self.dest.flush()?;
        drop(self.dest);
        if let Some((partial, done)) = &self.rename {
            std::fs::rename(partial, done)?;
        }
        Ok(())
    }
}

/// Where the Parquet goes: one stream, or a folder tree partitioned by `by`.
pub enum Target<'w> {
    Stream(&'w mut dyn Write),
    Tree { dir: PathBuf, by: Vec<PartitionBy> },
}

pub struct ParquetExporter<'w> {
    accounts: &'w BillingAccounts,
    /// The standard output, until the single file is opened on it.
    stream: Option<&'w mut dyn Write>,
    tree: Option<(PathBuf, Vec<PartitionBy>)>,
    /// The columns in the files (every FOCUS and `x_` column but the partition columns).
    columns: Vec<&'static str>,
    kinds: Arc<Vec<Kind>>,
    schema: Arc<parquet::schema::types::Type>,
    properties: Arc<WriterProperties>,
    parts: BTreeMap<Vec<String>, Part<'w>>,
    buffered: usize,
    /// [`ROW_GROUP_ROWS`], smaller in tests.
    row_group_rows: usize,
    missing: MissingAccounts,
}

impl<'w> ParquetExporter<'w> {
    pub fn new(
        target: Target<'w>,
        accounts: &'w BillingAccounts,
    ) -> std::io::Result<ParquetExporter<'w>> {
        let (stream, tree) = match target {
            Target::Stream(out) => (Some(out), None),
            Target::Tree { dir, by } => (None, Some((dir, by))),
        };
        let partition_columns: Vec<&str> = tree
            .iter()
            .flat_map(|(_, by)| by.iter().map(|b| b.column()))
            .collect();
        let columns: Vec<&'static str> = FOCUS_COLUMNS
            .iter()
            .chain(X_COLUMNS.iter())
            .copied()
            .filter(|c| !partition_columns.contains(c))
            .collect();
        let schema = parse_message_type(&schema(&columns)).map_err(std::io::Error::other)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("aispend {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ParquetExporter {
            accounts,
            stream,
            tree,
            kinds: Arc::new(columns.iter().map(|c| kind(c)).collect()),
            columns,
            schema: Arc::new(schema),
            properties: Arc::new(properties),
            parts: BTreeMap::new(),
            buffered: 0,
            row_group_rows: ROW_GROUP_ROWS,
            missing: MissingAccounts::default(),
        })
    }

    /// The file for partition `key` (values in `--partition` order), opened on first use.
    fn part(&mut self, key: Vec<String>) -> std::io::Result<&mut Part<'w>> {
        if !self.parts.contains_key(&key) {
            let (dest, rename): (Box<dyn Write + 'w>, _) = match (&self.tree, self.stream.take()) {
                (Some((dir, by)), _) => {
                    let mut folder = dir.clone();
                    for (b, v) in by.iter().zip(&key) {
                        folder.push(format!("{}={v}", b.column()));
                    }
                    std::fs::create_dir_all(&folder)?;
                    let partial = folder.join(".part-0.parquet.partial");
                    let file = File::create(&partial)?;
                    (
                        Box::new(BufWriter::new(file)),
                        Some((partial, folder.join("part-0.parquet"))),
                    )
                }
                (None, Some(out)) => (Box::new(out), None),
                (None, None) => {
                    return Err(std::io::Error::other(
                        "internal error: a second Parquet stream",
                    ))
                }
            };
            let writer =
                SerializedFileWriter::new(Vec::new(), self.schema.clone(), self.properties.clone())
                    .map_err(std::io::Error::other)?;
            let part = Part {
                writer,
                dest,
                columns: self.columns.iter().map(|_| Vec::new()).collect(),
                kinds: self.kinds.clone(),
                rows: 0,
                rename,
            };
            self.parts.insert(key.clone(), part);
        }
        self.parts
            .get_mut(&key)
            .ok_or_else(|| std::io::Error::other("internal error: parquet part"))
    }

    /// Writes the fullest buffer as a row group.
    fn flush_largest(&mut self) -> std::io::Result<()> {
        if let Some(part) = self.parts.values_mut().max_by_key(|p| p.rows) {
            self.buffered -= part.rows;
            part.flush()?;
        }
        Ok(())
    }
}

impl Exporter for ParquetExporter<'_> {
    fn begin(&mut self) -> std::io::Result<()> {
        // An export with no rows is still one valid (empty) file on a stream.
        if self.tree.is_none() {
            self.part(Vec::new())?;
        }
        Ok(())
    }

    fn row(&mut self, row: &ExportRow<'_>) -> std::io::Result<()> {
        let account = self.missing.account(self.accounts, row.record);
        let key: Vec<String> = match &self.tree {
            Some((_, by)) => by.iter().map(|b| b.value(row)).collect(),
            None => Vec::new(),
        };
        let values = self
            .columns
            .iter()
            .map(|c| typed(c, focus::value(c, row, account)))
            .collect::<std::io::Result<Vec<_>>>()?;
        let part = self.part(key)?;
        for (column, v) in part.columns.iter_mut().zip(values) {
            column.push(v);
        }
        part.rows += 1;
        self.buffered += 1;
        if self.buffered >= self.row_group_rows {
            self.flush_largest()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        for (_, part) in std::mem::take(&mut self.parts) {
            part.finish()?;
        }
        self.buffered = 0;
        Ok(())
    }

    fn warnings(&self) -> Vec<String> {
        self.missing.warnings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_an_exact_decimal_at_scale_18() {
        // 0.0136 = 136 x 10^-4 = 13_600_000_000_000_000 x 10^-18.
        assert_eq!(unscaled(Decimal::new(136, 4)), Some(13_600_000_000_000_000));
        assert_eq!(
            unscaled(Decimal::new(-5, 0)),
            Some(-5_000_000_000_000_000_000)
        );
        // The largest rust_decimal value does not fit 38 digits at scale 18: refused, not wrapped.
        assert_eq!(unscaled(Decimal::MAX), None);
    }

    #[test]
    fn rows_are_written_in_row_groups_as_they_come() {
        use crate::record::{Provenance, Provider, UsageRecord};
        use chrono::{TimeZone, Utc};
        use parquet::file::reader::{FileReader, SerializedFileReader};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let mut file = std::fs::File::create(&path).unwrap();
        let accounts = BillingAccounts::default();
        let mut exporter = ParquetExporter::new(Target::Stream(&mut file), &accounts).unwrap();
        exporter.row_group_rows = 2;
        exporter.begin().unwrap();
        let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        for i in 0..5 {
            let provenance = Provenance {
                file: Arc::from("f.jsonl"),
                line: i,
            };
            let r = UsageRecord::new(
                format!("openai:{i}").into(),
                "api-log",
                Provider::OpenAI,
                "gpt-4o".into(),
                start,
                provenance,
            );
            let row = ExportRow {
                record: &r,
                team: "search",
                canonical_model: Some("gpt-4o"),
                cost: Some(Decimal::new(i as i64, 2)),
                unpriced_reason: None,
                price_source: Some("table"),
                tool_fees: None,
                long_context: None,
            };
            exporter.row(&row).unwrap();
            // Nothing is held beyond the row group being filled.
            assert!(exporter.buffered < 2);
        }
        exporter.finish().unwrap();
        drop(exporter);
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        // 5 rows in groups of at most 2: 2 + 2 + 1.
        assert_eq!(reader.metadata().num_row_groups(), 3);
        assert_eq!(reader.metadata().file_metadata().num_rows(), 5);
    }

    #[test]
    fn columns_have_the_types_of_focus() {
        assert_eq!(kind("BilledCost"), Kind::Decimal);
        assert_eq!(kind("ChargePeriodStart"), Kind::Time);
        assert_eq!(kind("x_CacheWrite5mTokens"), Kind::Int);
        assert_eq!(kind("x_Unpriced"), Kind::Bool);
        assert_eq!(kind("Tags"), Kind::Text);
        assert_eq!(kind("ProviderName"), Kind::Text);
        let all: Vec<&str> = FOCUS_COLUMNS
            .iter()
            .chain(X_COLUMNS.iter())
            .copied()
            .collect();
        assert!(parse_message_type(&schema(&all)).is_ok());
    }
}
