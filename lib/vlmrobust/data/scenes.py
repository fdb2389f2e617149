"""What a synthetic scene is and how it is drawn: the vocabulary, the objects, the sign, the light.

The questions and items built on these scenes are in ``synthetic``; this module only
places and renders. Every function takes its own ``random.Random``, so a scene is a pure
function of its seed (the golden image hashes in ``tests/test_synthetic.py`` hold it).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 224
SHAPES = ("circle", "square", "triangle", "diamond")
COLOURS = {  # name -> RGB (chosen to stay distinguishable under dusk/night tints)
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 210, 40),
    "purple": (150, 60, 190),
    "gray": (128, 128, 128),
}
# simulated annotators' synonyms (VQAv2-like disagreement in surface form)
SYNONYMS = {"gray": ["grey"], "purple": ["violet"], "square": ["box"], "circle": ["round"],
            "diamond": ["rhombus"]}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
OBJECT_SIZES = {"small": (16, 22), "medium": (26, 34), "large": (38, 48)}
LIGHTING = {"day": (1.0, (0, 0, 0)), "dusk": (0.8, (40, 10, -30)), "night": (0.55, (-10, -10, 25))}
STYLES = ("plain", "gradient", "texture")
# Six sign words a tiny vision tower can learn to read (demo zoo v2): lengths 2 to 6, so the
# word's shape already tells most of them apart, and two of the same length ("stop", "exit")
# that only their letters separate. The first design (24 four-letter-ish words) stayed at
# chance for the zoo's tower (held-out word probe 0.06, chance 0.04).
WORDS = ("go", "bus", "stop", "exit", "hotel", "school")
RELATIONS = {"to the left of": (-1, 0), "to the right of": (1, 0), "above": (0, -1), "below": (0, 1)}


@dataclass
class Obj:
    shape: str
    colour: str
    size: str
    cx: int
    cy: int
    r: int

    @property
    def name(self) -> str:
        return f"{self.colour} {self.shape}"


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def stroke(font_size: int) -> int:
    """Extra stroke width of the sign's letters: bold, high-contrast text (thin strokes vanished
    in the tower's 14-pixel patches)."""
    return max(1, font_size // 14)


# ---------------------------------------------------------------------------
# scene layout and rendering
# ---------------------------------------------------------------------------

def place(rng: random.Random, n: int, sizes: list[str], keep_out=None) -> list[tuple[int, int, int]]:
    """Non-overlapping centres and radii (rejection sampling; deterministic per rng)."""
    placed: list[tuple[int, int, int]] = []
    for size in sizes:
        lo, hi = OBJECT_SIZES[size]
        for _ in range(500):
            r = rng.randint(lo, hi) // 2
            cx, cy = rng.randint(r + 6, SIZE - r - 6), rng.randint(r + 6, SIZE - r - 6)
            if any(math.hypot(cx - x, cy - y) < r + rr + 8 for x, y, rr in placed):
                continue
            if keep_out and (keep_out[0] - r - 4 < cx < keep_out[2] + r + 4
                             and keep_out[1] - r - 4 < cy < keep_out[3] + r + 4):
                continue
            placed.append((cx, cy, r))
            break
        else:
            raise RuntimeError("could not place objects")  # caller resamples
    return placed


def _background(rng: random.Random, style: str) -> Image.Image:
    base = tuple(rng.randint(170, 235) for _ in range(3))
    img = Image.new("RGB", (SIZE, SIZE), base)
    d = ImageDraw.Draw(img)
    if style == "gradient":
        other = tuple(rng.randint(120, 200) for _ in range(3))
        for y in range(SIZE):
            t = y / (SIZE - 1)
            d.line([(0, y), (SIZE, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(base, other)))
    elif style == "texture":
        step = rng.choice((8, 12, 16))
        shade = tuple(max(0, c - rng.randint(15, 35)) for c in base)
        for k in range(-SIZE, SIZE, step):
            d.line([(k, 0), (k + SIZE, SIZE)], fill=shade, width=2)
        for _ in range(60):
            x, y = rng.randint(0, SIZE), rng.randint(0, SIZE)
            d.point((x, y), fill=shade)
    return img


def _draw_obj(d: ImageDraw.ImageDraw, o: Obj) -> None:
    fill = COLOURS[o.colour]
    x, y, r = o.cx, o.cy, o.r
    if o.shape == "circle":
        d.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(20, 20, 20))
    elif o.shape == "square":
        d.rectangle([x - r, y - r, x + r, y + r], fill=fill, outline=(20, 20, 20))
    elif o.shape == "triangle":
        d.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=fill, outline=(20, 20, 20))
    elif o.shape == "diamond":
        d.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], fill=fill, outline=(20, 20, 20))


