from django.urls import path

from tonghu.divisions import views

app_name = "divisions"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("<str:code>/", views.detail, name="detail"),
]
