from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tonghu.accounts"
    verbose_name = "用户与角色"

    def ready(self) -> None:
        from tonghu.accounts import signals  # noqa: F401, PLC0415  (connects the login audit once apps are ready)
