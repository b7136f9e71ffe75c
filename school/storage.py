"""Cloudinary storage for biometric photos: authenticated delivery, never a public URL.

django-cloudinary-storage uploads with Cloudinary's default delivery type `upload`, whose URLs are
public and permanent: anyone holding one sees a child's face. This storage uploads with the type
`authenticated` (the asset is not reachable without a signature) and reads it back through an
expiring, signed download URL made with the API secret, fetched by the server only: pages stream
the photo through login-protected views (school.pages.private_image).
"""

from __future__ import annotations

import time

import cloudinary.uploader
import cloudinary.utils
from cloudinary_storage.storage import MediaCloudinaryStorage
from django.utils.deconstruct import deconstructible

# Seconds a signed download URL stays valid: enough for the server to fetch the file.
SIGNED_URL_SECONDS = 60


@deconstructible
class PrivateMediaCloudinaryStorage(MediaCloudinaryStorage):
    """Enrolment and classroom photos on Cloudinary with authenticated delivery."""

    DELIVERY_TYPE = "authenticated"

    def _upload(self, name: str, content: object) -> dict:
        options = {"use_filename": True, "resource_type": self._get_resource_type(name), "tags": self.TAG,
                   "type": self.DELIVERY_TYPE}
        folder = name.rpartition("/")[0]
        if folder:
            options["folder"] = folder
        return cloudinary.uploader.upload(content, **options)

    def delete(self, name: str) -> bool:
        response = cloudinary.uploader.destroy(name, invalidate=True, resource_type=self._get_resource_type(name),
                                               type=self.DELIVERY_TYPE)
        return response["result"] == "ok"

    def _get_url(self, name: str) -> str:
        # Our photos are always stored as JPEG (recognition re-encodes them).
        return cloudinary.utils.private_download_url(
            self._prepend_prefix(name), "jpg", resource_type=self._get_resource_type(name), type=self.DELIVERY_TYPE,
            expires_at=int(time.time()) + SIGNED_URL_SECONDS)
