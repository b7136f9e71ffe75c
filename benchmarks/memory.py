"""Memory benchmark: the peak RSS of handling each hostile input, one fresh process per input.

    .venv/bin/python benchmarks/memory.py [--faces ../shared/faces] [--only NAME ...] [--before REV]

The inputs are written to a temporary folder first. Each case then runs in its own Python process
(Django set up on a throw-away SQLite school, the project's real settings otherwise), which records
its RSS just before the case (with the peak mark reset there: /proc/self/clear_refs) and its peak RSS
(VmHWM; `resource.getrusage` where that is missing) at the end: the difference is what handling that
one input cost. Image decoding is measured twice in the same run: with the decoder of this tree
("after") and with `recognition/images.py` as it was at --before ("before"; by default the commit before
the decode budget, IMAGE_DECODE_MAX_PIXELS, came in). HTTP cases go through a real WSGI server (wsgiref,
in the same process) and a client that streams its body from a generator, so the client adds
nothing: what is measured is the server reading (or refusing) the request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENV = {
    "DEBUG": "false", "SECRET_KEY": "memory-benchmark-only", "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
    "DJANGO_SETTINGS_MODULE": "smart_attendance.settings", "PYTHONWARNINGS": "ignore", "LOG_LEVEL": "ERROR",
}
MB = 1024 * 1024


# --- inputs (made in the parent process) ------------------------------------------------------


def make_inputs(folder: Path, faces: Path) -> None:
    import numpy as np
    from PIL import Image

    from recognition.errors import ErrorCode  # noqa: F401 - fails early outside the project

    # A 16-bit grayscale PNG just under the pixel cap: a few hundred KB on the wire.
    values = np.zeros((6000, 7990), dtype=np.uint16)
    values[::97, ::89] = 65535
    Image.fromarray(values).save(folder / "png16_bomb.png", optimize=True)
    del values
    # A flat 48 MP PNG: ~150 kB on the wire.
    Image.new("RGB", (8000, 6000), (120, 130, 140)).save(folder / "png_48mp_flat.png")
    base = Image.open(faces / "people/obama/obama.jpg").convert("RGB")
    for name, size in (("jpeg_12mp.jpg", (4032, 3024)), ("jpeg_39_7mp.jpg", (7280, 5460)),
                       ("jpeg_48mp.jpg", (8000, 6000))):
        base.resize(size).save(folder / name, quality=85)
    rows = "".join(f"S{i:07d},Ann,Lee,guardian{i}@family.example\n" for i in range(60_000))
    (folder / "roster_2mb_60k_rows.csv").write_text("student_number,first_name,last_name,guardian_email\n"
                                                    + rows[: 2 * MB - 100])


# --- cases (each in its own process) -----------------------------------------------------------


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def reset_peak() -> float:
    """Resets the peak-RSS mark to the current RSS (Linux: /proc/self/clear_refs) and returns it, so
    the peak measured next belongs to the case, not to imports and setup."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return _status_mb("VmRSS") or 0.0


def peak_mb() -> float:
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def decode_case(path: Path) -> Callable[[], str]:
    def run() -> str:
        from recognition.errors import InvalidImageError

        decode_image = _decoder()
        data = path.read_bytes()
        try:
            decoded = decode_image(data)
        except InvalidImageError as exc:
            return f"refused: {exc.error_code}"
        return f"decoded {decoded.size[0]}x{decoded.size[1]} ({len(data) / MB:.2f} MB file)"

    return run


