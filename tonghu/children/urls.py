from django.urls import path

from tonghu.children import views

app_name = "children"
urlpatterns = [
    path("", views.child_list, name="list"),
    path("national.xlsx", views.national_export, name="national_export"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/answer/", views.task_answer_view, name="task_answer"),
    path("<str:child_id>/", views.child_detail, name="detail"),
    path("<str:child_id>/correct/", views.child_correction, name="correct"),
    path("<str:child_id>/reveal/", views.child_reveal_view, name="reveal"),
]
