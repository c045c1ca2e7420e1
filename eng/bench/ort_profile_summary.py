"""Where ONNX Runtime spends a run: total node time by operator type from its profile JSON (onnxruntime-deit.cs
with a PROFILE_PREFIX), as percentages, biggest first.
usage: python3 eng/bench/ort_profile_summary.py PROFILE.json"""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
by_op = collections.Counter()
for e in events:
    if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
        by_op[e["args"]["op_name"]] += e["dur"]
total = sum(by_op.values())
print("| operator (after ONNX Runtime's fusions) | share of node time |")
print("|---|---|")
for op, dur in by_op.most_common():
    print(f"| {op} | {100 * dur / total:.1f} % |")
