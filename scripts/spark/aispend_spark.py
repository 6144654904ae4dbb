#!/usr/bin/env python3
"""Price a year of gateway logs with Spark, the aispend binary doing the pricing.

    spark-submit --master local[2] scripts/spark/aispend_spark.py 'logs/*.jsonl.gz' out/

Distributes the input files over the executors, pipes each through `aispend ledger export --format focus
--unpriced zero FILE` (priced FOCUS rows; the binary must be on every executor's PATH, or named by
$AISPEND_BIN; $AISPEND_CONFIG is passed on for team rules), deduplicates on the record id across files
(keeping the first copy in file order), and writes:

  OUTPUT_DIR/focus/            FOCUS Parquet, Hive-style: BillingPeriodStart=YYYY-MM/ProviderName=id/
  OUTPUT_DIR/monthly_totals/   one CSV: month, team, model, requests, tokens, cost (exact decimals)

and prints the grand total, which equals `aispend report` on the same files to the cent (money is
DECIMAL(38,18) end to end; never a float).
"""

import csv
import glob
import io
import os
import subprocess
import sys
from decimal import Decimal

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

DECIMAL = T.DecimalType(38, 18)
DECIMAL_COLUMNS = {
    "BilledCost", "CommitmentDiscountQuantity", "ConsumedQuantity", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "x_ComputedCost", "x_ReportedCost", "x_ToolFees",
}
TIME_COLUMNS = {"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}
BOOL_COLUMNS = {"x_Batch", "x_Unpriced", "x_Failed", "x_LongContext"}


def is_count(column):
    return column in {"x_Requests", "x_Images", "x_Seconds", "x_WebSearchRequests"} or (
        column.startswith("x_") and column.endswith("Tokens"))


def export(path):
    """The priced FOCUS rows of one file, as (file, row number, header, values)."""
    binary = os.environ.get("AISPEND_BIN", "aispend")
    cmd = [binary, "-q", "ledger", "export", "--format", "focus", "--unpriced", "zero", path]
    out = subprocess.run(cmd, check=True, capture_output=True, env=os.environ).stdout
    reader = csv.reader(io.StringIO(out.decode("utf-8")))
    header = next(reader, None)
    for n, values in enumerate(reader):
        yield (path, n, header, values)


def typed(header, values):
    """A FOCUS CSV row as Python values of the Parquet types (empty cells are null)."""
    row = []
    for column, text in zip(header, values):
        if text == "":
            row.append(None)
        elif column in DECIMAL_COLUMNS:
            row.append(Decimal(text))
        elif column in BOOL_COLUMNS:
            row.append(text == "true")
        elif is_count(column):
            row.append(int(text))
        else:
            row.append(text)
    return row


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: spark-submit aispend_spark.py INPUT_GLOB OUTPUT_DIR")
    input_glob, output_dir = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(input_glob, recursive=True))
    if not files:
        sys.exit(f"no files match {input_glob}")
    spark = SparkSession.builder.appName("aispend").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    sc = spark.sparkContext

    # The header, from the binary itself (every file's export has the same columns).
    header = subprocess.run(
        [os.environ.get("AISPEND_BIN", "aispend"), "-q", "ledger", "export", "--format", "focus",
         "--where", "provider=__none__", files[0]],
        check=True, capture_output=True).stdout.decode().splitlines()[0].split(",")

    def field(column):
        if column in DECIMAL_COLUMNS:
            kind = DECIMAL
        elif column in BOOL_COLUMNS:
            kind = T.BooleanType()
        elif is_count(column):
            kind = T.LongType()
        else:
            kind = T.StringType()
        return T.StructField(column, kind, True)

    schema = T.StructType([T.StructField("_file", T.StringType()), T.StructField("_row", T.LongType())]
                          + [field(c) for c in header])
    rows = (sc.parallelize(files, len(files))
            .flatMap(export)
            .map(lambda r: [r[0], r[1]] + typed(r[2], r[3])))
    df = spark.createDataFrame(rows, schema)
    for column in TIME_COLUMNS:
        df = df.withColumn(column, F.to_timestamp(column))

    # One row per record id: the first copy in file order (the ledger keeps the first import).
    first = Window.partitionBy("x_RecordId").orderBy("_file", "_row")
    df = (df.withColumn("_n", F.row_number().over(first)).where("_n = 1")
          .drop("_n", "_file", "_row").cache())

    # FOCUS Parquet, partitioned as `aispend ledger export --partition month,provider` does.
    focus = (df.withColumn("BillingPeriodStart", F.date_format("BillingPeriodStart", "yyyy-MM"))
             .withColumn("ProviderName", F.col("x_Provider")))
    (focus.write.mode("overwrite").partitionBy("BillingPeriodStart", "ProviderName")
     .parquet(os.path.join(output_dir, "focus")))

    tokens = [c for c in header if c.startswith("x_") and c.endswith("Tokens")
              and c != "x_ReasoningTokens"]  # reasoning tokens are inside output tokens
    totals = (df.where(~F.col("x_Unpriced"))
              .groupBy(F.date_format("ChargePeriodStart", "yyyy-MM").alias("month"),
                       F.col("x_Team").alias("team"),
                       F.coalesce("SkuId", "x_Model").alias("model"))
              .agg(F.sum("x_Requests").alias("requests"),
                   sum(F.sum(c) for c in tokens).alias("tokens"),
                   F.sum("x_ComputedCost").alias("cost"))
              .orderBy("month", "team", "model"))
    (totals.coalesce(1).write.mode("overwrite").option("header", True)
     .csv(os.path.join(output_dir, "monthly_totals")))

    total = df.where(~F.col("x_Unpriced")).agg(F.sum("x_ComputedCost")).first()[0] or Decimal(0)
    unpriced = df.where(F.col("x_Unpriced")).count()
    print(f"records: {df.count()}  unpriced: {unpriced}  total cost: {total.normalize()}")
    spark.stop()


if __name__ == "__main__":
    main()
