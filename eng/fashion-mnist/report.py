"""Markdown tables from the experiment's results.jsonl (eng/fashion-mnist/run-experiment.sh).

usage: python3 report.py results.jsonl > results.md
"""
import json
import sys

METHODS = [("evit-fuse", "EViT (fusion)"), ("idle", "IdleViT"), ("life", "Life regression")]
RATES = ["0.9", "0.7", "0.5"]


def minutes(seconds):
    return f"{seconds / 60:.1f} min"


def main(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                rows[row["key"]] = row
    base = rows["backbone"]
    bench_full = rows.get("bench.full")
    out = []
    out.append("| model | top-1 | top-5 | GMACs | CPU img/s | training time |")
    out.append("|---|---|---|---|---|---|")
    out.append(f"| backbone (full) | {base['top1'] * 100:.2f} % | {base['top5'] * 100:.2f} % | {base['gmacs']:.3f} | "
               f"{bench_full['images_per_second'] if bench_full else '–'} | {minutes(base['train_seconds'])} |")
    control = rows.get("finetune.full")
    if control:
        out.append(f"| full model, finetuned with the methods' recipe (control) | {control['top1'] * 100:.2f} % | {control['top5'] * 100:.2f} % | "
                   f"{control['gmacs']:.3f} | – | {minutes(control['train_seconds'])} |")
    out.append("")
    out.append("| method | k | GMACs (cut) | top-1, no finetune | top-1, finetuned | Δ vs backbone | CPU img/s (× full) | finetune time |")
    out.append("|---|---|---|---|---|---|---|---|")
    for method, name in METHODS:
        for k in RATES:
            plain = rows.get(f"nofinetune.{method}.{k}")
            tuned = rows.get(f"finetune.{method}.{k}")
            bench = rows.get(f"bench.{method}.{k}")
            if plain is None:
                continue
            cut = 1 - plain["gmacs"] / base["gmacs"]
            tuned_top1 = f"{tuned['top1'] * 100:.2f} %" if tuned else "not run"
            delta = f"{(tuned['top1'] - base['top1']) * 100:+.2f}" if tuned else "–"
            speed = (f"{bench['images_per_second']:.0f} ({bench['images_per_second'] / bench_full['images_per_second']:.2f}×)"
                     if bench and bench_full else "–")
            time = minutes(tuned["train_seconds"]) if tuned else "–"
            out.append(f"| {name} | {k} | {plain['gmacs']:.3f} (−{cut * 100:.0f} %) | {plain['top1'] * 100:.2f} % | {tuned_top1} | {delta} | {speed} | {time} |")
    out.append("")
    out.append("| IdleViT k = 0.5, cut loss | top-1 | Δ vs backbone | finetune time |")
    out.append("|---|---|---|---|")
    for variant, key in [("none", "ablation.None"), ("inter", "ablation.Inter"), ("intra", "ablation.Intra"), ("both (θ = 20)", "finetune.idle.0.5")]:
        row = rows.get(key)
        if row:
            out.append(f"| {variant} | {row['top1'] * 100:.2f} % | {(row['top1'] - base['top1']) * 100:+.2f} | {minutes(row['train_seconds'])} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
