"""The object categories of the synthetic world.

Each :class:`Category` records what the scene sampler, the captioner and the
drawers need: a caption noun, its group(s), where it goes in a scene (layer),
its typical size, its colours and variants, and its *attributes* — the visual
cues (warm colour, roundness, rectilinearity, high spatial frequency, skin
tone…) that correlate with it. Attribute correlations are part of the world's
declared statistics (see :mod:`braincause.synth.world`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RGB = tuple[int, int, int]

#: Layers decide placement. "stuff" layers are regions (sky, ground cover);
#: "part" objects are drawn on a parent (a face on a person, text on a sign).
LAYERS = ("stuff", "sky", "far", "ground", "wall", "furniture", "tabletop", "held", "part")

SKIN = [(241, 194, 167), (224, 172, 138), (198, 134, 98), (160, 104, 72), (114, 72, 50),
        (250, 214, 190)]
CLOTHES = [(200, 40, 40), (40, 80, 170), (30, 140, 70), (230, 190, 40), (90, 90, 90),
           (240, 240, 240), (120, 60, 150), (20, 20, 30), (230, 120, 40), (70, 160, 200)]
WARM_FOOD = [(222, 120, 40), (210, 60, 40), (235, 170, 60), (200, 90, 50), (240, 200, 80)]
NEUTRAL = [(120, 120, 120), (160, 160, 160), (90, 90, 100), (200, 200, 200), (60, 60, 60)]
WOOD = [(160, 120, 70), (130, 95, 55), (185, 140, 90), (105, 78, 48)]
BRIGHT = [(220, 40, 40), (40, 110, 210), (250, 200, 30), (40, 170, 80), (240, 120, 30),
          (150, 60, 180), (240, 240, 240)]
CERAMIC = [(245, 245, 240), (230, 230, 225), (200, 220, 235), (240, 225, 200), (90, 130, 170)]


@dataclass(frozen=True)
class Category:
    name: str
    noun: str                      # caption noun (singular)
    plural: str
    group: str                     # coarse group (food, tools, people, text, ...)
    layer: str                     # one of LAYERS
    size: tuple[float, float]      # typical (w, h) box at scale 1, fraction of the image
    colors: tuple[RGB, ...]        # palette the sampler draws ``color`` from
    variants: int = 1              # number of drawer styles
    poses: tuple[str, ...] = ("",)
    attributes: frozenset[str] = field(default_factory=frozenset)
    synonyms: tuple[str, ...] = ()


def _c(name: str, noun: str, plural: str, group: str, layer: str, size: tuple[float, float],
       colors: list[RGB], variants: int = 1, poses: tuple[str, ...] = ("",),
       attributes: tuple[str, ...] = (), synonyms: tuple[str, ...] = ()) -> Category:
    return Category(name, noun, plural, group, layer, size, tuple(colors), variants, poses,
                    frozenset(attributes), synonyms)


_ALL = [
    # people and body parts ------------------------------------------------------
    _c("human_face", "face", "faces", "people", "part", (0.22, 0.28), SKIN, 6,
       ("front", "left", "right"), ("round", "skin"), ("human face", "portrait", "head")),
    _c("person", "person", "people", "people", "ground", (0.26, 0.62), CLOTHES, 12,
       ("standing", "walking", "running", "sitting", "surfing", "jumping"),
       ("skin", "human"),
       ("body", "bodies", "human", "humans", "man", "woman", "child", "human body",
        "human bodies")),
    _c("hand", "hand", "hands", "people", "part", (0.12, 0.12), SKIN, 3,
       ("open", "fist", "point", "hold"), ("skin",), ("human hand", "palm")),
    _c("leg", "leg", "legs", "people", "part", (0.1, 0.34), CLOTHES, 3,
       ("straight", "bent"), ("skin",), ("human leg", "foot")),
    # animals ----------------------------------------------------------------------
    _c("animal_face", "animal face", "animal faces", "animals", "part", (0.22, 0.22),
       [(230, 150, 70), (120, 120, 120), (60, 50, 45), (240, 235, 225), (180, 130, 80)], 2,
       ("front", "left", "right"), ("round", "fur"), ("cat face", "dog face", "muzzle")),
    _c("cat", "cat", "cats", "animals", "ground", (0.3, 0.24),
       [(230, 150, 70), (120, 120, 120), (60, 50, 45), (240, 235, 225)], 2,
       ("sitting", "walking"), ("fur",), ("kitten", "kitty")),
    _c("dog", "dog", "dogs", "animals", "ground", (0.36, 0.28),
       [(180, 130, 80), (60, 50, 45), (240, 235, 225), (200, 170, 110)], 3,
       ("sitting", "walking", "running"), ("fur",), ("puppy",)),
    _c("bird", "bird", "birds", "animals", "sky", (0.12, 0.09),
       [(60, 60, 70), (200, 60, 40), (70, 110, 190), (230, 200, 60), (240, 240, 240)], 2,
       ("flying", "perched"), (), ("sparrow", "pigeon", "gull")),
    # text and signs ----------------------------------------------------------------
    _c("printed_text", "printed text", "printed text", "text", "wall", (0.34, 0.2),
       [(20, 20, 20), (250, 250, 250), (30, 40, 120), (160, 20, 20)], 3, ("",),
       ("high_sf", "text"),
       ("printed words", "print", "lettering", "typed text", "sign text", "typography")),
    _c("handwritten_text", "handwritten note", "handwritten notes", "text", "wall",
       (0.32, 0.22), [(20, 40, 140), (20, 20, 20), (120, 20, 20)], 3, ("",),
       ("high_sf", "text"), ("handwriting", "handwritten", "script", "note", "cursive")),
    _c("logo", "logo", "logos", "text", "wall", (0.16, 0.16), BRIGHT, 4, ("",),
       ("symbol",), ("brand", "emblem", "trademark")),
    _c("traffic_sign", "traffic sign", "traffic signs", "signs", "ground", (0.16, 0.4),
       [(200, 30, 30), (30, 80, 180), (240, 200, 30), (30, 130, 60)], 4, ("",),
       ("sign_shape", "symbol"), ("stop sign", "road sign", "street sign")),
    _c("blank_sign", "blank sign", "blank signs", "signs", "ground", (0.26, 0.42),
       [(240, 240, 235), (40, 110, 60), (40, 70, 150), (230, 200, 90), (150, 110, 70)], 3,
       ("",), ("sign_shape", "rectilinear"),
       ("signboard", "billboard", "placard", "empty sign", "sign board")),
    # food --------------------------------------------------------------------------
    _c("pizza", "pizza", "pizzas", "food", "tabletop", (0.26, 0.2), WARM_FOOD, 3, ("",),
       ("warm", "round", "food"), ("pizza slice",)),
    _c("fruit", "fruit", "fruits", "food", "tabletop", (0.1, 0.1),
       [(210, 40, 40), (240, 140, 30), (240, 210, 50), (90, 170, 50), (120, 40, 110)], 4, ("",),
       ("warm", "round", "food"), ("apple", "orange", "banana", "grapes", "fruits")),
    _c("cake", "cake", "cakes", "food", "tabletop", (0.22, 0.18),
       [(250, 230, 210), (120, 70, 40), (240, 170, 190), (250, 250, 240)], 3, ("",),
       ("warm", "round", "food"), ("dessert", "pastry", "birthday cake")),
    _c("sandwich", "sandwich", "sandwiches", "food", "tabletop", (0.22, 0.14),
       [(220, 180, 110), (200, 150, 90), (235, 210, 160)], 3, ("",),
       ("warm", "food"), ("burger", "hamburger", "sub")),
    # dishware ----------------------------------------------------------------------
    _c("cup", "cup", "cups", "dishware", "tabletop", (0.09, 0.11), CERAMIC + BRIGHT[:3], 3,
       ("",), ("round",), ("mug", "glass", "drink", "coffee", "beverage")),
    _c("plate", "plate", "plates", "dishware", "tabletop", (0.3, 0.1), CERAMIC, 2, ("",),
       ("round", "dishware"), ("dish", "platter")),
    _c("bowl", "bowl", "bowls", "dishware", "tabletop", (0.18, 0.1), CERAMIC, 2, ("",),
       ("round", "dishware"), ()),
    # furniture ---------------------------------------------------------------------
    _c("table", "table", "tables", "furniture", "furniture", (0.7, 0.3), WOOD + [(240, 240, 240)],
       3, ("",), ("rectilinear", "dishware"), ("desk", "counter", "dining table")),
    _c("chair", "chair", "chairs", "furniture", "furniture", (0.18, 0.34), WOOD + NEUTRAL[:2], 3,
       ("",), ("rectilinear",), ("seat", "stool")),
    _c("bed", "bed", "beds", "furniture", "furniture", (0.6, 0.3),
       [(240, 240, 240), (180, 200, 230), (230, 200, 200), (200, 220, 190)], 2, ("",),
       ("rectilinear",), ("mattress",)),
    _c("lamp", "lamp", "lamps", "furniture", "furniture", (0.12, 0.3),
       [(250, 230, 170), (240, 240, 240), (200, 200, 200), (60, 60, 60)], 2, ("",),
       ("bright",), ("light", "lampshade")),
    # architecture ------------------------------------------------------------------
    _c("building", "building", "buildings", "architecture", "far", (0.36, 0.55),
       [(190, 170, 150), (160, 80, 60), (200, 200, 200), (230, 220, 190), (120, 120, 130)], 4,
       ("",), ("rectilinear",), ("house", "tower", "skyscraper", "architecture")),
    _c("window", "window", "windows", "architecture", "wall", (0.16, 0.2),
       [(170, 210, 240), (140, 180, 210), (200, 225, 245)], 3, ("",), ("rectilinear",), ()),
    _c("door", "door", "doors", "architecture", "wall", (0.16, 0.38), WOOD + [(200, 60, 50)], 3,
       ("",), ("rectilinear",), ("doorway", "gate")),
    # nature and stuff --------------------------------------------------------------
    _c("tree", "tree", "trees", "nature", "far", (0.26, 0.5),
       [(50, 120, 50), (70, 140, 40), (40, 100, 60), (180, 120, 40)], 3, ("",), ("texture",),
       ("trees", "palm tree", "forest")),
    _c("flower", "flower", "flowers", "nature", "ground", (0.1, 0.14),
       [(230, 50, 90), (250, 210, 40), (170, 80, 200), (250, 250, 250), (240, 120, 40)], 3,
       ("",), ("round",), ("blossom", "rose", "daisy", "tulip")),
    _c("grass", "grass", "grass", "nature", "stuff", (1.0, 0.3),
       [(80, 150, 60), (100, 160, 50), (60, 130, 60)], 2, ("",), ("texture",),
       ("lawn", "meadow", "field")),
    _c("sky", "sky", "sky", "nature", "stuff", (1.0, 0.5),
       [(120, 180, 235), (150, 200, 240), (240, 170, 120), (180, 190, 200)], 2, ("",),
       ("smooth",), ("blue sky",)),
    _c("cloud", "cloud", "clouds", "nature", "sky", (0.26, 0.12),
       [(250, 250, 250), (225, 230, 235), (200, 205, 215)], 3, ("",), ("round",), ()),
    _c("sun", "sun", "sun", "nature", "sky", (0.12, 0.12),
       [(255, 220, 80), (255, 190, 60), (255, 240, 150)], 2, ("",), ("round", "warm", "bright"),
       ("sunshine", "sunset")),
    _c("water", "water", "water", "nature", "stuff", (1.0, 0.3),
       [(40, 110, 170), (50, 140, 180), (30, 90, 140)], 2, ("",), ("texture",),
       ("waves", "sea", "ocean", "lake", "river")),
    _c("mountain", "mountain", "mountains", "nature", "far", (0.7, 0.35),
       [(110, 110, 130), (90, 110, 90), (140, 120, 110)], 3, ("",), (),
       ("hill", "mountains", "peak")),
    _c("road", "road", "roads", "street", "stuff", (1.0, 0.25), [(80, 80, 85), (100, 100, 100)],
       2, ("",), ("rectilinear",), ("highway", "asphalt", "roadway")),
    # vehicles ----------------------------------------------------------------------
    _c("car", "car", "cars", "vehicles", "ground", (0.4, 0.18), BRIGHT + NEUTRAL[:3], 3, ("",),
       (), ("automobile", "taxi", "sedan")),
    _c("bicycle", "bicycle", "bicycles", "vehicles", "ground", (0.3, 0.2),
       BRIGHT[:5] + [(30, 30, 30)], 2, ("",), ("round",), ("bike", "cycle")),
    _c("boat", "boat", "boats", "vehicles", "far", (0.3, 0.16),
       [(240, 240, 240), (200, 50, 40), (40, 80, 160), (230, 200, 60)], 3, ("",), (),
       ("ship", "sailboat", "yacht")),
    _c("surfboard", "surfboard", "surfboards", "sports", "ground", (0.34, 0.08),
       [(250, 250, 250), (250, 200, 40), (40, 160, 200), (230, 80, 60)], 2, ("",), (),
       ("surf board",)),
    # objects -----------------------------------------------------------------------
    _c("ball", "ball", "balls", "sports", "ground", (0.1, 0.1),
       [(240, 240, 240), (230, 120, 30), (220, 40, 40), (240, 220, 40)], 3, ("",), ("round",),
       ("football", "soccer ball", "basketball")),
    _c("clock", "clock", "clocks", "objects", "wall", (0.14, 0.14),
       [(245, 245, 240), (30, 30, 30), (180, 140, 60)], 2, ("",), ("round",),
       ("wall clock", "watch")),
    _c("hammer", "hammer", "hammers", "tools", "held", (0.2, 0.1),
       [(150, 100, 60), (200, 40, 40), (240, 200, 30)], 2, ("",), ("tool",), ("mallet",)),
    _c("scissors", "scissors", "scissors", "tools", "held", (0.14, 0.1),
       [(200, 40, 40), (40, 90, 200), (30, 30, 30)], 2, ("",), ("tool",), ("shears",)),
    _c("wrench", "wrench", "wrenches", "tools", "held", (0.2, 0.07),
       [(170, 170, 175), (120, 120, 130)], 2, ("",), ("tool",), ("spanner",)),
    _c("phone", "phone", "phones", "objects", "held", (0.08, 0.14),
       [(30, 30, 35), (230, 230, 235), (200, 170, 120)], 2, ("",), ("rectilinear", "screen"),
       ("smartphone", "cellphone", "mobile phone", "screen", "telephone")),
    _c("book", "book", "books", "objects", "tabletop", (0.16, 0.12),
       [(160, 30, 30), (30, 70, 140), (40, 120, 60), (220, 180, 60), (90, 50, 30)], 3, ("",),
       ("rectilinear",), ("novel", "notebook")),
]

CATEGORIES: dict[str, Category] = {c.name: c for c in _ALL}

#: Categories that are parts of others (drawn on a parent when they have one).
PART_OF: dict[str, tuple[str, ...]] = {
    "human_face": ("person",),
    "hand": ("person",),
    "leg": ("person",),
    "animal_face": ("cat", "dog"),
    "printed_text": ("blank_sign", "traffic_sign", "building", "book", "phone"),
    "logo": ("building", "cup", "person"),
}
