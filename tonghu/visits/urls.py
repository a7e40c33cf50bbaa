from django.urls import path

from tonghu.visits import views

app_name = "visits"
urlpatterns = [
    path("", views.worklist_page, name="worklist"),
    path("<str:child_id>/", views.child_visits, name="child"),
    path("<str:child_id>/new/", views.visit_new, name="new"),
]
