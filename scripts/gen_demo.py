#!/usr/bin/env python3
"""Regenerates fixtures/demo/: one month (2026-10-01 .. 2026-10-31 UTC) of AI usage of a fictional
company with six teams, as the four inputs aispend reads. Byte-for-byte identical on every run
(fixed seed, fixed dates, gzip without name or mtime). Python 3.11 standard library only.

    python3 scripts/gen_demo.py [OUT_DIR]        # default: <repo>/fixtures/demo

Teams and the door each uses (inputs are DISJOINT: every request appears in exactly one input):
  search, support, growth  -> API gateway logs        api-logs/*.jsonl[.gz]   (envelope with team/project/user)
  data, research (OpenAI)  -> OpenAI Usage API pages   openai-usage/*.json    (projects mapped in aispend.toml)
  research (Anthropic)     -> Anthropic usage_report   anthropic-usage/*.json (workspace mapped in aispend.toml)
  platform                 -> Claude Code logs         claude-code/projects/  (cwd basename mapped in aispend.toml)
Story: weekday/weekend seasonality everywhere; search steps up from 2026-10-15 (ranker v2 on Claude);
data runs a batch backfill on 2026-10-21 (the spike day).
Invoice side (not usage: amounts only), derived from the usage pages without random numbers:
  openai-costs/*.json     OpenAI Costs API pages for the data and research projects (gpt-4.1-mini billed 8%
                          above our table from 2026-10-20: a price drift for `report --reconcile` to flag)
  anthropic-cost/*.json   Anthropic cost_report pages for the research workspace (priority tier billed at 1.5x
                          standard; our table has no priority rate)
"""
import calendar
import gzip
import io
import json
import os
import random
import shutil
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SEED = 20261001
MONTH_START = date(2026, 10, 1)
DAYS = [MONTH_START + timedelta(days=i) for i in range(31)]
STEP_DAY = date(2026, 10, 15)   # search: ranker v2 launch
SPIKE_DAY = date(2026, 10, 21)  # data: batch backfill

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"

LOREM = [
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi.",
    "Duis aute irure dolor in reprehenderit in voluptate velit esse.",
    "Excepteur sint occaecat cupidatat non proident, sunt in culpa.",
    "Curabitur pretium tincidunt lacus, nulla gravida orci a odio.",
    "Nullam varius, turpis et commodo pharetra, est eros bibendum elit.",
    "Integer in mauris eu nibh euismod gravida; duis ac tellus et risus.",
    "Praesent blandit dolor, sed non quam in vel mi sit amet augue.",
    "Aenean lectus elit, fermentum non, convallis id, sagittis at, neque.",
]

rng = random.Random(SEED)


def rid(alphabet, n):
    return "".join(rng.choices(alphabet, k=n))


def text(lo=1, hi=3):
    return " ".join(rng.choice(LOREM) for _ in range(rng.randint(lo, hi)))


def u(a, b):
    return rng.randint(a, b)


