"""The proposal list. (Being written.)"""

from django.http import Http404


def proposal_list(request, slug):
    raise Http404
