#!/usr/bin/env python3
"""Writes the small, hand-checkable importer fixtures under fixtures/ (everything except fixtures/demo/)
and the per-record token tables of fixtures/README.md.

Every record is written from the token numbers it is expected to normalize to (the SPEC's disjoint
classes), so the README tables and the files cannot drift apart. Deterministic: run it twice, get the
same bytes. Python 3.11 standard library only.

    python3 scripts/gen_fixtures.py            # writes into <repo>/fixtures
"""
import calendar
import gzip
import io
import json
import os
import sys
from datetime import datetime, timezone

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
ROOT = os.path.normpath(ROOT)


def dumps(obj, spaced=False):
    if spaced:
        return json.dumps(obj, ensure_ascii=False)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def unix(s):
    return calendar.timegm(datetime.fromisoformat(s.replace("Z", "+00:00")).utctimetuple())


def write(rel, text):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_gz(rel, text):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buf = io.BytesIO()
    # filename="" and mtime=0: the bytes do not depend on when or where this runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    with open(path, "wb") as f:
        f.write(buf.getvalue())


# ---------------------------------------------------------------------------------------------------
# Expected classes. T(uncached, cache_read, cw5m, cw1h, output, reasoning, web_search)
# ---------------------------------------------------------------------------------------------------
def T(inp=0, cr=0, w5=0, w1=0, out=0, rsn=0, ws=0):
    return {"input": inp, "cache_read": cr, "cw5m": w5, "cw1h": w1, "output": out, "reasoning": rsn, "web_search": ws}


TABLES = {}  # file -> list of rows for the README


def row(file, line, rid, model, tier, t, when, note, failed=False):
    TABLES.setdefault(file, []).append(
        {"line": line, "id": rid, "model": model, "tier": tier, "t": t, "when": when, "note": note, "failed": failed}
    )


LOREM = [
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.",
    "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum.",
]


# ---------------------------------------------------------------------------------------------------
# Raw response builders (token numbers in, provider shape out)
# ---------------------------------------------------------------------------------------------------
def openai_chat(rid, model, created, t, tier="default", text=LOREM[0], fp="fp_7a9c41e2b0"):
    prompt = t["input"] + t["cache_read"]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": t["output"],
            "total_tokens": prompt + t["output"],
            "prompt_tokens_details": {"cached_tokens": t["cache_read"], "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": t["reasoning"],
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": tier,
        "system_fingerprint": fp,
    }


def openai_response(rid, model, created_at, t, tier="default", text=LOREM[1]):
    inp = t["input"] + t["cache_read"]
    output = []
    if t["reasoning"]:
        output.append({"id": "rs_" + rid[5:], "type": "reasoning", "summary": []})
    output.append(
        {
            "id": "msg_" + rid[5:],
            "type": "message",
            "status": "completed",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
            "role": "assistant",
        }
    )
    return {
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "reasoning": {"effort": "medium", "summary": None},
        "service_tier": tier,
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": t["cache_read"]},
            "output_tokens": t["output"],
            "output_tokens_details": {"reasoning_tokens": t["reasoning"]},
            "total_tokens": inp + t["output"],
        },
        "user": None,
        "metadata": {},
    }


