from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tepat.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
