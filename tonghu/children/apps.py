from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "tonghu.children"
    verbose_name = "儿童台账"
