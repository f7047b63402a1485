"""Views of the proposals app: the list (``listing``) and a proposal's page and actions
(``pages``)."""

from . import pages
from .listing import proposal_list
from .pages import *  # noqa: F403 (every view of ``pages.__all__``)

__all__ = ["proposal_list", *pages.__all__]
