from django.apps import AppConfig


class TargetingConfig(AppConfig):
    name = "tepat.targeting"
    label = "targeting"
    verbose_name = "Penargetan (PMT, desil, eligibility)"
