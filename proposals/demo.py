"""Demo proposals: about a dozen per demo community, in every stage of a proposal's life.

Each proposal is walked to its stage through the real services and ``lifecycle.proposal_move``
by the demo people of ``council.demo`` (residents propose and co-sign, staff review, experts
give opinions), so the evidence log and the notifications are those the app itself would
have written. Idempotent: a proposal is looked up by (community, title) and skipped if it
exists, so running ``seed_demo`` twice changes nothing. Revisions keep the title for that reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from council import clock
from council.hooks import get_hooks
from council.models import Community, ProjectType, Role, RoleKind, RoleStatus

from . import services
from .lifecycle import Move, proposal_move
from .models import AdmissibilityReview, Proposal, Recommendation, Stage, SubKind

User = get_user_model()

ENG, SVC, GOODS = ProjectType.ENGINEERING, ProjectType.SERVICE, ProjectType.GOODS


@dataclass(frozen=True)
class Opinion:
    expert: int  # 1 or 2: ``<slug>-expert1`` / ``-expert2``
    recommendation: str
    remarks: str


@dataclass(frozen=True)
class Rewrite:
    summary: str
    body: str
    note: str


@dataclass(frozen=True)
class Spec:
    """One demo proposal and how far, and by which road, it has come."""

    title: str
    summary: str
    body: str
    project_type: str
    sub_kind: str
    location: str
    beneficiaries: str
    cost: str
    stage: str
    proposer: int  # the resident's number: ``<slug>-resident<NN>``
    cosigns: int = 0  # below the threshold, for a proposal still gathering (or taken up)
    # Staff take it up instead of it reaching the threshold (a merged one, before its merge).
    taken_up: bool = False
    on_behalf: bool = False  # a paper proposal entered by staff
    failed_check: str = ""  # the admissibility item that fails (inadmissible proposals)
    reason: str = ""
    merge_into: str = ""  # the title of the proposal it is merged into
    withdraw_in_consultation: bool = False
    experts: int = 1  # how many of the community's experts staff invite
    estimate: str = ""  # staff's feasibility estimate
    plan: str = ""
    opinions: tuple[Opinion, ...] = ()
    revision: Rewrite | None = None


# --- 东湖社区 ---------------------------------------------------------------------------------

DONGHU = [
    Spec(
        title="更换小区路灯",
        summary="幸福里小区北门至3栋的主路有5盏路灯损坏，入冬后傍晚一片漆黑，老人和孩子夜间行走不安全。",
        body=(
            "### 现状\n\n"
            "幸福里小区北门至3栋之间的主路共有8盏路灯，其中**5盏**已损坏或忽明忽暗。"
            "入冬后下午六点天就黑了，老人散步、孩子放学都要摸黑走，去年还有居民在这里绊倒。\n\n"
            "### 建议\n\n"
            "- 更换为LED节能路灯（8盏）\n"
            "- 检修埋地线路，加装光控开关\n"
            "- 灯杆编号，方便以后报修\n"
        ),
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="幸福里小区北门至3栋之间的主路",
        beneficiaries="幸福里小区约420户居民，尤其是夜间出行的老人和学生",
        cost="18600.00",
        stage=Stage.EVALUATED,
        proposer=17,
        estimate="17800.00",
        plan="更换LED路灯8盏，更换老化电缆约120米，加装光控开关。工期约两周，夜间不停电施工。",
        opinions=(
            Opinion(1, Recommendation.SUPPORT, "线路老化是灯具频繁损坏的主因，建议一并更换电缆。"),
        ),
    ),
    Spec(
        title="老年人智能手机培训",
        summary="很多老人不会用手机挂号、扫码乘车和视频通话，希望社区开办小班培训，手把手教。",
        body=(
            "居民在社区服务中心填写的纸质提议，由工作站代为录入。\n\n"
            "### 为什么需要\n\n"
            "子女不在身边，老人看病挂号、缴纳水电费、坐公交都离不开手机，"
            "常常被骗或者求助无门。\n\n"
            "### 课程设想\n\n"
            "1. 手机基本操作与字体放大\n"
            "2. 预约挂号与健康码\n"
            "3. 微信视频通话与发语音\n"
            "4. 识别电信诈骗\n\n"
            "每期8次课，每次一个半小时，配志愿者一对一辅导。"
        ),
        project_type=SVC,
        sub_kind=SubKind.CONVENIENCE,
        location="社区党群服务中心二楼活动室",
        beneficiaries="辖区60岁以上老年人，每期约30人，共4期",
        cost="24000.00",
        stage=Stage.COMPLETED,
        proposer=8,
        on_behalf=True,
        estimate="22000.00",
        plan="委托有三年以上经验的社会组织承接，4期共32次课，含讲义印制与志愿者补贴。",
        opinions=(
            Opinion(2, Recommendation.SUPPORT, "建议增加一次防诈骗专题课，并邀请派出所民警参与。"),
        ),
    ),
    Spec(
        title="楼道扶手加装",
        summary="桂园街1至6栋是没有电梯的老楼，楼道没有扶手，老人上下楼很吃力，希望加装不锈钢扶手。",
        body=(
            "桂园街1至6栋建于上世纪九十年代，七层无电梯，楼道只有一侧墙面，**没有扶手**。\n\n"
            "楼里住着不少八十岁以上的老人，上下楼只能扶着墙，下雨天楼梯湿滑更危险。\n\n"
            "### 建议\n\n"
            "- 每栋楼道单侧加装不锈钢扶手\n"
            "- 转角处加装夜光防滑条\n"
        ),
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="桂园街1至6栋楼道",
        beneficiaries="6栋无电梯楼宇约180户居民，其中高龄老人约60位",
        cost="86000.00",
        stage=Stage.IN_PROGRESS,
        proposer=5,
        estimate="82500.00",
        plan="6栋楼道单侧加装304不锈钢扶手共约420米，转角加装防滑条。分栋施工，每栋约3天。",
        opinions=(
            Opinion(
                1, Recommendation.SUPPORT_WITH_CHANGES, "扶手高度建议0.85至0.9米，端部做圆弧收头。"
            ),
        ),
    ),
    Spec(
        title="社区篮球场翻新",
        summary="东湖公园旁的社区篮球场地面开裂、篮板破损，年轻人和孩子都很少去了，希望翻新。",
        body=(
            "### 现状\n\n"
            "篮球场使用十多年，水泥地面多处开裂起砂，两块篮板破损，围网也有缺口，"
            "去年有孩子打球时扭伤了脚。\n\n"
            "### 建议\n\n"
            "- 铺设硅PU球场面层\n"
            "- 更换篮架与篮板\n"
            "- 修补围网，增设照明\n\n"
            "翻新后可以组织社区篮球赛，让年轻人也参与到社区活动中来。"
        ),
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="东湖公园东侧社区篮球场",
        beneficiaries="社区青少年和篮球爱好者，每周约300人次",
        cost="168000.00",
        stage=Stage.APPROVED,
        proposer=19,
        estimate="159000.00",
        plan="铲除旧面层，铺设硅PU面层约600平方米；更换篮架2副；修补围网；加装LED球场灯4盏。",
        opinions=(
            Opinion(1, Recommendation.SUPPORT, "硅PU面层性价比较高，注意做好排水坡度。"),
            Opinion(2, Recommendation.SUPPORT, "建议约定开放时间，晚上十点后关灯，避免扰民。"),
        ),
        experts=2,
    ),
    Spec(
        title="周末儿童阅读会",
        summary="每周六上午在社区图书室办亲子阅读会，由志愿者和专业老师带孩子读绘本、做手工。",
        body=(
            "社区图书室周末基本空着，而很多双职工家庭周末不知道带孩子去哪里。\n\n"
            "### 活动安排\n\n"
            "- 每周六上午9:30—11:00\n"
            "- 分3—6岁、7—12岁两个组\n"
            "- 每月一次主题活动（故事表演、手工）\n\n"
            "希望资助购买绘本和聘请一位专业阅读推广老师。"
        ),
        project_type=SVC,
        sub_kind=SubKind.ACTIVITIES,
        location="社区图书室",
        beneficiaries="3至12岁儿童及家长，每周约40个家庭",
        cost="36000.00",
        stage=Stage.VOTING,
        proposer=11,
        estimate="34000.00",
        plan="全年48次活动；购置绘本约300册；聘请阅读推广人1名，志愿者10名轮值。",
        opinions=(
            Opinion(2, Recommendation.SUPPORT, "建议与区图书馆合作，绘本可以流动借阅，节省经费。"),
        ),
    ),
    Spec(
        title="电动车集中充电桩",
        summary="翠竹巷片区电动车多，居民飞线充电、把车推进楼道充电的情况屡禁不止，希望建集中充电点。",
        body=(
            "### 问题\n\n"
            "翠竹巷片区约有300辆电动自行车，没有集中充电设施，"
            "有人从窗口拉线充电，也有人推进楼道，**火灾隐患很大**。\n\n"
            "### 建议\n\n"
            "在停车场东侧空地建设带雨棚的集中充电点，约60个充电口，扫码计费。"
        ),
        project_type=ENG,
        sub_kind=SubKind.CONVENIENCE,
        location="翠竹巷停车场东侧空地",
        beneficiaries="翠竹巷片区电动车车主约300人",
        cost="260000.00",
        stage=Stage.REJECTED,
        proposer=20,
        estimate="248000.00",
        plan="建设充电车棚1座，安装充电口60个，配套消防喷淋和监控；需增容变压器。",
        opinions=(
            Opinion(
                1,
                Recommendation.OPPOSE,
                "选址距离住宅不足6米，不符合消防间距要求，建议另行选址后再议。",
            ),
        ),
    ),
    Spec(
        title="菜市场旁长椅加装遮阳棚",
        summary="菜市场南门外的长椅没有遮挡，夏天晒、雨天淋，买菜的老人想歇歇脚都没法坐。",
        body=(
            "菜市场南门外有6张长椅，是老人买完菜歇脚、等公交的地方，"
            "但**没有任何遮挡**，夏天中午椅面烫手。\n\n"
            "### 建议\n\n"
            "- 加装钢结构遮阳棚\n"
            "- 长椅下方做防滑地面\n"
        ),
        project_type=GOODS,
        sub_kind=SubKind.FACILITIES,
        location="东湖菜市场南门外休息区",
        beneficiaries="买菜的老人和带孩子的家长，每天约500人次",
        cost="45000.00",
        stage=Stage.CONSULTATION,
        proposer=16,
        cosigns=0,
        experts=2,
        estimate="42000.00",
        plan="安装钢结构遮阳棚约40平方米，阳光板顶面；地面铺设防滑砖。需与市场管理方确认用地。",
        opinions=(
            Opinion(
                1,
                Recommendation.SUPPORT_WITH_CHANGES,
                "棚顶建议用透光率较低的阳光板，并考虑台风季的抗风设计。",
            ),
            Opinion(2, Recommendation.SUPPORT, "可以一并增设座椅，合并后更省钱。"),
        ),
        revision=Rewrite(
            summary="菜市场南门外的长椅没有遮挡，夏天晒、雨天淋。建议加装遮阳棚，并按合并提议增设座椅。",
            body=(
                "菜市场南门外有6张长椅，是老人买完菜歇脚、等公交的地方，"
                "但**没有任何遮挡**，夏天中午椅面烫手。\n\n"
                "### 建议（修订）\n\n"
                "- 加装钢结构遮阳棚，按专家意见加强抗风\n"
                "- 长椅下方做防滑地面\n"
                "- 增设带靠背的座椅4张（合并了「菜市场休息区增设座椅」的提议）\n"
            ),
            note="采纳专家意见，加强抗风设计；纳入合并提议的座椅。",
        ),
    ),
    Spec(
        title="菜市场休息区增设座椅",
        summary="菜市场门口座位太少，早上买菜高峰时老人只能站着等，希望多放几张带靠背的椅子。",
        body="菜市场门口只有6张长椅，早上高峰时根本不够坐。建议增设4张**带靠背**的座椅。",
        project_type=GOODS,
        sub_kind=SubKind.FACILITIES,
        location="东湖菜市场南门外",
        beneficiaries="买菜的老年居民",
        cost="12000.00",
        stage=Stage.MERGED,
        proposer=21,
        cosigns=2,
        taken_up=True,
        merge_into="菜市场旁长椅加装遮阳棚",
    ),
    Spec(
        title="垃圾分类宣传活动",
        summary="小区垃圾分类投放准确率不高，希望组织志愿者定时督导，并开展进楼栋的宣传活动。",
        body=(
            "### 现状\n\n"
            "厨余垃圾里经常混着塑料袋，分类桶旁边经常堆放大件垃圾。\n\n"
            "### 建议\n\n"
            "- 早晚投放高峰安排志愿者督导（为期三个月）\n"
            "- 每栋楼开展一次入户宣传\n"
            "- 制作分类指引海报和冰箱贴\n"
        ),
        project_type=SVC,
        sub_kind=SubKind.PUBLIC_SPIRIT,
        location="社区各小区垃圾分类投放点",
        beneficiaries="全体居民",
        cost="15000.00",
        stage=Stage.UNDER_REVIEW,
        proposer=3,
    ),
    Spec(
        title="邻里互助志愿服务队",
        summary="组建邻里互助志愿服务队，为独居老人、残障人士提供代买代办、陪同就医等帮助。",
        body=(
            "社区里独居老人越来越多，生病时连买药都困难。\n\n"
            "希望组建一支**邻里互助志愿服务队**，资助志愿者培训、保险和服务记录本。"
        ),
        project_type=SVC,
        sub_kind=SubKind.PUBLIC_SPIRIT,
        location="全社区",
        beneficiaries="独居老人和残障居民约80人",
        cost="20000.00",
        stage=Stage.SUBMITTED,
        proposer=14,
        cosigns=3,
    ),
    Spec(
        title="3栋电梯维修",
        summary="幸福里3栋电梯经常停运，希望用民生微实事资金更换电梯主板。",
        body="3栋电梯这个月已经停了四次，老人被困过一次。希望尽快更换电梯主板和钢丝绳。",
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="幸福里小区3栋",
        beneficiaries="3栋住户约70户",
        cost="120000.00",
        stage=Stage.INADMISSIBLE,
        proposer=9,
        cosigns=2,
        taken_up=True,
        failed_check="not_property_duty",
        reason=(
            "电梯的维修保养属于物业服务企业的职责，费用由专项维修资金支出，"
            "不属于民生微实事的资助范围。社区工作站已将情况转交物业服务中心，并将跟进维修进度。"
        ),
    ),
    Spec(
        title="儿童游乐区铺设安全地垫",
        summary="小区儿童游乐区是水泥地面，孩子摔倒容易受伤，希望铺设橡胶安全地垫。",
        body="游乐区滑梯和秋千下面都是**水泥地**，上个月有孩子从滑梯上摔下磕破了头。",
        project_type=GOODS,
        sub_kind=SubKind.FACILITIES,
        location="桂园街小区中心儿童游乐区",
        beneficiaries="小区学龄前儿童约120人",
        cost="28000.00",
        stage=Stage.WITHDRAWN,
        proposer=2,
    ),
    Spec(
        title="社区健身操队统一服装",
        summary="社区健身操队参加街道比赛没有统一服装，希望添置一批队服。",
        body="健身操队有40多名队员，每天晚上在文化广场活动。参加街道比赛时希望有统一的队服。",
        project_type=GOODS,
        sub_kind=SubKind.ACTIVITIES,
        location="社区文化广场",
        beneficiaries="健身操队队员约40人",
        cost="9800.00",
        stage=Stage.DRAFT,
        proposer=16,
    ),
    Spec(
        title="便民义务维修日",
        summary="每月一次在社区广场请师傅义务修理小家电、磨刀、修伞，方便居民。",
        body="每月第一个周六上午，在社区广场设置便民维修点：**小家电维修、磨刀、修伞、配钥匙**。",
        project_type=SVC,
        sub_kind=SubKind.OTHER,
        location="社区文化广场",
        beneficiaries="全体居民，每次约100人次",
        cost="8000.00",
        stage=Stage.SUBMITTED,
        proposer=22,
        cosigns=1,
    ),
]

# --- 西岭社区 ---------------------------------------------------------------------------------

XILING = [
    Spec(
        title="长者助餐服务",
        summary="为辖区高龄、独居老人提供午餐助餐服务，行动不便的送餐上门。",
        body=(
            "### 现状\n\n"
            "社区有80岁以上老人约150人，不少独居，自己做饭不方便，常常一顿饭吃两天。\n\n"
            "### 建议\n\n"
            "- 与社区食堂合作，每天中午提供两荤一素\n"
            "- 行动不便的老人由志愿者送餐上门\n"
            "- 资助每餐补贴5元\n"
        ),
        project_type=SVC,
        sub_kind=SubKind.CONVENIENCE,
        location="西岭社区长者饭堂",
        beneficiaries="80岁以上及独居老人约150人",
        cost="180000.00",
        stage=Stage.EVALUATED,
        proposer=4,
        on_behalf=True,
        estimate="168000.00",
        plan="委托社区食堂承接一年，每餐补贴5元，送餐志愿者12名；每季度公示用餐人次。",
        opinions=(Opinion(1, Recommendation.SUPPORT, "建议建立用餐登记，按季度核对补贴。"),),
    ),
    Spec(
        title="小区道路坑洼修补",
        summary="松坪路小区内部道路坑洼积水，雨天无法行走，希望修补路面并疏通排水。",
        body="小区内部道路多处下沉，**雨后积水没过脚踝**，推婴儿车和轮椅都过不去。",
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="松坪路小区内部道路",
        beneficiaries="小区约260户居民",
        cost="95000.00",
        stage=Stage.COMPLETED,
        proposer=12,
        estimate="91000.00",
        plan="沥青修补约800平方米，疏通雨水管道，新增雨水篦子6个。",
        opinions=(Opinion(2, Recommendation.SUPPORT, "先疏通排水再修补路面，否则很快又会下沉。"),),
    ),
    Spec(
        title="日间照料室添置康复器材",
        summary="社区日间照料室器材陈旧，希望添置适合老人的康复训练器材。",
        body="日间照料室每天有30多位老人活动，但只有两台老旧的按摩椅。建议添置上下肢康复训练器等器材。",
        project_type=GOODS,
        sub_kind=SubKind.CONVENIENCE,
        location="西岭社区日间照料室",
        beneficiaries="日间照料室的老人，每天约30人",
        cost="76000.00",
        stage=Stage.IN_PROGRESS,
        proposer=7,
        estimate="72000.00",
        plan="采购上下肢主被动康复训练器2台、平衡训练器1台、助行训练扶梯1套，含安装与培训。",
        opinions=(Opinion(1, Recommendation.SUPPORT, "建议选购带安全急停功能的机型。"),),
    ),
    Spec(
        title="文化广场舞台改造",
        summary="文化广场的舞台是临时搭建的，地板松动，演出时存在安全隐患，希望改造为固定舞台。",
        body=(
            "社区每年有十多场文艺演出都在这个舞台上，木地板已经松动变形。\n\n"
            "建议改造为固定舞台，加装遮雨顶棚和简易音响。"
        ),
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="西岭文化广场",
        beneficiaries="社区文艺队伍和观看演出的居民",
        cost="210000.00",
        stage=Stage.APPROVED,
        proposer=13,
        estimate="198000.00",
        plan="拆除临时舞台，新建钢筋混凝土舞台约80平方米，加装膜结构顶棚和音响设备。",
        opinions=(Opinion(2, Recommendation.SUPPORT, "顶棚设计需兼顾排水和抗风。"),),
    ),
    Spec(
        title="暑期青少年书法班",
        summary="暑假期间为社区中小学生开办书法公益班，由退休书法老师授课。",
        body="暑假孩子在家没人管，社区有几位退休老师愿意教书法。希望资助笔墨纸砚和场地布置。",
        project_type=SVC,
        sub_kind=SubKind.ACTIVITIES,
        location="社区党群服务中心",
        beneficiaries="社区中小学生约50人",
        cost="26000.00",
        stage=Stage.VOTING,
        proposer=14,
        estimate="24000.00",
        plan="暑期两期，每期20次课；购置文房用品，课程结束举办作品展。",
        opinions=(Opinion(1, Recommendation.SUPPORT, "建议分初级和提高两个班。"),),
    ),
    Spec(
        title="西岭路整体改造",
        summary="西岭路路面破损严重，希望整体翻修并拓宽人行道。",
        body="西岭路从社区东门到地铁站一段路面破损，人行道狭窄，希望整体翻修。",
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="西岭路（社区东门至地铁站）",
        beneficiaries="沿线居民和通勤人群",
        cost="480000.00",
        stage=Stage.INADMISSIBLE,
        proposer=6,
        failed_check="not_government_duplicate",
        reason=(
            "西岭路整体改造已列入区交通部门本年度市政道路改造计划，"
            "与政府项目重复，不予受理。社区已将居民意见转交区交通部门。"
        ),
    ),
    Spec(
        title="公共区域加装监控摄像头",
        summary="小区公共区域偷盗电动车、高空抛物时有发生，希望加装监控摄像头。",
        body="近半年小区丢了十几辆电动车，还发生过高空抛物。建议在出入口和楼栋间加装监控。",
        project_type=GOODS,
        sub_kind=SubKind.FACILITIES,
        location="小区出入口和楼栋之间",
        beneficiaries="小区全体居民",
        cost="150000.00",
        stage=Stage.REJECTED,
        proposer=15,
        estimate="148000.00",
        plan="安装高清摄像头40个，含存储和监控室设备。",
        opinions=(
            Opinion(
                2,
                Recommendation.SUPPORT_WITH_CHANGES,
                "须明确录像的保存期限和调阅规则，避免拍到住户窗户，保护居民隐私。",
            ),
        ),
    ),
    Spec(
        title="社区小花园改造",
        summary="社区中心小花园杂草丛生，希望改造成有步道、座椅和花境的口袋公园。",
        body=(
            "### 现状\n\n"
            "小花园长期无人打理，杂草丛生、蚊虫多，居民很少进去。\n\n"
            "### 建议\n\n"
            "- 铺设环形步道\n"
            "- 种植低维护的花境\n"
            "- 设置休息座椅和夜间照明\n"
        ),
        project_type=ENG,
        sub_kind=SubKind.FACILITIES,
        location="社区中心小花园",
        beneficiaries="周边约500户居民",
        cost="130000.00",
        stage=Stage.CONSULTATION,
        proposer=10,
        experts=2,
        estimate="126000.00",
        plan="铺设透水步道约150米，种植宿根花卉约300平方米，安装座椅和草坪灯。",
        opinions=(
            Opinion(1, Recommendation.SUPPORT, "选用本地宿根植物，养护成本低。"),
            Opinion(
                2, Recommendation.SUPPORT_WITH_CHANGES, "建议请居民参与认养花境，建立长效管护。"
            ),
        ),
        revision=Rewrite(
            summary="社区中心小花园杂草丛生，希望改造成口袋公园，并请居民认养花境、共同管护。",
            body=(
                "### 现状\n\n"
                "小花园长期无人打理，杂草丛生、蚊虫多，居民很少进去。\n\n"
                "### 建议（修订）\n\n"
                "- 铺设环形步道\n"
                "- 种植本地宿根花卉，降低养护成本\n"
                "- 设置休息座椅和夜间照明\n"
                "- 组织居民认养花境，建立长效管护\n"
            ),
            note="采纳专家意见：改用本地宿根植物，增加居民认养。",
        ),
    ),
    Spec(
        title="花园增设休闲座椅",
        summary="小花园周边没有座椅，老人散步累了没地方坐。",
        body="建议在小花园周边增设6张休闲座椅。",
        project_type=GOODS,
        sub_kind=SubKind.FACILITIES,
        location="社区中心小花园周边",
        beneficiaries="散步的老年居民",
        cost="18000.00",
        stage=Stage.MERGED,
        proposer=16,
        cosigns=2,
        taken_up=True,
        merge_into="社区小花园改造",
    ),
    Spec(
        title="家庭急救知识讲座",
        summary="请专业急救员进社区，教居民心肺复苏、海姆立克急救法和AED使用。",
        body="家里有老人小孩，突发状况时大家往往手足无措。希望开展**急救知识讲座和实操培训**。",
        project_type=SVC,
        sub_kind=SubKind.PUBLIC_SPIRIT,
        location="社区党群服务中心",
        beneficiaries="社区居民，计划培训200人次",
        cost="12000.00",
        stage=Stage.UNDER_REVIEW,
        proposer=2,
        cosigns=1,
        taken_up=True,
    ),
    Spec(
        title="二手物品交换集市",
        summary="每季度举办一次二手物品交换集市，让闲置物品流动起来，倡导绿色生活。",
        body="家里很多闲置的玩具、书籍、衣物，扔了可惜。建议每季度在广场办一次交换集市。",
        project_type=SVC,
        sub_kind=SubKind.PUBLIC_SPIRIT,
        location="西岭文化广场",
        beneficiaries="全体居民",
        cost="6000.00",
        stage=Stage.SUBMITTED,
        proposer=5,
        cosigns=2,
    ),
    Spec(
        title="快递柜旁加装雨棚",
        summary="小区快递柜露天摆放，下雨天取件被淋，希望加装雨棚。",
        body="快递柜在小区门口露天，下雨天取快递只能打伞单手操作，包裹也容易淋湿。",
        project_type=GOODS,
        sub_kind=SubKind.CONVENIENCE,
        location="小区南门快递柜",
        beneficiaries="小区居民",
        cost="22000.00",
        stage=Stage.WITHDRAWN,
        proposer=8,
        withdraw_in_consultation=True,
    ),
    Spec(
        title="社区合唱团添置乐器",
        summary="社区合唱团只有一台旧电子琴，希望添置一架钢琴和几件打击乐器。",
        body="合唱团每周排练两次，现在的电子琴有几个键已经不响了。",
        project_type=GOODS,
        sub_kind=SubKind.ACTIVITIES,
        location="社区党群服务中心活动室",
        beneficiaries="合唱团成员约35人",
        cost="35000.00",
        stage=Stage.DRAFT,
        proposer=10,
    ),
    Spec(
        title="家电义务维修日",
        summary="每月请家电师傅到社区义务维修小家电，只收配件成本。",
        body="电饭煲、电风扇坏了，送去修很麻烦。希望每月固定一天在社区门口设维修点。",
        project_type=SVC,
        sub_kind=SubKind.OTHER,
        location="社区南门广场",
        beneficiaries="全体居民",
        cost="7000.00",
        stage=Stage.SUBMITTED,
        proposer=11,
        cosigns=1,
    ),
]

SPECS = {"donghu": DONGHU, "xiling": XILING}

# How a proposal that passed review goes on, stage by stage.
AFTER_VOTING = {
    Stage.VOTING: [],
    Stage.APPROVED: [Move.APPROVE],
    Stage.REJECTED: [Move.REJECT],
    Stage.IN_PROGRESS: [Move.APPROVE, Move.START],
    Stage.COMPLETED: [Move.APPROVE, Move.START, Move.COMPLETE],
    Stage.EVALUATED: [Move.APPROVE, Move.START, Move.COMPLETE, Move.EVALUATE],
}


class _People:
    """The demo people of one community, loaded once (their roles are cached on them)."""

    def __init__(self, community: Community):
        slug = community.slug
        self.community = community
        self.staff = [User.objects.get(username=f"{slug}-staff{n}") for n in (1, 2)]
        self.experts = [User.objects.get(username=f"{slug}-expert{n}") for n in (1, 2)]
        confirmed = Role.objects.filter(
            community=community, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
        ).values_list("user_id", flat=True)
        residents = User.objects.filter(
            pk__in=confirmed, username__startswith=f"{slug}-resident"
        ).order_by("username")
        self.residents = {int(u.username.rsplit("resident", 1)[1]): u for u in residents}
        # The "resident" sign-in of the README (the first after the council members) is left
        # free to co-sign for themself when trying the demo.
        members = Role.objects.filter(
            community=community, kind=RoleKind.COUNCIL_MEMBER, status=RoleStatus.ACTIVE
        ).count()
        self.keep_free = members + 1

    def resident(self, number: int):
        return self.residents[number]

    def cosigners(self, proposer_number: int, start: int) -> list:
        """Confirmed residents other than the proposer, in a rotation starting at ``start``."""
        pool = [
            user
            for number, user in sorted(self.residents.items())
            if number not in (proposer_number, self.keep_free)
        ]
        start %= len(pool)
        return pool[start:] + pool[:start]


def _walk(spec: Spec, index: int, people: _People) -> Proposal:
    """Create ``spec``'s proposal and take it to its stage through the services."""
    community = people.community
    staff = people.staff[0]
    proposer = people.resident(spec.proposer)
    data = {
        "title": spec.title,
        "summary": spec.summary,
        "body": spec.body,
        "project_type": spec.project_type,
        "sub_kind": spec.sub_kind,
        "location": spec.location,
        "beneficiaries": spec.beneficiaries,
        "estimated_cost": Decimal(spec.cost),
    }
    if spec.on_behalf:
        proposal = services.proposal_create(
            actor=staff, community=community, data=data, on_behalf_of=proposer
        )
    else:
        proposal = services.proposal_create(actor=proposer, community=community, data=data)
    if spec.stage == Stage.DRAFT:
        return proposal
    proposal = services.proposal_submit(
        actor=staff if spec.on_behalf else proposer, proposal=proposal
    )

    threshold = community.cosign_threshold
    gathering = spec.stage == Stage.SUBMITTED or spec.taken_up
    count = spec.cosigns if gathering else threshold
    if gathering and count >= threshold:
        raise ValueError(f"{spec.title}: {count} co-signs would reach the threshold")
    for user in people.cosigners(spec.proposer, index * 3)[:count]:
        proposal = services.cosign_add(actor=user, proposal=proposal)
    if spec.stage == Stage.SUBMITTED:
        return proposal
    if spec.taken_up:
        proposal = proposal_move(actor=staff, proposal=proposal, move=Move.TAKE_UP)
    if spec.stage == Stage.UNDER_REVIEW:
        return proposal
    if spec.stage == Stage.MERGED:
        target = Proposal.objects.get(community=community, title=spec.merge_into)
        return services.proposal_merge(actor=staff, proposal=proposal, target=target)
    if spec.stage == Stage.WITHDRAWN and not spec.withdraw_in_consultation:
        return proposal_move(actor=proposer, proposal=proposal, move=Move.WITHDRAW)

    checks = {check: check != spec.failed_check for check in AdmissibilityReview.CHECKS}
    services.admissibility_record(
        actor=staff,
        proposal=proposal,
        checks=checks,
        note="见不予受理理由。" if spec.failed_check else "五项审查均符合。",
    )
    if spec.stage == Stage.INADMISSIBLE:
        return proposal_move(
            actor=staff, proposal=proposal, move=Move.DECLARE_INADMISSIBLE, reason=spec.reason
        )
    proposal = proposal_move(actor=staff, proposal=proposal, move=Move.ADMIT)

    invited = set(range(1, spec.experts + 1)) | {o.expert for o in spec.opinions}
    for number in sorted(invited):
        services.expert_invite(actor=staff, proposal=proposal, expert=people.experts[number - 1])
    if spec.stage == Stage.WITHDRAWN:
        return proposal_move(actor=proposer, proposal=proposal, move=Move.WITHDRAW)
    if proposal.thread_id is not None and spec.stage in (Stage.CONSULTATION, Stage.VOTING):
        _discuss(proposal, people, staff, proposer)
    if spec.estimate:
        services.feasibility_record(
            actor=staff,
            proposal=proposal,
            feasible=True,
            cost_estimate=Decimal(spec.estimate),
            plan=spec.plan,
        )
    for opinion in spec.opinions:
        services.opinion_post(
            actor=people.experts[opinion.expert - 1],
            proposal=proposal,
            recommendation=opinion.recommendation,
            remarks=opinion.remarks,
        )
    if spec.revision is not None:
        services.proposal_revise(
            actor=proposer,
            proposal=proposal,
            title=proposal.title,
            summary=spec.revision.summary,
            body=spec.revision.body,
            note=spec.revision.note,
        )
    if spec.stage == Stage.CONSULTATION:
        return Proposal.objects.get(pk=proposal.pk)

    proposal = proposal_move(actor=staff, proposal=proposal, move=Move.OPEN_VOTING)
    # The council decides through the app that holds ballots (a ``demo_deciders`` hook), and
    # the later steps through the app that holds disclosures: each step refers to the record
    # that made it, so there is no deciding by hand, even in the demo.
    deciders = demo_deciders()
    for move in AFTER_VOTING[spec.stage]:
        proposal = deciders[move](proposal, staff)
    return proposal


