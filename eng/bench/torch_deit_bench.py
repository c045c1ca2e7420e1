"""Plain-torch DeiT forward (timm's structure) for side-by-side CPU throughput.

Prints one JSON line like `tokenidle bench`. Random weights, random images: throughput only.
usage: python3 torch_deit_bench.py --embed 384 --heads 6 --depth 12 --batch 32 --threads 2 --seconds 15 [--img 224 --patch 16 --chans 3 --classes 1000] [--train]
       python3 torch_deit_bench.py ... --export-onnx deit.onnx   (writes the model with torch.onnx, opset 14, and exits)
timm itself is not served here; this is timm's VisionTransformer structure with the attention timm uses on
PyTorch 1.13 (explicit softmax: scaled_dot_product_attention arrived in PyTorch 2.0).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class DeiT(nn.Module):
    def __init__(self, dim, heads, depth, img=224, patch=16, chans=3, classes=1000):
        super().__init__()
        self.patch_embed = nn.Conv2d(chans, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, (img // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.blocks(x)
        return self.head(self.norm(x[:, 0]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--embed", type=int, default=384)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--img", type=int, default=224)
    p.add_argument("--patch", type=int, default=16)
    p.add_argument("--chans", type=int, default=3)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--train", action="store_true")
    p.add_argument("--export-onnx")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = DeiT(a.embed, a.heads, a.depth, a.img, a.patch, a.chans, a.classes)
    images = torch.randn(a.batch, a.chans, a.img, a.img)
    labels = torch.arange(a.batch) % a.classes
    if a.export_onnx:
        model.eval()
        torch.onnx.export(model, images, a.export_onnx, input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14)
        return

    if a.train:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)

        def step():
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(images)

    step()
    passes, start = 0, time.perf_counter()
    while time.perf_counter() - start < a.seconds:
        step()
        passes += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"mode": "train" if a.train else "inference", "framework": f"torch {torch.__version__}",
                      "batch": a.batch, "threads": torch.get_num_threads(), "passes": passes,
                      "seconds": round(elapsed, 3), "images_per_second": round(passes * a.batch / elapsed, 2)}))


if __name__ == "__main__":
    main()
