#!/usr/bin/env python3
"""Benchmark data generator for aispend: large, realistic, deterministic inputs.

    python3 scripts/gen_bench.py OUT_DIR [--size-mb N]        # N defaults to 1024

Writes
  OUT_DIR/api-logs/gateway-NNN.jsonl              about N MB in total, files of ~128 MB; SPEC envelopes around
                                                  OpenAI chat / Responses, Anthropic and Gemini responses
                                                  (~1-2 KB a line, with content text), ~1% failed requests
  OUT_DIR/claude-code/projects/<proj>/<uuid>.jsonl about N MB in total; most bytes are user / tool-result lines,
                                                  ~25% of lines are assistant lines with usage, streaming partials
                                                  (same message.id + requestId, growing output_tokens) included

Every response id / message id is unique (apart from the deliberate streaming partials). The output is a
function of the arguments only (fixed seeds and dates). Lines are built from templates with %-formatting and
written in large batches; the two halves run in two processes. Python 3.11 standard library only.
"""
import argparse
import calendar
import json
import multiprocessing
import os
import random
import sys
import time
from datetime import date

MB = 1024 * 1024
FILE_BYTES = 128 * MB
BATCH_BYTES = 8 * MB
T0 = calendar.timegm(date(2026, 10, 1).timetuple())
MONTH_SECS = 31 * 86400

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore "
         "magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo "
         "consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
         "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum").split()

MIX64 = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def scramble(i, salt):
    """A bijection on 64-bit ints: unique, random-looking ids from a counter."""
    x = (i * MIX64 + salt) & MASK64
    x ^= x >> 29
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 32
    return x


def enc(x, alphabet, n):
    b = len(alphabet)
    out = []
    for _ in range(n):
        x, r = divmod(x, b)
        out.append(alphabet[r])
    return "".join(out)


def prose_pool(rng, count, lo, hi, escapes=False):
    """Pre-built JSON string bodies (already escaped, without the surrounding quotes)."""
    pool = []
    for _ in range(count):
        n = rng.randint(lo, hi)
        parts, size = [], 0
        while size < n:
            w = rng.choice(WORDS)
            if escapes and rng.random() < 0.08:
                w = rng.choice(['\n', '\n    ', '\t', '"%s"' % w, w + ":", "\\path"])
            parts.append(w)
            size += len(w) + 1
        s = " ".join(parts)[:n]
        pool.append(json.dumps(s)[1:-1])
    return pool


class TimeFmt:
    """RFC 3339 with ms; caches the date-hour prefix."""

    def __init__(self):
        self.hour = None
        self.prefix = ""

    def __call__(self, ms):
        s, milli = divmod(ms, 1000)
        h, rem = divmod(s, 3600)
        if h != self.hour:
            self.hour = h
            self.prefix = time.strftime("%Y-%m-%dT%H:", time.gmtime(h * 3600))
        m, sec = divmod(rem, 60)
        return "%s%02d:%02d.%03dZ" % (self.prefix, m, sec, milli)


# ====================================================================================================
# API logs
# ====================================================================================================
ENV = ('{"timestamp":"%s","team":"%s","project":"%s","user":"%s","tags":{"env":"%s","region":"%s"},'
       '"provider":"%s","status":%d,"latency_ms":%d,"request_id":"req_%s","response":%s}\n')

CHAT = ('{"id":"chatcmpl-%s","object":"chat.completion","created":%d,"model":"%s","choices":[{"index":0,"message":'
        '{"role":"assistant","content":"%s","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],'
        '"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":'
        '{"cached_tokens":%d,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":%d,"audio_tokens":0,'
        '"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"%s","system_fingerprint":"fp_%s"}')

RESP = ('{"id":"resp_%s","object":"response","created_at":%d,"status":"completed","error":null,"incomplete_details":null,'
        '"instructions":null,"model":"%s","output":[{"id":"rs_%s","type":"reasoning","summary":[]},{"id":"msg_%s",'
        '"type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],'
        '"text":"%s"}],"role":"assistant"}],"parallel_tool_calls":true,"reasoning":{"effort":"medium","summary":null},'
        '"service_tier":"%s","store":false,"usage":{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d},'
        '"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d},"user":null,"metadata":{}}')

ANTH = ('{"id":"msg_01%s","type":"message","role":"assistant","model":"%s","content":[{"type":"text","text":"%s"}],'
        '"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,'
        '"cache_read_input_tokens":%d,"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d},'
        '"output_tokens":%d,"service_tier":"standard"}}')

GEM = ('{"candidates":[{"content":{"parts":[{"text":"%s"}],"role":"model"},"finishReason":"STOP","index":0}],'
       '"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d,'
       '"cachedContentTokenCount":%d,"promptTokensDetails":[{"modality":"TEXT","tokenCount":%d}],'
       '"thoughtsTokenCount":%d},"modelVersion":"%s","responseId":"%s"}')

