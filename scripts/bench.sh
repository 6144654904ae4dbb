#!/usr/bin/env bash
# Throughput and memory benchmark of `aispend report` on large inputs, in a release build.
#
#   scripts/bench.sh                 # ~1 GB of API logs and ~1 GB of Claude Code logs
#   BENCH_SIZE_MB=256 scripts/bench.sh
#
# The data is generated once (deterministically) into $BENCH_DIR (default bench-data/, git-ignored).
# Each input is read once to warm the page cache, then timed three times; the best run is reported with
# its peak resident memory (GNU time's %M).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${BENCH_SIZE_MB:-1024}
dir=${BENCH_DIR:-bench-data}
runs=${BENCH_RUNS:-3}

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/aispend
if [ ! -f "$dir/.complete-$size_mb" ]; then
  rm -rf "$dir"
  echo "generating ${size_mb} MB per input into $dir ..." >&2
  python3 scripts/gen_bench.py "$dir" --size-mb "$size_mb"
  touch "$dir/.complete-$size_mb"
fi

printf '%-12s %10s %10s %10s %12s\n' input MB seconds MB/s peak_RSS_MB
for input in api-logs claude-code; do
  path="$dir/$input"
  bytes=$(du -sb "$path" | cut -f1)
  "$bin" report "$path" --by model --format json > /dev/null
  best=""
  best_rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$dir/.time" "$bin" report "$path" --by team,model --format json > /dev/null
    read -r secs rss_kb < "$dir/.time"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$secs
      best_rss=$rss_kb
    fi
  done
  awk -v name="$input" -v b="$bytes" -v s="$best" -v r="$best_rss" \
    'BEGIN { mb = b / 1e6; printf "%-12s %10.0f %10.2f %10.0f %12.0f\n", name, mb, s, (s > 0 ? mb / s : 0), r / 1024 }'
done
