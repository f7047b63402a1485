from django.contrib import admin
from django.urls import include, path

from council.views import PasswordChangeView, PasswordResetView, SignInView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before Django's own: ours also lifts the obligation a reset by staff leaves.
    path("accounts/password_change/", PasswordChangeView.as_view(), name="password_change"),
    # Before Django's own: throttled (council.signin).
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("council.urls")),
    path("", include("proposals.urls")),
    path("", include("voting.urls")),
    path("", include("disclosure.urls")),
]
