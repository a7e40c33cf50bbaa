from django.urls import path

from tonghu.linkage import views

app_name = "linkage"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pair_id>/", views.pair_detail, name="pair"),
    path("<int:pair_id>/decide/", views.decide, name="decide"),
]
