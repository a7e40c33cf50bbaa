from django.urls import path

from tonghu.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:alert_id>/dismiss/", views.dismiss, name="dismiss"),
    path("<int:alert_id>/case/", views.to_case, name="to_case"),
]
