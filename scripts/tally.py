#!/usr/bin/env python3
"""A small, independent reference reader for the fixture formats (NOT the product): reads api-log JSONL,
OpenAI Usage API pages, Anthropic usage_report pages and Claude Code logs, normalizes them into the SPEC's
disjoint token classes, deduplicates, attributes teams with an aispend.toml, and prints totals.

It exists to cross-check the fixtures and the demo data (python3 scripts/tally.py fixtures/demo) and to give
test writers a second opinion. Money figures it prints use ROUGH list prices hard-coded below, only to size
the demo; the real prices live in pricing/*.toml.

    python3 scripts/tally.py PATH [--config aispend.toml] [--by team,provider] [--per-file]
"""
import argparse
import fnmatch
import gzip
import json
import os
import sys
import tomllib
from collections import defaultdict
from datetime import datetime, timezone

CLASSES = ("input", "cache_read", "cw5m", "cw1h", "output", "reasoning", "web_search")


def zero():
    return dict.fromkeys(CLASSES, 0)


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def ts_of(v):
    if isinstance(v, (int, float)):
        if v > 1e11:
            v = v / 1000
        return datetime.fromtimestamp(v, timezone.utc)
    return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc)


# ------------------------------------------------------------------ api-log
def parse_response(resp):
    """-> (provider, id, model, tier, classes, own timestamp) or None for an error body."""
    if "error" in resp and "usage" not in resp and "usageMetadata" not in resp:
        return None
    t = zero()
    if resp.get("object") == "chat.completion":
        u = resp["usage"]
        cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0
        t["input"] = u["prompt_tokens"] - cached
        t["cache_read"] = cached
        t["output"] = u["completion_tokens"]
        t["reasoning"] = (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0) or 0
        return "openai", resp["id"], resp["model"], resp.get("service_tier"), t, resp.get("created")
    if resp.get("object") == "response":
        u = resp["usage"]
        cached = (u.get("input_tokens_details") or {}).get("cached_tokens", 0) or 0
        t["input"] = u["input_tokens"] - cached
        t["cache_read"] = cached
        t["output"] = u["output_tokens"]
        t["reasoning"] = (u.get("output_tokens_details") or {}).get("reasoning_tokens", 0) or 0
        return "openai", resp["id"], resp["model"], resp.get("service_tier"), t, resp.get("created_at")
    if resp.get("type") == "message":
        u = resp["usage"]
        cc = u.get("cache_creation") or {}
        t["input"] = u["input_tokens"]
        t["cache_read"] = u.get("cache_read_input_tokens", 0) or 0
        if cc:
            t["cw5m"] = cc.get("ephemeral_5m_input_tokens", 0)
            t["cw1h"] = cc.get("ephemeral_1h_input_tokens", 0)
            assert t["cw5m"] + t["cw1h"] == (u.get("cache_creation_input_tokens") or 0), resp["id"]
        else:
            t["cw5m"] = u.get("cache_creation_input_tokens", 0) or 0
        t["output"] = u["output_tokens"]
        t["web_search"] = (u.get("server_tool_use") or {}).get("web_search_requests", 0)
        return "anthropic", resp["id"], resp["model"], u.get("service_tier"), t, None
    if "usageMetadata" in resp:
        u = resp["usageMetadata"]
        cached = u.get("cachedContentTokenCount", 0)
        t["input"] = u["promptTokenCount"] - cached
        t["cache_read"] = cached
        t["reasoning"] = u.get("thoughtsTokenCount", 0)
        t["output"] = u.get("candidatesTokenCount", 0) + t["reasoning"]
        return "google", resp["responseId"], resp["modelVersion"], u.get("trafficType"), t, resp.get("createTime")
    raise ValueError("unknown response shape")


def read_api_log(path, out, seen):
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            obj = json.loads(line)
            env = obj if "response" in obj else {}
            resp = obj["response"] if "response" in obj else obj
            status = env.get("status", 200)
            parsed = parse_response(resp)
            if parsed is None or status >= 400:
                key = ("fail", env.get("request_id") or "%s:%d" % (path, n))
                if key in seen:
                    continue
                seen.add(key)
                out.append({"source": "api-log", "provider": env.get("provider", "?"), "model": "(failed)", "tier": None,
                            "team": env.get("team"), "project": env.get("project"), "t": zero(), "failed": True,
                            "ts": ts_of(env["timestamp"]), "file": path, "line": n, "requests": 1})
                continue
            provider, rid, model, tier, t, own = parsed
            if ("api", rid) in seen:
                continue
            seen.add(("api", rid))
            when = env.get("timestamp", own)
            if when is None:
                raise ValueError("%s:%d: no timestamp" % (path, n))
            out.append({"source": "api-log", "provider": env.get("provider", provider), "model": model, "tier": tier,
                        "team": env.get("team"), "project": env.get("project"), "t": t, "failed": False,
                        "ts": ts_of(when), "file": path, "line": n, "requests": 1})


