"""A proposal's page and its actions. (Being written.)"""

from django.http import Http404


def attachment_file(request, *args, **kwargs):
    raise Http404


def attachment_thumbnail(request, *args, **kwargs):
    raise Http404


def community_follow(request, *args, **kwargs):
    raise Http404


def proposal_admissibility(request, *args, **kwargs):
    raise Http404


def proposal_cosign(request, *args, **kwargs):
    raise Http404


def proposal_create(request, *args, **kwargs):
    raise Http404


def proposal_detail(request, *args, **kwargs):
    raise Http404


def proposal_diff(request, *args, **kwargs):
    raise Http404


def proposal_edit(request, *args, **kwargs):
    raise Http404


def proposal_feasibility(request, *args, **kwargs):
    raise Http404


def proposal_follow(request, *args, **kwargs):
    raise Http404


def proposal_invite_expert(request, *args, **kwargs):
    raise Http404


def proposal_move_view(request, *args, **kwargs):
    raise Http404


def proposal_opinion(request, *args, **kwargs):
    raise Http404


def proposal_revise_view(request, *args, **kwargs):
    raise Http404


def proposal_upload(request, *args, **kwargs):
    raise Http404
