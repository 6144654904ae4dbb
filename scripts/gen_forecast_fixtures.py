#!/usr/bin/env python3
"""Writes fixtures/forecast/: daily spend series whose forecasts are known exactly.

Every line is a gpt-4o chat completion in an API-log envelope. At $2.50/M input and $10/M output:
  1,000,000 input + 750,000 output = $2.50 + $7.50 = $10.00   ("ten")
    200,000 input + 150,000 output = $0.50 + $1.50 =  $2.00   ("two")

- constant.jsonl: $10 every day from 2026-09-01 to 2026-10-15 (team search).
- weekly.jsonl:   $10 on weekdays and $2 on Saturdays and Sundays, 2026-08-03 to 2026-10-15 (team search):
                  a purely weekly series with no trend and no noise.
Deterministic; run from the repository root.
"""
import datetime as dt
import json
import os

OUT = os.path.join("fixtures", "forecast")
TEN = (1_000_000, 750_000)
TWO = (200_000, 150_000)


def line(day, n, tokens):
    prompt, completion = tokens
    ts = dt.datetime(day.year, day.month, day.day, 12, 0, 0)
    return json.dumps({
        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "team": "search",
        "project": "ranker",
        "provider": "openai",
        "status": 200,
        "response": {
            "id": f"chatcmpl-fx{day.strftime('%Y%m%d')}{n:02d}",
            "object": "chat.completion",
            "created": int(ts.replace(tzinfo=dt.timezone.utc).timestamp()),
            "model": "gpt-4o-2024-08-06",
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        },
    }, separators=(",", ":"))


def days(start, end):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "constant.jsonl"), "w") as f:
        for d in days(dt.date(2026, 9, 1), dt.date(2026, 10, 15)):
            f.write(line(d, 0, TEN) + "\n")
    with open(os.path.join(OUT, "weekly.jsonl"), "w") as f:
        for d in days(dt.date(2026, 8, 3), dt.date(2026, 10, 15)):
            f.write(line(d, 0, TWO if d.weekday() >= 5 else TEN) + "\n")


if __name__ == "__main__":
    main()
