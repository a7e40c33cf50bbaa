"""Requests refused before any view: a NUL character in the path or the query string.

PostgreSQL text cannot hold NUL, so such a value would fail in the database (a 500) instead
of being "not found"; no real URL of ours contains one. The JSON API validates its own
parameters and answers 422 as its schema declares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NUL = "\x00"
API_PREFIX = "/api/"


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if NUL in request.path or any(
            NUL in key or NUL in value for key, value in request.GET.items()
        ):
            return HttpResponseBadRequest(
                "请求中含有非法字符。".encode(), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
