from django.urls import path, re_path

from . import log_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("programme/", views.overview, name="overview"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/welcome/", views.welcome, name="welcome"),
    path("evidence/", views.evidence_log, name="evidence"),
    path("log/checkpoint", log_views.log_checkpoint, name="log_checkpoint"),
    path("log/key", log_views.log_key, name="log_key"),
    path("log/lookup", log_views.log_lookup, name="log_lookup"),
    path("log/weishi_verify.py", log_views.log_verifier, name="log_verifier"),
    re_path(r"^log/(?P<path>tile/.+)$", log_views.log_tile, name="log_tile"),
    path("notifications/", views.notifications, name="notifications"),
    path("display/large-text/", views.large_text, name="large_text"),
    path("accounts/personal-data/", views.personal_data, name="personal_data"),
    path(
        "accounts/personal-data/download/",
        views.personal_data_download,
        name="personal_data_download",
    ),
    path("accounts/close/", views.account_close, name="account_close"),
    path("c/<slug:slug>/", views.community_detail, name="community"),
    path("c/<slug:slug>/residents/", views.ResidentListView.as_view(), name="residents"),
    path("c/<slug:slug>/reports/", views.ReportListView.as_view(), name="message_reports"),
    path(
        "c/<slug:slug>/reports/<id:pk>/dismiss/",
        views.report_dismiss_view,
        name="report_dismiss",
    ),
    path("c/<slug:slug>/posting-bans/", views.posting_bans, name="posting_bans"),
    path(
        "c/<slug:slug>/posting-bans/<id:pk>/lift/",
        views.posting_ban_lift_view,
        name="posting_ban_lift",
    ),
    path(
        "c/<slug:slug>/residents/new/",
        views.ResidentRegisterView.as_view(),
        name="resident_register",
    ),
    path("c/<slug:slug>/residents/find/", views.ResidentFindView.as_view(), name="resident_find"),
    path("c/<slug:slug>/residents/<id:pk>/", views.PrivateDataView.as_view(), name="resident"),
    path(
        "c/<slug:slug>/residents/<id:pk>/confirm/",
        views.ResidentConfirmView.as_view(),
        name="resident_confirm",
    ),
    path(
        "c/<slug:slug>/residents/<id:pk>/password/",
        views.ResidentPasswordResetView.as_view(),
        name="resident_password_reset",
    ),
    path(
        "c/<slug:slug>/residents/<id:pk>/unlock/",
        views.ResidentUnlockView.as_view(),
        name="resident_unlock",
    ),
    path("threads/<id:thread_id>/messages/", views.thread_messages, name="thread_messages"),
    path("threads/<id:thread_id>/post/", views.thread_post, name="thread_post"),
    path("threads/<id:thread_id>/edit/", views.thread_edit, name="thread_edit"),
    path("threads/<id:thread_id>/delete/", views.thread_delete, name="thread_delete"),
    path("threads/<id:thread_id>/hide/", views.thread_hide, name="thread_hide"),
    path("threads/<id:thread_id>/report/", views.thread_report, name="thread_report"),
]
