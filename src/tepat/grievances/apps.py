from django.apps import AppConfig


class GrievancesConfig(AppConfig):
    name = "tepat.grievances"
    label = "grievances"
    verbose_name = "Pengaduan, usul dan sanggah"
