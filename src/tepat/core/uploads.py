"""Uploads that never touch the disk, and request bodies refused before they are read.

Django keeps an upload under FILE_UPLOAD_MAX_MEMORY_SIZE in memory and spools a larger one to a
temporary file: an agency delivery (NIK, No. KK, names in clear) would sit in /tmp until the
request ends, and longer after a crash. `InMemoryUploadHandler` keeps every uploaded file in
memory up to a cap and drops the upload past it (raising `UploadTooLarge`), so nothing is ever
written to disk; it serves as the site-wide FILE_UPLOAD_HANDLERS with the cap
TEPAT_UPLOAD_MEMORY_MAX_BYTES, and per route with the route's own cap through `upload_guard`.

`upload_guard(cap)` wraps an upload view: a request whose Content-Length is over the cap (plus a
small allowance for the form's other fields) gets 413 before a byte of its body is read, and the
rest is read through an `InMemoryUploadHandler` with that cap. The view must be csrf_exempt
outside the guard and csrf_protect inside it: the CSRF check reads the body, and the upload
handlers cannot change once it has been read (Django's documented pattern). For a django-ninja
operation, apply it with `ninja.decorators.decorate_view`, which wraps the authentication (and
so its CSRF check) too.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse, JsonResponse

from tepat.core.errors import TepatError

# Room for the form's other fields and the multipart boundaries around the file.
FORM_ALLOWANCE_BYTES = 64 * 1024


def memory_max_bytes() -> int:
    """The site-wide cap on an upload held in memory (routes with their own cap use theirs)."""
    return int(getattr(settings, "TEPAT_UPLOAD_MEMORY_MAX_BYTES", 10 * 1024 * 1024))


def _message(max_bytes: int) -> str:
    total = max_bytes + FORM_ALLOWANCE_BYTES
    size = f"{total // (1024 * 1024)} MiB" if total >= 1024 * 1024 else f"{total // 1024} KiB"
    return f"Kiriman terlalu besar (batas {size}) / request too large (limit {size})"


class UploadTooLarge(TepatError):
    """An uploaded file grew past its cap while it was read (the API shows it as 413)."""

    http_status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(_message(max_bytes), code="file_too_large")
        self.max_bytes = max_bytes


class InMemoryUploadHandler(FileUploadHandler):
    """Every uploaded file in memory, up to `max_bytes` each; never a temporary file.

    Past the cap, a `strict` handler (the one `upload_guard` installs) raises `UploadTooLarge`,
    which the guard answers with 413; the site-wide one skips the file (it is missing from
    request.FILES and the view says a file is required), since it runs inside the CSRF check,
    where an exception would be a server error."""

    def __init__(
        self, request: HttpRequest | None = None, max_bytes: int | None = None, strict: bool = False
    ) -> None:
        super().__init__(request)
        self.max_bytes = memory_max_bytes() if max_bytes is None else max_bytes
        self.strict = strict
        self._buffer = io.BytesIO()
        self._size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._buffer = io.BytesIO()
        self._size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self._buffer = io.BytesIO()  # drop what was read
            if self.strict:
                raise UploadTooLarge(self.max_bytes)
            raise SkipFile(f"upload over {self.max_bytes} bytes")
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def too_large_response(request: HttpRequest, max_bytes: int, *, json: bool) -> HttpResponse:
    message = _message(max_bytes)
    if json:
        return JsonResponse(
            {"code": "file_too_large", "message": message, "field": None, "row": None}, status=413
        )
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def upload_guard(
    max_bytes: Callable[[], int], *, json: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Refuse a body over `max_bytes()` (+ the form allowance) with 413 before reading it; read
    the rest into memory only. See the module docstring for where it goes."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            cap = max_bytes()
            if content_length(request) > cap + FORM_ALLOWANCE_BYTES:
                return too_large_response(request, cap, json=json)
            if not hasattr(request, "_files"):  # the body has not been parsed yet
                request.upload_handlers = [
                    InMemoryUploadHandler(request, max_bytes=cap, strict=True)
                ]
            try:
                return view(request, *args, **kwargs)
            except UploadTooLarge:
                return too_large_response(request, cap, json=json)

        return wrapped

    return decorator
