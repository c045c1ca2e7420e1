"""Rewrites an exported ToMe graph's merges from the one-hot product to ScatterElements with reduction="add", to time
the two forms of the same merge on ONNX Runtime (eng/bench/tome-merge-forms.sh).

Our exporter writes each merge's sum into the odd tokens as
    Add(odds, MatMul(Transpose(Cast(Equal(Unsqueeze(destination, -1), Range(0, odd count)))), sources));
this writes it as
    ScatterElements(odds, Expand(Unsqueeze(destination, -1), Shape(sources)), sources, axis=1, reduction="add")
(opset 16 or later). usage: python3 tome_scatter_elements.py IN.onnx OUT.onnx
"""
import sys

import onnx
from onnx import helper


def rewrite(model):
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    rewritten, removed, added = 0, set(), {}
    for matmul in [n for n in graph.node if n.op_type == "MatMul"]:
        transpose = producer.get(matmul.input[0])
        cast = producer.get(transpose.input[0]) if transpose is not None and transpose.op_type == "Transpose" else None
        equal = producer.get(cast.input[0]) if cast is not None and cast.op_type == "Cast" else None
        if equal is None or equal.op_type != "Equal":
            continue
        (add,) = consumers[matmul.output[0]]
        odds = add.input[0] if add.input[1] == matmul.output[0] else add.input[1]
        destination, sources = equal.input[0], matmul.input[1]
        tag = f"tome_scatter_{rewritten}"
        nodes = [
            helper.make_node("Shape", [sources], [tag + "_shape"]),
            helper.make_node("Expand", [destination, tag + "_shape"], [tag + "_indices"]),
            helper.make_node("ScatterElements", [odds, tag + "_indices", sources], [add.output[0]], axis=1, reduction="add"),
        ]
        added[id(add)] = nodes
        removed.update(id(n) for n in (matmul, transpose, cast, equal))
        rewritten += 1
    order = []
    for node in graph.node:
        if id(node) in added:
            order.extend(added[id(node)])
        elif id(node) not in removed:
            order.append(node)
    del graph.node[:]
    graph.node.extend(order)
    return rewritten


if __name__ == "__main__":
    model = onnx.load(sys.argv[1])
    count = rewrite(model)
    if count == 0:
        sys.exit(f"{sys.argv[1]}: no one-hot merge found (not a ToMe export?)")
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{count} merges rewritten as ScatterElements", file=sys.stderr)
