from django.urls import path

from tonghu.privacy import views

app_name = "privacy"
urlpatterns = [
    path("emergency/", views.emergency_open, name="emergency"),
    path("emergency/review/", views.emergency_review_list, name="review"),
    path("emergency/review/<int:grant_id>/", views.emergency_review, name="review_one"),
]
