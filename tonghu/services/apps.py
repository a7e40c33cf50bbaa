from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "tonghu.services"
    label = "child_services"  # "services" reads like a module name in admin and migrations
    verbose_name = "服务清单与转介"
