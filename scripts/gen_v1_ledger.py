#!/usr/bin/env python3
"""Writes fixtures/ledger/v1.db: a ledger of schema version 1 (the first shipped schema: no billing account
columns, no rollup), holding the records of a few fixtures, for the migration test.

    cargo build && python3 scripts/gen_v1_ledger.py

Imports the files with the current build into a temporary ledger, then copies the records into a new file
created with migration 1's SQL (read from src/ledger/schema.rs) and marks it version 1. Python 3.11
standard library only.
"""
import os
import re
import sqlite3
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["api-log/anthropic-messages.jsonl", "api-log/openai-chat.jsonl", "api-log/openai-responses.jsonl",
         "api-log/gemini.jsonl", "api-log/duplicates.jsonl", "api-log/failed.jsonl", "api-log/unknown-model.jsonl",
         "claude-code/projects", "litellm/spend-logs.csv"]


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "debug", "aispend")
    out = os.path.join(ROOT, "fixtures", "ledger", "v1.db")
    with tempfile.TemporaryDirectory() as tmp:
        current = os.path.join(tmp, "current.db")
        subprocess.run([binary, "--ledger", current, "import"] + [os.path.join(ROOT, "fixtures", f) for f in FILES],
                       check=True, stdout=subprocess.DEVNULL)
        schema = open(os.path.join(ROOT, "src", "ledger", "schema.rs")).read()
        v1 = re.search(r'sql\("(CREATE TABLE records \(.*?)"\)', schema, re.S).group(1)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if os.path.exists(out):
            os.remove(out)
        db = sqlite3.connect(out)
        db.executescript(v1)
        db.execute("ATTACH ? AS current", (current,))
        cols = ",".join(r[1] for r in db.execute("PRAGMA main.table_info(records)"))
        db.execute("INSERT INTO main.records (%s) SELECT %s FROM current.records" % (cols, cols))
        db.commit()
        db.execute("DETACH current")
        db.execute("PRAGMA user_version = 1")
        db.execute("VACUUM")
        db.close()


if __name__ == "__main__":
    main()
