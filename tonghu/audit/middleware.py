"""Remember the client address of the current request so audit rows can record it."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_client_address: ContextVar[tuple[str | None, str]] = ContextVar(
    "client_address", default=(None, "cli")
)


def current_client() -> tuple[str | None, str]:
    """(address, channel): the web request's address, or (None, "cli") outside a request."""
    return _client_address.get()


class ClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        token = _client_address.set((request.META.get("REMOTE_ADDR") or None, channel))
        try:
            return self.get_response(request)
        finally:
            _client_address.reset(token)
