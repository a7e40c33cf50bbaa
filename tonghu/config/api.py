"""The JSON API: session (browser) or bearer-token auth; OpenAPI at /api/openapi.json."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from tonghu.accounts.api import SessionAuth, TokenAuth
from tonghu.accounts.api import router as accounts_router
from tonghu.audit.api import router as audit_router
from tonghu.children.api import router as children_router
from tonghu.divisions.api import router as divisions_router

api = NinjaAPI(
    title="童护 API",
    version="1",
    description=(
        "童护的 JSON 接口。所有数据按用户的辖区和角色范围返回；"
        "范围外的对象与不存在的对象一样返回 404。"
    ),
    auth=[SessionAuth(), TokenAuth()],
    docs_url=None,  # the Swagger page loads from a CDN; the OpenAPI document is enough
    urls_namespace="api",
)
api.add_router("/accounts", accounts_router)
api.add_router("/divisions", divisions_router)
api.add_router("/children", children_router)
api.add_router("/audit", audit_router)


@api.exception_handler(PermissionDenied)
def refused(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A role without the share is refused in JSON like every other API error (Django's own
    403 page is HTML, and with DEBUG on ninja would turn the exception into a 500)."""
    return api.create_response(
        request, {"detail": str(exc) or "您的角色无权使用此功能。"}, status=403
    )
