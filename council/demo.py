"""Demo data: one sub-district, two communities, people in every role.

Idempotent: every object is looked up by a natural key first, so running ``seed_demo`` twice
changes nothing. Dates are relative to today (``council.clock``), so the collection windows
are open whenever the demo is loaded. Later issues add proposals, ballots and disclosures in
their own ``demo`` modules, called from the same command.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from . import clock, services
from .models import (
    Community,
    Council,
    District,
    Grid,
    HouseholdStatus,
    Role,
    RoleKind,
    RoleStatus,
    SeatCategory,
    SubDistrict,
)
from .validators import _ID_CHECK, _ID_WEIGHTS

User = get_user_model()
DEMO_PASSWORD = "weishi-demo-2026"  # noqa: S105 (printed for the demo; never in production)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
    "于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = [
    "建国",
    "秀英",
    "桂兰",
    "志强",
    "丽娟",
    "海燕",
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "玉兰",
    "春梅",
    "晓东",
    "晓燕",
    "文华",
    "国庆",
    "淑珍",
    "凤英",
    "子涵",
    "雨桐",
    "浩然",
    "思远",
    "佳怡",
    "俊杰",
    "欣怡",
    "宇轩",
    "梓萱",
    "婷婷",
    "志明",
    "美玲",
    "振华",
    "德胜",
    "红梅",
    "立新",
]
STREETS = ["东湖路", "幸福里", "桂园街", "文锦路", "翠竹巷", "松坪路"]


def chinese_name(i: int) -> str:
    return SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN[(i * 11) % len(GIVEN)]


def demo_id_number(i: int) -> str:
    body = f"440304{1950 + i % 50:04d}{1 + i % 12:02d}{1 + i % 28:02d}{100 + i % 900:03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def demo_phone(i: int) -> str:
    digest = int(hashlib.sha256(str(i).encode()).hexdigest(), 16)
    return f"139{digest % 10**8:08d}"


@dataclass
class CommunitySpec:
    slug: str
    name: str
    council: str
    grids: list[str]
    residents: int
    members: int
    opens_days: int
    closes_days: int


SPECS = [
    CommunitySpec(
        "donghu",
        "东湖社区",
        "东湖社区居民议事会",
        ["第一网格", "第二网格", "第三网格"],
        24,
        15,
        -30,
        60,
    ),
    CommunitySpec(
        "xiling", "西岭社区", "西岭社区居民议事会", ["第一网格", "第二网格"], 18, 9, -60, 20
    ),
]
SEATS = [
    SeatCategory.ORGANISATION,
    SeatCategory.NOTABLE,
    SeatCategory.REGISTERED,
    SeatCategory.NON_REGISTERED,
]


def _user(username: str, display_name: str, **extra) -> tuple[User, bool]:
    return User.objects.get_or_create(
        username=username,
        defaults={"display_name": display_name, "password": _demo_hash(), **extra},
    )


@functools.cache
def _demo_hash() -> str:
    return make_password(DEMO_PASSWORD)


def _role(user, kind, *, community=None, district=None, grid=None, seat="", by=None, confirm=None):
    """Give ``user`` the role unless they hold it, granted ``by`` someone (None: the command
    line) and, for a grid worker or staff granted by staff, confirmed by a second person
    (``confirm``)."""
    role = (
        Role.objects.filter(user=user, kind=kind, community=community, district=district)
        .exclude(status=RoleStatus.ENDED)
        .first()
    )
    if role is None:
        role = services.role_assign(
            actor=by,
            user=user,
            kind=kind,
            community=community,
            district=district,
            grid=grid,
            seat_category=seat,
        )
    if role.status == RoleStatus.PENDING and confirm is not None:
        services.role_confirm(actor=confirm, role=role)


@transaction.atomic
def seed() -> list[tuple[str, str, str]]:
    """Load the demo; return (role, username, community) for the printed sign-in table."""
    today = clock.today()
    district, _ = District.objects.get_or_create(slug="mingde", defaults={"name": "明德区"})
    sub, _ = SubDistrict.objects.get_or_create(district=district, name="和平街道")
    admin, _ = _user("admin", "区管理员 周敏", email="admin@example.org")
    _role(admin, RoleKind.DISTRICT_ADMIN, district=district)
    sign_ins = [("district admin", "admin", district.name)]

    person = 0
    for spec in SPECS:
        community, _ = Community.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "sub_district": sub,
                "name": spec.name,
                "collection_opens": today + dt.timedelta(days=spec.opens_days),
                "collection_closes": today + dt.timedelta(days=spec.closes_days),
                "cap_engineering": Decimal("500000.00"),
                "cap_service": Decimal("200000.00"),
                "cap_goods": Decimal("200000.00"),
            },
        )
        # The demo councils let a roll-call ballot's count so far be shown (meeting board,
        # 「还需 N 票」 on the ballot page); a new council starts with it off.
        Council.objects.get_or_create(
            community=community,
            defaults={"name": spec.council, "board_shows_running_count": True},
        )
        grids = [Grid.objects.get_or_create(community=community, name=n)[0] for n in spec.grids]

        staff_members = []
        for n in (1, 2):
            member, _ = _user(
                f"{spec.slug}-staff{n}", f"{chinese_name(900 + person + n)}（工作站）"
            )
            # A community's first staff are set up from the command line (no granter), active
            # at once; staff that staff appoint later wait for a second member of staff.
            _role(member, RoleKind.STAFF, community=community)
            staff_members.append(member)
        for n, grid in enumerate(grids, start=1):
            worker, _ = _user(f"{spec.slug}-grid{n}", f"{chinese_name(800 + person + n)}（网格员）")
            # Granted by one member of staff, active once a second one confirms (two people).
            _role(
                worker,
                RoleKind.GRID_WORKER,
                community=community,
                grid=grid,
                by=staff_members[0],
                confirm=staff_members[1],
            )
        for n in (1, 2):
            expert, _ = _user(f"{spec.slug}-expert{n}", f"{chinese_name(700 + person + n)}（专家）")
            _role(expert, RoleKind.EXPERT, community=community)

        for n in range(1, spec.residents + 1):
            person += 1
            username = f"{spec.slug}-resident{n:02d}"
            grid = grids[n % len(grids)]
            if not User.objects.filter(username=username).exists():
                residency = services.resident_sign_up(
                    username=username,
                    password=DEMO_PASSWORD,
                    display_name=chinese_name(person),
                    email="",
                    community=community,
                    grid=grid,
                    phone=demo_phone(person),
                    id_number=demo_id_number(person),
                    address=f"{spec.name}{STREETS[n % len(STREETS)]}{n}号{1 + n % 6}栋{100 + n}",
                    household_status=HouseholdStatus.REGISTERED
                    if n % 3
                    else HouseholdStatus.NON_REGISTERED,
                    consent=True,
                )
                staff = User.objects.get(username=f"{spec.slug}-staff1")
                if n <= spec.residents - 2:  # the last two wait for confirmation
                    services.resident_confirm(actor=staff, residency=residency)
            user = User.objects.get(username=username)
            if n <= spec.members:
                _role(
                    user, RoleKind.COUNCIL_MEMBER, community=community, seat=SEATS[n % len(SEATS)]
                )

        sign_ins += [
            ("community staff", f"{spec.slug}-staff1", spec.name),
            ("grid worker", f"{spec.slug}-grid1", spec.name),
            ("expert", f"{spec.slug}-expert1", spec.name),
            ("council member", f"{spec.slug}-resident01", spec.name),
            ("resident", f"{spec.slug}-resident{spec.members + 1:02d}", spec.name),
            (
                "resident awaiting confirmation",
                f"{spec.slug}-resident{spec.residents:02d}",
                spec.name,
            ),
        ]
    return sign_ins
