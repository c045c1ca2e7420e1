"""Tables for docs/benchmarks.md from eng/bench-cpu.sh's results.jsonl: images/s min/median/max over the rounds,
and ratios taken within each round (so a slow round slows both sides), min/median/max."""
import json
import statistics
import sys

path, rounds, seconds, batch, threads = sys.argv[1:6]
rows = [json.loads(line) for line in open(path)]
by = {}
for r in rows:
    by.setdefault(r["contestant"], {})[r["round"]] = r


def ips(name):
    return [by[name][k]["images_per_second"] for k in sorted(by[name])]


def spread(values, fmt="{:.2f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def ratio(a, b):
    return spread([by[a][k]["images_per_second"] / by[b][k]["images_per_second"] for k in sorted(by[a]) if k in by[b]], "{:.2f}×")


print(f"DeiT-S, batch {batch}, {threads} threads, {rounds} rounds of {seconds} s per measurement; median (min–max).\n")
cpu = rows[0].get("cpu", "?")
print(f"CPU: {cpu}; features: {rows[0].get('cpu_features', '?')}\n")
if "float32:tome:13" in by:
    # SUITE=tome: token merging against the full model in the same precision.
    print("| engine and precision | model | GMACs (paper) | img/s | ÷ our full model (same engine and precision) |")
    print("|---|---|---|---|---|")
    engines = {"float32": "TorchSharp float32", "bfloat16": "TorchSharp bfloat16", "ort": "ONNX Runtime float32", "ortint8": "ONNX Runtime int8"}
    for p in (p for p in engines if f"{p}:tome:13" in by):
        for name, label in ((f"{p}:score", "full"), (f"{p}:tome:13", "ToMe r = 13")):
            first = by[name][min(by[name])]
            print(f"| {engines[p]} | {label} | {first['paper_gmacs']} | {spread(ips(name))} | {ratio(name, f'{p}:score')} |")
    sys.exit(0)
if "float32:score" in by:
    # SUITE=precision: bfloat16 against float32, and the methods against the full model in the same precision.
    print("| what | precision | img/s | ÷ float32 |")
    print("|---|---|---|---|")
    for mode, label in (("score", "scoring"), ("train", "training step")):
        for p in ("float32", "bfloat16"):
            name = f"{p}:{mode}"
            print(f"| {label} | {p} | {spread(ips(name))} | {ratio(name, f'float32:{mode}')} |")
    print("\n| method | k | GMACs (paper) | precision | img/s | ÷ our full model (same precision) |")
    print("|---|---|---|---|---|---|")
    for method in ("evit", "evit-fuse", "idle", "life"):
        for p in ("float32", "bfloat16"):
            name = f"{p}:method:{method}:0.7"
            first = by[name][min(by[name])]
            print(f"| {method} | 0.7 | {first['paper_gmacs']} | {p} | {spread(ips(name))} | {ratio(name, f'{p}:score')} |")
    sys.exit(0)
if "onnx:full" in by:
    # SUITE=onnx: ONNX Runtime on our exports against timm's export on ONNX Runtime and our TorchSharp model.
    print("| contestant | k | GMACs (paper) | img/s | ÷ our full model on ORT | ÷ timm's export on ORT |")
    print("|---|---|---|---|---|---|")
    labels = {"onnx:timm": "timm DeiT-S (torch.onnx) on ORT", "onnx:torchsharp": "our full model on TorchSharp", "onnx:full": "our full model on ORT"}
    def methods(prefix):
        return sorted((n for n in by if n.startswith(prefix + ":") and n.count(":") == 2), key=lambda n: (-float(n.split(":")[2]), n.split(":")[1]))

    for name in ["onnx:timm", "onnx:torchsharp", "onnx:full"] + methods("onnx"):
        first = by[name][min(by[name])]
        label = labels.get(name) or f"{name.split(':')[1]} on ORT"
        k = name.split(":")[2] if name.count(":") == 2 else "1"
        gmacs = first.get("paper_gmacs", "4.6")
        print(f"| {label} | {k} | {gmacs} | {spread(ips(name))} | {ratio(name, 'onnx:full')} | {ratio(name, 'onnx:timm')} |")
    if "int8:full" in by:
        # --quantize int8: each against the int8 full model and against the float32 full model, ratios within each round.
        print("\n| int8 on ORT | k | img/s | ÷ int8 full | ÷ float32 full | ÷ the same method in float32 |")
        print("|---|---|---|---|---|---|")
        for name in ["int8:full"] + methods("int8"):
            k = name.split(":")[2] if name.count(":") == 2 else "1"
            same = "onnx:full" if name == "int8:full" else "onnx:" + name.split(":", 1)[1]
            print(f"| {name.split(':')[1]} | {k} | {spread(ips(name))} | {ratio(name, 'int8:full')} | {ratio(name, 'onnx:full')} | {ratio(name, same) if same in by else '–'} |")
    sys.exit(0)
print("| what | contestant | img/s | ours ÷ contestant |")
print("|---|---|---|---|")
names = {"ours": "ours (tokenidle bench)", "bare": "bare TorchSharp loop", "torch": "PyTorch 1.13", "ort": "ONNX Runtime 1.32"}
for mode in ("score", "train"):
    for who in ("ours", "bare", "torch", "ort"):
        name = f"{mode}:{who}"
        if name in by:
            cell = "1.00×" if who == "ours" else ratio(f"{mode}:ours", name)
            print(f"| {'scoring' if mode == 'score' else 'training step'} | {names[who]} | {spread(ips(name))} | {cell} |")

if not any(n.startswith("method:") for n in by):
    sys.exit(0)  # SUITE=runtimes
print("\n| method | k | GMACs (paper) | GMACs (executed) | img/s | ÷ our full model |")
print("|---|---|---|---|---|---|")
full = by["score:ours"][min(by["score:ours"])]
print(f"| full | 1 | {full['paper_gmacs']} | {full['executed_gmacs']} | {spread(ips('score:ours'))} | 1.00× |")
for name in sorted((n for n in by if n.startswith("method:")), key=lambda n: (-float(n.split(":")[2]), n.split(":")[1])):
    _, method, k = name.split(":")
    first = by[name][min(by[name])]
    print(f"| {method} | {k} | {first['paper_gmacs']} | {first['executed_gmacs']} | {spread(ips(name))} | {ratio(name, 'score:ours')} |")
