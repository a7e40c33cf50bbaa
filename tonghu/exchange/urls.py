from django.urls import path

from tonghu.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.home, name="home"),
    path("import/", views.package_import, name="import"),
    path("export/", views.package_export, name="export"),
    path("packages/<int:package_id>/download/", views.package_download, name="download"),
    path("certify/", views.certify_list, name="certify_list"),
    path("certify/<int:request_pk>/", views.certify_detail, name="certify"),
    path("certify/new/<str:child_id>/", views.certify_new, name="certify_new"),
]
