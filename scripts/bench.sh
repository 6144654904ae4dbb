#!/usr/bin/env bash
# Benchmark of aispend against DuckDB and ccusage on the same files, in a release build. Run by hand,
# never by a test.
#
#   scripts/bench.sh                      # ~1 GB of API logs and ~1 GB of Claude Code logs
#   BENCH_SIZE_MB=200 scripts/bench.sh    # quicker
#   BENCH_PEERS=0 scripts/bench.sh        # aispend alone (no DuckDB, no ccusage)
#   BENCH_CALLGRIND=1 scripts/bench.sh    # also instructions per record (valgrind), on a 20k-line slice
#   BENCH_LEDGER_RECORDS=0 scripts/bench.sh  # without the large ledger (default 10,000,000 records)
#
# Besides cold (--no-cache) and warm runs, it times a first run (an empty parse cache each time) on both
# inputs, and a warm run on a copy of the Claude Code tree (in a temporary folder) after 1 MB of new
# assistant lines was appended to one of its files.
#
# The large ledger (compact API-log lines from scripts/gen_ledger_lines.py, imported once through
# `import -`) is kept at $BENCH_LEDGER (default $BENCH_DIR/ledger-N.db; ~3 GB for 10M records) and
# reused while its .complete marker exists; `report --by team,model` is timed on it.
#
# The data is generated once (deterministically) into $BENCH_DIR (default bench-data/, git-ignored; delete
# it when done). The peers are installed there on first use and are not dependencies of aispend: DuckDB
# from PyPI into a venv (its `read_json` with a declared schema), ccusage 20.0.24 from npm (`daily --json
# --offline`). Each measurement runs $BENCH_RUNS times (default 5), the tools taking turns on the same
# files, each cold or peer run right after a read of its input (see `warm`); printed are the median wall time, the median CPU time (user + system)
# and the largest peak resident memory (GNU time's %M). Before timing, the per-model sums of each peer are
# checked against aispend's (scripts/bench_check.py).
#
# Last, it prints two floors (examples/floors.rs), what this machine allows whatever the code: mapping and
# scanning the Claude Code tree with nothing parsed, and SQLite alone storing the rows of the ledger the
# last import wrote. With the report's CPU time they bound what `import` can reach here. Then each
# performance target (README, "Throughput and memory") with this run's figure, met or not.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${BENCH_SIZE_MB:-1024}
dir=${BENCH_DIR:-bench-data}
runs=${BENCH_RUNS:-5}
peers=${BENCH_PEERS:-1}
big=${BENCH_LEDGER_RECORDS:-10000000}
big_ledger=${BENCH_LEDGER:-$dir/ledger-$big.db}

cargo build --release --quiet --bin aispend --example floors
bin=${CARGO_TARGET_DIR:-target}/release/aispend
floors=${CARGO_TARGET_DIR:-target}/release/examples/floors
if [ ! -f "$dir/.complete-$size_mb" ]; then
  rm -rf "$dir/api-logs" "$dir/claude-code" "$dir"/.complete-*
  echo "generating ${size_mb} MB per input into $dir ..." >&2
  python3 scripts/gen_bench.py "$dir" --size-mb "$size_mb"
  touch "$dir/.complete-$size_mb"
fi
api="$dir/api-logs"
cc="$dir/claude-code"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- peers, installed on demand
duck=""
ccusage=""
if [ "$peers" = 1 ]; then
  if [ ! -x "$dir/.venv/bin/python" ] || ! "$dir/.venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    echo "installing DuckDB into $dir/.venv ..." >&2
    python3 -m venv "$dir/.venv" && "$dir/.venv/bin/pip" install --quiet duckdb >&2 || true
  fi
  "$dir/.venv/bin/python" -c 'import duckdb' 2>/dev/null && duck="$dir/.venv/bin/python"
  if [ ! -x "$dir/.npm/node_modules/.bin/ccusage" ]; then
    echo "installing ccusage 20.0.24 into $dir/.npm ..." >&2
    mkdir -p "$dir/.npm" && npm install --silent --prefix "$dir/.npm" ccusage@20.0.24 >&2 || true
  fi
  [ -x "$dir/.npm/node_modules/.bin/ccusage" ] && ccusage="$dir/.npm/node_modules/.bin/ccusage"
  [ -n "$duck" ] || echo "DuckDB unavailable: skipped" >&2
  [ -n "$ccusage" ] || echo "ccusage unavailable: skipped" >&2