def anthropic_msg(rid, model, t, tier="standard", text=LOREM[2]):
    usage = {
        "input_tokens": t["input"],
        "cache_creation_input_tokens": t["cw5m"] + t["cw1h"],
        "cache_read_input_tokens": t["cache_read"],
        "cache_creation": {"ephemeral_5m_input_tokens": t["cw5m"], "ephemeral_1h_input_tokens": t["cw1h"]},
        "output_tokens": t["output"],
        "service_tier": tier,
    }
    if t["web_search"]:
        usage["server_tool_use"] = {"web_search_requests": t["web_search"], "web_fetch_requests": 0}
    return {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def gemini(rid, model, t, text=LOREM[3], create_time=None, traffic=None):
    """t['output'] includes thoughts (t['reasoning']); candidatesTokenCount excludes them."""
    prompt = t["input"] + t["cache_read"]
    cand = t["output"] - t["reasoning"]
    um = {"promptTokenCount": prompt, "candidatesTokenCount": cand, "totalTokenCount": prompt + t["output"]}
    if t["cache_read"]:
        um["cachedContentTokenCount"] = t["cache_read"]
    um["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if t["cache_read"]:
        um["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": t["cache_read"]}]
    if t["reasoning"]:
        um["thoughtsTokenCount"] = t["reasoning"]
    if traffic:
        um["trafficType"] = traffic
    r = {
        "candidates": [
            {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": um,
        "modelVersion": model,
    }
    if create_time:
        r["createTime"] = create_time
    r["responseId"] = rid
    return r


def envelope(ts, team, project, user, provider, response, status=200, latency=800, req=None, tags=None):
    env = {"timestamp": ts, "team": team, "project": project, "user": user, "tags": tags or {"env": "prod"}}
    if provider is not None:
        env["provider"] = provider
    env["status"] = status
    env["latency_ms"] = latency
    if req is not None:
        env["request_id"] = req
    env["response"] = response
    return env


# ---------------------------------------------------------------------------------------------------
# fixtures/api-log
# ---------------------------------------------------------------------------------------------------
def api_log():
    F = "api-log/openai-chat.jsonl"
    lines = []
    t = T(inp=1000, out=200)
    lines.append(openai_chat("chatcmpl-CRa1Fx0001raw4o0806aaaaaaaaaa", "gpt-4o-2024-08-06", unix("2026-10-05T10:00:00Z"), t))
    row(F, 1, lines[-1]["id"], "gpt-4o-2024-08-06", "default", t, "2026-10-05T10:00:00Z (response `created`)",
        "raw response, no envelope: provider from the shape, time from `created`")
    t = T(inp=6000, cr=4000, out=500)
    lines.append(envelope("2026-10-05T10:05:00Z", "search", "ranker", "u-1001", None,
                          openai_chat("chatcmpl-CRa1Fx0002mini0718bbbbbbbbbb", "gpt-4o-mini-2024-07-18", unix("2026-10-05T10:04:59Z"), t),
                          latency=640, req="req_fx_chat_0002"))
    row(F, 2, "chatcmpl-CRa1Fx0002mini0718bbbbbbbbbb", "gpt-4o-mini-2024-07-18", "default", t, "2026-10-05T10:05:00Z (envelope)",
        "envelope WITHOUT `provider`: detect from shape. prompt_tokens 10000 INCLUDES cached 4000; envelope time wins over `created` (10:04:59)")
    t = T(inp=1000, cr=1000, out=3000, rsn=2500)
    lines.append(envelope("2026-10-05T10:10:00Z", "research", "evals", "u-2001", "openai",
                          openai_chat("chatcmpl-CRa1Fx0003o3cccccccccccccccccc", "o3", unix("2026-10-05T10:09:30Z"), t),
                          latency=21000, req="req_fx_chat_0003"))
    row(F, 3, "chatcmpl-CRa1Fx0003o3cccccccccccccccccc", "o3", "default", t, "2026-10-05T10:10:00Z",
        "reasoning_tokens 2500 is a SUBSET of completion_tokens 3000: output = 3000, not 5500")
    t = T(inp=5000, out=1000, rsn=600)
    lines.append(envelope("2026-10-05T10:15:00Z", "growth", "seo-copy", "u-3001", "openai",
                          openai_chat("chatcmpl-CRa1Fx0004o4minidddddddddddddd", "o4-mini", unix("2026-10-05T10:14:00Z"), t, tier="flex"),
                          latency=45000, req="req_fx_chat_0004"))
    row(F, 4, "chatcmpl-CRa1Fx0004o4minidddddddddddddd", "o4-mini", "flex", t, "2026-10-05T10:15:00Z",
        "`service_tier: \"flex\"` served: flex rates")
    t = T(inp=10000, cr=10000, out=1000)
    lines.append(envelope("2026-10-05T10:20:00Z", "search", "ranker", "u-1001", "openai",
                          openai_chat("chatcmpl-CRa1Fx0005gpt41eeeeeeeeeeeeeeee", "gpt-4.1", unix("2026-10-05T10:19:58Z"), t, tier="priority"),
                          latency=900, req="req_fx_chat_0005"))
    row(F, 5, "chatcmpl-CRa1Fx0005gpt41eeeeeeeeeeeeeeee", "gpt-4.1", "priority", t, "2026-10-05T10:20:00Z",
        "`service_tier: \"priority\"`; prompt_tokens 20000 incl. cached 10000")
    text = "".join(dumps(x) + "\n" for x in lines)
    write(F, text)
    write_gz("api-log/openai-chat.jsonl.gz", text)

    F = "api-log/openai-responses.jsonl"
    lines = []
    t = T(inp=2000, cr=1000, out=2000, rsn=1500)
    lines.append(envelope("2026-10-06T09:00:00Z", "support", "helpdesk-bot", "u-4001", "openai",
                          openai_response("resp_68f1a0000000000000000000000000000000000000000001", "gpt-5", unix("2026-10-06T08:59:50Z"), t),
                          latency=12000, req="req_fx_resp_0001"))
    row(F, 1, lines[-1]["response"]["id"], "gpt-5", "default", t, "2026-10-06T09:00:00Z",
        "Responses API: input_tokens 3000 INCLUDES cached 1000; reasoning 1500 inside output 2000. `output[].id` starts with `msg_` (not an Anthropic message)")
    t = T(inp=800, out=400, rsn=200)
    lines.append(openai_response("resp_68f1a0000000000000000000000000000000000000000002", "gpt-5-mini", unix("2026-10-06T09:30:00Z"), t))
    row(F, 2, lines[-1]["id"], "gpt-5-mini", "default", t, "2026-10-06T09:30:00Z (response `created_at`)",
        "raw Responses object, no envelope: time from `created_at`")
    t = T(inp=10000, cr=40000, out=1000)
    lines.append(envelope("2026-10-06T10:00:00Z", "search", "ranker", "u-1002", "openai",
                          openai_response("resp_68f1a0000000000000000000000000000000000000000003", "gpt-4.1", unix("2026-10-06T09:59:59Z"), t),
                          latency=3100, req="req_fx_resp_0003"))
    row(F, 3, lines[-1]["response"]["id"], "gpt-4.1", "default", t, "2026-10-06T10:00:00Z",
        "input_tokens 50000 incl. cached 40000")
    write(F, "".join(dumps(x) + "\n" for x in lines))

    F = "api-log/anthropic-messages.jsonl"
    lines = []
    specs = [
        ("2026-10-07T08:00:00Z", "support", "helpdesk-bot", "u-4001", "msg_01FxAnthropic0000000001", "claude-sonnet-4-5-20250929", "standard",
         T(inp=1000, cr=20000, out=500), "input_tokens is UNCACHED only; cache_read 20000 is on top"),
        ("2026-10-07T08:05:00Z", "support", "helpdesk-bot", "u-4002", "msg_01FxAnthropic0000000002", "claude-sonnet-4-5-20250929", "standard",
         T(inp=200, w5=3000, out=300, ws=3), "5-minute cache write 3000; 3 web search requests (`server_tool_use`)"),
        ("2026-10-07T08:10:00Z", "support", "ticket-triage", "u-4003", "msg_01FxAnthropic0000000003", "claude-haiku-4-5-20251001", "standard",
         T(inp=100, cr=10000, w5=2000, w1=4000, out=400), "cache_creation_input_tokens 6000 = 5m 2000 + 1h 4000: price each at its own rate"),
        ("2026-10-07T08:15:00Z", "search", "ranker", "u-1003", "msg_01FxAnthropic0000000004", "claude-sonnet-4-5-20250929", "standard",
         T(inp=250000, out=1000), "LONG CONTEXT: 250000 input > 200k, the whole request bills at the long-context rates (Anthropic rule: 250000 x $6/M + 1000 x $22.50/M = $1.5225, not ccusage's marginal $0.915)"),
        ("2026-10-07T08:20:00Z", "research", "evals", "u-2002", "msg_01FxAnthropic0000000005", "claude-opus-4-1-20250805", "standard",
         T(inp=50, cr=100000, w1=2000, out=800), "1-hour cache write only (2x input rate, not 1.25x)"),
        ("2026-10-07T08:25:00Z", "research", "evals", "u-2002", "msg_01FxAnthropic0000000006", "claude-sonnet-4-20250514", "batch",
         T(inp=10000, out=2000), "`usage.service_tier: \"batch\"` (tier sits INSIDE usage for Anthropic)"),
    ]
    for i, (ts, team, proj, user, rid, model, tier, t, note) in enumerate(specs, 1):
        lines.append(envelope(ts, team, proj, user, "anthropic", anthropic_msg(rid, model, t, tier=tier),
                              latency=1500 + 100 * i, req="req_fx_anth_%04d" % i))
        row(F, i, rid, model, tier, t, ts, note)
    write(F, "".join(dumps(x) + "\n" for x in lines))

    F = "api-log/gemini.jsonl"
    lines = []
    t = T(inp=6000, cr=4000, out=2000, rsn=1500)
    lines.append(envelope("2026-10-08T11:00:00Z", "search", "semantic-index", "u-1004", "google",
                          gemini("Fx1gemini0001AbCdEfGhIj", "gemini-2.5-flash", t), latency=2400, req="req_fx_gem_0001"))
    row(F, 1, "Fx1gemini0001AbCdEfGhIj", "gemini-2.5-flash", "-", t, "2026-10-08T11:00:00Z",
        "promptTokenCount 10000 INCLUDES cachedContentTokenCount 4000; thoughtsTokenCount 1500 is NOT inside candidatesTokenCount 500: output = 500 + 1500 = 2000")
    t = T(inp=2000, out=300)
    lines.append(envelope("2026-10-08T11:05:00Z", "support", "ticket-triage", "u-4003", "google",
                          gemini("Fx1gemini0002AbCdEfGhIj", "gemini-2.0-flash", t), latency=700, req="req_fx_gem_0002"))
    row(F, 2, "Fx1gemini0002AbCdEfGhIj", "gemini-2.0-flash", "-", t, "2026-10-08T11:05:00Z",
        "no cachedContentTokenCount, no thoughtsTokenCount fields at all")
    t = T(inp=300000, out=3000, rsn=1000)
    lines.append(envelope("2026-10-08T11:10:00Z", "search", "semantic-index", "u-1004", "google",
                          gemini("Fx1gemini0003AbCdEfGhIj", "gemini-2.5-pro", t), latency=60000, req="req_fx_gem_0003"))
    row(F, 3, "Fx1gemini0003AbCdEfGhIj", "gemini-2.5-pro", "-", t, "2026-10-08T11:10:00Z",
        "LONG CONTEXT: prompt 300000 > 200k: every token at the >200k rates; candidates 2000 + thoughts 1000 = output 3000")
    t = T(inp=50000, cr=50000, out=1500, rsn=500)
    lines.append(gemini("Fx1gemini0004AbCdEfGhIj", "gemini-2.5-pro", t, create_time="2026-10-08T11:15:00.123456Z", traffic="ON_DEMAND"))
    row(F, 4, "Fx1gemini0004AbCdEfGhIj", "gemini-2.5-pro", "ON_DEMAND", t, "2026-10-08T11:15:00.123456Z (Vertex `createTime`)",
        "raw Vertex response, no envelope: time from `createTime`; prompt 100000 (incl. 50000 cached) is under 200k")
    text = "".join(dumps(x) + "\n" for x in lines)
    write(F, text)

    F = "api-log/failed.jsonl"
    lines = [
        envelope("2026-10-09T12:00:00Z", "search", "ranker", "u-1001", "openai",
                 {"error": {"message": "Rate limit reached for gpt-4.1 in organization org-fixture on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s.",
                            "type": "tokens", "param": None, "code": "rate_limit_exceeded"}},
                 status=429, latency=35, req="req_fx_fail_0001"),
        envelope("2026-10-09T12:01:00Z", "support", "helpdesk-bot", "u-4001", "anthropic",
                 {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}, "request_id": "req_011FxFailed0002"},
                 status=500, latency=5012, req="req_fx_fail_0002"),
        envelope("2026-10-09T12:02:00Z", "growth", "email-personalize", "u-3002", "google",
                 {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}},
                 status=429, latency=80, req="req_fx_fail_0003"),
    ]
    for i, (prov, st) in enumerate([("openai", 429), ("anthropic", 500), ("google", 429)], 1):
        row(F, i, "request_id " + lines[i - 1]["request_id"], "(none: no model in a failed response)", "-", T(), lines[i - 1]["timestamp"],
            "FAILED: status %d, provider %s, `error` object, no usage: 0 tokens, $0, counts as a failed request" % (st, prov), failed=True)
    write(F, "".join(dumps(x) + "\n" for x in lines))

    F = "api-log/unknown-model.jsonl"
    lines = []
    for i, (model, t) in enumerate([("gpt-9-preview", T(inp=1000, out=100)), ("gpt-9-preview", T(inp=1500, cr=500, out=200)),
                                    ("gpt-4o", T(inp=1000, out=100))], 1):
        rid = "chatcmpl-CRa1Fx01%02dunknownmodelffffffff" % i
        lines.append(envelope("2026-10-09T13:0%d:00Z" % i, "growth", "experiments", "u-3003", "openai",
                              openai_chat(rid, model, unix("2026-10-09T13:0%d:00Z" % i), t), latency=1000, req="req_fx_unk_%04d" % i))
        row(F, i, rid, model, "default", t, lines[-1]["timestamp"],
            "UNKNOWN model: unpriced, never $0; listed under `unpriced` with its tokens" if model == "gpt-9-preview" else "priced control record")
    write(F, "".join(dumps(x) + "\n" for x in lines))

    F = "api-log/duplicates.jsonl"
    t1 = T(inp=1500, out=300)
    t2 = T(inp=700, cr=300, out=50)
    dup = openai_chat("chatcmpl-CRa1FxDUPLICATE0001gggggggggg", "gpt-4o", unix("2026-10-10T08:00:00Z"), t1)
    lines = [
        envelope("2026-10-10T08:00:01Z", "search", "ranker", "u-1001", "openai", dup, latency=1200, req="req_fx_dup_0001"),
        envelope("2026-10-10T08:00:05Z", "search", "ranker", "u-1001", "openai",
                 openai_chat("chatcmpl-CRa1FxDUPLICATE0002hhhhhhhhhh", "gpt-4o-mini-2024-07-18", unix("2026-10-10T08:00:05Z"), t2),
                 latency=300, req="req_fx_dup_0002"),
        envelope(1791619201000, "search", "ranker", "u-1001", "openai", dup, latency=1187,
                 tags={"env": "prod", "logger": "sidecar"}),
    ]
    row(F, 1, dup["id"], "gpt-4o", "default", t1, "2026-10-10T08:00:01Z", "first copy of chatcmpl-…DUPLICATE0001: counted")
    row(F, 2, lines[1]["response"]["id"], "gpt-4o-mini-2024-07-18", "default", t2, "2026-10-10T08:00:05Z", "distinct record")
    row(F, 3, dup["id"], "gpt-4o", "default", T(), "1791619201000 (unix ms = 2026-10-10T08:00:01Z)",
        "DUPLICATE of line 1: same response id in a different envelope (unix-ms timestamp, other tags, other latency, no request_id). Adds nothing: 2 records, 1 duplicate")
    write(F, "".join(dumps(x) + "\n" for x in lines))

    F = "api-log/timestamps.jsonl"
    tt = T(inp=100, out=10)
    specs = [
        ("2026-10-10T12:00:00Z", "chatcmpl-CRa1FxTIME0001iiiiiiiiiiiiii", "2026-10-10T12:00:00Z", "RFC 3339 with Z"),
        ("2026-10-10T14:30:00+02:00", "chatcmpl-CRa1FxTIME0002iiiiiiiiiiiiii", "2026-10-10T12:30:00Z", "RFC 3339 with +02:00 offset"),
        (1791637200, "chatcmpl-CRa1FxTIME0003iiiiiiiiiiiiii", "2026-10-10T13:00:00Z", "unix SECONDS integer"),
        (1791639000000, "chatcmpl-CRa1FxTIME0004iiiiiiiiiiiiii", "2026-10-10T13:30:00Z", "unix MILLISECONDS integer"),
        ("2026-10-10T14:00:00.250Z", "chatcmpl-CRa1FxTIME0005iiiiiiiiiiiiii", "2026-10-10T14:00:00.250Z", "RFC 3339 with fractional seconds"),
    ]
    lines = []
    for i, (ts, rid, utc, what) in enumerate(specs, 1):
        # the response's own `created` is deliberately different (one hour earlier): the envelope wins
        lines.append(envelope(ts, "search", "ranker", "u-1001", "openai",
                              openai_chat(rid, "gpt-4o-mini-2024-07-18", unix(utc[:19] + "Z") - 3600, tt), latency=200, req="req_fx_time_%04d" % i))
        row(F, i, rid, "gpt-4o-mini-2024-07-18", "default", tt, utc, "envelope timestamp as " + what + "; `created` is one hour earlier and must lose")
    rid = "chatcmpl-CRa1FxTIME0006iiiiiiiiiiiiii"
    lines.append(openai_chat(rid, "gpt-4o-mini-2024-07-18", 1791644400, tt))
    row(F, 6, rid, "gpt-4o-mini-2024-07-18", "default", tt, "2026-10-10T15:00:00Z", "raw response with only `created` (1791644400)")
    write(F, "".join(dumps(x) + "\n" for x in lines))

    # broken/
    good1 = envelope("2026-10-11T09:00:00Z", "search", "ranker", "u-1001", "openai",
                     openai_chat("chatcmpl-CRa1FxBROKEN0001jjjjjjjjjjjj", "gpt-4o", unix("2026-10-11T09:00:00Z"), T(inp=100, out=10)), req="req_fx_brk_0001")
    good2 = envelope("2026-10-11T09:01:00Z", "search", "ranker", "u-1001", "openai",
                     openai_chat("chatcmpl-CRa1FxBROKEN0002jjjjjjjjjjjj", "gpt-4o", unix("2026-10-11T09:01:00Z"), T(inp=200, out=20)), req="req_fx_brk_0002")
    cut = dumps(envelope("2026-10-11T09:02:00Z", "search", "ranker", "u-1001", "openai",
                         openai_chat("chatcmpl-CRa1FxBROKEN0003jjjjjjjjjjjj", "gpt-4o", unix("2026-10-11T09:02:00Z"), T(inp=300, out=30)), req="req_fx_brk_0003"))
    cut = cut[: cut.index('"usage"') + 30]
    good4 = envelope("2026-10-11T09:03:00Z", "search", "ranker", "u-1001", "openai",
                     openai_chat("chatcmpl-CRa1FxBROKEN0004jjjjjjjjjjjj", "gpt-4o", unix("2026-10-11T09:03:00Z"), T(inp=400, out=40)), req="req_fx_brk_0004")
    write("api-log/broken/bad-json.jsonl", dumps(good1) + "\n" + dumps(good2) + "\n" + cut + "\n" + dumps(good4) + "\n")
    bad = dumps(good2).replace('"prompt_tokens":200', '"prompt_tokens":"12"')
    assert '"prompt_tokens":"12"' in bad
    write("api-log/broken/bad-field.jsonl", dumps(good1) + "\n" + bad + "\n")
    nots = envelope("x", "support", "helpdesk-bot", "u-4001", "anthropic",
                    anthropic_msg("msg_01FxNoTimestamp000000002", "claude-sonnet-4-5-20250929", T(inp=100, out=10)), req="req_fx_brk_0006")
    del nots["timestamp"]
    okay = envelope("2026-10-11T09:05:00Z", "support", "helpdesk-bot", "u-4001", "anthropic",
                    anthropic_msg("msg_01FxNoTimestamp000000001", "claude-sonnet-4-5-20250929", T(inp=100, out=10)), req="req_fx_brk_0005")
    write("api-log/broken/no-timestamp.jsonl", dumps(okay) + "\n" + dumps(nots) + "\n")


# ---------------------------------------------------------------------------------------------------
# fixtures/openai-usage
# ---------------------------------------------------------------------------------------------------
def oai_result(project, key, model, batch, tier, requests, uncached, cached, write_=0, out=0, legacy=False):
    r = {"object": "organization.usage.completions.result"}
    if legacy:
        r["input_tokens"] = uncached + cached
        r["output_tokens"] = out
        r["input_cached_tokens"] = cached
        r["input_audio_tokens"] = 0
        r["output_audio_tokens"] = 0
    else:
        r["input_tokens"] = uncached + cached + write_
        r["input_uncached_tokens"] = uncached
        r["input_cached_tokens"] = cached
        r["input_cache_write_tokens"] = write_
        r["output_tokens"] = out
        r["input_text_tokens"] = uncached + cached + write_
        r["output_text_tokens"] = out
        r["input_audio_tokens"] = 0
        r["output_audio_tokens"] = 0
    r["num_model_requests"] = requests
    r.update({"project_id": project, "user_id": None, "api_key_id": key, "model": model, "batch": batch, "service_tier": tier})
    return r


def bucket(day, results):
    s = unix(day + "T00:00:00Z")
    return {"object": "bucket", "start_time": s, "end_time": s + 86400, "results": results}


def page(buckets, has_more=False, next_page=None):
    return {"object": "page", "data": buckets, "has_more": has_more, "next_page": next_page}


def pretty(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def openai_usage():
    P1, P2 = "proj_FxData7Kq2Lm9Np", "proj_FxResearch3Vb8"
    K1, K2 = "key_FxPipeline01Ab", "key_FxEvals02Cd"

    F = "openai-usage/legacy-page.json"
    rows = [
        ("2026-07-01", oai_result(P1, K1, "gpt-4o-2024-08-06", False, "default", 50, 60000, 40000, out=20000, legacy=True),
         "OLD spec: input_tokens 100000 INCLUDES input_cached_tokens 40000, no input_uncached_tokens: uncached = 100000 - 40000"),
        ("2026-07-01", oai_result(P1, K1, "gpt-4o-mini-2024-07-18", True, "default", 1000, 2000000, 0, out=300000, legacy=True),
         "batch=true: batch rates"),
        ("2026-07-02", oai_result(P2, K2, "o3", False, "default", 20, 30000, 10000, out=50000, legacy=True),
         "OLD spec; o3 (reasoning is not broken out in Usage API rows)"),
    ]
    data = [bucket("2026-07-01", [r for d, r, _ in rows if d == "2026-07-01"]),
            bucket("2026-07-02", [r for d, r, _ in rows if d == "2026-07-02"])]
    write(F, pretty(page(data)))
    for i, (d, r, note) in enumerate(rows, 1):
        row(F, i, "%s %s" % (d, r["project_id"]), r["model"], ("batch" if r["batch"] else r["service_tier"]),
            T(inp=r["input_tokens"] - r["input_cached_tokens"], cr=r["input_cached_tokens"], out=r["output_tokens"]),
            "bucket %s (1 day), requests %d" % (d, r["num_model_requests"]), note)

    F = "openai-usage/page-2026.json"
    rows = [
        ("2026-10-01", oai_result(P2, K2, "gpt-4.1", False, "default", 42, 70000, 48000, write_=2000, out=9500),
         "NEW spec: input_tokens 120000 = uncached 70000 + cached 48000 + cache_write 2000. The cache write has no 5m/1h split at OpenAI: "
         "count it as cache_write_5m (SPEC class), the only OpenAI cache write in the fixtures"),
        ("2026-10-01", oai_result(P1, K1, "gpt-4o-mini-2024-07-18", True, "default", 5000, 4000000, 1000000, out=800000),
         "batch=true"),
        ("2026-10-01", oai_result(P2, K2, "o3", False, "flex", 30, 100000, 20000, out=60000), "service_tier flex"),
        ("2026-10-01", oai_result(P2, K2, "gpt-5", False, "priority", 10, 10000, 0, out=20000), "service_tier priority"),
        ("2026-10-02", oai_result(P1, K1, "gpt-4.1-mini", False, "default", 100, 500000, 0, out=50000), "plain"),
    ]
    data = [bucket("2026-10-01", [r for d, r, _ in rows if d == "2026-10-01"]),
            bucket("2026-10-02", [r for d, r, _ in rows if d == "2026-10-02"]),
            bucket("2026-10-03", [])]
    write(F, pretty(page(data)))
    for i, (d, r, note) in enumerate(rows, 1):
        row(F, i, "%s %s" % (d, r["project_id"]), r["model"], ("batch" if r["batch"] else r["service_tier"]),
            T(inp=r["input_uncached_tokens"], cr=r["input_cached_tokens"], w5=r["input_cache_write_tokens"], out=r["output_tokens"]),
            "bucket %s, requests %d" % (d, r["num_model_requests"]), note)
    row(F, 6, "2026-10-03", "-", "-", T(), "bucket 2026-10-03", "EMPTY bucket (`results: []`): no rows, not an error")

    F = "openai-usage/pages/page1.json"
    r1 = oai_result(P1, K1, "gpt-4o-mini-2024-07-18", False, "default", 200, 300000, 100000, out=40000)
    r2 = oai_result(P1, K1, "gpt-4o-mini-2024-07-18", True, "default", 800, 1000000, 0, out=100000)
    r3 = oai_result(P2, K2, "gpt-4.1", False, "default", 15, 40000, 60000, out=5000)
    write(F, pretty(page([bucket("2026-10-05", [r1, r2]), bucket("2026-10-06", [r3])], True, "page_2")))
    row(F, 1, "2026-10-05 " + P1, r1["model"], "default", T(inp=300000, cr=100000, out=40000), "bucket 2026-10-05, requests 200", "has_more true, next_page \"page_2\"")
    row(F, 2, "2026-10-05 " + P1, r2["model"], "batch", T(inp=1000000, out=100000), "bucket 2026-10-05, requests 800", "batch=true")
    row(F, 3, "2026-10-06 " + P2, r3["model"], "default", T(inp=40000, cr=60000, out=5000), "bucket 2026-10-06, requests 15", "")
    F = "openai-usage/pages/page2.json"
    r4 = oai_result(P2, K2, "o4-mini", False, "flex", 25, 50000, 0, out=30000)
    write(F, pretty(page([bucket("2026-10-07", [r4]), bucket("2026-10-08", [])], False, None)))
    row(F, 1, "2026-10-07 " + P2, r4["model"], "flex", T(inp=50000, out=30000), "bucket 2026-10-07, requests 25", "last page: has_more false, next_page null")
    row(F, 2, "2026-10-08", "-", "-", T(), "bucket 2026-10-08", "EMPTY bucket")

    bad = page([bucket("2026-10-09", [oai_result(P1, K1, "gpt-4o-mini-2024-07-18", False, "default", 42, 1000, 0, out=100)])])
    bad["data"][0]["results"][0]["num_model_requests"] = "42"
    write("openai-usage/broken/bad-field.json", pretty(bad))


# ---------------------------------------------------------------------------------------------------
# fixtures/anthropic-usage
# ---------------------------------------------------------------------------------------------------
def anth_result(key, ws, model, tier, cw, t):
    return {
        "uncached_input_tokens": t["input"],
        "cache_creation": {"ephemeral_1h_input_tokens": t["cw1h"], "ephemeral_5m_input_tokens": t["cw5m"]},
        "cache_read_input_tokens": t["cache_read"],
        "output_tokens": t["output"],
        "server_tool_use": {"web_search_requests": t["web_search"]},
        "api_key_id": key,
        "workspace_id": ws,
        "model": model,
        "service_tier": tier,
        "context_window": cw,
    }


def anthropic_usage():
    F = "anthropic-usage/report.json"
    WS = "wrkspc_01FxResearchQ7mN4pZ2"
    K = "apikey_01FxEvalsRunner8sT3"
    specs = [
        ("2026-10-01", K, WS, "claude-sonnet-4-5-20250929", "standard", "0-200k", T(inp=15000, cr=400000, w5=20000, out=8000, ws=3),
         "5m writes; 3 web searches"),
        ("2026-10-01", K, WS, "claude-sonnet-4-5-20250929", "standard", "200k-1M", T(inp=500000, cr=100000, out=5000),
         "context_window \"200k-1M\": long-context rates for EVERY class of this row"),
        ("2026-10-01", K, WS, "claude-haiku-4-5-20251001", "batch", "0-200k", T(inp=1000000, out=200000), "service_tier batch"),
        ("2026-10-01", K, WS, "claude-opus-4-1-20250805", "priority", "0-200k", T(inp=10000, cr=50000, w1=10000, out=3000),
         "service_tier priority; 1h writes"),
        ("2026-10-01", None, None, "claude-sonnet-4-20250514", "standard", "0-200k", T(inp=2000, out=1000),
         "workspace_id null = DEFAULT workspace; api_key_id null = Console usage"),
        ("2026-10-02", K, WS, "claude-sonnet-4-5-20250929", "standard", "0-200k", T(inp=30000, cr=200000, w5=10000, w1=5000, out=12000),
         "both 5m and 1h writes in one row"),
    ]
    buckets = []
    for day in ("2026-10-01", "2026-10-02", "2026-10-03"):
        nxt = "2026-10-%02d" % (int(day[-2:]) + 1)
        buckets.append({"starting_at": day + "T00:00:00Z", "ending_at": nxt + "T00:00:00Z",
                        "results": [anth_result(k, w, m, s, c, t) for d, k, w, m, s, c, t, _ in specs if d == day]})
    write(F, pretty({"data": buckets, "has_more": False, "next_page": None}))
    for i, (d, k, w, m, s, c, t, note) in enumerate(specs, 1):
        row(F, i, "%s %s" % (d, w), m, s + " / " + c, t, "bucket %s (1 day)" % d, note)
    row(F, 7, "2026-10-03", "-", "-", T(), "bucket 2026-10-03", "EMPTY bucket")
    txt = pretty({"data": buckets[:1], "has_more": False, "next_page": None})
    write("anthropic-usage/broken/bad-json.json", txt[: len(txt) // 2])


# ---------------------------------------------------------------------------------------------------
# fixtures/claude-code
# ---------------------------------------------------------------------------------------------------
VERSION = "2.0.14"


def cc_usage(t):
    return {
        "input_tokens": t["input"],
        "cache_creation_input_tokens": t["cw5m"] + t["cw1h"],
        "cache_read_input_tokens": t["cache_read"],
        "cache_creation": {"ephemeral_5m_input_tokens": t["cw5m"], "ephemeral_1h_input_tokens": t["cw1h"]},
        "output_tokens": t["output"],
        "service_tier": "standard",
    }


def cc_common(parent, uuid, ts, session, cwd, sidechain=False, agent=None):
    d = {"parentUuid": parent, "isSidechain": sidechain, "userType": "external", "cwd": cwd, "sessionId": session,
         "version": VERSION, "gitBranch": "main"}
    if agent:
        d["agentId"] = agent
    return d, {"uuid": uuid, "timestamp": ts}


def cc_assistant(parent, uuid, ts, session, cwd, mid, req, model, t, content, sidechain=False, agent=None, stop=None):
    head, tail = cc_common(parent, uuid, ts, session, cwd, sidechain, agent)
    head["message"] = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
                       "stop_reason": stop, "stop_sequence": None, "usage": cc_usage(t)}
    head["requestId"] = req
    head["type"] = "assistant"
    head.update(tail)
    return head


def cc_user(parent, uuid, ts, session, cwd, content, tool_result=None, sidechain=False, agent=None):
    head, tail = cc_common(parent, uuid, ts, session, cwd, sidechain, agent)
    head["type"] = "user"
    head["message"] = {"role": "user", "content": content}
    head.update(tail)
    if tool_result is not None:
        head["toolUseResult"] = tool_result
    return head


def claude_code():
    S1 = "3f6c2a1e-8b4d-4c2f-9e7a-1d5b6c7e8f90"
    S2 = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"  # resumed from S1
    S3 = "c0ffee00-1234-4abc-8def-0123456789ab"
    CWD1 = "/home/alice/src/search-api"
    CWD2 = "/home/bob/src/billing-svc"
    D1 = "claude-code/projects/-home-alice-src-search-api/"
    D2 = "claude-code/projects/-home-bob-src-billing-svc/"
    SON = "claude-sonnet-4-5-20250929"

    tA = lambda out: T(inp=3, cr=10000, w5=2000, out=out)
    tB = T(inp=5, cr=12000, w1=1000, out=300)
    tC = T(inp=50, cr=5000, w5=1000, out=200)
    tD = T(inp=10, cr=30000, out=600)
    tE = T(inp=8, cr=15000, w5=500, out=250)
    MA, RA = "msg_01FxCcStreamA0000000001", "req_011FxCcRequestA00000001"
    MB, RB = "msg_01FxCcSecondB0000000002", "req_011FxCcRequestB00000002"
    MC, RC = "msg_01FxCcSubagentC00000003", "req_011FxCcRequestC00000003"
    MD, RD = "msg_01FxCcSpacedD0000000004", "req_011FxCcRequestD00000004"
    ME, RE = "msg_01FxCcResumedE00000005", "req_011FxCcRequestE00000005"

    u = ["a0000000-0000-4000-8000-0000000000%02d" % i for i in range(40)]
    s1 = [
        {"type": "summary", "summary": "Fix flaky ranking test in search-api", "leafUuid": u[9]},
        cc_user(None, u[1], "2026-10-12T09:00:00.000Z", S1, CWD1, "The ranking test fails on CI about one run in five. Lorem ipsum dolor sit amet."),
        cc_assistant(u[1], u[2], "2026-10-12T09:00:03.100Z", S1, CWD1, MA, RA, SON, tA(10),
                     [{"type": "thinking", "thinking": "Lorem ipsum: look at the test first.", "signature": "Fxsig0001"}]),
        cc_assistant(u[2], u[3], "2026-10-12T09:00:05.200Z", S1, CWD1, MA, RA, SON, tA(150),
                     [{"type": "text", "text": "I'll read the test file first."}]),
        cc_assistant(u[3], u[4], "2026-10-12T09:00:08.300Z", S1, CWD1, MA, RA, SON, tA(420),
                     [{"type": "tool_use", "id": "toolu_01FxRead0001", "name": "Read", "input": {"file_path": CWD1 + "/tests/test_rank.py"}}],
                     stop="tool_use"),
        cc_user(u[4], u[5], "2026-10-12T09:00:08.900Z", S1, CWD1,
                [{"tool_use_id": "toolu_01FxRead0001", "type": "tool_result", "content": "     1\timport random\n     2\tdef test_rank():\n     3\t    assert rank(sample()) == EXPECTED\n"}],
                tool_result={"type": "text", "file": {"filePath": CWD1 + "/tests/test_rank.py", "content": "import random\n", "numLines": 3, "startLine": 1, "totalLines": 3}}),
        cc_assistant(u[5], u[6], "2026-10-12T09:00:15.000Z", S1, CWD1, MB, RB, SON, tB,
                     [{"type": "text", "text": "The test depends on an unseeded random sample; I will seed it."}], stop="end_turn"),
        cc_user(u[6], u[7], "2026-10-12T09:01:00.000Z", S1, CWD1, "Thanks, that's all."),
        cc_assistant(u[7], u[8], "2026-10-12T09:01:00.500Z", S1, CWD1, "8c1d2e3f-0000-4000-8000-synthetic0001", None, "<synthetic>", T(),
                     [{"type": "text", "text": "No response requested."}], stop="stop_sequence"),
        cc_user(u[8], u[9], "2026-10-12T09:01:30.000Z", S1, CWD1,
                [{"type": "tool_result", "tool_use_id": "toolu_01FxTask0002", "content": [{"type": "text", "text": "Subagent finished: 3 call sites of rank() found."}]}],
                tool_result={"status": "completed", "totalDurationMs": 4200}),
    ]
    del s1[8]["requestId"]  # synthetic lines carry no requestId
    s1[8]["isApiErrorMessage"] = False
    write(D1 + S1 + ".jsonl", "".join(dumps(x) + "\n" for x in s1))
    F = "claude-code/projects/-home-alice-src-search-api/" + S1 + ".jsonl"
    for ln, out in ((3, 10), (4, 150), (5, 420)):
        row(F, ln, MA + " / " + RA, SON, "standard", tA(out) if ln == 5 else T(), s1[ln - 1]["timestamp"],
            "streaming partial %d of 3 (output %d): keep only the LARGEST, line 5 (output 420)" % (ln - 2, out) if ln == 5 else
            "streaming partial (output_tokens %d) of the same message.id+requestId: superseded by line 5, counts 0" % out)
    row(F, 7, MB + " / " + RB, SON, "standard", tB, s1[6]["timestamp"], "1-hour cache write (also copied into the resumed session " + S2 + ")")
    row(F, 9, "<synthetic>", "<synthetic>", "-", T(), s1[8]["timestamp"], "model `<synthetic>`: not billable, no record (no requestId)")
    row(F, 1, "summary", "-", "-", T(), "-", "`type: summary` line: no usage")

    sub = [
        cc_user(None, u[20], "2026-10-12T09:01:10.000Z", S1, CWD1, "Find every call site of rank().", sidechain=True, agent="fx0sub01"),
        cc_assistant(u[20], u[21], "2026-10-12T09:01:20.000Z", S1, CWD1, MC, RC, "claude-haiku-4-5-20251001", tC,
                     [{"type": "text", "text": "Found 3 call sites of rank()."}], sidechain=True, agent="fx0sub01", stop="end_turn"),
    ]
    write(D1 + S1 + "/subagents/agent-1.jsonl", "".join(dumps(x) + "\n" for x in sub))
    row(D1 + S1 + "/subagents/agent-1.jsonl", 2, MC + " / " + RC, "claude-haiku-4-5-20251001", "standard", tC, sub[1]["timestamp"],
        "SUBAGENT (isSidechain true, in `<session>/subagents/`): counts")

    # resumed session: history copied from S1 (line with MB/RB), then new work
    copied = dict(s1[6])
    copied["sessionId"] = S2
    s2 = [
        copied,
        cc_user(u[6], u[30], "2026-10-13T10:00:00.000Z", S2, CWD1, "Continue: also seed the fixture loader."),
        cc_assistant(u[30], u[31], "2026-10-13T10:00:06.000Z", S2, CWD1, ME, RE, SON, tE,
                     [{"type": "text", "text": "Seeded the loader as well."}], stop="end_turn"),
    ]
    write(D1 + S2 + ".jsonl", "".join(dumps(x) + "\n" for x in s2))
    F2 = D1 + S2 + ".jsonl"
    row(F2, 1, MB + " / " + RB, SON, "standard", T(), copied["timestamp"],
        "RESUMED session: copy of " + S1 + ".jsonl line 7 (same message.id + requestId, other sessionId): duplicate, counts 0")
    row(F2, 3, ME + " / " + RE, SON, "standard", tE, s2[2]["timestamp"], "new message of the resumed session")

    s3 = [
        cc_user(None, u[35], "2026-10-14T16:00:00.000Z", S3, CWD2, "Explain the invoice rounding code."),
        cc_assistant(u[35], u[36], "2026-10-14T16:00:09.000Z", S3, CWD2, MD, RD, "claude-opus-4-1-20250805", tD,
                     [{"type": "text", "text": "Invoices round half-even at the line level. Lorem ipsum."}], stop="end_turn"),
    ]
    write(D2 + S3 + ".jsonl", "".join(dumps(x, spaced=True) + "\n" for x in s3))
    row(D2 + S3 + ".jsonl", 2, MD + " / " + RD, "claude-opus-4-1-20250805", "standard", tD, s3[1]["timestamp"],
        "file written with SPACED JSON (`\"key\": value`): detection must not rely on `\"type\":\"assistant\"` byte patterns")

    # partials that arrive out of order (a log merged or rewritten): the largest copy is in the middle,
    # so neither "first copy wins" nor "last copy wins" gives its numbers
    S4 = "5e55a10e-0000-4000-8000-00000000f1f0"
    CWD4 = "/home/carol/src/notes"
    D4 = "claude-code/largest-first/projects/-home-carol-src-notes/"
    MF, RF = "msg_01FxCcLargestF00000006", "req_011FxCcRequestF00000006"
    tF = lambda out: T(inp=4, cr=8000, out=out)
    s4 = [cc_user(None, u[10], "2026-10-16T11:00:00.000Z", S4, CWD4, "Summarise the meeting notes.")]
    for i, (ts, out) in enumerate((("2026-10-16T11:00:02.000Z", 100), ("2026-10-16T11:00:06.000Z", 500),
                                   ("2026-10-16T11:00:04.000Z", 40))):
        s4.append(cc_assistant(u[10 + i], u[11 + i], ts, S4, CWD4, MF, RF, SON, tF(out),
                               [{"type": "text", "text": "Lorem ipsum dolor sit amet."}]))
    write(D4 + S4 + ".jsonl", "".join(dumps(x) + "\n" for x in s4))
    for ln, out in ((2, 100), (3, 500), (4, 40)):
        row(D4 + S4 + ".jsonl", ln, MF + " / " + RF, SON, "standard", tF(out) if out == 500 else T(), s4[ln - 1]["timestamp"],
            "LARGEST partial (output 500) between a smaller first (100) and a smaller last (40) copy: counts" if out == 500 else
            "partial (output %d) of the same message.id+requestId: the larger line 3 wins, counts 0" % out)

    b1 = cc_user(None, u[37], "2026-10-15T08:00:00.000Z", S3, CWD2, "hello")
    b2 = dumps(cc_assistant(u[37], u[38], "2026-10-15T08:00:02.000Z", S3, CWD2, "msg_01FxCcBroken0000000006", "req_011FxCcRequestF00000006",
                            SON, T(inp=10, out=20), [{"type": "text", "text": "hi"}]))
    b2 = b2[: b2.index('"usage"') + 25]
    b3 = cc_assistant(u[38], u[39], "2026-10-15T08:00:04.000Z", S3, CWD2, "msg_01FxCcBroken0000000007", "req_011FxCcRequestG00000007",
                      SON, T(inp=10, out=30), [{"type": "text", "text": "ok"}], stop="end_turn")
    write("claude-code/broken/bad.jsonl", dumps(b1) + "\n" + b2 + "\n" + dumps(b3) + "\n")


# ---------------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------------
def table_md(file):
    rows = sorted(TABLES[file], key=lambda r: r["line"])
    out = ["| # | id | model | tier | uncached in | cache read | write 5m | write 1h | output | reasoning | web search | time (UTC) | trap |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    tot = T()
    for r in rows:
        t = r["t"]
        for k in tot:
            tot[k] += t[k]
        out.append("| %d | `%s` | %s | %s | %d | %d | %d | %d | %d | %d | %d | %s | %s |" % (
            r["line"], r["id"], r["model"], r["tier"], t["input"], t["cache_read"], t["cw5m"], t["cw1h"], t["output"],
            t["reasoning"], t["web_search"], r["when"], r["note"]))
    out.append("| | **total** | | | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | | |" % (
        tot["input"], tot["cache_read"], tot["cw5m"], tot["cw1h"], tot["output"], tot["reasoning"], tot["web_search"]))
    return "\n".join(out) + "\n"


def main():
    api_log()
    openai_usage()
    anthropic_usage()
    claude_code()
    tmpl_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_readme.md.in")
    with open(tmpl_path, encoding="utf-8") as f:
        tmpl = f.read()
    out = []
    for line in tmpl.splitlines(keepends=True):
        if line.startswith("@@TABLE "):
            out.append(table_md(line.split(" ", 1)[1].strip()))
        else:
            out.append(line)
    write("README.md", "".join(out))
    used = {l.split(" ", 1)[1].strip() for l in tmpl.splitlines() if l.startswith("@@TABLE ")}
    missing = set(TABLES) - used
    if missing:
        sys.exit("README template lacks tables for: %s" % sorted(missing))


if __name__ == "__main__":
    main()
