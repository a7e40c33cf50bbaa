from django.urls import path

from tonghu.roster import views

app_name = "roster"
urlpatterns = [
    path("", views.roster, name="list"),
    path("export/", views.export, name="export"),
    path("<int:worker_id>/", views.worker, name="worker"),
    path("<int:worker_id>/trainings/", views.training_new, name="training_add"),
    path("<int:worker_id>/edit/", views.worker_edit, name="worker_edit"),
]
