from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "tepat.synth"
    label = "synth"
    verbose_name = "Synthetic region generator"