def _decoder() -> Callable[..., Any]:
    """decode_image of this tree, or of the --before revision when BENCH_DECODER names its file."""
    before = os.environ.get("BENCH_DECODER")
    if not before:
        from recognition.images import decode_image

        return decode_image
    import importlib.util

    spec = importlib.util.spec_from_file_location("images_before", before)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["images_before"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return cast(Callable[..., Any], module.decode_image)


def before_revision(requested: str | None) -> str:
    """The revision whose decoder is "before": the one asked for, else the parent of the commit that
    brought in the decode budget (HEAD while it is not committed yet)."""
    if requested:
        return requested
    found = subprocess.run(["git", "log", "--reverse", "--format=%H", "-S", "IMAGE_DECODE_MAX_PIXELS", "HEAD", "--",
                            "recognition/images.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    commits = found.stdout.split()
    return f"{commits[0]}^" if commits else "HEAD"


class Server:
    """The project's WSGI application on a loopback port, in a thread of this process."""

    def __enter__(self) -> Server:
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        from django.core.handlers.wsgi import WSGIHandler

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=Quiet)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()

    def post(self, path: str, parts: list[bytes | Iterator[bytes]], length: int, headers: dict[str, str]) -> str:
        """POSTs a body of `length` bytes streamed from `parts` (never held whole by the client)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.httpd.server_address[1], timeout=120)
        connection.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(length)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for part in parts:
                for chunk in [part] if isinstance(part, bytes) else part:
                    connection.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early and closed: what we want
        response = connection.getresponse()
        body = response.read()[:200].decode(errors="replace")
        return f"HTTP {response.status} {body}"


def zeros(total: int, chunk: int = MB) -> Iterator[bytes]:
    block = b"\0" * chunk
    while total > 0:
        yield block[: min(chunk, total)]
        total -= chunk


def multipart(field: str, filename: str, size: int, content: Iterator[bytes] | bytes) -> tuple[list, int, str]:
    boundary = "memorybenchmarkboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return [head, content, tail], len(head) + size + len(tail), f"multipart/form-data; boundary={boundary}"


def school() -> tuple[str, int, int]:
    """A teacher's JWT, one of their sessions and one of their students."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Role, StudentProfile, User
    from attendance.models import AttendanceSession
    from classes.models import Course

    teacher, _ = User.objects.get_or_create(username="bench-teacher", defaults={"role": Role.TEACHER})
    course, _ = Course.objects.get_or_create(code="BENCH-1", defaults={"name": "Bench", "teacher": teacher})
    session, _ = AttendanceSession.objects.get_or_create(course=course, date="2026-11-20", label="")
    student, _ = StudentProfile.objects.get_or_create(student_number="BENCH-S1", defaults={
        "first_name": "Ann", "last_name": "Lee", "created_by": teacher, "consent_given": True})
    return str(RefreshToken.for_user(teacher).access_token), session.pk, student.pk


def http_case(kind: str, folder: Path) -> Callable[[], str]:
    def run() -> str:
        token, session_id, student_id = school()
        auth = {"Authorization": f"Bearer {token}"}
        with Server() as server:
            if kind == "multipart_200mb":
                parts, length, content_type = multipart("image", "x.jpg", 200 * MB, zeros(200 * MB))
                return server.post(f"/api/v1/sessions/{session_id}/photos/", parts, length,
                                   {**auth, "Content-Type": content_type})
            if kind == "multipart_14mb":
                size = 14 * MB  # just under MAX_UPLOAD_BYTES: parsed, spooled to disk, read once, refused
                parts, length, content_type = multipart("image", "x.jpg", size,
                                                        iter([b"\xff\xd8\xff\xe0", *zeros(size - 4)]))
                return server.post(f"/api/v1/students/{student_id}/faces/", parts, length,
                                   {**auth, "Content-Type": content_type})
            if kind == "csv_300mb":
                parts, length, content_type = multipart("file", "roster.csv", 300 * MB, zeros(300 * MB))
                return server.post("/courses/1/roster/", parts, length, {"Content-Type": content_type})
        raise ValueError(kind)

    return run


def roster_case(path: Path) -> Callable[[], str]:
    def run() -> str:
        from accounts.models import User
        from classes import roster

        user = User.objects.get_or_create(username="bench-teacher")[0]
        roster.roster_size_check(size=path.stat().st_size)
        with path.open(encoding="utf-8", newline="") as handle:
            try:
                result = roster.roster_import(file=handle, by=user, dry_run=True)
            except roster.RosterFileError as exc:
                return f"refused: {exc}"
        return f"imported {result.imported} rows (dry run)"

    return run


# Decoding cases: each runs with the decoder before and after (see the module's docstring).
DECODE_CASES = ("png_48mp_flat", "jpeg_12mp", "jpeg_48mp", "png16_bomb", "jpeg_39_7mp")
CASES: dict[str, tuple[str, Callable[[Path], Callable[[], str]]]] = {
    "png_48mp_flat": ("flat PNG, 8000x6000 (48 MP, ~150 kB)", lambda f: decode_case(f / "png_48mp_flat.png")),
    "jpeg_12mp": ("JPEG 4032x3024 (12 MP phone photo)", lambda f: decode_case(f / "jpeg_12mp.jpg")),
    "jpeg_48mp": ("JPEG 8000x6000 (48 MP, the cap)", lambda f: decode_case(f / "jpeg_48mp.jpg")),
    "png16_bomb": ("16-bit PNG, 7990x6000 (47.9 MP)", lambda f: decode_case(f / "png16_bomb.png")),
    "jpeg_39_7mp": ("JPEG 7280x5460 (39.7 MP)", lambda f: decode_case(f / "jpeg_39_7mp.jpg")),
    "roster_2mb": ("roster CSV, 2 MB / ~50k rows, imported", lambda f: roster_case(f / "roster_2mb_60k_rows.csv")),
    "csv_300mb": ("roster CSV upload of 300 MB (page)", lambda f: http_case("csv_300mb", f)),
    "multipart_200mb": ("multipart photo upload of 200 MB (API)", lambda f: http_case("multipart_200mb", f)),
    "multipart_14mb": ("multipart photo upload of 14 MB, not an image (API)",
                       lambda f: http_case("multipart_14mb", f)),
}


def child(name: str, folder: Path) -> None:
    import django

    django.setup()
    import numpy  # noqa: F401 - loaded before the baseline, as in a running worker
    from PIL import Image  # noqa: F401

    import recognition.images  # noqa: F401

    run = CASES[name][1](folder)
    before = reset_peak()
    started = time.perf_counter()
    outcome = run()
    print(json.dumps({"baseline_mb": before, "peak_mb": peak_mb(), "seconds": time.perf_counter() - started,
                      "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="run only these cases")
    parser.add_argument("--before", help="the git revision whose decoder is measured as \"before\"")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder)
        return
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, **ENV, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
               "MEDIA_ROOT": str(folder / "media")}
        os.environ.update(env)
        import django

        django.setup()
        make_inputs(folder, args.faces)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        from django.conf import settings

        revision = before_revision(args.before)
        old_decoder = folder / "images_before.py"
        old_decoder.write_bytes(subprocess.run(["git", "show", f"{revision}:recognition/images.py"], cwd=ROOT,
                                               capture_output=True, check=True).stdout)
        print(f"MAX_IMAGE_PIXELS={settings.MAX_IMAGE_PIXELS:,}  "
              f"IMAGE_DECODE_MAX_PIXELS={settings.IMAGE_DECODE_MAX_PIXELS:,}  "
              f"MAX_UPLOAD_BYTES={settings.MAX_UPLOAD_BYTES:,}  "
              f"MAX_REQUEST_BYTES={settings.MAX_REQUEST_BYTES:,}  ROSTER_MAX_BYTES={settings.ROSTER_MAX_BYTES:,}  "
              f"ROSTER_MAX_ROWS={settings.ROSTER_MAX_ROWS:,}")
        print(f"decoded before = recognition/images.py at {revision}; after = this tree")
        print(f"{'input':<52} {'baseline':>9} {'peak':>8} {'handling':>9} {'time':>7}  outcome")
        for name in args.only or CASES:
            runs = [("before", {"BENCH_DECODER": str(old_decoder)}), ("after", {})] if name in DECODE_CASES else [
                ("", {})]
            for label, extra in runs:
                title = f"{CASES[name][0]}{', decoded ' + label if label else ''}"
                result = subprocess.run([sys.executable, __file__, "--child", name, "--folder", str(folder)],
                                        cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, timeout=600)
                lines = result.stdout.strip().splitlines()
                if result.returncode or not lines:
                    print(f"{title:<52} failed: {result.stderr.strip()[-300:]}")
                    continue
                row = json.loads(lines[-1])
                print(f"{title:<52} {row['baseline_mb']:>6.0f} MB {row['peak_mb']:>5.0f} MB "
                      f"{row['peak_mb'] - row['baseline_mb']:>+6.0f} MB {row['seconds']:>6.2f}s  "
                      f"{row['outcome'][:70]}")


if __name__ == "__main__":
    main()