def _draw_sign(d: ImageDraw.ImageDraw, word: str, box: tuple[int, int, int, int], font_size: int,
               colours: tuple) -> None:
    board, ink = colours
    d.rectangle(box, fill=board, outline=(30, 30, 30), width=2)
    face = font(font_size)
    text = word.upper()
    l, t, r, b = d.textbbox((0, 0), text, font=face)
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    d.text((cx - (r - l) // 2 - l, cy - (b - t) // 2 - t), text, font=face, fill=ink,
           stroke_width=stroke(font_size), stroke_fill=ink)


def _light(img: Image.Image, lighting: str) -> Image.Image:
    gain, tint = LIGHTING[lighting]
    if lighting == "day":
        return img
    lut = []
    for ch in range(3):
        lut.extend(max(0, min(255, int(v * gain + tint[ch]))) for v in range(256))
    return img.point(lut)


def layout(rng: random.Random, n_objects: int, with_sign: tuple[int, int] | None,
           distinct: str | None = None):
    """Random objects (and a sign box of size ``with_sign``). ``distinct``: 'shape'|'colour'|'both'."""
    sizes = [rng.choice(list(OBJECT_SIZES)) for _ in range(n_objects)]
    sign_box = None
    if with_sign:
        w, h = with_sign  # sign dimensions in pixels
        x0, y0 = rng.randint(8, SIZE - w - 8), rng.randint(8, SIZE - h - 8)
        sign_box = (x0, y0, x0 + w, y0 + h)
    centres = place(rng, n_objects, sizes, keep_out=sign_box)
    if distinct == "both":
        combos = rng.sample([(s, c) for s in SHAPES for c in COLOURS], n_objects)
        shapes, colours = [s for s, _ in combos], [c for _, c in combos]
    else:
        shapes = rng.sample(SHAPES, n_objects) if distinct == "shape" else [rng.choice(SHAPES) for _ in range(n_objects)]
        colours = (rng.sample(list(COLOURS), n_objects) if distinct == "colour"
                   else [rng.choice(list(COLOURS)) for _ in range(n_objects)])
    objs = [Obj(s, c, z, cx, cy, r) for s, c, z, (cx, cy, r) in zip(shapes, colours, sizes, centres)]
    return objs, sign_box


def render(rng: random.Random, objs: list[Obj], sign=None, overlay=None) -> tuple[Image.Image, str, str]:
    """The scene's image, style and lighting. ``overlay(image)`` draws something more in place (the
    safety set's hazard badge) after the objects and before lighting and softness, so that a twin
    rendered from the same rng state without it differs only in and next to the overlay's pixels (the
    softness spreads an edge by a pixel or two); it takes nothing from ``rng``."""
    style = rng.choice(STYLES)
    lighting = rng.choice(list(LIGHTING))
    img = _background(rng, style)
    d = ImageDraw.Draw(img)
    for o in objs:
        _draw_obj(d, o)
    if sign:
        _draw_sign(d, *sign)
    if overlay:
        overlay(img)
    img = _light(img, lighting)
    if rng.random() < 0.3:  # mild camera softness on some scenes: a natural difficulty axis
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    return img, style, lighting
