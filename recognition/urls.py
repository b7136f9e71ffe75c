"""Routes of the recognition HTTP API (SPEC §2.4), mounted at the root by both roles."""

from __future__ import annotations

from django.urls import path

from recognition import api

urlpatterns = [
    path("api/ml/encode-face", api.encode_face, name="ml-encode-face"),
    path("api/ml/face-pose", api.face_pose, name="ml-face-pose"),
    path("api/ml/detect-faces", api.detect_faces, name="ml-detect-faces"),
    path("api/ml/match-faces", api.match_faces, name="ml-match-faces"),
    path("api/ml/batch-match", api.batch_match, name="ml-batch-match"),
    path("health", api.health, name="ml-health"),
]
