from django.urls import path

from tonghu.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("overdue/", views.overdue, name="overdue"),
    path("transfers/", views.transfers, name="transfers"),
    path(
        "transfers/<int:transfer_id>/<str:answer>/",
        views.transfer_answer,
        name="transfer_answer",
    ),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/step/<str:step>/", views.step, name="step"),
    path("<str:number>/files/", views.file_add, name="file_add"),
    path("<str:number>/files/<int:file_id>/", views.file_download, name="file"),
    path("<str:number>/link/", views.link_child, name="link"),
    path("<str:number>/transfer/", views.transfer, name="transfer"),
]
