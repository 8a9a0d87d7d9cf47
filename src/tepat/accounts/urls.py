from django.urls import path

from tepat.accounts import views

app_name = "accounts"
urlpatterns = [
    path("masuk/", views.login_view, name="login"),
    path("masuk/kode/", views.totp_view, name="totp"),
    path("masuk/daftar-kode/", views.totp_enrol_view, name="totp_enrol"),
    path("kata-sandi/", views.password_change_view, name="password_change"),
    path("keluar/", views.logout_view, name="logout"),
]
