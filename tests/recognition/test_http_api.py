"""The recognition HTTP API against its contract (SPEC §2.4)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

# The recognition role's routes (the web role mounts them only when RECOGNITION_API_KEY is set).
pytestmark = [pytest.mark.slow, pytest.mark.urls("smart_attendance.urls_recognition")]


def post(client: Client, path: str, payload: Any, **headers: str) -> Any:
    return client.post(path, json.dumps(payload), content_type="application/json", **headers)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def client() -> Client:
    return Client()


def test_encode_face_contract(client: Client, read: Any) -> None:
    response = post(client, "/api/ml/encode-face", {"image_base64": b64(read("people/obama/obama.jpg"))})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and len(body["embedding"]) == 128
    assert set(body["face_location"]) == {"top", "right", "bottom", "left"}
    assert body["metadata"]["image_dimensions"] == {"width": 910, "height": 1137}
    assert 0.05 <= body["metadata"]["face_area_ratio"] < 1


def test_encode_face_accepts_a_data_url(client: Client, read: Any) -> None:
    url = "data:image/jpeg;base64," + b64(read("people/obama/obama.jpg"))
    assert post(client, "/api/ml/encode-face", {"image_base64": url}).json()["success"] is True


@pytest.mark.parametrize(("photo", "payload", "status", "code"), [
    ("edge/no_face_dogs.jpg", {}, 422, "NO_FACE_FOUND"),
    ("groups/two_people.jpg", {"validate_single": True}, 422, "MULTIPLE_FACES"),
    ("people/obama/obama3.jpg", {"min_face_area_ratio": 0.05}, 422, "FACE_TOO_SMALL"),
])
def test_encode_face_refusals(client: Client, read: Any, photo: str, payload: dict, status: int, code: str) -> None:
    response = post(client, "/api/ml/encode-face", {"image_base64": b64(read(photo)), **payload})
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False and body["error_code"] == code and body["error"]


def test_detect_faces_contract(client: Client, read: Any) -> None:
    response = post(client, "/api/ml/detect-faces", {"image_base64": b64(read("probes/obama_and_biden.jpg")),
                                                      "min_face_area_ratio": 0.0, "num_jitters": 1, "model": "hog"})
    body = response.json()
    assert response.status_code == 200 and body["success"] is True and body["count"] == 3
    assert all(len(f["embedding"]) == 128 and set(f["location"]) == {"top", "right", "bottom", "left"}
               and f["face_area_ratio"] > 0 for f in body["faces"])
    assert body["metadata"]["image_dimensions"] == {"width": 2000, "height": 1428}
    assert body["metadata"]["processing_time_ms"] > 0


def test_match_faces_and_batch_match_contract(client: Client, read: Any) -> None:
    obama = post(client, "/api/ml/encode-face", {"image_base64": b64(read("people/obama/obama.jpg"))}).json()
    biden = post(client, "/api/ml/encode-face", {"image_base64": b64(read("people/biden/biden.jpg"))}).json()
    probe = post(client, "/api/ml/detect-faces", {"image_base64": b64(read("groups/two_people.jpg")),
                                                   "min_face_area_ratio": 0.0}).json()
    candidates = [{"student_id": "obama", "embeddings": [obama["embedding"]]},
                  {"student_id": 42, "embeddings": [biden["embedding"]]}]
    single = post(client, "/api/ml/match-faces", {"query_embedding": probe["faces"][0]["embedding"],
                                                  "candidate_embeddings": candidates, "threshold": 0.6,
                                                  "return_all_distances": True}).json()
    assert single["success"] is True
    assert single["match"]["student_id"] in ("obama", 42) and single["match"]["status"] == "confident"
    assert 0 < single["match"]["confidence"] <= 1 and len(single["all_distances"]) == 2
    batch = post(client, "/api/ml/batch-match", {"detected_faces": [{"embedding": f["embedding"]}
                                                                     for f in probe["faces"]],
                                                  "candidate_embeddings": candidates}).json()
    assert batch["success"] is True
    assert sorted(str(m["student_id"]) for m in batch["matches"]) == ["42", "obama"]
    assert {m["status"] for m in batch["matches"]} == {"confident"}
    far = post(client, "/api/ml/match-faces", {"query_embedding": [0.5] * 128,
                                               "candidate_embeddings": candidates}).json()
    assert far["match"]["status"] == "no_match" and far["match"]["student_id"] is None


@pytest.mark.parametrize(("path", "payload"), [
    ("/api/ml/encode-face", {}),
    ("/api/ml/encode-face", {"image_base64": "not base64 at all!"}),
    ("/api/ml/encode-face", {"image_base64": b64(b"abc"), "num_jitters": "five"}),
    ("/api/ml/detect-faces", {"image_base64": b64(b"x"), "model": "yolo"}),
    ("/api/ml/match-faces", {"query_embedding": [0.1] * 12, "candidate_embeddings": []}),
    ("/api/ml/batch-match", {"detected_faces": [{"embedding": [0.1] * 128}], "candidate_embeddings": "x"}),
    ("/api/ml/batch-match", {"detected_faces": [], "candidate_embeddings": [],
                             "confident_threshold": 0.7, "uncertain_threshold": 0.6}),
])
def test_invalid_requests_are_400_with_a_code(client: Client, path: str, payload: dict) -> None:
    response = post(client, path, payload)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["error_code"] == "INVALID_REQUEST"


def test_bad_images_and_bodies(client: Client) -> None:
    corrupt = post(client, "/api/ml/encode-face", {"image_base64": b64(b"\xff\xd8\xff" + b"\x00" * 50)})
    assert corrupt.status_code == 400 and corrupt.json()["error_code"] == "INVALID_IMAGE"
    gif = post(client, "/api/ml/detect-faces", {"image_base64": b64(b"GIF89a" + b"\x00" * 30)})
    assert gif.status_code == 400 and gif.json()["error_code"] == "UNSUPPORTED_IMAGE_TYPE"
    not_json = client.post("/api/ml/encode-face", "{oops", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json()["error_code"] == "INVALID_REQUEST"
    assert client.get("/api/ml/encode-face").status_code == 405


def test_the_api_key_is_required_when_set(client: Client, settings: Any, read: Any) -> None:
    settings.RECOGNITION_API_KEY = "s3cret"
    payload = {"detected_faces": [], "candidate_embeddings": []}
    assert post(client, "/api/ml/batch-match", payload).status_code == 401
    wrong = post(client, "/api/ml/batch-match", payload, HTTP_X_API_KEY="guess")
    assert wrong.status_code == 401 and wrong.json()["error_code"] == "UNAUTHORIZED"
    assert post(client, "/api/ml/batch-match", payload, HTTP_X_API_KEY="s3cret").status_code == 200
    assert client.get("/health").status_code == 200  # open for load balancers


def test_health_and_request_id(client: Client) -> None:
    response = client.get("/health", HTTP_X_REQUEST_ID="abc-123")
    body = response.json()
    assert body["status"] == "ok" and body["models_loaded"] is True and body["version"].startswith("dlib-")
    assert body["service"] and body["uptime_seconds"] >= 0
    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.urls("smart_attendance.urls")
def test_the_web_role_does_not_expose_an_unprotected_recognition_api(client: Client) -> None:
    assert post(client, "/api/ml/batch-match", {"detected_faces": [], "candidate_embeddings": []}).status_code == 404
    assert client.get("/health").status_code == 404


def test_an_oversized_body_is_refused_with_a_code(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, "/api/ml/encode-face", {"image_base64": "A" * 5000})
    assert response.status_code == 413 and response.json()["error_code"] == "IMAGE_TOO_LARGE"


def test_a_body_over_the_request_cap_is_refused_before_it_is_read(client: Client, settings: Any) -> None:
    settings.MAX_REQUEST_BYTES = 1000
    response = post(client, "/api/ml/encode-face", {"image_base64": "A" * 5000})
    assert response.status_code == 413
    assert response.json() == {"success": False, "error": response.json()["error"], "error_code": "IMAGE_TOO_LARGE",
                               "details": {"bytes": len(json.dumps({"image_base64": "A" * 5000})),
                                           "max_bytes": 1000}}


SMALL_LIMITS = {"MAX_FACES": 3, "MAX_CANDIDATES": 2, "MAX_EMBEDDINGS_PER_CANDIDATE": 2, "MAX_JITTERS": 10,
                "MODELS": ("hog",)}
E = [0.01] * 128


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/ml/batch-match", {"detected_faces": [{"embedding": E}] * 4, "candidate_embeddings": []}, "detected_faces"),
    ("/api/ml/batch-match", {"detected_faces": [], "candidate_embeddings": [
        {"student_id": i, "embeddings": [E]} for i in range(3)]}, "candidate_embeddings"),
    ("/api/ml/match-faces", {"query_embedding": E, "candidate_embeddings": [
        {"student_id": 1, "embeddings": [E, E, E]}]}, "candidate_embeddings[0].embeddings"),
    # The same student twice must not get round the per-candidate cap.
    ("/api/ml/match-faces", {"query_embedding": E, "candidate_embeddings": [
        {"student_id": 1, "embeddings": [E, E]}, {"student_id": 1, "embeddings": [E]}]},
     "candidate_embeddings[1].embeddings"),
])
def test_requests_over_the_cost_caps_are_413(client: Client, settings: Any, path: str, payload: dict,
                                             field: str) -> None:
    settings.RECOGNITION_API_LIMITS = SMALL_LIMITS
    response = post(client, path, payload)
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False and body["error_code"] == "REQUEST_TOO_LARGE"
    assert body["error"].startswith(field + " has") and body["details"]["limit"] in (2, 3)


def test_the_default_caps_refuse_a_huge_matrix(client: Client) -> None:
    # A many-thousand-face request (the was 40k x 40k) is refused from its counts alone.
    faces = [{"embedding": [0] * 128}] * 10_000
    response = post(client, "/api/ml/batch-match", {"detected_faces": faces, "candidate_embeddings": []})
    assert response.status_code == 413 and response.json()["details"] == {"limit": 200, "got": 10_000}


def test_jitters_are_capped_and_cnn_only_when_the_service_runs_it(client: Client, read: Any) -> None:
    image = b64(read("people/obama/obama.jpg"))
    jitters = post(client, "/api/ml/encode-face", {"image_base64": image, "num_jitters": 100})
    assert jitters.status_code == 400 and "num_jitters must be an integer between 1 and 10" in jitters.json()["error"]
    cnn = post(client, "/api/ml/detect-faces", {"image_base64": image, "model": "cnn"})
    assert cnn.status_code == 400 and cnn.json()["error_code"] == "INVALID_REQUEST"
    assert "hog" in cnn.json()["error"]


def test_the_recognition_api_is_rate_limited_per_caller(client: Client, settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "recognition_api": "2/min"}}
    payload = {"detected_faces": [], "candidate_embeddings": []}
    assert [post(client, "/api/ml/batch-match", payload).status_code for _ in range(2)] == [200, 200]
    refused = post(client, "/api/ml/batch-match", payload, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json() == {"success": False, "error": refused.json()["error"], "error_code": "RATE_LIMITED"}
    assert post(client, "/api/ml/batch-match", payload, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_web_role_mounts_the_recognition_api_only_when_explicitly_enabled() -> None:
    from tests.test_project import PRODUCTION_ENV, run_manage

    probe = "from django.urls import resolve; print(resolve('/api/ml/batch-match').url_name)"
    # A web role with a key (to call a remote service) does not serve /api/ml/* itself.
    keyed = run_manage("shell", "-c", probe, **PRODUCTION_ENV, RECOGNITION_API_KEY="k" * 32)
    assert "Resolver404" in keyed.stderr
    enabled = run_manage("shell", "-c", probe, **PRODUCTION_ENV, RECOGNITION_API_KEY="k" * 32,
                         RECOGNITION_API_ON_WEB="true")
    assert enabled.stdout.strip().endswith("ml-batch-match"), enabled.stderr