# ------------------------------------------------------------------ usage exports
def read_openai_usage(path, doc, out):
    for b in doc["data"]:
        for r in b["results"]:
            t = zero()
            cached = r.get("input_cached_tokens", 0) or 0
            write = r.get("input_cache_write_tokens", 0) or 0
            if "input_uncached_tokens" in r:
                t["input"] = r["input_uncached_tokens"]
                assert r["input_tokens"] == t["input"] + cached + write, r
            else:
                t["input"] = r["input_tokens"] - cached
            t["cache_read"] = cached
            t["cw5m"] = write
            t["output"] = r["output_tokens"]
            if not isinstance(r["num_model_requests"], int):
                raise ValueError("num_model_requests not an integer")
            out.append({"source": "openai-usage", "provider": "openai", "model": r["model"],
                        "tier": "batch" if r.get("batch") else r.get("service_tier"), "team": None,
                        "project": r.get("project_id"), "api_key": r.get("api_key_id"), "t": t, "failed": False,
                        "ts": ts_of(b["start_time"]), "file": path, "requests": r["num_model_requests"]})


def read_anthropic_usage(path, doc, out):
    for b in doc["data"]:
        for r in b["results"]:
            t = zero()
            t["input"] = r["uncached_input_tokens"]
            t["cache_read"] = r["cache_read_input_tokens"]
            t["cw5m"] = r["cache_creation"]["ephemeral_5m_input_tokens"]
            t["cw1h"] = r["cache_creation"]["ephemeral_1h_input_tokens"]
            t["output"] = r["output_tokens"]
            t["web_search"] = (r.get("server_tool_use") or {}).get("web_search_requests", 0)
            out.append({"source": "anthropic-usage", "provider": "anthropic", "model": r["model"],
                        "tier": r.get("service_tier"), "context_window": r.get("context_window"), "team": None,
                        "project": None, "workspace": r.get("workspace_id"), "api_key": r.get("api_key_id"), "t": t,
                        "failed": False, "ts": ts_of(b["starting_at"]), "file": path, "requests": 0})


# ------------------------------------------------------------------ claude code
def read_claude_code(path, out, cc_best):
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            obj = json.loads(line)
            if obj.get("type") != "assistant":
                continue
            m = obj["message"]
            if m.get("model") == "<synthetic>":
                continue
            u = m["usage"]
            t = zero()
            t["input"] = u["input_tokens"]
            t["cache_read"] = u.get("cache_read_input_tokens", 0)
            cc = u.get("cache_creation") or {}
            t["cw5m"] = cc.get("ephemeral_5m_input_tokens", u.get("cache_creation_input_tokens", 0) if not cc else 0)
            t["cw1h"] = cc.get("ephemeral_1h_input_tokens", 0)
            t["output"] = u["output_tokens"]
            key = (m["id"], obj.get("requestId"))
            rec = {"source": "claude-code", "provider": "anthropic", "model": m["model"],
                   "tier": u.get("service_tier"), "team": None, "project": os.path.basename(obj["cwd"]), "t": t,
                   "failed": False, "ts": ts_of(obj["timestamp"]), "file": path, "line": n, "requests": 1,
                   "session": obj["sessionId"]}
            old = cc_best.get(key)
            if old is None:
                cc_best[key] = rec
                out.append(rec)
            elif t["output"] > old["t"]["output"]:
                old.update({k: v for k, v in rec.items() if k in ("t", "ts", "line")})


def walk(root):
    if os.path.isfile(root):
        return [root]
    files = []
    for d, _, fs in os.walk(root):
        for f in fs:
            files.append(os.path.join(d, f))
    return sorted(files)


def read_all(root, skip_broken=True):
    out, seen, cc_best = [], set(), {}
    for p in walk(root):
        if skip_broken and (os.sep + "broken" + os.sep) in p:
            continue
        if p.endswith((".md", ".toml", ".py")):
            continue
        if p.endswith(".json"):
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
            first = next((b for b in doc["data"]), None)
            if doc.get("object") == "page":
                read_openai_usage(p, doc, out)
            elif first is None or "starting_at" in first:
                read_anthropic_usage(p, doc, out)
            continue
        if (os.sep + "projects" + os.sep) in p:
            read_claude_code(p, out, cc_best)
        else:
            read_api_log(p, out, seen)
    return out