ERR_OPENAI = ('{"error":{"message":"Rate limit reached for requests per min (RPM). Please try again in 2s.",'
              '"type":"requests","param":null,"code":"rate_limit_exceeded"}}')
ERR_ANTH = '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}'

TEAMS = [("search", ["ranker", "query-rewrite", "semantic-index"]), ("support", ["helpdesk-bot", "ticket-triage"]),
         ("growth", ["email-personalize", "seo-copy", "experiments"]), ("data", ["enrichment"]),
         ("research", ["evals", "notebooks"])]
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
# (weight, kind, model, tier)
API_MIX = [
    (14, "chat", "gpt-4.1-mini", "default"), (10, "chat", "gpt-4.1", "default"), (2, "chat", "gpt-4.1", "priority"),
    (8, "chat", "gpt-4o-mini-2024-07-18", "default"), (5, "chat", "gpt-4o-2024-08-06", "default"),
    (3, "chat", "gpt-4o", "default"), (3, "chatr", "o4-mini", "flex"), (2, "chatr", "o3", "default"),
    (6, "resp", "gpt-5-mini", "default"), (4, "resp", "gpt-5", "default"),
    (14, "anth", "claude-sonnet-4-5-20250929", ""), (7, "anth", "claude-haiku-4-5-20251001", ""),
    (2, "anth", "claude-sonnet-4-20250514", ""), (1, "anth", "claude-opus-4-1-20250805", ""),
    (9, "gem", "gemini-2.5-flash", ""), (4, "gem", "gemini-2.0-flash", ""), (2, "gem", "gemini-2.5-pro", ""),
    (0.05, "chat", "gpt-9-preview", "default"),
]


