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

# Every error page in the reader's language on the site's layout (config/error_views.py).
handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
