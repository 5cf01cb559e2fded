"""Contact sheets: a grid of rendered scenes with a caption under each."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from braincause.synth.pen import font


def contact_sheet(images: Sequence[np.ndarray], labels: Sequence[str] | None = None, *,
                  columns: int | None = None, label_lines: int = 2,
                  pad: int = 4) -> Image.Image:
    """Tile equally sized RGB arrays into one image; ``labels`` go under the tiles."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    h, w = images[0].shape[:2]
    n = len(images)
    cols = columns or min(n, max(1, math.ceil(math.sqrt(n * 1.2))))
    rows = math.ceil(n / cols)
    fsize = max(9, w // 18)
    line_h = int(fsize * 1.25)
    lab_h = (label_lines * line_h + pad) if labels else 0
    sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + lab_h + pad) + pad),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    f = font(fsize)
    width_chars = max(8, int(w / (fsize * 0.55)))
    for i, img in enumerate(images):
        if img.shape[:2] != (h, w):
            raise ValueError(f"image {i} has shape {img.shape[:2]}, expected {(h, w)}")
        r, c = divmod(i, cols)
        x, y = pad + c * (w + pad), pad + r * (h + lab_h + pad)
        sheet.paste(Image.fromarray(img), (x, y))
        if labels:
            lines = textwrap.wrap(labels[i], width_chars)[:label_lines]
            for k, line in enumerate(lines):
                draw.text((x, y + h + 2 + k * line_h), line, fill=(20, 20, 20), font=f)
    return sheet
