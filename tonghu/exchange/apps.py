from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tonghu.exchange"
    label = "exchange"
    verbose_name = "居住地与户籍地信息交换"
