from django.urls import path

from tepat.portal import mydata, rights, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tentang/", views.about, name="about"),
    path("cek/", views.cek, name="cek"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("luring/", views.offline, name="offline"),
    path("sms/masuk/", views.sms_webhook, name="sms_webhook"),
    path("sms/simulator/", views.sms_simulator, name="sms_simulator"),
    path("akun/", views.account, name="account"),
    path("akun/masuk/", views.account_sign_in, name="account_sign_in"),
    path("akun/kode/", views.account_code, name="account_code"),
    path("akun/keluar/", views.account_sign_out, name="account_sign_out"),
    path("akun/hak/", rights.rights_list, name="rights"),
    path("akun/hak/ajukan/", rights.rights_new, name="rights_new"),
    path("akun/hak/<str:public_id>/", rights.rights_detail, name="rights_detail"),
    path("akun/data-saya/", mydata.mydata, name="mydata"),
    path("akun/data-saya/unduh/<str:fmt>/", mydata.mydata_download, name="mydata_download"),
    path(
        "akun/tanda-terima/<str:payment_ref>/<int:index>.json",
        views.account_receipt,
        name="account_receipt",
    ),
]
