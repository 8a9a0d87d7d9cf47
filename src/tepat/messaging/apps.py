from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "tepat.messaging"
    label = "messaging"
    verbose_name = "Messaging (SMS gateways)"
