"""REST representations of live mode (frames, runs) and of self check-in windows."""

from __future__ import annotations

from rest_framework import serializers

from attendance.models import LiveRun
from attendance.register.serializers import BoxField
from school.api.strict import StrictModelSerializer, StrictSerializer


class FrameUploadSerializer(StrictSerializer):
    """A multipart live frame: a small JPEG (or PNG/WebP) in the field `image`."""

    image = serializers.FileField(allow_empty_file=False)


class LiveRunSerializer(StrictModelSerializer):
    running = serializers.BooleanField(source="is_running", read_only=True)
    # Empty while the run goes on: the schema says so (a read-only model field loses allow_blank).
    ended_reason = serializers.ChoiceField(choices=LiveRun.Ended.choices, allow_blank=True, read_only=True)

    class Meta:
        model = LiveRun
        fields = ["id", "session", "running", "started_at", "ends_at", "ended_at", "ended_reason", "frames",
                  "last_frame_at"]
        read_only_fields = fields


class FrameFaceSerializer(StrictSerializer):
    box = BoxField()
    student = serializers.IntegerField(source="student_id", allow_null=True)
    name = serializers.CharField(help_text="The matched student's name; empty for an unknown face.")
    match = serializers.ChoiceField(choices=["confident", "uncertain", "unknown", "too_small"],
                                    help_text="too_small: a face too small to identify, never matched.")
    distance = serializers.FloatField(allow_null=True)
    status = serializers.CharField(help_text="The student's record status after this frame; empty when unknown.")


class MarkedSerializer(StrictSerializer):
    student = serializers.IntegerField(source="student_id")
    name = serializers.CharField(source="student.full_name")
    status = serializers.CharField()


class FrameResultSerializer(StrictSerializer):
    run = LiveRunSerializer()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    faces = FrameFaceSerializer(many=True)
    newly_marked = MarkedSerializer(many=True, help_text="Students this frame marked (present, late or pending).")
    present_count = serializers.IntegerField(help_text="Records present or late after this frame.")
    enrolled_count = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Records still not seen or pending.")
    stopped = serializers.CharField(help_text="Empty while live mode runs; else why it stopped: time_limit, "
                                              "everyone_present.")
    seconds_left = serializers.IntegerField()
    repeated = serializers.BooleanField(help_text="Faces were recognised but none moved since their last "
                                                  "counted sighting (a still picture, a frozen camera): the "
                                                  "frame is not new evidence.")
    evidence_photo = serializers.IntegerField(source="photo.pk", default=None, allow_null=True,
                                              help_text="The photo this frame was kept as (it became evidence).")
    processing_time_ms = serializers.IntegerField()
    encoded_faces = serializers.IntegerField(help_text="Faces encoded for this frame; the others stayed where they "
                                                       "were in the previous frame and kept their match.")