# ------------------------------------------------------------------ attribution and rough prices
def attribute(recs, cfg):
    rules = (cfg.get("teams") or {}).get("rules") or []
    for r in recs:
        team = None
        for rule in rules:
            ok = True
            for dim in ("project", "api_key", "workspace"):
                if dim in rule:
                    pats = rule[dim] if isinstance(rule[dim], list) else [rule[dim]]
                    val = r.get(dim)
                    ok = ok and val is not None and any(fnmatch.fnmatchcase(val, p) for p in pats)
            if "tag" in rule:
                ok = False
            if ok:
                team = rule["team"]
                break
        r["team"] = team or r.get("team") or "unassigned"


# ROUGH list prices per 1M tokens (input, cached input, output), only to size the demo.
ROUGH = {
    "gpt-4o": (2.5, 1.25, 10), "gpt-4o-mini": (0.15, 0.075, 0.6), "gpt-4.1": (2, 0.5, 8), "gpt-4.1-mini": (0.4, 0.1, 1.6),
    "o3": (2, 0.5, 8), "o4-mini": (1.1, 0.275, 4.4), "gpt-5": (1.25, 0.125, 10), "gpt-5-mini": (0.25, 0.025, 2),
    "claude-sonnet-4-5": (3, 0.3, 15), "claude-sonnet-4": (3, 0.3, 15), "claude-haiku-4-5": (1, 0.1, 5),
    "claude-opus-4-1": (15, 1.5, 75), "gemini-2.5-pro": (1.25, 0.125, 10), "gemini-2.5-flash": (0.3, 0.03, 2.5),
    "gemini-2.0-flash": (0.1, 0.025, 0.4),
}


def rough_cost(r):
    m = r["model"]
    for suffix in ("-2024-08-06", "-2024-07-18", "-20250929", "-20251001", "-20250805", "-20250514"):
        if m.endswith(suffix):
            m = m[: -len(suffix)]
    if m not in ROUGH:
        return 0.0
    i, c, o = ROUGH[m]
    t = r["t"]
    mult = 1.0
    prompt = t["input"] + t["cache_read"] + t["cw5m"] + t["cw1h"]
    if (m.startswith("claude-sonnet-4") or m == "gemini-2.5-pro") and (prompt > 200000 or r.get("context_window") == "200k-1M"):
        mult = 2.0 if m.startswith("claude") else 1.75
    if r.get("tier") in ("batch", "flex"):
        mult *= 0.5
    elif r.get("tier") == "priority":
        mult *= 1.7
    return mult * (t["input"] * i + t["cache_read"] * c + t["cw5m"] * i * 1.25 + t["cw1h"] * i * 2 + t["output"] * o) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--config")
    ap.add_argument("--by", default="team,provider")
    ap.add_argument("--per-file", action="store_true")
    a = ap.parse_args()
    recs = read_all(a.path)
    cfg = {}
    cfgp = a.config or os.path.join(a.path, "aispend.toml")
    if os.path.isfile(cfgp):
        with open(cfgp, "rb") as f:
            cfg = tomllib.load(f)
    attribute(recs, cfg)
    dims = ["file"] if a.per_file else a.by.split(",")
    agg = defaultdict(lambda: dict(zero(), requests=0, failed=0, records=0, usd=0.0))
    for r in recs:
        key = tuple(str(r.get(d)) for d in dims)
        g = agg[key]
        for k in CLASSES:
            g[k] += r["t"][k]
        g["requests"] += r["requests"]
        g["failed"] += 1 if r["failed"] else 0
        g["records"] += 1
        g["usd"] += rough_cost(r)
    cols = list(CLASSES) + ["records", "requests", "failed", "usd"]
    print("\t".join(dims + cols))
    tot = dict(zero(), requests=0, failed=0, records=0, usd=0.0)
    for key in sorted(agg):
        g = agg[key]
        for k in tot:
            tot[k] += g[k]
        print("\t".join(list(key) + [("%.2f" % g[c]) if c == "usd" else str(g[c]) for c in cols]))
    print("\t".join(["TOTAL"] + [""] * (len(dims) - 1) + [("%.2f" % tot[c]) if c == "usd" else str(tot[c]) for c in cols]))


if __name__ == "__main__":
    main()
