#!/usr/bin/env bash
# Checks a FOCUS Parquet export with DuckDB: the total computed cost of its priced rows must equal
# `aispend report` to the cent.
#
#   scripts/check-parquet.sh PARQUET [REPORT ARGS...]
#
# PARQUET is one file or a Hive-style folder (`ledger export --format parquet [--partition …]`, or the
# Spark job's OUTPUT_DIR/focus); REPORT ARGS go to `aispend report --format json` (a period, PATHs, a
# --ledger). DuckDB comes from PyPI, installed once into ~/.cache/aispend/duckdb-venv. $AISPEND_BIN names
# the binary (default: aispend on PATH). Exit 0 when the totals agree, 1 when they do not.
set -euo pipefail
if [ $# -lt 1 ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
target="$1"
shift
aispend="${AISPEND_BIN:-aispend}"
venv="${HOME}/.cache/aispend/duckdb-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb
fi
if [ -d "$target" ]; then
    source="read_parquet('$target/**/*.parquet', hive_partitioning = true)"
else
    source="read_parquet('$target')"
fi
parquet_total="$("$venv/bin/python" - "$source" <<'PY'
import sys, duckdb
source = sys.argv[1]
con = duckdb.connect()
for month, rows, cost in con.sql(
        f"SELECT strftime(ChargePeriodStart, '%Y-%m'), count(*), sum(x_ComputedCost) FROM {source} "
        "WHERE NOT x_Unpriced GROUP BY 1 ORDER BY 1").fetchall():
    print(f"  {month}: {rows} rows, {cost.normalize()}", file=sys.stderr)
total = con.sql(f"SELECT sum(x_ComputedCost) FROM {source} WHERE NOT x_Unpriced").fetchall()[0][0]
print(f"{total.quantize(__import__('decimal').Decimal('0.01'))}" if total is not None else "0.00")
PY
)"
report_total="$("$aispend" report --format json "$@" | python3 -c '
import decimal, json, sys
cost = json.load(sys.stdin)["total"]["cost"]
print(decimal.Decimal(cost).quantize(decimal.Decimal("0.01")))')"
echo "parquet (DuckDB): $parquet_total"
echo "aispend report:   $report_total"
if [ "$parquet_total" != "$report_total" ]; then
    echo "the totals differ" >&2
    exit 1
fi
echo "equal to the cent"
