#!/usr/bin/env python3
"""Writes fixtures/demo-incident/: two incidents in the demo month's gateway traffic (deterministic bytes).

1. A brownout: on 2026-10-22 from 14:00 to 16:00 UTC Anthropic answers many claude-sonnet-4-5 requests of
   the support team's backlog job with 529 overloaded_error. The gateway retries each failure once on
   Anthropic (attempt 2, retry_of) and, when that fails too, on OpenAI gpt-4.1 (attempt 3, the fallback).
   The job runs from 12:00 to 18:00, so the hours around the brownout are its baseline.
2. A spend spike: on 2026-10-27 the growth team's seo-copy job loops on gpt-5 (120 large requests).

Usage: python3 scripts/gen_demo_incident.py
(writes fixtures/demo-incident/gateway-incidents-2026-10.jsonl.gz, gzipped without a timestamp)
"""
import gzip
import json
import os
import random
from datetime import datetime, timedelta, timezone

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "demo-incident")
rng = random.Random(2026_10_22)
lines = []
counter = [0]


def rid():
    counter[0] += 1
    return "req_inc%06d" % counter[0]


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def envelope(t, team, project, user, provider, status, latency, request_id, response, **extra):
    e = {"timestamp": ts(t), "team": team, "project": project, "user": user, "tags": {"env": "prod"},
         "provider": provider, "status": status, "latency_ms": latency, "request_id": request_id}
    e.update(extra)
    e["response"] = response
    return e


def anthropic_ok(inp, cache, out):
    return {"id": "msg_inc%06d" % counter[0], "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "…"}],
            "stop_reason": "end_turn", "usage": {"input_tokens": inp, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache, "output_tokens": out, "service_tier": "standard"}}


OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def openai_ok(model, prompt, cached, completion, t):
    return {"id": "chatcmpl-inc%06d" % counter[0], "object": "chat.completion", "created": int(t.timestamp()),
            "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": "…"},
            "finish_reason": "stop"}], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "prompt_tokens_details": {"cached_tokens": cached}}}


# 1. The support backlog job: one request every ~30 s from 12:00 to 18:00 UTC on 2026-10-22.
start = datetime(2026, 10, 22, 12, 0, tzinfo=timezone.utc)
end = datetime(2026, 10, 22, 18, 0, tzinfo=timezone.utc)
brown_from = datetime(2026, 10, 22, 14, 0, tzinfo=timezone.utc)
brown_to = datetime(2026, 10, 22, 16, 0, tzinfo=timezone.utc)
t = start
while t < end:
    t += timedelta(seconds=rng.randint(20, 40), milliseconds=rng.randint(0, 999))
    if t >= end:
        break
    user = "u-2%03d" % rng.randint(0, 40)
    inp, cache, out = rng.randint(1500, 2200), rng.randint(15000, 22000), rng.randint(300, 700)
    browned = brown_from <= t < brown_to
    first = rid()
    if browned and rng.random() < 0.6:
        lines.append(envelope(t, "support", "helpdesk-bot", user, "anthropic", 529, rng.randint(150, 900), first,
                              OVERLOADED, model="claude-sonnet-4-5-20250929", attempt=1))
        t2 = t + timedelta(seconds=rng.randint(2, 6), milliseconds=rng.randint(0, 999))
        second = rid()
        if rng.random() < 0.5:
            lines.append(envelope(t2, "support", "helpdesk-bot", user, "anthropic", 529, rng.randint(150, 900),
                                  second, OVERLOADED, model="claude-sonnet-4-5-20250929", attempt=2,
                                  retry_of=first))
            t3 = t2 + timedelta(seconds=rng.randint(1, 3), milliseconds=rng.randint(0, 999))
            rid()
            lines.append(envelope(t3, "support", "helpdesk-bot", user, "openai", 200, rng.randint(4000, 9000),
                                  "req_inc%06d" % counter[0],
                                  openai_ok("gpt-4.1-2025-04-14", inp + cache, 0, out, t3), attempt=3,
                                  retry_of=second))
        else:
            lines.append(envelope(t2, "support", "helpdesk-bot", user, "anthropic", 200,
                                  rng.randint(14000, 26000), second, anthropic_ok(inp, cache, out), attempt=2,
                                  retry_of=first))
    else:
        latency = rng.randint(14000, 26000) if browned else rng.randint(7000, 13000)
        lines.append(envelope(t, "support", "helpdesk-bot", user, "anthropic", 200, latency, first,
                              anthropic_ok(inp, cache, out)))

# 2. The growth spike: 120 large gpt-5 requests on 2026-10-27 between 09:00 and 11:00 UTC.
t = datetime(2026, 10, 27, 9, 0, tzinfo=timezone.utc)
for _ in range(120):
    t += timedelta(seconds=rng.randint(30, 90), milliseconds=rng.randint(0, 999))
    rid()
    lines.append(envelope(t, "growth", "seo-copy", "u-3001", "openai", 200, rng.randint(30000, 60000),
                          "req_inc%06d" % counter[0], openai_ok("gpt-5-2025-08-07", 20000, 0, 4000, t)))

lines.sort(key=lambda e: e["timestamp"])
os.makedirs(OUT, exist_ok=True)
text = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in lines)
with open(os.path.join(OUT, "gateway-incidents-2026-10.jsonl.gz"), "wb") as f:
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as z:
        z.write(text.encode())
