#!/usr/bin/env python3
"""Tables of eng/serving/bench.sh's results: median (min-max) over rounds; every ratio is taken within its round.

usage: summarise.py FOLDER   (FOLDER/results.jsonl and FOLDER/machine.json)
"""
import json
import os
import statistics
import sys

folder = sys.argv[1]
rows = [json.loads(line) for line in open(os.path.join(folder, "results.jsonl")) if line.strip()]
machine = json.load(open(os.path.join(folder, "machine.json")))
names = {"fm": "Fashion-MNIST ViT (28 px)", "deit": "DeiT-S (224 px)"}


def spread(values, digits=1, suffix=""):
    values = sorted(values)
    return f"{statistics.median(values):.{digits}f}{suffix} ({values[0]:.{digits}f}{suffix}–{values[-1]:.{digits}f}{suffix})"


def runs(**key):
    return [r for r in rows if all(r[k] == v for k, v in key.items())]


def ratio(numerator, denominator, field="requests_per_second"):
    """Per round: numerator's field over denominator's, both dicts of selection keys."""
    values = []
    for r in sorted({r["round"] for r in rows}):
        a, b = runs(round=r, **numerator), runs(round=r, **denominator)
        if a and b:
            values.append(a[0][field] / b[0][field])
    return values


print(f"{machine['cpu']} ({machine['cpu_features'].strip()}), {machine['date']}, libtorch {machine['threads']} threads, "
      f"{machine['seconds']} s per measurement, {len({r['round'] for r in rows})} rounds; median (min–max)\n")
print("| model | method | batching | clients | requests/s | p50 ms | p99 ms | largest batch | 16 clients ÷ 1 client (same batching) |")
print("|---|---|---|---|---|---|---|---|---|")
for model in ("fm", "deit"):
    for method in ("full", "idle"):
        for batching in ("on", "off"):
            for clients in (1, 16):
                sel = runs(model=model, method=method, batching=batching, clients=clients)
                if not sel:
                    continue
                gain = ""
                if clients == 16:
                    gain = spread(ratio(dict(model=model, method=method, batching=batching, clients=16),
                                        dict(model=model, method=method, batching=batching, clients=1)), 2, "×")
                print(f"| {names[model]} | {method} | {batching} | {clients} | {spread([r['requests_per_second'] for r in sel])} | "
                      f"{spread([r['p50_ms'] for r in sel])} | {spread([r['p99_ms'] for r in sel])} | "
                      f"{max(r['largest_batch'] for r in sel)} | {gain} |")

print("\n| model | method | 16 clients: batching on ÷ off |")
print("|---|---|---|")
for model in ("fm", "deit"):
    for method in ("full", "idle"):
        values = ratio(dict(model=model, method=method, batching="on", clients=16), dict(model=model, method=method, batching="off", clients=16))
        if values:
            print(f"| {names[model]} | {method} | {spread(values, 2, '×')} |")

print("\nDeiT-S at batch 1 (one client): latency per method, and the full model's p50 over the method's (same round)\n")
print("| method, k = 0.7 | p50 ms | p99 ms | requests/s | speed-up (full p50 ÷ method p50) |")
print("|---|---|---|---|---|")
for method in ("full", "idle", "evit-fuse", "life"):
    sel = runs(model="deit", method=method, batching="on", clients=1)
    if not sel:
        continue
    full = {r["round"]: r["p50_ms"] for r in runs(model="deit", method="full", batching="on", clients=1)}
    speedups = [full[r["round"]] / r["p50_ms"] for r in sel if r["round"] in full]
    print(f"| {method} | {spread([r['p50_ms'] for r in sel])} | {spread([r['p99_ms'] for r in sel])} | "
          f"{spread([r['requests_per_second'] for r in sel], 2)} | {spread(speedups, 2, '×')} |")