fi

# DuckDB: per-model requests and output tokens of successful requests, every provider shape, with the
# envelope's schema declared (no inference pass).
cat > "$tmp/duck.py" <<'EOF'
import json, sys, duckdb
glob = sys.argv[1] + "/*.jsonl"
schema = {"timestamp": "VARCHAR", "team": "VARCHAR", "project": "VARCHAR", "status": "INTEGER",
          "response": "STRUCT(model VARCHAR, modelVersion VARCHAR, usage STRUCT(prompt_tokens BIGINT, "
                      "completion_tokens BIGINT, input_tokens BIGINT, output_tokens BIGINT), usageMetadata "
                      "STRUCT(promptTokenCount BIGINT, candidatesTokenCount BIGINT, thoughtsTokenCount BIGINT))"}
rows = duckdb.sql(f"""
  SELECT coalesce(response.model, response.modelVersion) AS model, count(*) AS requests,
         sum(coalesce(response.usage.completion_tokens, response.usage.output_tokens, 0)
             + coalesce(response.usageMetadata.candidatesTokenCount, 0)
             + coalesce(response.usageMetadata.thoughtsTokenCount, 0)) AS output
  FROM read_json('{glob}', format = 'newline_delimited', columns = {schema!r})
  WHERE status = 200 GROUP BY ALL ORDER BY model""").fetchall()
json.dump([{"model": m, "requests": r, "output": o} for m, r, o in rows], sys.stdout)
EOF

# Appends about N bytes of new assistant lines (copies of the file's own, with fresh message and
# request ids) to a Claude Code log: a session that went on since the last run.
cat > "$tmp/grow.py" <<'EOF'
import re, sys
path, want, salt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, encoding="utf-8") as f:
    lines = [l for l in f if '"type":"assistant"' in l and '"usage"' in l]
out, size, i = [], 0, 0
while size < want and lines:
    line = lines[i % len(lines)]
    line = re.sub(r'"id":"msg_[^"]*"', '"id":"msg_grow%s_%d"' % (salt, i), line)
    line = re.sub(r'"requestId":"[^"]*"', '"requestId":"req_grow%s_%d"' % (salt, i), line)
    out.append(line)
    size += len(line)
    i += 1
with open(path, "a", encoding="utf-8") as f:
    f.writelines(out)
EOF

