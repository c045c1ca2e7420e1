"""Prints eng/fuzz.sh's per-parser JSON reports as one Markdown table."""
import json
import pathlib
import sys

reports = [json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]
kinds = sorted({k for r in reports for k in r["counts"]})
print("| parser | mutants | " + " | ".join(kinds) + " | slowest (ms) | largest managed allocation (bytes) |")
print("|---|---:|" + "---:|" * len(kinds) + "---:|---:|")
for r in reports:
    cells = [f"{r['counts'].get(k, 0):,}" for k in kinds]
    print(f"| {r['parser']} | {r['mutants']:,} | " + " | ".join(cells) + f" | {r['slowest_ms']} | {r['largest_allocation_bytes']:,} |")
