"""Classroom scenes composed from the real photos of ../shared/faces, with every face's place and
identity known: the fixtures that the detection tests and benchmarks/classroom.py trust.

A scene is what a teacher's camera sees: a 12 MP phone photo (4032x3024) or a 1920x1080 webcam
frame of rows of people, the back rows far away (faces 30-60 px), on a busy background (noise,
shelves, a whiteboard, a poster of a face), or a group photo scaled down. People are cut from the
sample photos as head-and-shoulders with soft edges and pasted at the size their row gives them;
they are only ever scaled down, never enlarged, so no face is sharper or blurrier than a camera
would make it. Everything is drawn from a seeded generator: the same name gives the same scene.

The enrolled class is `tests.classroom.ENROLMENT_PHOTOS`; scenes paste *other* photos of those five
people (so recognition is tested, not memory) and strangers from `groups/bald_guys.jpg` and
`probes/obama_and_biden.jpg` (its third person is nobody enrolled).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

# Photos of the enrolled people that are not their enrolment photos (see tests/classroom.py).
KNOWN_SOURCES = {
    "obama": "probes/obama1.jpg",
    "biden": "people/biden/biden2.jpg",
    "kit_harington": "probes/johnsnow_test1.jpg",
    "rose_leslie": "people/rose_leslie/img2.jpg",
    "alex_lacamoire": "probes/alex_lacamoire1.jpg",
}
STRANGER_SOURCES = ("groups/bald_guys.jpg",)
# A face on the wall: the third person of this photo, who is nobody enrolled.
POSTER_SOURCE = "probes/obama_and_biden.jpg"


@dataclass(frozen=True)
class PlacedFace:
    """Where a face is in the scene (left, top, right, bottom) and who it is (None: a stranger)."""

    box: tuple[int, int, int, int]
    identity: str | None
    poster: bool = False
    reflection: bool = False

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass
class Scene:
    name: str
    pixels: np.ndarray  # (height, width, 3) uint8
    faces: list[PlacedFace] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    def jpeg(self, quality: int = 90) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(self.pixels).save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()

    @property
    def people(self) -> list[PlacedFace]:
        return [face for face in self.faces if not face.poster]


@dataclass(frozen=True)
class SourceFace:
    image: Image.Image  # the whole source photo, RGB
    box: tuple[int, int, int, int]  # the face in it (left, top, right, bottom)


# --- sources ----------------------------------------------------------------------------------


@functools.cache
def _source_faces(faces_dir: Path, relative: str) -> tuple[SourceFace, ...]:
    """Every face of a sample photo, located by dlib's HOG detector on the original (large) faces."""
    # Through the product's loader: a plain `import face_recognition` would leave Pillow accepting
    # truncated files for every later test.
    from recognition.backends.local import load_face_recognition

    image = ImageOps.exif_transpose(Image.open(faces_dir / relative)).convert("RGB")
    pixels = np.asarray(image)
    located = load_face_recognition().face_locations(pixels, number_of_times_to_upsample=1)
    found = [SourceFace(image=image, box=(left, top, right, bottom)) for top, right, bottom, left in located]
    return tuple(sorted(found, key=lambda f: (f.box[0], f.box[1])))


def known_face(faces_dir: Path, identity: str) -> SourceFace:
    found = _source_faces(faces_dir, KNOWN_SOURCES[identity])
    return max(found, key=lambda f: f.box[2] - f.box[0])  # the portrait's own face


def stranger_faces(faces_dir: Path) -> list[SourceFace]:
    strangers: list[SourceFace] = []
    for relative in STRANGER_SOURCES:
        strangers.extend(_source_faces(faces_dir, relative))
    return strangers


# --- drawing ----------------------------------------------------------------------------------


