//! `--partition month,provider` of `ledger export --format parquet`: the levels of the Hive-style folder
//! tree, and the check that its folder is new. Apart from the Parquet writer, so that the command
//! line is the same whether or not the `parquet` feature is built in.

use std::path::Path;

#[cfg(feature = "parquet")]
use super::{focus, ExportRow};

/// `--partition`: a folder level of the Hive-style tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionBy {
    /// `BillingPeriodStart=YYYY-MM`: the UTC month of the charge
    Month,
    /// `ProviderName=openai`: the provider's id (as in `x_Provider`)
    Provider,
}

#[cfg(feature = "parquet")]
impl PartitionBy {
    /// The FOCUS column the folder level stands for (left out of the files).
    pub(super) fn column(self) -> &'static str {
        match self {
            PartitionBy::Month => "BillingPeriodStart",
            PartitionBy::Provider => "ProviderName",
        }
    }

    pub(super) fn value(self, row: &ExportRow<'_>) -> String {
        match self {
            PartitionBy::Month => focus::billing_month(row.record.start)
                .0
                .format("%Y-%m")
                .to_string(),
            PartitionBy::Provider => row.record.provider.as_str().to_string(),
        }
    }
}

/// Refuses a partition folder that already holds files (a second export would mix with the first).
pub fn check_tree_folder(dir: &Path) -> std::io::Result<Result<(), String>> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(match entries.next() {
            Some(_) => Err(format!(
                "{}: the folder is not empty; a partitioned export writes a new tree (remove it, or \
                 choose a new folder)",
                dir.display()
            )),
            None => Ok(()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ok(())),
        Err(e) => Err(e),
    }
}