def round_to(x, m):
    return (x // m) * m


def unix(d, secs=0):
    return calendar.timegm(d.timetuple()) + secs


def iso_ms(epoch_ms):
    s, ms = divmod(epoch_ms, 1000)
    return datetime.fromtimestamp(s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % ms


def dumps(obj, spaced=False):
    if spaced:
        return json.dumps(obj, ensure_ascii=False)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def weekend(d):
    return d.weekday() >= 5


def day_time_ms(d, profile="office"):
    """A time of day in ms, shaped like office hours (UTC, Europe/US overlap) with a night tail."""
    if profile == "office" and rng.random() < 0.85:
        secs = int(rng.triangular(7 * 3600, 19 * 3600, 13 * 3600))
    else:
        secs = u(0, 86399)
    return unix(d, secs) * 1000 + u(0, 999)


# ====================================================================================================
# API gateway logs (search, support, growth)
# ====================================================================================================
FINGERPRINTS = ["fp_07871e2ad8", "fp_b3f1157249", "fp_6b68a8204b", "fp_50cad350e4"]


def openai_chat(model, created, prompt, cached, completion, reasoning, tier):
    return {
        "id": "chatcmpl-" + rid(B62, 29),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text(), "refusal": None, "annotations": []},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": tier,
        "system_fingerprint": rng.choice(FINGERPRINTS),
    }


def openai_response(model, created, inp, cached, out, reasoning, tier):
    h = rid(HEX, 48)
    output = []
    if reasoning:
        output.append({"id": "rs_" + h, "type": "reasoning", "summary": []})
    output.append({"id": "msg_" + h, "type": "message", "status": "completed",
                   "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text()}], "role": "assistant"})
    return {
        "id": "resp_" + h,
        "object": "response",
        "created_at": created,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": output,
        "reasoning": {"effort": "medium", "summary": None},
        "service_tier": tier,
        "store": False,
        "usage": {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": out,
                  "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": inp + out},
        "user": None,
        "metadata": {},
    }


def anthropic_msg(model, inp, cr, w5, w1, out, web=0, tier="standard"):
    usage = {"input_tokens": inp, "cache_creation_input_tokens": w5 + w1, "cache_read_input_tokens": cr,
             "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}, "output_tokens": out}
    if web:
        usage["server_tool_use"] = {"web_search_requests": web, "web_fetch_requests": 0}
    usage["service_tier"] = tier
    return {"id": "msg_01" + rid(B58, 22), "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text()}], "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}


def gemini(model, prompt, cached, cand, thoughts):
    um = {"promptTokenCount": prompt, "candidatesTokenCount": cand, "totalTokenCount": prompt + cand + thoughts}
    if cached:
        um["cachedContentTokenCount"] = cached
    um["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if cached:
        um["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        um["thoughtsTokenCount"] = thoughts
    return {"candidates": [{"content": {"parts": [{"text": text()}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": um, "modelVersion": model, "responseId": rid(B62 + "-_", 23)}


def openai_cached(prompt, p_hit, lo, hi):
    """OpenAI caches the prompt prefix in 128-token steps from 1024 up."""
    if prompt < 1024 or rng.random() > p_hit:
        return 0
    return max(1024, round_to(int(prompt * rng.uniform(lo, hi)), 128))


# profile functions -> (provider, response, latency_ms)
def p_query_rewrite(created):
    prompt = u(1100, 2600)
    comp = u(40, 180)
    return "openai", openai_chat("gpt-4.1-mini", created, prompt, openai_cached(prompt, 0.6, 0.5, 0.9), comp, 0, "default"), 250 + comp * 6


def p_ranker(created):
    prompt = u(12000, 48000)
    comp = u(150, 600)
    tier = "priority" if rng.random() < 0.06 else "default"
    return "openai", openai_chat("gpt-4.1", created, prompt, openai_cached(prompt, 0.85, 0.45, 0.85), comp, 0, tier), 600 + comp * 12


def p_ranker_v2(created):
    w5 = u(3000, 9000) if rng.random() < 0.15 else 0
    out = u(200, 700)
    return "anthropic", anthropic_msg("claude-sonnet-4-5-20250929", u(800, 4000), u(15000, 45000), w5, 0, out), 900 + out * 18


def p_semantic_index(created):
    prompt = u(3000, 12000)
    cached = round_to(int(prompt * rng.uniform(0.3, 0.7)), 1) if rng.random() < 0.5 else 0
    thoughts = u(0, 1200) if rng.random() < 0.7 else 0
    cand = u(100, 400)
    return "google", gemini("gemini-2.5-flash", prompt, cached, cand, thoughts), 700 + (cand + thoughts) * 4


def p_helpdesk(created):
    r = rng.random()
    w5 = u(3000, 9000) if r < 0.12 else 0
    w1 = u(8000, 12000) if 0.12 <= r < 0.17 else 0
    cr = u(10000, 60000) if rng.random() < 0.85 else 0
    out = u(150, 800)
    web = u(1, 3) if rng.random() < 0.05 else 0
    return "anthropic", anthropic_msg("claude-sonnet-4-5-20250929", u(300, 2500), cr, w5, w1, out, web), 1200 + out * 20


def p_triage_haiku(created):
    out = u(30, 120)
    return "anthropic", anthropic_msg("claude-haiku-4-5-20251001", u(800, 3000), u(0, 4000), 0, 0, out), 400 + out * 8


def p_triage_mini(created):
    prompt = u(900, 3500)
    comp = u(20, 150)
    return "openai", openai_chat("gpt-4o-mini-2024-07-18", created, prompt, openai_cached(prompt, 0.5, 0.4, 0.8), comp, 0, "default"), 300 + comp * 7


def p_triage_flash(created):
    prompt = u(800, 2500)
    cand = u(20, 120)
    return "google", gemini("gemini-2.0-flash", prompt, 0, cand, 0), 250 + cand * 3


def p_summary(created):
    inp = u(2000, 9000)
    cached = openai_cached(inp, 0.5, 0.3, 0.6)
    reasoning = u(64, 900)
    out = reasoning + u(200, 700)
    return "openai", openai_response("gpt-5-mini", created, inp, cached, out, reasoning, "default"), 2000 + out * 9


def p_email(created):
    prompt = u(800, 2800)
    comp = u(200, 700)
    model = "gpt-4o-2024-08-06" if rng.random() < 0.6 else "gpt-4o"
    return "openai", openai_chat(model, created, prompt, openai_cached(prompt, 0.4, 0.4, 0.8), comp, 0, "default"), 500 + comp * 10


def p_seo_gpt5(created):
    inp = u(1500, 5000)
    reasoning = u(400, 2500)
    out = reasoning + u(600, 1800)
    return "openai", openai_response("gpt-5", created, inp, openai_cached(inp, 0.3, 0.3, 0.7), out, reasoning, "default"), 5000 + out * 12


def p_seo_flex(created):
    prompt = u(2000, 6000)
    reasoning = u(300, 3000)
    comp = reasoning + u(300, 900)
    return "openai", openai_chat("o4-mini", created, prompt, openai_cached(prompt, 0.3, 0.3, 0.6), comp, reasoning, "flex"), 15000 + comp * 20


def p_opus(created):
    out = u(500, 1600)
    return "anthropic", anthropic_msg("claude-opus-4-1-20250805", u(2000, 7000), u(0, 5000), 0, 0, out), 3000 + out * 35


def p_exp_flash(created):
    prompt = u(1000, 5000)
    cand = u(100, 600)
    return "google", gemini("gemini-2.5-flash", prompt, 0, cand, u(0, 800)), 600 + cand * 4


def p_gpt9(created):
    prompt = u(1000, 3000)
    comp = u(200, 600)
    return "openai", openai_chat("gpt-9-preview", created, prompt, 0, comp, 0, "default"), 1500 + comp * 10


def p_long_claude(created):
    out = u(800, 2500)
    return "anthropic", anthropic_msg("claude-sonnet-4-5-20250929", u(210000, 320000), 0, 0, 0, out), 60000 + out * 25


def p_long_gemini(created):
    prompt = u(220000, 400000)
    cand = u(800, 3000)
    return "google", gemini("gemini-2.5-pro", prompt, 0, cand, u(500, 4000)), 70000 + cand * 20


TEAMS_GW = {
    # team: (weekday base requests/day, weekend factor, [(weight, project, profile, first day or None)], users)
    "search": (70, 0.4, [(4, "query-rewrite", p_query_rewrite, None), (3, "ranker", p_ranker, None),
                         (2, "semantic-index", p_semantic_index, None), (4, "ranker", p_ranker_v2, STEP_DAY)],
               ["svc-search-api", "u-1042", "u-1077", "u-1103"]),
    "support": (45, 0.6, [(5, "helpdesk-bot", p_helpdesk, None), (2, "ticket-triage", p_triage_haiku, None),
                          (2, "ticket-triage", p_triage_mini, None), (1, "ticket-triage", p_triage_flash, None),
                          (2, "helpdesk-bot", p_summary, None)],
                ["svc-helpdesk", "u-2011", "u-2019"]),
    "growth": (22, 0.25, [(4, "email-personalize", p_email, None), (2, "seo-copy", p_seo_gpt5, None),
                          (1, "seo-copy", p_seo_flex, None), (1, "experiments", p_opus, None),
                          (1, "experiments", p_exp_flash, None)],
               ["u-3005", "u-3021", "svc-campaigns"]),
}
GW_SCALE = 2.5  # multiplies every base above
# fixed extras: (day, team, project, profile)
EXTRAS = [
    (date(2026, 10, 6), "search", "semantic-index", p_long_gemini),
    (date(2026, 10, 13), "search", "semantic-index", p_long_gemini),
    (date(2026, 10, 27), "search", "semantic-index", p_long_gemini),
    (date(2026, 10, 16), "search", "ranker", p_long_claude),
    (date(2026, 10, 22), "search", "ranker", p_long_claude),
    (date(2026, 10, 29), "search", "ranker", p_long_claude),
    (date(2026, 10, 20), "growth", "experiments", p_gpt9),
    (date(2026, 10, 20), "growth", "experiments", p_gpt9),
    (date(2026, 10, 21), "growth", "experiments", p_gpt9),
    (date(2026, 10, 23), "growth", "experiments", p_gpt9),
]


def error_body(provider, status):
    if provider == "openai":
        if status == 429:
            return {"error": {"message": "Rate limit reached for requests per min (RPM). Please try again in 2s.",
                              "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
        return {"error": {"message": "The server had an error while processing your request. Sorry about that!",
                          "type": "server_error", "param": None, "code": None}}
    if provider == "anthropic":
        kind = "rate_limit_error" if status == 429 else "api_error"
        msg = "Number of request tokens has exceeded your per-minute rate limit" if status == 429 else "Internal server error"
        return {"type": "error", "error": {"type": kind, "message": msg}, "request_id": "req_011C" + rid(B58, 20)}
    if status == 429:
        return {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}
    return {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}


def gateway_line(ts_ms, team, project, user, profile):
    created = ts_ms // 1000
    provider, resp, latency = profile(created)
    latency = int(latency * rng.uniform(0.7, 1.4))
    # the gateway stamps the time the response came back; the response's own clock is when it started
    if "created" in resp:
        resp["created"] = (ts_ms - latency) // 1000
    if "created_at" in resp:
        resp["created_at"] = (ts_ms - latency) // 1000
    status = 200
    if rng.random() < 0.01:
        status = 429 if rng.random() < 0.7 else 500
        resp = error_body(provider, status)
        latency = u(30, 400) if status == 429 else u(1000, 30000)
    env = {"timestamp": iso_ms(ts_ms), "team": team, "project": project, "user": user,
           "tags": {"env": "staging" if rng.random() < 0.015 else "prod"}, "provider": provider, "status": status,
           "latency_ms": latency, "request_id": "req_" + rid(HEX, 24), "response": resp}
    return ts_ms, env


def gen_gateway():
    lines = []
    for d in DAYS:
        for team, (base, wk, profiles, users) in TEAMS_GW.items():
            n = GW_SCALE * base * (wk if weekend(d) else 1.0)
            if team == "search" and d >= STEP_DAY:
                n *= 1.8
            n = max(1, int(round(n * rng.uniform(0.85, 1.15))))
            live = [(w, p, f) for (w, p, f, first) in profiles if first is None or d >= first]
            weights = [w for w, _, _ in live]
            for _ in range(n):
                _, project, prof = rng.choices(live, weights)[0]
                lines.append(gateway_line(day_time_ms(d), team, project, rng.choice(users), prof))
        for (xd, team, project, prof) in EXTRAS:
            if xd == d:
                lines.append(gateway_line(day_time_ms(d), team, project, rng.choice(TEAMS_GW[team][3]), prof))
    lines.sort(key=lambda x: x[0])
    return lines


# ====================================================================================================
# OpenAI Usage API pages (data, research)
# ====================================================================================================
OAI_PROJECTS = {
    "proj_Dq7Kt2Lm9NpXw4Rb": ("data", "pipeline", ["key_PipeNightly01Ab", "key_PipeAdhoc02Cd"]),
    "proj_Df3Hs8Vc1ZqYe6Tn": ("data", "enrichment", ["key_Enrich03Ef"]),
    "proj_Rx5Wb9Mk4GtJu2Lp": ("research", "evals", ["key_EvalsRunner04Gh", "key_NotebookKey05Ij"]),
}


def oai_row(project, key, model, batch, tier, requests, uncached, cached, out):
    return {"object": "organization.usage.completions.result", "input_tokens": uncached + cached,
            "output_tokens": out, "input_cached_tokens": cached, "input_uncached_tokens": uncached,
            "input_cache_write_tokens": 0, "input_audio_tokens": 0, "output_audio_tokens": 0,
            "num_model_requests": requests, "project_id": project, "user_id": None, "api_key_id": key,
            "model": model, "batch": batch, "service_tier": tier}


def vary(x, lo=0.85, hi=1.15):
    return int(x * rng.uniform(lo, hi))


def gen_openai_usage():
    P_PIPE, P_ENR, P_RES = list(OAI_PROJECTS)
    buckets = []
    for d in DAYS:
        rows = []
        wk = weekend(d)
        # data: nightly batch pipeline runs every day; the backfill on SPIKE_DAY is ~6x
        f = 6.0 if d == SPIKE_DAY else (0.8 if wk else 1.0)
        for model, req, pin, pout in (("gpt-4o-mini-2024-07-18", 30000, 1500, 180), ("gpt-4.1-mini", 22000, 2200, 350),
                                      ("gpt-5-mini", 6000, 3000, 900)):
            r = vary(req * f)
            rows.append(oai_row(P_PIPE, "key_PipeNightly01Ab", model, True, "default", r, vary(r * pin), 0, vary(r * pout)))
        if not wk:
            r = vary(1200)
            unc = vary(r * 1400)
            rows.append(oai_row(P_PIPE, "key_PipeAdhoc02Cd", "gpt-4.1-mini", False, "default", r, unc, round_to(vary(unc * 0.6), 128), vary(r * 250)))
        ef = 0.3 if wk else 1.0
        r = vary(1500 * ef)
        unc = vary(r * 2600)
        rows.append(oai_row(P_ENR, "key_Enrich03Ef", "gpt-4.1", False, "default", r, unc, round_to(vary(unc * 1.4), 128), vary(r * 320)))
        r = vary(4000 * ef)
        rows.append(oai_row(P_ENR, "key_Enrich03Ef", "gpt-4o-mini-2024-07-18", False, "default", r, vary(r * 1800), 0, vary(r * 150)))
        # research: evals (o3 default + flex), gpt-5, notebook usage on weekdays
        rf = 0.25 if wk else 1.0
        r = vary(350 * rf)
        unc = vary(r * 6000)
        rows.append(oai_row(P_RES, "key_EvalsRunner04Gh", "o3", False, "default", r, unc, round_to(vary(unc * 0.4), 128), vary(r * 4200)))
        r = vary(700 * rf)
        unc = vary(r * 6000)
        rows.append(oai_row(P_RES, "key_EvalsRunner04Gh", "o3", False, "flex", r, unc, round_to(vary(unc * 0.4), 128), vary(r * 4200)))
        r = vary(250 * rf)
        unc = vary(r * 5000)
        rows.append(oai_row(P_RES, "key_EvalsRunner04Gh", "gpt-5", False, "default", r, unc, round_to(vary(unc * 0.3), 128), vary(r * 3500)))
        if not wk:
            r = vary(120)
            rows.append(oai_row(P_RES, "key_NotebookKey05Ij", "gpt-4.1", False, "default", r, vary(r * 3000), 0, vary(r * 500)))
            if d.day % 3 == 0:
                r = vary(40)
                rows.append(oai_row(P_RES, "key_NotebookKey05Ij", "gpt-5", False, "priority", r, vary(r * 4000), 0, vary(r * 3000)))
        s = unix(d)
        buckets.append({"object": "bucket", "start_time": s, "end_time": s + 86400, "results": rows})
    pages = []
    for i in range(0, len(buckets), 7):
        n = i // 7 + 1
        more = i + 7 < len(buckets)
        pages.append({"object": "page", "data": buckets[i:i + 7], "has_more": more, "next_page": ("page_%d" % (n + 1)) if more else None})
    return pages


# ====================================================================================================
# Anthropic usage_report/messages pages (research workspace)
# ====================================================================================================
ANTH_WS = "wrkspc_01JwResearchK4vT8pQ2mZ"
ANTH_KEYS = ["apikey_01EvalsHarnessR7cW2xN9", "apikey_01NotebooksLb5Hq3Ys8"]
LONG_DAYS = {date(2026, 10, 7), date(2026, 10, 8), date(2026, 10, 14), date(2026, 10, 21), date(2026, 10, 28)}


def anth_row(key, model, tier, cw, unc, cr, w5, w1, out, web=0):
    return {"uncached_input_tokens": unc, "cache_creation": {"ephemeral_1h_input_tokens": w1, "ephemeral_5m_input_tokens": w5},
            "cache_read_input_tokens": cr, "output_tokens": out, "server_tool_use": {"web_search_requests": web},
            "api_key_id": key, "workspace_id": ANTH_WS, "model": model, "service_tier": tier, "context_window": cw}


def gen_anthropic_usage():
    buckets = []
    for d in DAYS:
        wk = weekend(d)
        f = 0.25 if wk else 1.0
        ev, nb = ANTH_KEYS
        rows = [
            anth_row(ev, "claude-sonnet-4-5-20250929", "standard", "0-200k", vary(2500000 * f), vary(22000000 * f),
                     vary(1300000 * f), vary(250000 * f), vary(700000 * f), vary(60 * f)),
            anth_row(ev, "claude-haiku-4-5-20251001", "batch", "0-200k", vary(18000000 * (0.5 if wk else 1)), 0, 0, 0,
                     vary(1800000 * (0.5 if wk else 1))),
        ]
        if not wk:
            rows.append(anth_row(nb, "claude-opus-4-1-20250805", "standard", "0-200k", vary(250000), vary(3500000),
                                 vary(180000), vary(40000), vary(90000)))
            rows.append(anth_row(nb, "claude-sonnet-4-20250514", "standard", "0-200k", vary(400000), vary(2000000),
                                 vary(100000), 0, vary(120000), vary(10)))
        if d in LONG_DAYS:
            rows.append(anth_row(ev, "claude-sonnet-4-5-20250929", "standard", "200k-1M", vary(2400000), vary(600000),
                                 vary(250000), 0, vary(40000)))
        if d.weekday() == 2:  # Wednesdays: a priority-tier benchmark run
            rows.append(anth_row(ev, "claude-sonnet-4-5-20250929", "priority", "0-200k", vary(300000), vary(1500000),
                                 vary(60000), 0, vary(90000)))
        nxt = d + timedelta(days=1)
        buckets.append({"starting_at": d.isoformat() + "T00:00:00Z", "ending_at": nxt.isoformat() + "T00:00:00Z", "results": rows})
    pages = []
    for i in range(0, len(buckets), 7):
        n = i // 7 + 1
        more = i + 7 < len(buckets)
        pages.append({"data": buckets[i:i + 7], "has_more": more, "next_page": ("page_%d" % (n + 1)) if more else None})
    return pages


# ====================================================================================================
# Invoice side: OpenAI Costs API pages and Anthropic cost_report pages, for the SAME usage as above
# ====================================================================================================
# These are derived from the usage pages (no random numbers: the usage files stay byte-identical). They are
# the provider's bill for that usage, at the list prices below (copied from pricing/openai.toml and
# pricing/anthropic.toml, reviewed 2026-11-27; hard-coded on purpose: an invoice does not change when our
# tables do). Two deliberate differences from our tables, so that `report --reconcile` has something to say:
#   - DRIFT: OpenAI bills gpt-4.1-mini 8% above our table from DRIFT_DAY on (a mid-month price change);
#   - Anthropic bills the `priority` tier at 1.5x standard: our table has no priority rate (those usage rows
#     are unpriced, so the days show as a mismatch with "(1 unpriced)").
D = Decimal
M = D(1000000)
DRIFT_DAY = date(2026, 10, 20)
DRIFT_MODEL = "gpt-4.1-mini"
DRIFT_FACTOR = D("1.08")
INVOICE_PAGE_LIMIT = 16  # buckets per page (limit=16): two pages for the month, and the demo stays under 2 MB

# OpenAI, USD per 1M tokens: model -> (input, cached input, output, {tier: (input, cached, output)})
OAI_PRICES = {
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.60", {"priority": ("0.25", "0.125", "1")}),
    "gpt-4.1-mini": ("0.40", "0.10", "1.60", {"priority": ("0.70", "0.175", "2.80")}),
    "gpt-4.1": ("2", "0.50", "8", {"priority": ("3.50", "0.875", "14")}),
    "gpt-5-mini": ("0.25", "0.025", "2", {"priority": ("0.45", "0.045", "3.60")}),
    "gpt-5": ("1.25", "0.125", "10", {"priority": ("2.50", "0.25", "20")}),
    "o3": ("2", "0.50", "8", {"priority": ("3.50", "0.875", "14")}),
}
OAI_DISCOUNT = {"batch": D("0.5"), "flex": D("0.5")}


def oai_rates(model, batch, tier):
    """(input, cached, output) rates per 1M tokens, and the line item suffix."""
    inp, cached, out, own = OAI_PRICES[model]
    if batch:
        return tuple(D(x) * OAI_DISCOUNT["batch"] for x in (inp, cached, out)), " (batch)"
    if tier in OAI_DISCOUNT:
        return tuple(D(x) * OAI_DISCOUNT[tier] for x in (inp, cached, out)), " (%s)" % tier
    if tier in own:
        return tuple(D(x) for x in own[tier]), " (%s)" % tier
    return (D(inp), D(cached), D(out)), ""


def paged(buckets, head, limit=INVOICE_PAGE_LIMIT):
    """Pages of `limit` buckets, chained by has_more / next_page."""
    pages = []
    for i in range(0, len(buckets), limit):
        n = i // limit + 1
        more = i + limit < len(buckets)
        pages.append(dict(head, data=buckets[i:i + limit], has_more=more, next_page=("page_%d" % (n + 1)) if more else None))
    return pages


def usd_number(x):
    """A dollar amount rounded to 6 decimals, as the float the API writes (JSON number)."""
    q = x.quantize(D("0.000001"), rounding=ROUND_HALF_EVEN)
    f = float(q)
    assert D(repr(f)) == q, (x, q, f)  # the JSON text is the 6-decimal amount, exactly
    return f


def gen_openai_costs(usage_pages):
    """GET /v1/organization/costs pages, bucket_width=1d, group_by=project_id,line_item: one result per
    project x line item per day (a line item is model, token kind and tier), zero amounts left out."""
    buckets = []
    for page in usage_pages:
        for b in page["data"]:
            day = datetime.fromtimestamp(b["start_time"], timezone.utc).date()
            acc = {}  # (project, line item) -> exact dollars, in first-seen order
            for r in b["results"]:
                (ri, rc, ro), suffix = oai_rates(r["model"], r["batch"], r["service_tier"])
                drift = DRIFT_FACTOR if (r["model"] == DRIFT_MODEL and day >= DRIFT_DAY) else D(1)
                for kind, tokens, rate in (("input", r["input_uncached_tokens"], ri),
                                           ("cached input", r["input_cached_tokens"], rc),
                                           ("output", r["output_tokens"], ro)):
                    if tokens:
                        key = (r["project_id"], "%s, %s%s" % (r["model"], kind, suffix))
                        acc[key] = acc.get(key, D(0)) + D(tokens) * rate / M * drift
            results = [{"object": "organization.costs.result", "amount": {"value": usd_number(v), "currency": "usd"},
                        "line_item": item, "project_id": proj}
                       for (proj, item), v in sorted(acc.items())]
            buckets.append({"object": "bucket", "start_time": b["start_time"], "end_time": b["end_time"], "results": results})
    return paged(buckets, {"object": "page"})


# Anthropic, USD per 1M tokens: model -> (display name, input, output, long-context input, long-context output).
# Cache read 0.1x, 5m cache write 1.25x, 1h cache write 2x the input rate (of the long-context input rate on
# 200k-1M rows); batch 0.5x on every token rate; web search $10 per 1,000 searches.
ANTH_PRICES = {
    "claude-sonnet-4-5-20250929": ("Claude Sonnet 4.5", "3", "15", "6", "22.50"),
    "claude-sonnet-4-20250514": ("Claude Sonnet 4", "3", "15", "6", "22.50"),
    "claude-opus-4-1-20250805": ("Claude Opus 4.1", "15", "75", None, None),
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", "1", "5", None, None),
}
ANTH_TOKEN_TYPES = [  # (token_type, description suffix, usage-row getter, rate factor on input or "output")
    ("uncached_input_tokens", "Input Tokens", lambda r: r["uncached_input_tokens"], D(1)),
    ("output_tokens", "Output Tokens", lambda r: r["output_tokens"], "output"),
    ("cache_read_input_tokens", "Cache Read Tokens", lambda r: r["cache_read_input_tokens"], D("0.1")),
    ("cache_creation.ephemeral_5m_input_tokens", "Cache Write Tokens (5m)",
     lambda r: r["cache_creation"]["ephemeral_5m_input_tokens"], D("1.25")),
    ("cache_creation.ephemeral_1h_input_tokens", "Cache Write Tokens (1h)",
     lambda r: r["cache_creation"]["ephemeral_1h_input_tokens"], D(2)),
]
ANTH_TIER_FACTOR = {"standard": D(1), "batch": D("0.5"), "priority": D("1.5")}  # priority: NOT in our table
ANTH_WEB_SEARCH = D(10) / D(1000)


def cents_text(dollars):
    """Cents as the decimal string the cost report writes, at most 5 decimals."""
    c = (dollars * 100).quantize(D("0.00001"), rounding=ROUND_HALF_EVEN)
    t = format(c, "f")
    return t.rstrip("0").rstrip(".") if "." in t else t


def gen_anthropic_cost(usage_pages):
    """GET /v1/organizations/cost_report pages, bucket_width=1d, group_by[]=workspace_id,description: one
    `tokens` result per model x token type x tier x context window per day, plus one `web_search` result per
    day (model null, as the report writes it); zero amounts left out."""
    buckets = []
    for page in usage_pages:
        for b in page["data"]:
            acc = {}  # (workspace, model, tier, context window, token type) -> (description, exact dollars)
            searches = {}
            for r in b["results"]:
                name, inp, out, lc_inp, lc_out = ANTH_PRICES[r["model"]]
                long = r["context_window"] == "200k-1M"
                if long:
                    inp, out = lc_inp, lc_out
                tier = r["service_tier"]
                qual = {"batch": "Batch ", "priority": "Priority "}.get(tier, "") + ("Long Context " if long else "")
                for token_type, what, get, factor in ANTH_TOKEN_TYPES:
                    n = get(r)
                    if not n:
                        continue
                    rate = D(out) if factor == "output" else D(inp) * factor
                    key = (r["workspace_id"], r["model"], tier, r["context_window"], token_type)
                    desc = "%s %sUsage - %s" % (name, qual, what)
                    prev = acc.get(key, (desc, D(0)))[1]
                    acc[key] = (desc, prev + D(n) * rate * ANTH_TIER_FACTOR[tier] / M)
                web = r["server_tool_use"]["web_search_requests"]
                if web:
                    searches[r["workspace_id"]] = searches.get(r["workspace_id"], 0) + web
            results = []
            for (ws, model, tier, cw, token_type), (desc, v) in acc.items():
                results.append({"amount": cents_text(v), "currency": "USD", "workspace_id": ws, "description": desc,
                                "cost_type": "tokens", "model": model, "token_type": token_type, "service_tier": tier,
                                "context_window": cw})
            for ws, n in sorted(searches.items()):
                results.append({"amount": cents_text(D(n) * ANTH_WEB_SEARCH), "currency": "USD", "workspace_id": ws,
                                "description": "Web Search", "cost_type": "web_search", "model": None, "token_type": None,
                                "service_tier": None, "context_window": None})
            buckets.append({"starting_at": b["starting_at"], "ending_at": b["ending_at"], "results": results})
    return paged(buckets, {})


# ====================================================================================================
# Claude Code logs (platform)
# ====================================================================================================
CC_USERS = {
    # user: (repos, version, session probability on a weekday, model mix [(weight, model)], 1h cache writes)
    "dana": (["infra-tools", "k8s-operator"], "2.0.14", 0.4, [(5, "claude-opus-4-1-20250805"), (5, "claude-sonnet-4-5-20250929")], True),
    "eli": (["deploy-bot"], "2.0.21", 0.3, [(3, "claude-opus-4-1-20250805"), (7, "claude-sonnet-4-5-20250929")], False),
    "fay": (["infra-tools"], "2.0.8", 0.3, [(10, "claude-sonnet-4-5-20250929")], False),
}
TOOLS = [("Read", "file_path"), ("Bash", "command"), ("Grep", "pattern"), ("Edit", "file_path"), ("Glob", "pattern")]


def new_uuid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Session:
    def __init__(self, user, repo, version, sid, sidechain=False, agent=None):
        self.cwd = "/home/%s/src/%s" % (user, repo)
        self.version = version
        self.sid = sid
        self.parent = None
        self.sidechain = sidechain
        self.agent = agent
        self.lines = []

    def head(self, ts_ms):
        me = new_uuid()
        d = {"parentUuid": self.parent, "isSidechain": self.sidechain, "userType": "external", "cwd": self.cwd,
             "sessionId": self.sid, "version": self.version, "gitBranch": "main"}
        if self.agent:
            d["agentId"] = self.agent
        self.parent = me
        return d, {"uuid": me, "timestamp": iso_ms(ts_ms)}

    def user(self, ts_ms, content, tool_result=None):
        d, tail = self.head(ts_ms)
        d["type"] = "user"
        d["message"] = {"role": "user", "content": content}
        d.update(tail)
        if tool_result is not None:
            d["toolUseResult"] = tool_result
        self.lines.append(d)

    def assistant(self, ts_ms, mid, req, model, usage, content, stop):
        d, tail = self.head(ts_ms)
        d["message"] = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
                        "stop_reason": stop, "stop_sequence": None, "usage": usage}
        if req is not None:
            d["requestId"] = req
        d["type"] = "assistant"
        d.update(tail)
        self.lines.append(d)


def cc_usage(inp, cr, w5, w1, out):
    return {"input_tokens": inp, "cache_creation_input_tokens": w5 + w1, "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
            "output_tokens": out, "service_tier": "standard"}


def run_turns(s, t_ms, model, turns, ctx, use_1h, partial_p=0.3):
    """Appends turns of tool use to a session; returns (end time, context size)."""
    for k in range(turns):
        mid = "msg_01" + rid(B58, 22)
        req = "req_011C" + rid(B58, 20)
        new = u(800, 6000) if k else u(9000, 16000)
        w1 = new if (use_1h and k == 0) else 0
        w5 = 0 if w1 else new
        cr = ctx
        ctx += new + u(100, 900)
        out = u(60, 1400)
        inp = u(1, 9)
        tool, arg = rng.choice(TOOLS)
        tid = "toolu_01" + rid(B58, 22)
        t_ms += u(2000, 9000)
        if rng.random() < partial_p:  # streaming partials: same id+requestId, growing output
            for frac in (0.02, 0.35):
                s.assistant(t_ms, mid, req, model, cc_usage(inp, cr, w5, w1, max(1, int(out * frac))),
                            [{"type": "text", "text": text(1, 1)}], None)
                t_ms += u(300, 2500)
        last = k == turns - 1
        content = [{"type": "text", "text": text(1, 2)}] if last else \
            [{"type": "tool_use", "id": tid, "name": tool, "input": {arg: s.cwd + "/" + rng.choice(["src/main.py", "Makefile", "deploy.yaml", "README.md"])}}]
        s.assistant(t_ms, mid, req, model, cc_usage(inp, cr, w5, w1, out), content, "end_turn" if last else "tool_use")
        if not last:
            t_ms += u(200, 3000)
            s.user(t_ms, [{"tool_use_id": tid, "type": "tool_result", "content": text(1, 3)}],
                   tool_result={"stdout": text(1, 1), "stderr": "", "interrupted": False} if tool == "Bash" else None)
    return t_ms, ctx


def gen_claude_code():
    files = {}  # relative path -> (lines, spaced)
    spaced_done = False
    synthetic_done = False
    subagent_done = False
    for d in DAYS:
        for user, (repos, version, p, mix, use_1h) in CC_USERS.items():
            p_today = p * (0.08 if weekend(d) else 1.0)
            if rng.random() >= p_today:
                continue
            repo = rng.choice(repos)
            sid = new_uuid()
            s = Session(user, repo, version, sid)
            model = rng.choices([m for _, m in mix], [w for w, _ in mix])[0]
            t_ms = unix(d, u(8 * 3600, 16 * 3600)) * 1000
            s.user(t_ms, text(1, 2))
            t_ms, ctx = run_turns(s, t_ms, model, u(5, 12), u(20000, 32000), use_1h)
            if not subagent_done and user == "dana" and d.day >= 6:
                # a Task tool call: a subagent with its own log file under <session>/subagents/
                subagent_done = True
                tid = "toolu_01" + rid(B58, 22)
                t_ms += 3000
                s.assistant(t_ms, "msg_01" + rid(B58, 22), "req_011C" + rid(B58, 20), model,
                            cc_usage(4, ctx, u(500, 2000), 0, 180),
                            [{"type": "tool_use", "id": tid, "name": "Task", "input": {"description": "Find callers", "prompt": text(1, 1)}}], "tool_use")
                agent = rid(HEX, 8)
                sub = Session(user, repo, version, sid, sidechain=True, agent=agent)
                sub.user(t_ms + 100, text(1, 1))
                t_end, _ = run_turns(sub, t_ms + 200, "claude-haiku-4-5-20251001", 6, u(8000, 12000), False, 0.0)
                files["-home-%s-src-%s/%s/subagents/agent-%s.jsonl" % (user, repo, sid, agent)] = (sub.lines, False)
                t_ms = t_end + 500
                s.user(t_ms, [{"tool_use_id": tid, "type": "tool_result", "content": [{"type": "text", "text": text(1, 2)}]}],
                       tool_result={"status": "completed", "totalDurationMs": t_end - t_ms + 500})
                t_ms, ctx = run_turns(s, t_ms, model, 3, ctx, False)
            if not synthetic_done and user == "eli":
                synthetic_done = True
                t_ms += 60000
                s.user(t_ms, "Thanks, stop here.")
                s.assistant(t_ms + 300, new_uuid(), None, "<synthetic>", cc_usage(0, 0, 0, 0, 0),
                            [{"type": "text", "text": "No response requested."}], "stop_sequence")
                s.lines[-1]["isApiErrorMessage"] = False
            spaced = False
            if not spaced_done and user == "fay":
                spaced_done = spaced = True
            s.lines.insert(0, {"type": "summary", "summary": text(1, 1)[:48], "leafUuid": s.parent})
            files["-home-%s-src-%s/%s.jsonl" % (user, repo, sid)] = (s.lines, spaced)
    return files


# ====================================================================================================
# config + README + write
# ====================================================================================================
def toml_text():
    pipe, enr, res = list(OAI_PROJECTS)
    return f'''# aispend.toml for the demo data set (fixtures/demo). Generated by scripts/gen_demo.py.
# Gateway logs (api-logs/) carry their own `team` field: search, support, growth.
# The other inputs carry no team: these rules attribute them (first matching rule wins).
[teams]
rules = [
  # OpenAI Usage API projects
  {{ team = "data", project = ["{pipe}", "{enr}"] }},
  {{ team = "research", project = ["{res}"] }},
  # Anthropic usage_report workspace
  {{ team = "research", workspace = "wrkspc_01JwResearch*" }},
  # Claude Code: the project is the basename of the session's cwd
  {{ team = "platform", project = ["infra-tools", "k8s-operator", "deploy-bot"] }},
]

# FOCUS export: the billing account of each provider, since usage APIs, gateway logs and Claude Code logs
# do not name it (the organization is implied by the admin key).
[focus.billing_accounts]
openai = {{ id = "org-DemoAcme4Kq8", name = "Acme Corp" }}
anthropic = {{ id = "acme-anthropic-org", name = "Acme Corp" }}
google = {{ id = "01D3M0-AC4E00-C0FFEE", name = "Acme Corp billing" }}

# `aispend recommend`: the data team's enrichment project can wait for the batch API.
[recommend]
batchable = ["{enr}"]

# `report --allocate` and budgets with `allocated = true`: the platform team's spend (Claude Code for
# shared tooling) and unassigned spend are spread over the other teams by their own cost.
[allocation]
shared = ["platform"]
by = "cost"
unassigned = "spread"
'''


README = """# Demo data set: October 2026 at a fictional company

Generated by `python3 scripts/gen_demo.py` (deterministic: the same bytes on every run). Do not edit by hand.

```
aispend --config fixtures/demo/aispend.toml report --month 2026-10 --by team \\
    fixtures/demo/api-logs fixtures/demo/openai-usage fixtures/demo/anthropic-usage fixtures/demo/claude-code
```
(The folder also holds this README, `aispend.toml`, and the invoice side, `openai-costs/` and `anthropic-cost/`,
which are not usage: they carry amounts, never tokens or requests. See "Reconciliation" below.)

## Who uses which door

| team | door | folder | attribution |
|---|---|---|---|
| search | API gateway logs (OpenAI chat, Anthropic, Gemini) | `api-logs/` | envelope `team` field |
| support | API gateway logs (Anthropic, OpenAI chat + Responses, Gemini) | `api-logs/` | envelope `team` field |
| growth | API gateway logs (OpenAI chat + Responses, Anthropic, Gemini) | `api-logs/` | envelope `team` field |
| data | OpenAI Usage API pages (projects `{pipe}`, `{enr}`) | `openai-usage/` | `aispend.toml` rule on `project` |
| research | OpenAI Usage API pages (project `{res}`) and Anthropic usage_report (workspace `{ws}`) | `openai-usage/`, `anthropic-usage/` | `aispend.toml` rules on `project` and `workspace` |
| platform | Claude Code logs (`/home/<user>/src/<repo>` for repos infra-tools, k8s-operator, deploy-bot) | `claude-code/projects/` | `aispend.toml` rule on `project` (cwd basename) |

The inputs are **disjoint**: no request is in two of them. The gateway calls OpenAI from its own project and
Anthropic from its own workspace, neither of which is in the exports; the exports were pulled filtered to the
data and research projects and the research workspace; Claude Code runs on the platform team's own keys, also
not in the exports. Importing everything gives each request exactly once. (Within Claude Code, streaming
partials repeat a message id: the importer keeps the largest, as documented in `fixtures/README.md`.)

## Contents

- `api-logs/gateway-prod-2026-10-DD_DD.jsonl.gz`: production traffic (`tags.env = "prod"`), one gzipped file per
  week; `api-logs/gateway-staging-2026-10.jsonl`: the month's staging traffic (`tags.env = "staging"`, ~1.5%),
  plain JSONL. Each file is sorted by time. One SPEC envelope per line (`timestamp` RFC 3339 UTC with ms, `team`, `project`, `user`,
  `tags.env`, `provider`, `status`, `latency_ms`, `request_id`, `response`) around a raw OpenAI chat
  completion (`chatcmpl-…`), OpenAI Responses object (`resp_…`), Anthropic message (`msg_…`) or Gemini
  `generateContent` response. About 1% failed requests (status 429 or 500, an `error` object, no usage, no model).
  Six long-context requests (>200k input: 3 claude-sonnet-4-5, 3 gemini-2.5-pro, team search). OpenAI served tiers:
  `priority` on some gpt-4.1 (search ranker), `flex` on all o4-mini (growth seo-copy). Four requests on the unknown
  model `gpt-9-preview` (growth experiments, Oct 20–23): unpriced.
- `openai-usage/completions-page-N.json`: `GET /v1/organization/usage/completions` pages, new (2026) meaning with
  `input_uncached_tokens`; `bucket_width=1d`, 7 buckets per page (5 pages, `has_more`/`next_page` chained),
  `group_by=project_id,api_key_id,model,batch,service_tier`. Data's pipeline runs through the Batch API
  (`batch: true`); research uses `flex` and `priority` tiers on o3 / gpt-5.
- `anthropic-usage/usage-report-page-N.json`: `GET /v1/organizations/usage_report/messages` pages, `bucket_width=1d`,
  7 buckets per page, `group_by[]=workspace_id,api_key_id,model,service_tier,context_window`; 5m and 1h cache writes,
  a `batch` tier (haiku), a weekly `priority` run, and `context_window: "200k-1M"` rows on five days.
- `claude-code/projects/-home-<user>-src-<repo>/<session>.jsonl`: Claude Code sessions of dana, eli and fay
  (summary, user, tool-result and assistant lines; streaming partials with growing `output_tokens`; one
  `<synthetic>` line; one subagent log under `<session>/subagents/`; one session file written with spaced JSON).
- `openai-costs/costs-page-N.json`: `GET /v1/organization/costs` pages (the invoice side of `openai-usage/`),
  `bucket_width=1d`, `group_by=project_id,line_item`, 16 buckets per page (2 pages, `has_more`/`next_page` chained),
  for the same three projects and days. One result per project × line item, a line item being model, token kind
  and tier: `gpt-4.1-mini, input`, `o3, cached input`, `gpt-4o-mini-2024-07-18, output (batch)`, `o3, input (flex)`,
  `gpt-5, output (priority)`. `amount.value` is a JSON number in dollars (at most 6 decimals): the usage of that
  project, day and model at OpenAI's list prices (batch and flex 0.5×, priority at its own rates), except the
  drift below. Zero amounts are left out; `api_key_id` is not written (not grouped by key).
- `anthropic-cost/cost-report-page-N.json`: `GET /v1/organizations/cost_report` pages (the invoice side of
  `anthropic-usage/`), `bucket_width=1d`, `group_by[]=workspace_id,description`, 16 buckets per page (2 pages).
  One `cost_type: "tokens"` result per model × token type × service tier × context window (`uncached_input_tokens`,
  `output_tokens`, `cache_read_input_tokens`, `cache_creation.ephemeral_5m_input_tokens`,
  `cache_creation.ephemeral_1h_input_tokens`), plus one `cost_type: "web_search"` result per day (`model` null, as
  the report writes non-token costs). `amount` is a string in CENTS (up to 5 decimals): list prices, long-context
  rates on `200k-1M` rows, batch 0.5×, web search $10 per 1,000; `priority` rows at 1.5× the standard rates (see
  below). Zero amounts are left out; `inference_geo` is not written (not grouped by geo).
- `aispend.toml`: the team rules above, and the billing account of each provider for the FOCUS export.

## The month's story

- Weekday/weekend seasonality in every team (weekends ~25–60% of a weekday; Claude Code is nearly idle).
- **Step up**: search launches ranker v2 on claude-sonnet-4-5 on 2026-10-15; its request volume rises by ~80%.
- **Spike**: data runs a Batch API backfill on 2026-10-21 (about 6x a normal day of batch tokens).

## Reconciliation

```
aispend --config fixtures/demo/aispend.toml report --reconcile --by provider,project,workspace,day fixtures/demo
```
The invoice files cover exactly the usage of the exports (data and research projects, research workspace), so
those groups compare our computed cost with the invoiced one; everything else (gateway projects, Claude Code
repos) is `usage only`. At the default 1% tolerance there are **16 mismatches**, all deliberate:

- **OpenAI price drift**: from 2026-10-20 on, OpenAI bills gpt-4.1-mini 8% above our table (as if its price had
  changed mid-month). The data pipeline project (`{pipe}`, the only one on gpt-4.1-mini) mismatches on the 12 days
  2026-10-20..31 by −3.8 to −4.6% of its daily invoice (difference = computed − invoiced, so an invoice above our
  table is negative; the largest gap in dollars is the backfill day, 2026-10-21: −$7.60). Narrowed to the model,
  `report --reconcile --where project={pipe} --by model,day` shows gpt-4.1-mini at exactly −7.41% (1/1.08 − 1) on those days and
  `ok` before. Every other OpenAI project-day is `ok` (rounding to 6 decimals leaves differences below $0.00001).
- **Anthropic priority tier**: our table has no `priority` rate (Anthropic publishes none), so the Wednesday
  priority-tier rows of the research workspace (2026-10-07, 14, 21, 28) are unpriced, while the cost report bills
  them (here at 1.5× the standard rates). Those four days show `mismatch (1 unpriced)`, about −5%. Every other
  research-workspace day is `ok` to the cent, including the batch, long-context and web-search amounts.

In the plain `report`, the `reported` column is the invoiced amount of these exports only, so models also used
through the gateway or Claude Code show less reported than computed; the Anthropic web-search fees ($16.62) sit on
the `unknown` model row, since the cost report names no model for non-token costs.

## Totals (tokens in the SPEC's disjoint classes, after deduplication)

{totals}
"""


def tally_totals(out_dir):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
    import tally  # the reference reader next to this script
    recs = tally.read_all(out_dir)
    with open(os.path.join(out_dir, "aispend.toml"), "rb") as f:
        import tomllib
        tally.attribute(recs, tomllib.load(f))
    agg = {}
    for r in recs:
        key = (r["team"], r["provider"], r["source"])
        g = agg.setdefault(key, dict(tally.zero(), requests=0, failed=0))
        for k in tally.CLASSES:
            g[k] += r["t"][k]
        g["requests"] += r["requests"]
        g["failed"] += 1 if r["failed"] else 0
    lines = ["| team | provider | source | requests | failed | uncached in | cache read | write 5m | write 1h | output | reasoning | web search |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in sorted(agg):
        g = agg[key]
        req = "n/a" if key[2] == "anthropic-usage" else str(g["requests"])
        lines.append("| %s | %s | %s | %s | %d | %d | %d | %d | %d | %d | %d | %d |" % (
            key + (req, g["failed"], g["input"], g["cache_read"], g["cw5m"], g["cw1h"], g["output"], g["reasoning"], g["web_search"])))
    lines.append("")
    lines.append("`requests` for Claude Code counts distinct messages; the Anthropic usage report has no request count. "
                 "Reasoning is a subset of output (OpenAI chat/Responses, Gemini thoughts); the Usage API does not break it out.")
    return "\n".join(lines)


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ====================================================================================================
# fixtures/demo-review: a little more October gateway traffic, kept apart from fixtures/demo so that the
# demo's figures (README, tests) stay as they are; `aispend recommend fixtures/demo fixtures/demo-review`
# then shows a recommendation of every kind. Its own random stream: the demo's bytes do not move.
# ====================================================================================================
def gen_review():
    r = random.Random(SEED + 12)
    lines = []

    def env(ts, team, project, user, provider, resp, latency):
        return {"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "team": team, "project": project, "user": user,
                "tags": {"env": "prod"}, "provider": provider, "status": 200, "latency_ms": latency,
                "request_id": "req_" + "".join(r.choice(HEX) for _ in range(24)), "response": resp}

    def msg(model, inp, cr, w5, w1, out):
        m = anthropic_msg(model, inp, cr, w5, w1, out)
        m["id"] = "msg_01" + "".join(r.choice(B58) for _ in range(22))
        m["content"] = [{"type": "text", "text": "Summary attached."}]
        return m

    # growth/contract-review: whole contracts sent to claude-sonnet-4-5, just over the 200k long-context line
    for i in range(12):
        ts = datetime(2026, 10, 2 + 2 * i, 10, r.randint(0, 59), r.randint(0, 59), tzinfo=timezone.utc)
        resp = msg("claude-sonnet-4-5-20250929", r.randint(204_000, 216_000), 0, 0, 0, r.randint(600, 1200))
        lines.append(env(ts, "growth", "contract-review", "u-3107", "anthropic", resp, r.randint(20000, 40000)))
    # support/agent-memory: a 1-hour cache written on every call and hardly ever read back
    for i in range(40):
        ts = datetime(2026, 10, 1 + i % 30, 9 + i % 8, r.randint(0, 59), r.randint(0, 59), tzinfo=timezone.utc)
        read = 20_000 if i % 20 == 0 else 0
        resp = msg("claude-haiku-4-5-20251001", r.randint(500, 1500), read, 0, r.randint(60_000, 90_000), r.randint(200, 400))
        lines.append(env(ts, "support", "agent-memory", "u-4203", "anthropic", resp, r.randint(1500, 4000)))
    # growth/feed-refresh: a job calling gpt-4o-mini every five minutes around the clock on Oct 30
    for i in range(288):
        ts = datetime(2026, 10, 30, tzinfo=timezone.utc) + timedelta(minutes=5 * i, seconds=r.randint(0, 20))
        prompt, completion = r.randint(1000, 1400), r.randint(120, 180)
        resp = {"id": "chatcmpl-" + "".join(r.choice(B62) for _ in range(29)), "object": "chat.completion",
                "created": int(ts.timestamp()) - 1, "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "refusal": None,
                                                     "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                          "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0,
                                                        "rejected_prediction_tokens": 0}},
                "service_tier": "default", "system_fingerprint": FINGERPRINTS[0]}
        lines.append(env(ts, "growth", "feed-refresh", "svc-feed", "openai", resp, r.randint(300, 900)))
    lines.sort(key=lambda e: e["timestamp"])
    return "".join(dumps(e) + "\n" for e in lines)


REVIEW_README = """# Demo review data: more October 2026 gateway traffic

Generated by `python3 scripts/gen_demo.py` with `fixtures/demo/`. Kept apart so that the demo's own figures stay
as quoted; read it beside the demo to see a recommendation of every kind:

```
aispend --config fixtures/demo/aispend.toml recommend fixtures/demo fixtures/demo-review
```

- `growth/contract-review`: 12 claude-sonnet-4-5 requests with 204k-216k uncached prompt tokens, just over the
  200k long-context threshold (every token of each request bills at the long-context rate).
- `support/agent-memory`: 40 claude-haiku-4-5 requests that write 60k-90k tokens to the 1-hour cache each and
  read back 20k tokens twice.
- `growth/feed-refresh`: 288 gpt-4o-mini requests, one every five minutes through 2026-10-30: machine-like
  traffic.
"""


def gz_bytes(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "fixtures", "demo")
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.isfile(os.path.join(out, "aispend.toml")):
            sys.exit("%s is not empty and holds no aispend.toml: refusing to replace it" % out)
        shutil.rmtree(out)
    os.makedirs(out)

    gw = gen_gateway()
    # production traffic: one gzipped file per week; staging traffic: one plain file for the month
    weeks = [(1, 7), (8, 14), (15, 21), (22, 28), (29, 31)]
    prod = [(ts, e) for ts, e in gw if e["tags"]["env"] == "prod"]
    staging = [e for ts, e in gw if e["tags"]["env"] != "prod"]
    for a, b in weeks:
        chunk = [env for ts, env in prod if a <= datetime.fromtimestamp(ts // 1000, timezone.utc).day <= b]
        data = "".join(dumps(e) + "\n" for e in chunk).encode("utf-8")
        write_bytes(os.path.join(out, "api-logs/gateway-prod-2026-10-%02d_%02d.jsonl.gz" % (a, b)), gz_bytes(data))
    data = "".join(dumps(e) + "\n" for e in staging).encode("utf-8")
    write_bytes(os.path.join(out, "api-logs/gateway-staging-2026-10.jsonl"), data)

    oai_usage = gen_openai_usage()
    for n, pg in enumerate(oai_usage, 1):
        write_bytes(os.path.join(out, "openai-usage/completions-page-%d.json" % n), (dumps(pg) + "\n").encode("utf-8"))
    anth_usage = gen_anthropic_usage()
    for n, pg in enumerate(anth_usage, 1):
        write_bytes(os.path.join(out, "anthropic-usage/usage-report-page-%d.json" % n), (dumps(pg) + "\n").encode("utf-8"))

    for rel, (lines, spaced) in sorted(gen_claude_code().items()):
        write_bytes(os.path.join(out, "claude-code/projects", rel), "".join(dumps(l, spaced) + "\n" for l in lines).encode("utf-8"))

    write_bytes(os.path.join(out, "aispend.toml"), toml_text().encode("utf-8"))
    pipe, enr, res = list(OAI_PROJECTS)
    totals = tally_totals(out)  # usage only: before the invoice files, which are not usage

    # invoice side (derived from the usage pages above; no random numbers)
    for n, pg in enumerate(gen_openai_costs(oai_usage), 1):
        write_bytes(os.path.join(out, "openai-costs/costs-page-%d.json" % n), (dumps(pg) + "\n").encode("utf-8"))
    for n, pg in enumerate(gen_anthropic_cost(anth_usage), 1):
        write_bytes(os.path.join(out, "anthropic-cost/cost-report-page-%d.json" % n), (dumps(pg) + "\n").encode("utf-8"))

    readme = README.format(pipe=pipe, enr=enr, res=res, ws=ANTH_WS, totals=totals)
    write_bytes(os.path.join(out, "README.md"), readme.encode("utf-8"))

    review = os.path.join(os.path.dirname(out), "demo-review")
    write_bytes(os.path.join(review, "gateway-review-2026-10.jsonl"), gen_review().encode("utf-8"))
    write_bytes(os.path.join(review, "README.md"), REVIEW_README.encode("utf-8"))


if __name__ == "__main__":
    main()
