from django.urls import path

from tonghu.cases import views

app_name = "reports"

urlpatterns = [
    path("", views.my_reports, name="mine"),
    path("new/", views.report_new, name="new"),
    path("<str:receipt_no>/", views.receipt, name="receipt"),
]
