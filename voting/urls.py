from django.urls import path

from . import views

C = "c/<slug:slug>/"

urlpatterns = [
    path("ballots/awaiting/", views.awaiting, name="voting_awaiting"),
    path(C + "council/", views.council_page, name="council_page"),
    # Ballots on one proposal
    path(C + "proposals/<id:pk>/ballot/new/", views.ballot_new, name="ballot_new"),
    path(C + "proposals/<id:pk>/recusal/", views.recusal, name="recusal"),
    path(C + "ballots/<id:pk>/", views.ballot_detail, name="ballot"),
    path(C + "ballots/<id:pk>/vote/", views.ballot_vote, name="ballot_vote"),
    path(C + "ballots/<id:pk>/record/", views.ballot_record, name="ballot_record"),
    path(C + "ballots/<id:pk>/hands/", views.ballot_hands, name="ballot_hands"),
    path(C + "ballots/<id:pk>/close/", views.ballot_close_view, name="ballot_close"),
    # Meetings
    path(C + "meetings/new/", views.meeting_new, name="meeting_new"),
    path(C + "meetings/<id:pk>/", views.meeting_detail, name="meeting"),
    path(C + "meetings/<id:pk>/agenda/", views.meeting_agenda, name="meeting_agenda"),
    path(C + "meetings/<id:pk>/status/", views.meeting_status, name="meeting_status"),
    path(C + "meetings/<id:pk>/current/", views.meeting_current, name="meeting_current"),
    path(C + "meetings/<id:pk>/sign-in/", views.meeting_sign_in, name="meeting_sign_in"),
    path(C + "meetings/<id:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path(
        C + "meetings/<id:pk>/attendance/all/",
        views.meeting_attendance_all,
        name="meeting_attendance_all",
    ),
    path(C + "meetings/<id:pk>/check-in/", views.meeting_check_in, name="meeting_check_in"),
    path(C + "meetings/<id:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path(C + "meetings/<id:pk>/board/", views.meeting_board, name="meeting_board"),
    # Yearly rounds
    path(C + "rounds/new/", views.round_new, name="round_new"),
    path(C + "rounds/<id:pk>/", views.round_detail, name="round"),
    path(C + "rounds/<id:pk>/ballot/", views.round_ballot, name="round_ballot"),
    path(C + "rounds/<id:pk>/close/", views.round_close_view, name="round_close"),
]