def _cutout(source: SourceFace, face_width: int, *, enlarge: bool = False
            ) -> tuple[Image.Image, Image.Image, tuple[int, int, int, int]]:
    """Head and shoulders around the face, scaled so the face is `face_width` wide, with a soft-edged
    mask; returns (rgb, mask, face box inside the cut-out). A face is never enlarged (its detail would
    be invented) unless `enlarge` says so: a close-up larger than any photo here."""
    left, top, right, bottom = source.box
    width, height = right - left, bottom - top
    region = (max(0, left - int(0.45 * width)), max(0, top - int(0.55 * height)),
              min(source.image.width, right + int(0.45 * width)), min(source.image.height, bottom + int(0.45 * height)))
    cut = source.image.crop(region)
    scale = face_width / width
    if scale > 1.0 and not enlarge:
        raise ValueError(f"a {width} px face cannot be pasted at {face_width} px without enlarging it")
    size = (max(1, round(cut.width * scale)), max(1, round(cut.height * scale)))
    cut = cut.resize(size, Image.LANCZOS)
    mask = Image.new("L", size, 0)
    inset = max(1, size[0] // 14)
    ImageDraw.Draw(mask).ellipse((inset, inset, size[0] - inset, size[1] - inset), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, size[0] // 16)))
    face_box = (round((left - region[0]) * scale), round((top - region[1]) * scale),
                round((right - region[0]) * scale), round((bottom - region[1]) * scale))
    return cut, mask, face_box


def busy_background(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """A classroom-like background: a wall gradient, a whiteboard, shelves of coloured books,
    window bars, and sensor noise."""
    y = np.linspace(0, 1, height)[:, None, None]
    base = (np.array([196, 188, 170]) * (1 - 0.25 * y) + rng.normal(0, 3, (1, width, 3))).clip(0, 255)
    image = Image.fromarray(np.broadcast_to(base, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width * 0.05, height * 0.04, width * 0.45, height * 0.3), fill=(236, 238, 240),
                   outline=(90, 90, 90), width=max(2, width // 400))
    for line in range(6):  # writing on the whiteboard
        y0 = height * (0.07 + 0.035 * line)
        draw.line((width * 0.08, y0, width * (0.2 + 0.2 * rng.random()), y0), fill=(40, 60, 160),
                  width=max(1, width // 800))
    shelf_left = int(width * 0.62)
    for shelf in range(3):
        top = int(height * (0.05 + 0.1 * shelf))
        x = shelf_left
        while x < width * 0.97:
            book = int(rng.integers(width // 160, width // 60))
            colour = tuple(int(c) for c in rng.integers(30, 230, 3))
            draw.rectangle((x, top, x + book, top + int(height * 0.08)), fill=colour)
            x += book + 1
    for bar in range(4):  # a window with bars
        x = int(width * (0.48 + 0.03 * bar))
        draw.line((x, 0, x, height * 0.35), fill=(70, 70, 70), width=max(2, width // 500))
    noise = rng.normal(0, 6, (height, width, 3))
    return Image.fromarray((np.asarray(image, dtype=np.float64) + noise).clip(0, 255).astype(np.uint8))


def plain_background(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    colour = np.array([182, 190, 198], dtype=np.float64)
    return Image.fromarray((colour + rng.normal(0, 2, (height, width, 3))).clip(0, 255).astype(np.uint8))


def _paste(canvas: Image.Image, source: SourceFace, face_width: int, centre: tuple[int, int], identity: str | None,
           *, poster: bool = False, enlarge: bool = False) -> PlacedFace:
    cut, mask, (fl, ft, fr, fb) = _cutout(source, face_width, enlarge=enlarge)
    x = centre[0] - (fl + fr) // 2
    y = centre[1] - (ft + fb) // 2
    canvas.paste(cut, (x, y), mask)
    return PlacedFace(box=(x + fl, y + ft, x + fr, y + fb), identity=identity, poster=poster)


# --- scenes -----------------------------------------------------------------------------------


def classroom(faces_dir: Path, *, name: str, size: tuple[int, int], row_face_widths: list[int],
              per_row: int, busy: bool = True, poster: bool = False, seed: int = 0,
              known_rows: dict[str, int] | None = None, blur: float = 0.0,
              offsets: dict[str, tuple[int, int]] | None = None) -> Scene:
    """Rows of people, back row first (smallest faces at the top). `known_rows` puts each enrolled
    person in a given row (index into `row_face_widths`); every other seat gets a stranger. `offsets`
    moves an enrolled person by (dx, dy) pixels from their seat, all else the same (the same seed)."""
    rng = np.random.default_rng(seed)
    width, height = size
    canvas = (busy_background if busy else plain_background)(width, height, rng)
    strangers = stranger_faces(faces_dir)
    known_rows = known_rows if known_rows is not None else {}
    seats: dict[tuple[int, int], str] = {}
    for identity, row in known_rows.items():
        free = [s for s in range(per_row) if (row, s) not in seats]
        seats[(row, int(rng.choice(free)))] = identity
    placed: list[PlacedFace] = []
    if poster:  # a poster on the wall: a real face, of nobody in the class
        source = max(_source_faces(faces_dir, POSTER_SOURCE), key=lambda f: f.box[1])  # the lowest face
        placed.append(_paste(canvas, source, source.box[2] - source.box[0], (int(width * 0.55), int(height * 0.18)),
                             None, poster=True))
    rows = len(row_face_widths)
    stranger_index = int(rng.integers(0, len(strangers)))
    for row, face_width in enumerate(row_face_widths):
        # Back rows sit higher in the picture and closer together.
        centre_y = int(height * (0.42 + 0.48 * row / max(rows - 1, 1)))
        spacing = width / (per_row + 1)
        for seat in range(per_row):
            jitter = int(rng.integers(-face_width // 3, face_width // 3 + 1))
            centre = (int(spacing * (seat + 1)) + jitter, centre_y + jitter // 2)
            identity = seats.get((row, seat))
            if identity is not None:
                source = known_face(faces_dir, identity)
                shift = (offsets or {}).get(identity, (0, 0))
                centre = (centre[0] + shift[0], centre[1] + shift[1])
            else:
                source = strangers[stranger_index % len(strangers)]
                stranger_index += 1
            placed.append(_paste(canvas, source, face_width, centre, identity))
    if blur:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    return Scene(name=name, pixels=np.asarray(canvas), faces=placed)


def phone_photo(faces_dir: Path, *, seed: int = 1, busy: bool = True, poster: bool = True) -> Scene:
    """A 12 MP phone photo of 30 people in five rows, faces 120 px (front) to 42 px (back: a back row
    6-9 m away is 50-70 px wide at 12 MP), and a poster of a face on the wall."""
    return classroom(faces_dir, name="phone-12mp", size=(4032, 3024), row_face_widths=[42, 52, 64, 85, 120],
                     per_row=6, busy=busy, poster=poster, seed=seed,
                     known_rows={"obama": 0, "biden": 1, "kit_harington": 2, "rose_leslie": 3,
                                 "alex_lacamoire": 4})


def webcam_frame(faces_dir: Path, *, seed: int = 2, busy: bool = True) -> Scene:
    """A 1920x1080 webcam frame of 24 people, faces 70 px (front) to 28 px (back), slightly soft."""
    return classroom(faces_dir, name="webcam-1080p", size=(1920, 1080), row_face_widths=[28, 38, 52, 70],
                     per_row=6, busy=busy, seed=seed, blur=0.6,
                     known_rows={"obama": 0, "biden": 1, "kit_harington": 2, "rose_leslie": 3, "alex_lacamoire": 3})


def small_photo(faces_dir: Path, *, seed: int = 3, busy: bool = True) -> Scene:
    """A 540x540 photo of 8 people, faces 40-60 px (an old or small photo)."""
    return classroom(faces_dir, name="small-540", size=(540, 540), row_face_widths=[40, 50, 60], per_row=3,
                     busy=busy, seed=seed,
                     known_rows={"obama": 0, "biden": 1, "kit_harington": 1, "rose_leslie": 2, "alex_lacamoire": 2})


def scaled_group(faces_dir: Path, relative: str, scale: float) -> Scene:
    """A real group photo scaled down (its faces located on the original by HOG, then scaled)."""
    image = ImageOps.exif_transpose(Image.open(faces_dir / relative)).convert("RGB")
    found = _source_faces(faces_dir, relative)
    size = (round(image.width * scale), round(image.height * scale))
    scaled = image.resize(size, Image.LANCZOS)
    placed = [PlacedFace(box=tuple(round(v * scale) for v in f.box), identity=None) for f in found]  # type: ignore[misc]
    return Scene(name=f"{Path(relative).stem}@{scale:g}", pixels=np.asarray(scaled), faces=placed)


def with_reflection(faces_dir: Path, scene: Scene, identity: str, face_width: int, *, opacity: float = 0.45) -> Scene:
    """The scene with a reflection of an enrolled person in the window (mirrored, faint): a face a
    person can see, of someone who may also be in the room."""
    canvas = Image.fromarray(scene.pixels)
    cut, mask, (fl, ft, fr, fb) = _cutout(known_face(faces_dir, identity), face_width)
    cut, mask = ImageOps.mirror(cut), ImageOps.mirror(mask).point(lambda v: int(v * opacity))
    x, y = int(scene.size[0] * 0.5), int(scene.size[1] * 0.08)
    canvas.paste(cut, (x, y), mask)
    left, right = cut.width - fr, cut.width - fl  # mirrored horizontally
    face = PlacedFace(box=(x + left, y + ft, x + right, y + fb), identity=identity, reflection=True)
    return Scene(name=f"{scene.name}+reflection", pixels=np.asarray(canvas), faces=[*scene.faces, face])


def across_a_cut(faces_dir: Path, *, cut: int, size: tuple[int, int] = (1920, 1080), seed: int = 5) -> Scene:
    """A frame of strangers whose faces (24-200 px) straddle row `cut`, each a little above or below
    it: where a scan split into bands (recognition.detectors.yunet) cuts the photo."""
    rng = np.random.default_rng(seed)
    width, height = size
    canvas = busy_background(width, height, rng)
    sources = stranger_faces(faces_dir)
    placed: list[PlacedFace] = []
    x = 20.0
    for index, face_width in enumerate((24, 32, 44, 60, 84, 120, 160, 200)):
        source = max(sources, key=lambda f: f.box[2] - f.box[0]) if face_width > 150 else sources[index % len(sources)]
        x += 1.0 * face_width
        offset = (-1) ** index * (index % 3) * face_width // 5  # on the cut, a fifth or two fifths off it
        placed.append(_paste(canvas, source, face_width, (int(x), cut + offset), None))
        x += 1.0 * face_width
    if x > width:
        raise ValueError(f"the faces need {x:.0f} px; the frame is {width} px wide")
    return Scene(name="across-a-cut", pixels=np.asarray(canvas), faces=placed)


def all_scenes(faces_dir: Path) -> list[Scene]:
    """The benchmark's fixtures: each camera on a busy and on a plain background, and group photos
    scaled down."""
    return [
        phone_photo(faces_dir), phone_photo(faces_dir, seed=11, busy=False, poster=False),
        webcam_frame(faces_dir), webcam_frame(faces_dir, seed=12, busy=False),
        small_photo(faces_dir), small_photo(faces_dir, seed=13, busy=False),
        scaled_group(faces_dir, "groups/bald_guys.jpg", 0.5),
    ]


def found_faces(scene: Scene, boxes: list[tuple[int, int, int, int]], *, min_overlap: float = 0.3
                ) -> tuple[dict[int, int], list[int]]:
    """Pairs detected boxes (left, top, right, bottom) with the scene's faces by overlap (IoU).
    Returns ({scene face index: box index}, [indexes of boxes that are nobody])."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    scores = []
    for fi, face in enumerate(scene.faces):
        for bi, box in enumerate(boxes):
            scores.append((_iou(face.box, box), fi, bi))
    for score, fi, bi in sorted(scores, reverse=True):
        if score < min_overlap:
            break
        if fi not in pairs and bi not in used:
            pairs[fi] = bi
            used.add(bi)
    return pairs, [bi for bi in range(len(boxes)) if bi not in used]


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def faces_around_rows(faces_dir: Path, *, rows: list[int], face_width: int, offsets: list[float],
                      size: tuple[int, int] = (1920, 1080), seed: int = 7) -> list[Scene]:
    """Faces `face_width` wide whose centres lie `offset` x their width above or below each of `rows`
    (where a banded scan cuts the photo), every (row, offset) once, side by side on as many frames as
    they need. A placement whose face would leave the frame is skipped."""
    rng = np.random.default_rng(seed)
    width, height = size
    sources = [f for f in stranger_faces(faces_dir) if f.box[2] - f.box[0] >= face_width]
    sources = sources or [max(stranger_faces(faces_dir), key=lambda f: f.box[2] - f.box[0])]  # enlarged
    spots = [(row, offset) for offset in offsets for row in rows
             if face_width // 2 <= row + offset * face_width <= height - face_width // 2 and face_width < width]
    scenes_: list[Scene] = []
    while spots:
        canvas = busy_background(width, height, rng)
        placed: list[PlacedFace] = []
        x = 0.0
        while spots and x + 1.7 * face_width <= width:
            row, offset = spots.pop(0)
            source = sources[len(placed) % len(sources)]
            x += 0.85 * face_width
            placed.append(_paste(canvas, source, face_width, (int(x), int(row + offset * face_width)), None,
                                 enlarge=True))
            x += 0.85 * face_width
        if not placed:  # wider than the frame: nothing more fits
            break
        scenes_.append(Scene(name=f"around-rows-{face_width}", pixels=np.asarray(canvas), faces=placed))
    return scenes_