def demo_deciders() -> dict[str, Callable[[Proposal, object], Proposal]]:
    """How a demo proposal takes each decisive step for real, by move: every app's
    ``demo_deciders`` hook (voting's ballot for approve and reject, and so on), merged. Apps
    above this one register them: they may not be imported from here."""
    deciders = {}
    for hook in get_hooks("demo_deciders"):
        deciders.update(hook())
    return deciders


DISCUSSION = [
    ("resident", "这个位置确实需要，夏天中午根本坐不住。"),
    ("resident", "建议顺便看看排水，下雨时长椅下面积水。"),
    ("staff", "工作站已联系市场管理方，确认场地可以施工。"),
    ("resident", "支持！希望材料选结实一点的。"),
]


def _discuss(proposal: Proposal, people, staff, proposer) -> None:
    """A few messages in the consultation thread, from residents and staff."""
    from council.models import MessageKind
    from council.threads import message_post

    speakers = people.cosigners(0, 5)
    for i, (who, text) in enumerate(DISCUSSION):
        author = staff if who == "staff" else speakers[i % len(speakers)]
        kind = MessageKind.OFFICIAL if who == "staff" else MessageKind.COMMENT
        message_post(actor=author, thread=proposal.thread, body=text, kind=kind)


def _inside_window(community: Community):
    """Submitting needs an open collection window: on a demo loaded long ago, whose window has
    closed since, act on its last (or first) day instead."""
    today = clock.today()
    if community.collection_is_open(today):
        return contextlib.nullcontext()
    day = (
        community.collection_closes
        if today > community.collection_closes
        else (community.collection_opens)
    )
    return clock.travel(dt.timedelta(days=(day - today).days))


@transaction.atomic
def seed() -> int:
    """Add the demo proposals that are missing; return how many were added."""
    added = 0
    for slug, specs in SPECS.items():
        community = Community.objects.filter(slug=slug).first()
        if community is None:
            continue
        existing = set(Proposal.objects.filter(community=community).values_list("title", flat=True))
        missing = [(i, s) for i, s in enumerate(specs) if s.title not in existing]
        if not missing:
            continue
        people = _People(community)
        with _inside_window(community):
            for index, spec in missing:
                proposal = _walk(spec, index, people)
                if proposal.stage != spec.stage:
                    raise RuntimeError(f"{spec.title}: reached {proposal.stage}, not {spec.stage}")
                added += 1
    return added
