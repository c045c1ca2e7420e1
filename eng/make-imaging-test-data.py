"""Writes the small images of test/Microsoft.ML.TokenIdle.Tests/Imaging/Data and, for each, the pixels
Pillow decodes (NAME.raw: width, height, channels as three little-endian int32, then the samples).
Run with Debian's python3-pil (/usr/bin/python3); Pillow is the independent reference decoder.

usage: /usr/bin/python3 eng/make-imaging-test-data.py
"""
import io
import os
import struct
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "Microsoft.ML.TokenIdle.Tests", "Imaging", "Data")


def scene(w=23, h=17):
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 11 + y * 3) % 256, (y * 15) % 256, (x * y * 7 + 40) % 256) for y in range(h) for x in range(w)])
    return img


def raw(name, img):
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[img.mode]
    with open(os.path.join(OUT, name + ".raw"), "wb") as f:
        f.write(struct.pack("<iii", img.width, img.height, channels) + img.tobytes())


def save(name, img, fmt, **kw):
    img.save(os.path.join(OUT, name), fmt, **kw)


def adam7_png(img):
    """An interlaced RGB PNG (Pillow writes none), rows unfiltered."""
    w, h = img.size
    px = img.tobytes()
    data = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        for y in range(y0, h, dy):
            row = b"".join(px[(y * w + x) * 3:(y * w + x) * 3 + 3] for x in range(x0, w, dx))
            if row:
                data += b"\x00" + row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
            + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = scene()
    for name, img in [("rgb", rgb), ("rgba", rgb.convert("RGBA")), ("grey", rgb.convert("L")), ("grey_alpha", rgb.convert("LA"))]:
        if img.mode in ("RGBA", "LA"):
            img.putalpha(Image.linear_gradient("L").resize(img.size))
        save(name + ".png", img, "PNG")
        raw(name + ".png", img)
    palette = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    save("palette.png", palette, "PNG", transparency=3)
    raw("palette.png", Image.open(os.path.join(OUT, "palette.png")).convert("RGBA"))
    bits = rgb.convert("L").point(lambda v: 255 if v > 100 else 0).convert("1")
    save("bilevel.png", bits, "PNG")
    raw("bilevel.png", bits.convert("L"))
    deep = Image.new("I;16", rgb.size)
    deep.putdata([v * 256 + (v % 7) * 30 for v in rgb.convert("L").getdata()])
    save("grey16.png", deep, "PNG")
    raw("grey16.png", rgb.convert("L"))
    with open(os.path.join(OUT, "interlaced.png"), "wb") as f:
        f.write(adam7_png(rgb))
    raw("interlaced.png", rgb)

    photo = scene(40, 30).resize((40, 30))
    save("photo.jpg", photo, "JPEG", quality=90)
    raw("photo.jpg", Image.open(os.path.join(OUT, "photo.jpg")))
    save("grey.jpg", photo.convert("L"), "JPEG", quality=90)
    raw("grey.jpg", Image.open(os.path.join(OUT, "grey.jpg")))
    # Pillow's antialiased resizes of the decoded photo: the reference for ImageResizer.
    decoded = Image.open(os.path.join(OUT, "photo.jpg")).convert("RGB")
    raw("resize_fill_bilinear_16x12", decoded.resize((16, 12), Image.BILINEAR))
    raw("resize_fill_bicubic_56x41", decoded.resize((56, 41), Image.BICUBIC))
    raw("resize_isocrop_bilinear_20x20", decoded.resize((20, 20), Image.BILINEAR, box=(5, 0, 35, 30)))


if __name__ == "__main__":
    main()
