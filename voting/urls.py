from django.urls import path

from . import views

C = "c/<slug:slug>/"

urlpatterns = [
    path("ballots/awaiting/", views.awaiting, name="voting_awaiting"),
    path(C + "council/", views.council_page, name="council_page"),
    # Ballots on one proposal
    path(C + "proposals/<int:pk>/ballot/new/", views.ballot_new, name="ballot_new"),
    path(C + "proposals/<int:pk>/recusal/", views.recusal, name="recusal"),
    path(C + "ballots/<int:pk>/", views.ballot_detail, name="ballot"),
    path(C + "ballots/<int:pk>/vote/", views.ballot_vote, name="ballot_vote"),
    path(C + "ballots/<int:pk>/record/", views.ballot_record, name="ballot_record"),
    path(C + "ballots/<int:pk>/hands/", views.ballot_hands, name="ballot_hands"),
    path(C + "ballots/<int:pk>/close/", views.ballot_close_view, name="ballot_close"),
    # Meetings
    path(C + "meetings/new/", views.meeting_new, name="meeting_new"),
    path(C + "meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path(C + "meetings/<int:pk>/agenda/", views.meeting_agenda, name="meeting_agenda"),
    path(C + "meetings/<int:pk>/status/", views.meeting_status, name="meeting_status"),
    path(C + "meetings/<int:pk>/current/", views.meeting_current, name="meeting_current"),
    path(C + "meetings/<int:pk>/sign-in/", views.meeting_sign_in, name="meeting_sign_in"),
    path(C + "meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path(C + "meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path(C + "meetings/<int:pk>/board/", views.meeting_board, name="meeting_board"),
    # Yearly rounds
    path(C + "rounds/new/", views.round_new, name="round_new"),
    path(C + "rounds/<int:pk>/", views.round_detail, name="round"),
    path(C + "rounds/<int:pk>/ballot/", views.round_ballot, name="round_ballot"),
    path(C + "rounds/<int:pk>/close/", views.round_close_view, name="round_close"),
]
