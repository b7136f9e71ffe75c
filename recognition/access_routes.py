"""The access-log classification of the routes of recognition (see school/access_log.py)."""

from __future__ import annotations

from school.access_log import NotLogged, RouteClass

_FACE_RECORDS = NotLogged("a student's enrolled faces as records (date, state, approval): never an image or "
                          "a vector; the images are read through face-image, which is logged")
_ENGINE = NotLogged("the engine computing on images its caller sends; nothing stored is read")

ROUTES: dict[str, RouteClass] = {
    **dict.fromkeys(["api:my-faces", "api:student-faces", "api:student-face", "api:student-face-approve",
                     "api:student-face-reject"], _FACE_RECORDS),
    **dict.fromkeys(["api:ml-encode-face", "api:ml-detect-faces", "api:ml-match-faces", "api:ml-batch-match",
                     "api:ml-face-pose"],
                    _ENGINE),
    "ml-health": NotLogged("operations: the engine's health"),
}
