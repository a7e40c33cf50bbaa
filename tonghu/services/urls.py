from django.urls import path

from tonghu.services import views

app_name = "services"
urlpatterns = [
    path("", views.public_list, name="public"),
    path("referrals/", views.inbox, name="inbox"),
    path("coverage/", views.coverage, name="coverage"),
    path("referrals/<int:referral_id>/", views.act, name="act"),
]
