"""When a classroom photo was taken: its EXIF capture time when plausible, else the upload time.

Read from the uploaded bytes, before the stored copy is re-encoded without EXIF (SPEC §3, §8)."""

from __future__ import annotations

import datetime
import io
import logging
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, UnidentifiedImageError

from school.clock import school_now, school_tz

logger = logging.getLogger(__name__)

EXIF = "exif"
UPLOAD = "upload"
# A camera clock a little ahead of the server is still plausible; more is a wrong clock.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class CaptureTime:
    at: datetime.datetime  # aware, in the school's time zone
    source: str  # EXIF or UPLOAD


def exif_capture_time(image: bytes) -> datetime.datetime | None:
    """The photo's EXIF DateTimeOriginal as an aware datetime (its OffsetTimeOriginal when the camera
    wrote one, else the school's time zone), or None when absent or unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": handled as no capture time
            with Image.open(io.BytesIO(image)) as picture:
                details = picture.getexif().get_ifd(ExifTags.IFD.Exif)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    except Exception:  # a malformed EXIF block must never fail a photo: the upload time is used
        logger.warning("unreadable EXIF in a classroom photo", exc_info=True)
        return None
    raw = details.get(ExifTags.Base.DateTimeOriginal) or details.get(ExifTags.Base.DateTimeDigitized)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.datetime.strptime(raw.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(ExifTags.Base.OffsetTimeOriginal)
    if isinstance(offset, str):
        try:
            parsed = datetime.datetime.strptime(offset.strip("\x00 ").strip(), "%z")
            return naive.replace(tzinfo=parsed.tzinfo)
        except ValueError:
            pass  # a malformed offset: fall back to the school's clock
    return naive.replace(tzinfo=school_tz())


def photo_capture_time(image: bytes, *, session_date: datetime.date,
                       now: datetime.datetime | None = None) -> CaptureTime:
    """The time to judge lateness by. The EXIF time is used when it is on the session's day (school
    time) and not in the future; otherwise (no EXIF, a camera with a wrong clock, an old photo) the
    upload time."""
    uploaded = school_now(now)
    taken = exif_capture_time(image)
    if taken is not None:
        taken = taken.astimezone(school_tz())
        if taken.date() == session_date and taken <= uploaded + CLOCK_SKEW:
            return CaptureTime(at=taken, source=EXIF)
        logger.info("EXIF capture time %s not plausible for a session on %s; using the upload time",
                    taken.isoformat(), session_date)
    return CaptureTime(at=uploaded, source=UPLOAD)
