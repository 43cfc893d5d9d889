#!/usr/bin/env python3
"""Writes test-image.png: a deterministic 480x320 street-like scene (sky, road, a car, a person, a
sign) for the sample app. Pure Python (zlib, struct): the same bytes on every machine, no imaging
library needed. The app letterboxes it to the network's 416x416 input, so its aspect ratio is kept.

    python3 samples/EmbeddedApp/make-test-image.py [OUTPUT.png]
"""
import struct
import sys
import zlib

WIDTH, HEIGHT = 480, 320


def scene():
    rows = []
    for y in range(HEIGHT):
        row = bytearray()
        for x in range(WIDTH):
            if y < 180:  # sky: light blue fading to white at the horizon
                t = y / 180
                pixel = (int(110 + 120 * t), int(170 + 70 * t), 235)
            else:  # road: grey, a dashed white line in the middle
                pixel = (90, 90, 95)
                if 246 <= y < 254 and (x // 40) % 2 == 0:
                    pixel = (240, 240, 240)
            # car: red body, dark windows, black wheels
            if 200 <= x < 330 and 190 <= y < 240:
                pixel = (200, 30, 35)
            if 225 <= x < 305 and 160 <= y < 190:
                pixel = (200, 30, 35) if not (235 <= x < 295 and 166 <= y < 188) else (40, 50, 70)
            for cx in (230, 300):
                if (x - cx) ** 2 + (y - 242) ** 2 <= 15 ** 2:
                    pixel = (20, 20, 20)
            # person: head and body
            if (x - 90) ** 2 + (y - 150) ** 2 <= 12 ** 2:
                pixel = (230, 190, 160)
            if 78 <= x < 102 and 162 <= y < 230:
                pixel = (30, 60, 160)
            if 80 <= x < 100 and 230 <= y < 270:
                pixel = (40, 40, 40) if (x < 88 or x >= 92) else pixel
            # stop sign on a pole
            if 395 <= x < 401 and 120 <= y < 260:
                pixel = (120, 120, 120)
            if abs(x - 398) + abs(y - 110) <= 26 and abs(x - 398) <= 20 and abs(y - 110) <= 20:
                pixel = (210, 20, 20)
            row += bytes(pixel)
        rows.append(bytes(row))
    return rows


def png(rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0 (none) on every row
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "test-image.png"
    with open(out, "wb") as f:
        f.write(png(scene()))
