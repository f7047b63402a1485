"""The council app's models, one module per concern; every public name is importable from
``council.models``.

- ``places``: districts, sub-districts, communities and grids;
- ``people``: users, roles and residents' private data;
- ``councils``: residents' councils and their rules of procedure;
- ``evidence``: the evidence log: its events, Merkle tree tiles and signed checkpoints;
- ``notifications``: notifications and password-reset requests waiting to be sent;
- ``threads``: deliberation threads and their messages;
- ``search``: the search index's rows.
"""

from .councils import Council, Secrecy, ThresholdRule
from .evidence import (
    Checkpoint,
    Cosignature,
    EvidenceEvent,
    EvidenceHead,
    LogTile,
    action_labels,
    actors_by_role_only,
)
from .notifications import Notification, PasswordResetRequest
from .people import (
    CLOSED_ACCOUNT_NAME,
    HouseholdStatus,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    SeatCategory,
    User,
    phone_validator,
)
from .places import Community, District, Grid, ProjectType, SubDistrict
from .search import SearchEntry
from .threads import (
    Message,
    MessageEdit,
    MessageKind,
    MessageReport,
    PostingBan,
    Thread,
    ThreadPresence,
    ThreadRead,
)

__all__ = [
    "CLOSED_ACCOUNT_NAME",
    "Community",
    "Council",
    "District",
    "Checkpoint",
    "Cosignature",
    "EvidenceEvent",
    "LogTile",
    "EvidenceHead",
    "Grid",
    "HouseholdStatus",
    "Message",
    "MessageEdit",
    "MessageKind",
    "MessageReport",
    "Notification",
    "PasswordResetRequest",
    "PostingBan",
    "PrivateData",
    "ProjectType",
    "Role",
    "RoleKind",
    "RoleStatus",
    "SearchEntry",
    "SeatCategory",
    "SubDistrict",
    "Secrecy",
    "Thread",
    "ThreadPresence",
    "ThreadRead",
    "ThresholdRule",
    "User",
    "action_labels",
    "actors_by_role_only",
    "phone_validator",
]
