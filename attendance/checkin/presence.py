"""What a self check-in can prove about where the student is (SPEC §9, README "Security"): each
function reads one signal the server can trust and returns the reasons it falls short, which make
the check-in pending instead of present.

* the school's network: the address the request came from (as NUM_PROXIES reads it), not a position
  the phone reports;
* the liveness step: a few frames in which the head turns (`recognition.pose`), all of one person;
* no copy of an enrolled photo among the frames (a picture the school already has is not new evidence);
* the position the phone reports, against the school's geofence (a hint, not a proof).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from recognition import pose
from recognition.matching import DEFAULT_UNCERTAIN_THRESHOLD, nearest_distance
from recognition.results import PosedFace
from school.models import SchoolSettings

# The frames a liveness step sends: a look at the camera and a turn to each side, and a few spare.
MAX_FRAMES = 6


def network_reasons(client_address: str) -> list[str]:
    """Why the request's address is not the school's network (CHECKIN_NETWORKS), if it is not."""
    networks = settings.CHECKIN_NETWORKS
    if not networks:
        return ["school network not configured (CHECKIN_NETWORKS)"]
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return ["unknown network address"]
    if any(address.version == network.version and address in network for network in networks):
        return []
    return [f"not on the school's network ({client_address})"]


@dataclass(frozen=True)
class Liveness:
    """The verdict on a check-in's frames: the index of the frame that faces the camera best (the
    selfie that is matched and kept) and the reasons the frames do not prove a live person."""

    selfie_index: int
    reasons: list[str]
    yaws: tuple[float, ...]


def liveness_judge(*, faces: Sequence[PosedFace], enrolled: Sequence[np.ndarray]) -> Liveness:
    """A single picture proves nothing live; several must show one person turning their head by
    CHECKIN_LIVENESS_MIN_YAW degrees, and none may be a copy of an enrolled photo."""
    best = min(range(len(faces)), key=lambda index: abs(faces[index].yaw))
    reasons: list[str] = []
    if len(faces) < 2:
        reasons.append("no liveness step (one photo, maybe an old one)")
    else:
        turn = pose.head_turn(faces, min_yaw_spread=float(settings.CHECKIN_LIVENESS_MIN_YAW),
                              same_person_distance=DEFAULT_UNCERTAIN_THRESHOLD,
                              mirror_distance=pose.MIRROR_SHAPE_DISTANCE)
        if not turn.passed:
            reasons.append(f"liveness failed: {turn.reason}")
    if enrolled and any(nearest_distance(face.embedding, list(enrolled)) < settings.FACE_DUPLICATE_DISTANCE
                        for face in faces):
        reasons.append("a copy of an enrolled photo")
    return Liveness(selfie_index=best, reasons=reasons, yaws=tuple(round(face.yaw, 1) for face in faces))


# --- the position the phone reports (a hint for an honest student's teacher, never a proof) -----------


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float


def geofence() -> tuple[Position, int] | None:
    """The school's check-in geofence (centre, radius in metres), or None when not configured."""
    school = SchoolSettings.objects.first()
    if school is None or school.checkin_latitude is None or school.checkin_longitude is None \
            or not school.checkin_radius_m:
        return None
    return Position(school.checkin_latitude, school.checkin_longitude), school.checkin_radius_m


def position_from(data: Any) -> Position | None:
    """The browser's position from a form (latitude, longitude), or None when absent or malformed."""
    try:
        latitude, longitude = float(data.get("latitude", "")), float(data.get("longitude", ""))
    except (TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or math.isnan(latitude) or math.isnan(longitude):
        return None
    return Position(latitude, longitude)


def metres_between(a: Position, b: Position) -> float:
    """Great-circle distance (haversine) in metres."""
    earth = 6_371_000.0
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * earth * math.asin(math.sqrt(min(1.0, h)))
