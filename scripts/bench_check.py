#!/usr/bin/env python3
"""Compares per-model sums of `aispend report --format json` with a peer's (scripts/bench.sh).

    bench_check.py duckdb  AISPEND_JSON PEER_JSON    # PEER_JSON: [{"model", "requests", "output"}]
    bench_check.py ccusage AISPEND_JSON CCUSAGE_JSON # `ccusage daily --json --offline`

Model names are compared without their date suffix (`gpt-4o-mini-2024-07-18` and aispend's canonical
`gpt-4o-mini` agree). Prints one line per model and exits 1 when any sum differs.
"""
import json
import re
import sys

DATE = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8})$")


def norm(model):
    return DATE.sub("", model or "")


def aispend_sums(doc, field):
    out = {}
    for row in doc["rows"] + doc.get("unpriced", []):
        m = norm(row["model"])
        out[m] = out.get(m, 0) + int(row.get(field) or row.get("totals", {}).get(field, 0))
    return out


def main():
    kind, ours, theirs = sys.argv[1:4]
    ours = json.load(open(ours))
    theirs = json.load(open(theirs))
    if kind == "duckdb":
        pairs = [("requests", [(r["model"], r["requests"]) for r in theirs]),
                 ("output_tokens", [(r["model"], r["output"]) for r in theirs])]
    else:
        breakdowns = [b for day in theirs["daily"] for b in day["modelBreakdowns"]]
        pairs = [("input_tokens", [(b["modelName"], b["inputTokens"]) for b in breakdowns]),
                 ("cache_read_tokens", [(b["modelName"], b["cacheReadTokens"]) for b in breakdowns])]
    bad = 0
    for field, values in pairs:
        peer = {}
        for model, v in values:
            peer[norm(model)] = peer.get(norm(model), 0) + int(v)
        mine = aispend_sums(ours, field)
        for m in sorted(peer):
            same = mine.get(m) == peer[m]
            bad += not same
            print("  %-28s %-17s aispend %14s  %s %14s  %s" % (m, field, mine.get(m), kind, peer[m],
                                                                "ok" if same else "DIFFERS"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
