from django.urls import path

from tonghu.conferences import views

app_name = "conferences"
urlpatterns = [
    path("case/<str:number>/new/", views.new, name="new"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_page, name="task"),
    path("tasks/<int:task_id>/accept/", views.task_accept, name="task_accept"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("tasks/<int:task_id>/decline/", views.task_decline, name="task_decline"),
]
