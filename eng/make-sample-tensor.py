"""Writes samples/data/fashion-mnist-test-16.safetensors: the first 16 Fashion-MNIST test images as the tensor 'input'
[16, 1, 28, 28] (float32, normalised with models/fashion-mnist-vit's mean and std, as timm's transforms do) and their
labels as 'labels' [16] (int64) — the input of `tokenidle infer` in the README. A PyTorch user writes such a file with
safetensors.torch.save_file({"input": images}, "images.safetensors").

usage: python3 eng/make-sample-tensor.py   (reads Debian's dataset-fashion-mnist; Python's standard library only)
"""
import gzip
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = "/usr/share/datasets/fashion-mnist"
COUNT = 16


def main():
    config = json.load(open(os.path.join(ROOT, "models", "fashion-mnist-vit", "config.json")))
    mean, std = config["mean"][0], config["std"][0]
    with gzip.open(os.path.join(SOURCE, "t10k-images-idx3-ubyte.gz")) as f:
        pixels = f.read()[16:16 + COUNT * 28 * 28]
    with gzip.open(os.path.join(SOURCE, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = f.read()[8:8 + COUNT]
    images = struct.pack(f"<{len(pixels)}f", *((p / 255.0 - mean) / std for p in pixels))
    targets = struct.pack(f"<{COUNT}q", *labels)
    header = {
        "__metadata__": {"format": "pt", "source": "Fashion-MNIST t10k, first 16 images (MIT, Zalando Research)"},
        "input": {"dtype": "F32", "shape": [COUNT, 1, 28, 28], "data_offsets": [0, len(images)]},
        "labels": {"dtype": "I64", "shape": [COUNT], "data_offsets": [len(images), len(images) + len(targets)]},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(os.path.join(ROOT, "samples", "data", "fashion-mnist-test-16.safetensors"), "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + images + targets)


if __name__ == "__main__":
    main()
