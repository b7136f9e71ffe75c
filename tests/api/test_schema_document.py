"""The schema document itself: served as asked, and it documents errors in the one error shape."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_schema_format_json_is_json_and_yaml_stays_the_default(client: Any) -> None:
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200 and as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = as_json.json()
    assert schema["openapi"].startswith("3.")
    assert client.get("/api/schema/")["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "openapi: 3" in client.get("/api/schema/").content.decode()

    finalize = schema["paths"]["/api/v1/sessions/{session_id}/finalize/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(finalize)
    assert finalize["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    me = schema["components"]["schemas"]["Me"]["properties"]["student_profile"]
    assert me.get("nullable") is True


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(client: Any) -> None:
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