def gen_api_logs(out_dir, target):
    rng = random.Random(7001)
    rnd, rint = rng.random, rng.randint
    os.makedirs(out_dir, exist_ok=True)
    short = prose_pool(rng, 512, 300, 1300)
    users = ["u-%04d" % i for i in range(1000, 1400)] + ["svc-%s" % t for t, _ in TEAMS]
    fps = ["%010x" % rng.getrandbits(40) for _ in range(8)]
    cum, acc = [], 0.0
    for w, *rest in API_MIX:
        acc += w
        cum.append((acc, rest))
    total_w = acc
    table = []  # 4096-entry lookup for the mix: O(1) choice
    for k in range(4096):
        x = (k + 0.5) / 4096 * total_w
        table.append(next(rest for c, rest in cum if x <= c))
    fmt = TimeFmt()
    est_lines = max(1, target // 1500)
    step_ms = max(1, MONTH_SECS * 1000 // est_lines)
    t_ms = T0 * 1000
    written, fileno, i = 0, 0, 0
    f, fsize = None, 0
    buf, bsize = [], 0
    while written < target:
        if f is None:
            f = open(os.path.join(out_dir, "gateway-%03d.jsonl" % fileno), "w", encoding="utf-8", newline="\n")
            fileno += 1
            fsize = 0
        i += 1
        t_ms += rint(1, 2 * step_ms)
        sec = t_ms // 1000
        kind, model, tier = table[int(rnd() * 4096)]
        team, projects = TEAMS[int(rnd() * len(TEAMS))]
        project = projects[int(rnd() * len(projects))]
        user = users[int(rnd() * len(users))]
        body = short[int(rnd() * 512)]
        h = scramble(i, 11)
        status = 200
        if rnd() < 0.01:
            status = 429 if rnd() < 0.7 else 500
        if kind in ("chat", "chatr"):
            provider = "openai"
            prompt = rint(500, 40000)
            cached = (prompt * rint(0, 90) // 100) // 128 * 128 if prompt >= 1024 and rnd() < 0.6 else 0
            reasoning = rint(200, 4000) if kind == "chatr" else 0
            comp = reasoning + rint(20, 900)
            resp = ERR_OPENAI if status != 200 else CHAT % (
                enc(h, B62, 11) + enc(scramble(i, 12), B62, 11) + enc(i, B62, 7), sec - 1, model, body, prompt, comp,
                prompt + comp, cached, reasoning, tier, fps[i & 7])
        elif kind == "resp":
            provider = "openai"
            inp = rint(800, 20000)
            cached = (inp * rint(0, 80) // 100) // 128 * 128 if inp >= 1024 and rnd() < 0.5 else 0
            reasoning = rint(64, 3000)
            out = reasoning + rint(100, 1500)
            hx = "%016x%016x%016x" % (h, scramble(i, 13), i)
            resp = ERR_OPENAI if status != 200 else RESP % (
                hx, sec - 2, model, hx, hx, body, tier, inp, cached, out, reasoning, inp + out)
        elif kind == "anth":
            provider = "anthropic"
            cr = rint(2000, 80000) if rnd() < 0.75 else 0
            w5 = rint(1000, 9000) if rnd() < 0.15 else 0
            w1 = rint(1000, 9000) if rnd() < 0.04 else 0
            resp = ERR_ANTH if status != 200 else ANTH % (
                enc(h, B58, 11) + enc(i, B58, 11), model, body, rint(50, 4000), w5 + w1, cr, w5, w1, rint(30, 1200))
        else:
            provider = "google"
            prompt = rint(500, 30000)
            cached = prompt * rint(20, 80) // 100 if rnd() < 0.3 else 0
            cand = rint(30, 900)
            th = rint(0, 2000) if model != "gemini-2.0-flash" else 0
            resp = ('{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}'
                    if status != 200 else GEM % (body, prompt, cand, prompt + cand + th, cached, prompt, th, model,
                                                 enc(h, B62 + "-_", 23)))
        line = ENV % (fmt(t_ms), team, project, user, "prod" if rnd() < 0.95 else "staging", REGIONS[i % 3], provider,
                      status, rint(150, 20000), "%024x" % ((h << 32 | i) & ((1 << 96) - 1)), resp)
        buf.append(line)
        n = len(line)  # ASCII only: chars == bytes
        bsize += n
        fsize += n
        written += n
        if bsize >= BATCH_BYTES or fsize >= FILE_BYTES or written >= target:
            f.write("".join(buf))
            buf, bsize = [], 0
            if fsize >= FILE_BYTES or written >= target:
                f.close()
                f = None
    return written


# ====================================================================================================
# Claude Code logs
# ====================================================================================================
CC_HEAD = ('{"parentUuid":%s,"isSidechain":false,"userType":"external","cwd":"%s","sessionId":"%s","version":"%s",'
           '"gitBranch":"%s",')
CC_USER_TEXT = CC_HEAD + '"type":"user","message":{"role":"user","content":"%s"},"uuid":"%s","timestamp":"%s"}\n'
CC_TOOL_RESULT = (CC_HEAD + '"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01%s","type":"tool_result",'
                  '"content":"%s"}]},"uuid":"%s","timestamp":"%s","toolUseResult":{"stdout":"%s","stderr":"","interrupted":false,'
                  '"isImage":false}}\n')
CC_ASSISTANT = (CC_HEAD + '"message":{"id":"msg_01%s","type":"message","role":"assistant","model":"%s","content":[%s],'
                '"stop_reason":%s,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,'
                '"cache_read_input_tokens":%d,"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d},'
                '"output_tokens":%d,"service_tier":"standard"}},"requestId":"req_011C%s","type":"assistant","uuid":"%s",'
                '"timestamp":"%s"}\n')
CC_SUMMARY = '{"type":"summary","summary":"%s","leafUuid":"%s"}\n'
TOOL_USE = '{"type":"tool_use","id":"toolu_01%s","name":"%s","input":{"%s":"%s"}}'
TEXT_BLOCK = '{"type":"text","text":"%s"}'
THINK_BLOCK = '{"type":"thinking","thinking":"%s","signature":"%s"}'
CC_MODELS = ["claude-sonnet-4-5-20250929"] * 6 + ["claude-opus-4-1-20250805"] * 2 + ["claude-haiku-4-5-20251001",
                                                                                       "claude-sonnet-4-20250514"]
TOOLS = [("Read", "file_path"), ("Bash", "command"), ("Grep", "pattern"), ("Edit", "file_path"), ("Glob", "pattern")]


def uuid_of(i, salt):
    a, b = scramble(i, salt), scramble(i, salt + 1)
    return "%08x-%04x-4%03x-%04x-%012x" % (a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF, 0x8000 | (b >> 48) & 0x3FFF,
                                           b & 0xFFFFFFFFFFFF)


def gen_claude_code(out_dir, target):
    rng = random.Random(7002)
    rnd, rint = rng.random, rng.randint
    big = prose_pool(rng, 256, 2500, 9000, escapes=True)   # tool results: file contents, command output
    small = prose_pool(rng, 256, 60, 600)
    users = ["ann", "ben", "cho", "dev", "eva", "fox", "gus", "hal"]
    repos = ["search-api", "billing-svc", "infra-tools", "deploy-bot", "k8s-operator", "web-app", "data-jobs",
             "ml-evals", "docs-site", "auth-service"]
    projects = [(u, r) for u in users for r in repos if (hash_small(u + r) % 3) == 0]
    versions = ["2.0.8", "2.0.14", "2.0.21", "1.0.128"]
    fmt = TimeFmt()
    written, sess, msg, line_no = 0, 0, 0, 0
    buf, bsize = [], 0
    t_ms = T0 * 1000
    est_sessions = max(1, target // (2 * MB))  # a session file averages ~2 MB
    step = max(1, 2 * MONTH_SECS * 1000 // est_sessions)
    while written < target:
        sess += 1
        user, repo = projects[sess % len(projects)]
        cwd = "/home/%s/src/%s" % (user, repo)
        d = os.path.join(out_dir, "-home-%s-src-%s" % (user, repo))
        os.makedirs(d, exist_ok=True)
        sid = uuid_of(sess, 21)
        ver = versions[sess % 4]
        branch = "main" if rnd() < 0.6 else "feat/%s" % WORDS[sess % len(WORDS)]
        model = CC_MODELS[int(rnd() * len(CC_MODELS))]
        t_ms += rint(1, step)
        s_ms = t_ms
        parent = "null"
        ctx = rint(15000, 30000)
        lines = []
        turns = rint(20, 160)
        size = 0
        for k in range(turns):
            if written + size >= target:
                break
            first = len(lines)
            line_no += 1
            me = uuid_of(line_no, 31)
            s_ms += rint(500, 20000)
            if k == 0 or rnd() < 0.08:
                lines.append(CC_USER_TEXT % (parent, cwd, sid, ver, branch, small[int(rnd() * 256)], me, fmt(s_ms)))
                parent = '"%s"' % me
                line_no += 1
                me = uuid_of(line_no, 31)
            # one API call: optional streaming partials, then the final line
            msg += 1
            mid = enc(scramble(msg, 41), B58, 11) + enc(msg, B58, 11)
            req = enc(scramble(msg, 42), B58, 12) + enc(msg, B58, 8)
            new = rint(300, 6000)
            w1 = new if rnd() < 0.1 else 0
            w5 = 0 if w1 else new
            cr = ctx
            ctx += new + rint(100, 800)
            if ctx > 180000:
                ctx = rint(15000, 30000)  # compaction
            out = rint(40, 1500)
            inp = rint(1, 9)
            tool, arg = TOOLS[int(rnd() * 5)]
            tid = enc(scramble(msg, 43), B58, 22)
            if rnd() < 0.3:
                for frac in (0.03, 0.4):
                    lines.append(CC_ASSISTANT % (parent, cwd, sid, ver, branch, mid, model,
                                                 THINK_BLOCK % (small[int(rnd() * 256)], "Eu" + req),
                                                 "null", inp, w5 + w1, cr, w5, w1, max(1, int(out * frac)), req, me, fmt(s_ms)))
                    parent = '"%s"' % me
                    line_no += 1
                    me = uuid_of(line_no, 31)
                    s_ms += rint(200, 3000)
            content = TOOL_USE % (tid, tool, arg, cwd + "/src/" + WORDS[msg % len(WORDS)] + ".py")
            lines.append(CC_ASSISTANT % (parent, cwd, sid, ver, branch, mid, model, content, '"tool_use"', inp,
                                         w5 + w1, cr, w5, w1, out, req, me, fmt(s_ms)))
            parent = '"%s"' % me
            # tool results: the bulk of the bytes (several lines per call: file reads, command output)
            for _ in range(rint(3, 5)):
                line_no += 1
                me = uuid_of(line_no, 31)
                s_ms += rint(100, 4000)
                res = big[int(rnd() * 256)]
                lines.append(CC_TOOL_RESULT % (parent, cwd, sid, ver, branch, tid, res, me, fmt(s_ms), small[int(rnd() * 256)]))
                parent = '"%s"' % me
            size += sum(len(x) for x in lines[first:])
        lines.insert(0, CC_SUMMARY % (small[sess % 256][:60], uuid_of(line_no, 31)))
        data = "".join(lines)
        with open(os.path.join(d, sid + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
        written += len(data)
    return written


def hash_small(s):
    h = 2166136261
    for ch in s.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def run(kind, out, target):
    t = time.perf_counter()
    if kind == "api":
        n = gen_api_logs(os.path.join(out, "api-logs"), target)
    else:
        n = gen_claude_code(os.path.join(out, "claude-code", "projects"), target)
    print("%s: %.1f MB in %.1f s" % (kind, n / MB, time.perf_counter() - t), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size-mb", type=int, default=1024, help="MB of API logs and, again, MB of Claude Code logs")
    ap.add_argument("--serial", action="store_true", help="do not use a second process")
    a = ap.parse_args()
    target = a.size_mb * MB
    if a.serial:
        run("api", a.out_dir, target)
        run("cc", a.out_dir, target)
        return
    p = multiprocessing.Process(target=run, args=("cc", a.out_dir, target))
    p.start()
    run("api", a.out_dir, target)
    p.join()
    if p.exitcode:
        sys.exit(p.exitcode)


if __name__ == "__main__":
    main()