# ---------------------------------------------------------------- measuring
# measure NAME CMD...: one run, appends "wall cpu rss_kb" to $tmp/NAME
measure() {
  local name=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" > /dev/null
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tmp/t" >> "$tmp/$name"
}
# warm DIR: reads every file under DIR, so that the next run finds it all in the page cache. Run before
# every timed cold run and every peer's run: this machine's memory manager (DAMON reclaim here) pages out
# file pages left unread for about a minute, which one loop of this script is, and a run that reads part
# of its input from the disk adds the same seconds to both tools' times, which says nothing of either.
warm() { find "$1" -type f -exec cat {} + > /dev/null; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
wall() { cut -d' ' -f1 "$tmp/$1" | median; }
cpu() { cut -d' ' -f2 "$tmp/$1" | median; }
rss() { cut -d' ' -f3 "$tmp/$1" | sort -n | tail -1; }
row() { # NAME LABEL MB
  printf '%-54s %9s %9s %9s %10.0f\n' "$2" "$(wall "$1")" "$(cpu "$1")" \
    "$(awk -v mb="$3" -v s="$(wall "$1")" 'BEGIN { printf "%.0f", (s > 0 ? mb / s : 0) }')" "$(($(rss "$1") / 1024))"
}

api_mb=$(du -sb "$api" | awk '{ printf "%.0f", $1 / 1e6 }')
cc_mb=$(du -sb "$cc" | awk '{ printf "%.0f", $1 / 1e6 }')
ours_api=("$bin" --quiet report "$api" --by model --since 2020-01-01 --format json)
ours_cc=("$bin" --quiet report "$cc" --by model --since 2020-01-01 --format json)
# Cold: every file parsed (the parse cache bypassed), as on a first run or after the files changed. The
# runs above are warm after the first: unchanged files replay from the parse cache, kept in $tmp.
export XDG_CACHE_HOME="$tmp/cache"
cold_api=("${ours_api[@]}" --no-cache)
cold_cc=("${ours_cc[@]}" --no-cache)

echo "checking per-model sums ..." >&2
"${ours_api[@]}" > "$tmp/ours-api.json"
"${ours_cc[@]}" > "$tmp/ours-cc.json"
if [ -n "$duck" ]; then
  "$duck" "$tmp/duck.py" "$api" > "$tmp/duck.json"
  python3 scripts/bench_check.py duckdb "$tmp/ours-api.json" "$tmp/duck.json" || echo "WARNING: DuckDB's sums differ" >&2
fi
if [ -n "$ccusage" ]; then
  CLAUDE_CONFIG_DIR="$cc" "$ccusage" daily --json --offline > "$tmp/ccusage.json"
  python3 scripts/bench_check.py ccusage "$tmp/ours-cc.json" "$tmp/ccusage.json" || echo "WARNING: ccusage's sums differ" >&2
fi

if [ "$big" -gt 0 ] && [ ! -f "$big_ledger.complete" ]; then
  rm -f "$big_ledger" "$big_ledger"-*
  echo "building a ledger of $big records at $big_ledger (once) ..." >&2
  python3 scripts/gen_ledger_lines.py --lines "$big" --days 92 \
    | /usr/bin/time -f '%e %U %S %M' -o "$tmp/big-import" "$bin" --ledger "$big_ledger" --quiet import -
  awk -v n="$big" '{ printf "built: %d records in %.1f s wall, %.1f s CPU (%.0f records/CPU-s, the generator running beside it)\n", n, $1, $2 + $3, n / ($2 + $3) }' "$tmp/big-import" >&2
  touch "$big_ledger.complete"
fi

# A copy of the Claude Code tree that grows by 1 MB before each timed run, its cache warmed once.
grow="$tmp/cc-grow"
cp -r "$cc" "$grow"
grow_file=$(find "$grow" -name '*.jsonl' | sort | sed -n 1p)
XDG_CACHE_HOME="$tmp/cache-grow" "$bin" report "$grow" --format json > /dev/null 2>&1
# Entries written within 3 s of their files' last change are checked by hash on the next run, which
# then trusts them: let that happen before timing, as it does on a tree that was not just copied.
sleep 3
XDG_CACHE_HOME="$tmp/cache-grow" "$bin" report "$grow" --format json > /dev/null 2>&1

echo "timing, $runs runs each, tools taking turns ..." >&2
run=0
# Each peer and aispend's cold run follow one another, in turns (peer first in odd runs, aispend first in
# even ones): a run is timed differently right after a run over other files (the page cache's state of
# these files, and the kernel's work after the other run) than right after one over the same files.
for _ in $(seq "$runs"); do
  run=$((run + 1))
  measure api-aispend "${ours_api[@]}"
  if [ $((run % 2)) = 1 ]; then
    [ -n "$duck" ] && warm "$api" && measure api-duckdb "$duck" "$tmp/duck.py" "$api"
    warm "$api" && measure api-cold "${cold_api[@]}"
  else
    warm "$api" && measure api-cold "${cold_api[@]}"
    [ -n "$duck" ] && warm "$api" && measure api-duckdb "$duck" "$tmp/duck.py" "$api"
  fi
  # A first run writes its entries into a folder never used before, not one just emptied: on a file
  # system without a journal (ext4 created without one, as on the development machine), a new file's
  # inode is not taken from those deleted in the last minutes, and the kernel checks each of them first,
  # so a first run that creates a thousand entries right after a thousand were deleted took twice as
  # long as one into a fresh folder (a journaled file system skips the check). The folders go with $tmp
  # at the end.
  warm "$api"
  XDG_CACHE_HOME="$tmp/first-api-$run" measure api-first "${ours_api[@]}"
  measure cc-aispend "${ours_cc[@]}"
  if [ $((run % 2)) = 1 ]; then
    [ -n "$ccusage" ] && warm "$cc" && CLAUDE_CONFIG_DIR="$cc" measure cc-ccusage "$ccusage" daily --json --offline
    warm "$cc" && measure cc-cold "${cold_cc[@]}"
  else
    warm "$cc" && measure cc-cold "${cold_cc[@]}"
    [ -n "$ccusage" ] && warm "$cc" && CLAUDE_CONFIG_DIR="$cc" measure cc-ccusage "$ccusage" daily --json --offline
  fi
  # The floor of the Claude Code report: every file mapped and scanned for line ends and "usage", nothing
  # parsed (examples/floors.rs).
  warm "$cc" && measure cc-floor "$floors" scan "$cc"
  warm "$cc"
  XDG_CACHE_HOME="$tmp/first-cc-$run" measure cc-first "${ours_cc[@]}"
  python3 "$tmp/grow.py" "$grow_file" 1048576 "$run"
  XDG_CACHE_HOME="$tmp/cache-grow" measure cc-grown "$bin" --quiet report "$grow" --by model --since 2020-01-01 --format json
  rm -f "$tmp/ledger.db"*
  warm "$api"
  measure import "$bin" --ledger "$tmp/ledger.db" --quiet import "$api"
  # The same into a ledger that already holds records (a month's import into a kept ledger): the
  # first import into an empty one skips the WAL, this one goes through it.
  rm -f "$tmp/held.db"*
  "$bin" --ledger "$tmp/held.db" --quiet import fixtures/api-log/openai-chat.jsonl
  warm "$api"
  measure import-held "$bin" --ledger "$tmp/held.db" --quiet import "$api"
  measure ledger-report "$bin" --ledger "$tmp/ledger.db" report --by team,model --since 2020-01-01 --format json
  if [ "$big" -gt 0 ]; then
    measure big-report "$bin" --ledger "$big_ledger" report --by team,model --since 2020-01-01 --format json
    measure big-report-month "$bin" --ledger "$big_ledger" report --by team,model --format json
  fi
done
records=$("$bin" --ledger "$tmp/ledger.db" ledger stats --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')

printf '\n%-54s %9s %9s %9s %10s\n' measurement wall_s cpu_s MB/s peak_MiB
row api-cold "aispend report, API logs ($api_mb MB), cold" "$api_mb"
row api-first "aispend report, API logs, first run (empty cache)" "$api_mb"
row api-aispend "aispend report, API logs, warm (parse cache)" "$api_mb"
[ -n "$duck" ] && row api-duckdb "DuckDB read_json, API logs" "$api_mb"
row cc-cold "aispend report, Claude Code ($cc_mb MB), cold" "$cc_mb"
row cc-first "aispend report, Claude Code, first run (empty cache)" "$cc_mb"
row cc-aispend "aispend report, Claude Code, warm (parse cache)" "$cc_mb"
row cc-grown "aispend report, Claude Code, warm, 1 MB appended" "$cc_mb"
[ -n "$ccusage" ] && row cc-ccusage "ccusage daily, Claude Code" "$cc_mb"
row cc-floor "floor: map and scan the Claude Code tree, no parsing" "$cc_mb"
row import "aispend import, API logs" "$api_mb"
row import-held "aispend import, API logs, into a ledger with records" "$api_mb"
row ledger-report "aispend report --by team,model, ledger" 0
if [ "$big" -gt 0 ]; then
  row big-report "report --by team,model, $big records" 0
  row big-report-month "the same, newest month" 0
fi
echo
awk -v r="$records" -v s="$(wall import)" -v c="$(cpu import)" \
  'BEGIN { printf "import: %d records, %.0f records/s (wall), %.0f records per CPU-second\n", r, r / s, r / c }'
awk -v r="$records" -v s="$(wall import-held)" -v c="$(cpu import-held)" \
  'BEGIN { printf "import into a ledger with records: %.0f records/s (wall), %.0f records per CPU-second\n", r / s, r / c }'
[ "$big" -gt 0 ] && awk -v n="$big" -v s="$(wall big-report)" -v c="$(cpu big-report)" \
  'BEGIN { printf "report --by team,model from %d records: %.2f s wall, %.2f s CPU\n", n, s, c }'
[ -n "$duck" ] && awk -v a="$(wall api-cold)" -v w="$(wall api-aispend)" -v d="$(wall api-duckdb)" \
  'BEGIN { printf "API logs: aispend is %.2fx DuckDB cold, %.2fx warm (wall)\n", d / a, d / w }'
[ -n "$ccusage" ] && awk -v a="$(wall cc-cold)" -v w="$(wall cc-aispend)" -v c="$(wall cc-ccusage)" \
  'BEGIN { printf "Claude Code: aispend is %.2fx ccusage cold, %.2fx warm (wall)\n", c / a, c / w }'

awk -v a="$(wall cc-cold)" -v f="$(wall cc-floor)" \
  'BEGIN { printf "Claude Code: aispend cold takes %.2fx the time of the scan floor\n", a / f }'
[ -n "$ccusage" ] && awk -v c="$(wall cc-ccusage)" -v f="$(wall cc-floor)" \
  'BEGIN { printf "Claude Code: 5x ccusage needs %.3f s or less; the floor alone takes %.3f s\n", c / 5, f }'

# SQLite's floor for the ledger the last import wrote: the least this machine takes to store its rows.
store=$("$floors" insert "$tmp/ledger.db")
echo "floor: $store"
cores=$(nproc)
# An import parses what a cold report parses, and SQLite stores the rows on one thread: at best the two
# fill every core.
awk -v r="$records" -v p="$(cpu api-cold)" -v n="$cores" \
  -v s="$(echo "$store" | sed -n 's/.*storing \([0-9.]*\) s.*/\1/p' | head -1)" \
  'BEGIN { printf "import: about %.0f records/s at most here (the cold report'"'"'s %.2f CPU-s of parsing and SQLite'"'"'s %.2f s of storing, on %d cores)\n", r / ((p + s) / n), p, s, n }'
# SQLite writes a file from one thread, and an import hands it each row through a prepared statement:
# that alone bounds the import, however the parsing is shared.
awk -v r="$records" -v s="$(echo "$store" | sed -n 's/.*storing \([0-9.]*\) s = [0-9]* rows\/s at most$/\1/p' | tail -1)" \
  'BEGIN { printf "import: at most %.0f records/s through one prepared statement (SQLite'"'"'s %.2f s for the rows on one thread, nothing else done)\n", r / s, s }'

# The performance targets, each against what this run measured: met or not.
echo
echo "targets (release build, this run; set for 1 GB per input and a 10M-record ledger; this run: $api_mb MB and $cc_mb MB):"
target() { # LABEL VALUE MET(1/0)
  printf '  %-52s %12s  %s\n' "$1" "$2" "$([ "$3" = 1 ] && echo met || echo 'NOT MET')"
}
if [ -n "$duck" ]; then
  read -r v m < <(awk -v a="$(wall api-cold)" -v d="$(wall api-duckdb)" \
    'BEGIN { printf "%.2fx %d\n", d / a, (d >= 1.5 * a - 1e-9) }')
  target "API-log report cold >= 1.5x DuckDB" "$v" "$m"
fi
if [ -n "$ccusage" ]; then
  read -r v m < <(awk -v a="$(wall cc-cold)" -v c="$(wall cc-ccusage)" \
    'BEGIN { printf "%.2fx %d\n", c / a, (c >= 5 * a - 1e-9) }')
  target "Claude Code report cold >= 5x ccusage" "$v" "$m"
fi
read -r v m < <(awk -v r="$records" -v s="$(wall import)" \
  'BEGIN { printf "%.0f/s %d\n", r / s, (r >= 400000 * s - 1e-9) }')
target "import >= 400,000 records/s" "$v" "$m"
if [ "$big" -gt 0 ]; then
  x=$(wall big-report)
  target "report --by team,model from $big records <= 1 s" "$x s" "$(awk -v x="$x" 'BEGIN { print (x <= 1) }')"
fi
x=$(( $(printf '%s\n%s\n' "$(rss api-cold)" "$(rss cc-cold)" | sort -n | tail -1) / 1024 ))
target "report peak memory, cold, <= 100 MiB" "$x MiB" "$([ "$x" -le 100 ] && echo 1 || echo 0)"
echo

if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
  # Instructions per record: repeatable on a busy machine, unlike wall time.
  first=$(find "$api" -name '*.jsonl' | sort | sed -n 1p)
  head -n 20000 "$first" > "$tmp/slice.jsonl"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" report "$tmp/slice.jsonl" --no-cache --format json \
    > /dev/null 2> "$tmp/cg.err"
  ir=$(grep -o 'refs: *[0-9,]*' "$tmp/cg.err" | tr -dc 0-9)
  echo "callgrind: report on 20,000 API-log lines: $ir instructions, $((ir / 20000)) per line"
fi
