"""A proposal's photos and documents: adding them, and serving them to whoever may see the
proposal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from council.errors import InvalidMove, NotAllowed
from council.files import stored_files_atomic

from ... import selectors, services
from ...forms import UploadForm
from ...media import upload_serve
from ...models import Attachment, AttachmentKind, Proposal
from .common import back_to_proposal, error_text, proposal_of
from .detail import render_proposal_page


def attachments_save(actor, proposal: Proposal, files) -> None:
    for uploaded in files:
        services.attachment_add(actor=actor, proposal=proposal, uploaded=uploaded)


@require_POST
def proposal_upload(request, slug, pk):
    """Add photos or PDFs to a proposal that is still open; each is cleaned first."""
    proposal = proposal_of(request, slug, pk)
    user = request.user
    if not user.has_perm("proposals.add_file", proposal):
        messages.error(request, _("You may not add files to this proposal."))
        return back_to_proposal(proposal)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_proposal_page(request, proposal, forms={"upload": form})
    try:
        # One act for all the files: a refusal of the last keeps none of them, in the
        # database or in the store.
        with stored_files_atomic():
            attachments_save(user, proposal, form.cleaned_data["files"])
    except (InvalidMove, NotAllowed, ValidationError) as error:
        messages.error(request, error_text(error))
    else:
        count = len(form.cleaned_data["files"])
        messages.success(
            request,
            ngettext("%(n)d file added.", "%(n)d files added.", count) % {"n": count},
        )
    return back_to_proposal(proposal)


def _attachment_for(request, pk: int) -> Attachment:
    attachment = selectors.attachment_for_serving(pk)
    if attachment is None or not request.user.has_perm("proposals.view", attachment.proposal):
        raise Http404
    return attachment


def _serve(attachment: Attachment, field, content_type: str, filename: str):
    response = upload_serve(field, content_type, filename)
    if not attachment.proposal.is_public:
        patch_cache_control(response, private=True, no_store=True)
    return response


def _content_type(attachment: Attachment) -> str:
    return "image/jpeg" if attachment.kind == AttachmentKind.PHOTO else "application/pdf"


def attachment_file(request, pk):
    """A proposal's photo or PDF, to whoever may see the proposal (404 to anyone else)."""
    attachment = _attachment_for(request, pk)
    return _serve(attachment, attachment.file, _content_type(attachment), attachment.name)


def attachment_thumbnail(request, pk):
    attachment = _attachment_for(request, pk)
    if attachment.kind != AttachmentKind.PHOTO:
        raise Http404
    return _serve(attachment, attachment.thumbnail, "image/jpeg", f"thumb-{attachment.name}")
