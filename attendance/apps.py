from __future__ import annotations

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Apps are loaded only now: the hooks of the layers below are filled in here, never by imports
        # running upwards.
        from accounts.consent import biometric_holder_register
        from attendance.access_routes import ROUTES
        from attendance.checkin.replay import picture_hashes_erase
        from attendance.live.services import live_face_signatures_erase
        from attendance.photos.learning import classroom_face_learn
        from attendance.register.services import course_sessions_delete, face_vouched_listener_register
        from classes.services import course_dependent_register
        from school.access_log import access_routes_declare

        course_dependent_register(course_sessions_delete)
        biometric_holder_register(live_face_signatures_erase)
        face_vouched_listener_register(classroom_face_learn)
        biometric_holder_register(picture_hashes_erase)
        access_routes_declare(ROUTES)
