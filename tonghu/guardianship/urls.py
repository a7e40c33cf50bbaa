from django.urls import path

from tonghu.guardianship import views

app_name = "guardianship"
urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/handle/", views.task_handle, name="task_handle"),
    path("<str:child_id>/", views.child_page, name="child"),
    path("<str:child_id>/assess/", views.assess, name="assess"),
    path("<str:child_id>/agreements/", views.agreement_add, name="agreement_add"),
    path(
        "<str:child_id>/agreements/<int:agreement_id>/unfit/",
        views.agreement_unfit,
        name="agreement_unfit",
    ),
    path(
        "<str:child_id>/agreements/<int:agreement_id>/file/",
        views.agreement_file,
        name="agreement_file",
    ),
    path("<str:child_id>/contacts/", views.contact_add, name="contact_add"),
]
