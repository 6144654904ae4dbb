#!/usr/bin/env python3
"""Compact API-log lines for a large benchmark ledger, written to standard output.

    python3 scripts/gen_ledger_lines.py --lines 10000000 --days 92 | aispend --ledger L.db import -

Each line is a gateway envelope around an OpenAI chat or Anthropic message response without content
text (~300 bytes): the same teams, projects and model mix as gen_bench.py's API logs, spread evenly
over --days days from 2026-10-01, every id unique. Deterministic: a function of the arguments only.
"""
import argparse
import sys
import time

from gen_bench import API_MIX, B58, B62, MONTH_SECS, T0, TEAMS, TimeFmt, enc, scramble  # noqa: F401

ENV = ('{"timestamp":"%s","team":"%s","project":"%s","user":"u-%04d","provider":"%s","status":200,'
       '"request_id":"req_%016x","response":%s}\n')
CHAT = ('{"id":"chatcmpl-%s","object":"chat.completion","model":"%s","usage":{"prompt_tokens":%d,'
        '"completion_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},'
        '"completion_tokens_details":{"reasoning_tokens":%d}},"service_tier":"%s"}')
ANTH = ('{"id":"msg_01%s","type":"message","model":"%s","usage":{"input_tokens":%d,'
        '"cache_creation_input_tokens":0,"cache_read_input_tokens":%d,"output_tokens":%d}}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=92)
    a = ap.parse_args()
    import random
    rng = random.Random(7003)
    rnd, rint = rng.random, rng.randint
    # Chat and Anthropic models of the mix (Responses and Gemini shapes are left to gen_bench.py).
    mix = [(w, kind, model, tier) for w, kind, model, tier in API_MIX if kind in ("chat", "chatr", "anth")]
    total = sum(w for w, *_ in mix)
    table = []
    for k in range(4096):
        x, acc = (k + 0.5) / 4096 * total, 0.0
        for w, *rest in mix:
            acc += w
            if x <= acc:
                table.append(rest)
                break
    fmt = TimeFmt()
    step = a.days * 86400 * 1000 / max(1, a.lines)
    out = sys.stdout
    buf = []
    started = time.perf_counter()
    for i in range(1, a.lines + 1):
        t_ms = T0 * 1000 + int(i * step)
        kind, model, tier = table[int(rnd() * 4096)]
        team, projects = TEAMS[int(rnd() * len(TEAMS))]
        project = projects[int(rnd() * len(projects))]
        h = scramble(i, 51)
        if kind == "anth":
            provider = "anthropic"
            resp = ANTH % (enc(h, B58, 11) + enc(i, B58, 11), model, rint(50, 4000),
                           rint(2000, 80000) if rnd() < 0.75 else 0, rint(30, 1200))
        else:
            provider = "openai"
            prompt = rint(500, 40000)
            cached = (prompt * rint(0, 90) // 100) // 128 * 128 if prompt >= 1024 and rnd() < 0.6 else 0
            reasoning = rint(200, 4000) if kind == "chatr" else 0
            resp = CHAT % (enc(h, B62, 11) + enc(i, B62, 7), model, prompt, reasoning + rint(20, 900), cached,
                           reasoning, tier)
        buf.append(ENV % (fmt(t_ms), team, project, 1000 + int(rnd() * 400), provider, h, resp))
        if len(buf) == 65536:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))
    out.flush()
    print("%d lines in %.1f s" % (a.lines, time.perf_counter() - started), file=sys.stderr)


if __name__ == "__main__":
    main()
