from __future__ import annotations

from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, once the apps are loaded (Django's place for it), to fill in the core's hooks:
        # /readyz and /metrics, the erasure of a student's biometric data, the access-log classification of
        # this app's routes.
        from accounts.consent import biometric_holder_register
        from recognition.access_routes import ROUTES
        from recognition.health import breaker_gauge, recognition_ready
        from recognition.services import face_embeddings_erase
        from school import health, metrics
        from school.access_log import access_routes_declare

        health.readiness_check_register("recognition", recognition_ready)
        metrics.scrape_gauge_register(breaker_gauge)
        biometric_holder_register(face_embeddings_erase)
        access_routes_declare(ROUTES)
