"""Writes the sample images:
- samples/data/fashion-mnist: PNG files in class folders named '<index>-<name>' (sorting the names gives
  the class order), the first 50 images of each class from the training split and the first 30 of each
  class from the test split. Fashion-MNIST is MIT-licensed (Zalando Research); the source is Debian's
  dataset-fashion-mnist.
- samples/data/shapes-jpeg: a tiny folder of drawn JPEGs (discs and squares, sizes and colours varied)
  for the ImageFolder sample's test.

usage: /usr/bin/python3 eng/make-sample-images.py
"""
import gzip
import os

import numpy as np
from PIL import Image

SOURCE = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(__file__), "..", "samples", "data", "fashion-mnist")
NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read(prefix):
    with gzip.open(os.path.join(SOURCE, f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(SOURCE, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def shapes():
    from PIL import ImageDraw
    rng = np.random.default_rng(7)
    for shape in ("disc", "square"):
        folder = os.path.join(OUT, "..", "shapes-jpeg", shape)
        os.makedirs(folder, exist_ok=True)
        for i in range(8):
            w, h = int(rng.integers(40, 72)), int(rng.integers(40, 72))
            img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 90, 3)))
            r = int(min(w, h) * rng.uniform(0.25, 0.4))
            cx, cy = w // 2 + int(rng.integers(-4, 5)), h // 2 + int(rng.integers(-4, 5))
            colour = tuple(int(v) for v in rng.integers(150, 256, 3))
            draw = ImageDraw.Draw(img)
            (draw.ellipse if shape == "disc" else draw.rectangle)((cx - r, cy - r, cx + r, cy + r), fill=colour)
            img.save(os.path.join(folder, f"{shape}-{i}.jpg"), quality=85)


def main():
    shapes()
    for split, prefix, per_class in [("train", "train", 50), ("test", "t10k", 30)]:
        images, labels = read(prefix)
        for c, name in enumerate(NAMES):
            folder = os.path.join(OUT, split, f"{c}-{name}")
            os.makedirs(folder, exist_ok=True)
            for i in np.flatnonzero(labels == c)[:per_class]:
                Image.fromarray(images[i]).save(os.path.join(folder, f"{prefix}-{i:05d}.png"), optimize=True)


if __name__ == "__main__":
    main()
