from django.urls import path

from tonghu.stats import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tables/", views.tables, name="tables"),
    path("annual/", views.annual, name="annual"),
]
