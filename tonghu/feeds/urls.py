from django.urls import path

from tonghu.feeds import views

app_name = "feeds"
urlpatterns = [
    path("rounds/<int:round_id>/upload/", views.upload, name="upload"),
    path("imports/<int:import_id>/", views.import_detail, name="detail"),
    path("imports/<int:import_id>/report.xlsx", views.import_report, name="report"),
]
