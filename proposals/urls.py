from django.urls import path

from . import views

P = "c/<slug:slug>/proposals/<id:pk>/"

urlpatterns = [
    path("c/<slug:slug>/proposals/", views.proposal_list, name="proposal_list"),
    path("c/<slug:slug>/proposals/new/", views.proposal_create, name="proposal_create"),
    path("c/<slug:slug>/proposals/similar/", views.proposal_similar, name="proposal_similar"),
    path(P, views.proposal_detail, name="proposal"),
    path(P + "edit/", views.proposal_edit, name="proposal_edit"),
    path(P + "move/", views.proposal_move_view, name="proposal_move"),
    path(P + "cosign/", views.proposal_cosign, name="proposal_cosign"),
    path(P + "cosign/sheet.pdf", views.proposal_cosign_sheet, name="proposal_cosign_sheet"),
    path(P + "follow/", views.proposal_follow, name="proposal_follow"),
    path(P + "admissibility/", views.proposal_admissibility, name="proposal_admissibility"),
    path(P + "experts/", views.proposal_invite_expert, name="proposal_invite_expert"),
    path(P + "feasibility/", views.proposal_feasibility, name="proposal_feasibility"),
    path(P + "opinions/", views.proposal_opinion, name="proposal_opinion"),
    path(P + "revise/", views.proposal_revise_view, name="proposal_revise"),
    path(P + "revisions/", views.proposal_diff, name="proposal_diff"),
    path(P + "files/", views.proposal_upload, name="proposal_upload"),
    path("files/<id:pk>/", views.attachment_file, name="attachment_file"),
    path("files/<id:pk>/thumbnail/", views.attachment_thumbnail, name="attachment_thumbnail"),
    path("c/<slug:slug>/follow/", views.community_follow, name="community_follow"),
]
