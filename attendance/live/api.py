"""REST API of live mode: start, stop, and one webcam frame at a time (SPEC §3, README "Live attendance")."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.password_api import ErrorSerializer  # the API's one error shape (one schema component)
from attendance.live import services as live
from attendance.live.serializers import FrameResultSerializer, FrameUploadSerializer, LiveRunSerializer
from attendance.register.selectors import session_visible_or_404
from recognition.images import upload_bytes
from school.api.permissions import IsStaff
from school.api.throttling import LiveFrameThrottle
from school.authenticated import AuthenticatedRequest


def _error(text: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=text)


_COMMON = {
    401: _error("Not logged in."),
    403: _error("Not a teacher or administrator."),
    404: _error("No such session among yours."),
}


class LiveRunView(APIView):
    """Live mode of a session. GET: the running run, else the last one (404 NOT_RUNNING when never
    started). POST: start it (or get the run already going). DELETE: stop it."""

    permission_classes = [IsStaff]

    @extend_schema(responses={200: LiveRunSerializer, **_COMMON})
    def get(self, request: AuthenticatedRequest, session_id: int) -> Response:
        run = live.live_run_latest(session=session_visible_or_404(user=request.user, session_id=session_id))
        if run is None:
            return Response({"error_code": "NOT_RUNNING", "message": "Live mode has not been started."},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(LiveRunSerializer(run).data)

    @extend_schema(request=None, responses={201: LiveRunSerializer, **_COMMON,
                                            409: _error("SESSION_FINALIZED: the session is finalised.")})
    def post(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = session_visible_or_404(user=request.user, session_id=session_id)
        run = live.live_run_start(session=session, by=request.user)
        return Response(LiveRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: LiveRunSerializer, 204: None, **_COMMON})
    def delete(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = session_visible_or_404(user=request.user, session_id=session_id)
        run = live.live_run_stop(session=session, by=request.user)
        if run is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(LiveRunSerializer(run).data)


class LiveFrameView(APIView):
    """One webcam frame of a running live mode (multipart `image`, a small JPEG, at most
    LIVE_MAX_FRAME_BYTES and LIVE_MAX_FRAME_PIXELS). The answer has the frame's boxes with names and
    statuses, the live count, the students this frame marked, and `stopped` when live mode ended
    (time limit, everyone present). One frame per session at a time: a frame sent while another is
    processed gets 429 LIVE_FRAME_IN_FLIGHT with Retry-After: 1."""

    permission_classes = [IsStaff]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [LiveFrameThrottle]

    @extend_schema(
        request={"multipart/form-data": FrameUploadSerializer},
        responses={200: FrameResultSerializer, **_COMMON,
                   400: _error("VALIDATION_ERROR or INVALID_IMAGE: no usable image."),
                   409: _error("LIVE_NOT_RUNNING (start live mode first) or SESSION_FINALIZED."),
                   413: _error("IMAGE_TOO_LARGE: more bytes or pixels than a live frame may have."),
                   415: _error("UNSUPPORTED_IMAGE_TYPE."),
                   429: _error("RATE_LIMITED, or LIVE_FRAME_IN_FLIGHT while another frame is processed "
                               "(Retry-After)."),
                   503: _error("Recognition unavailable (Retry-After).")})
    def post(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = session_visible_or_404(user=request.user, session_id=session_id)
        upload = FrameUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image = upload_bytes(upload.validated_data["image"], max_bytes=int(settings.LIVE_MAX_FRAME_BYTES))
        result = live.live_frame_process(session=session, image=image, by=request.user)
        return Response(FrameResultSerializer(result).data)
