from django.contrib import admin
from django.urls import include, path

from tonghu.config.api import api

urlpatterns = [
    path("", include("tonghu.web.urls")),
    path("accounts/", include("tonghu.accounts.urls")),
    path("divisions/", include("tonghu.divisions.urls")),
    path("children/", include("tonghu.children.urls")),
    path("audit/", include("tonghu.audit.urls")),
    path("rounds/", include("tonghu.rounds.urls")),
    path("feeds/", include("tonghu.feeds.urls")),
    path("linkage/", include("tonghu.linkage.urls")),
    path("services/", include("tonghu.services.urls")),
    path("notifications/", include("tonghu.notifications.urls")),
    path("visits/", include("tonghu.visits.urls")),
    path("guardianship/", include("tonghu.guardianship.urls")),
    path("alerts/", include("tonghu.alerts.urls")),
    path("roster/", include("tonghu.roster.urls")),
    path("conferences/", include("tonghu.conferences.urls")),
    path("cases/", include("tonghu.cases.urls")),
    path("reports/", include("tonghu.cases.report_urls")),
    path("stats/", include("tonghu.stats.urls")),
    path("privacy/", include("tonghu.privacy.urls")),
    path("exchange/", include("tonghu.exchange.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
