from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "tonghu.rounds"
    verbose_name = "监测摸排轮次"

    def ready(self) -> None:
        from tonghu.rounds import checks  # noqa: F401, PLC0415  (registers the system check)
