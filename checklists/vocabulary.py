"""Closed vocabularies shared by every policy pack.

Packs may only use the codes listed here, so that checklists from different
counties line up (the bureau compares 校园安全 in 贺兰 with 校园安全 in 西吉)
and the app can label every code in Chinese.
"""

from __future__ import annotations

from .concepts import CONCEPTS as CONCEPTS  # re-exported: concept key → Chinese name

#: School sections (学部): the audience codes of documents and items
#: (``addresses.stages``, ``applies_to.stages``, ``check.by_stage``).
SECTIONS: dict[str, str] = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
}

#: A section's name when a mixed school is checked part by part (九年一贯制: 小学部, 初中部).
SECTION_LABELS: dict[str, str] = {
    "kindergarten": "幼儿园部",
    "primary": "小学部",
    "junior": "初中部",
    "senior": "高中部",
}

#: School types (a school's ``stage``) and the sections each one has.
SCHOOL_TYPES: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
    "twelve_year": ("primary", "junior", "senior"),
    "complete_secondary": ("junior", "senior"),
    "kindergarten": ("kindergarten",),
    "senior": ("senior",),
}

#: School types with their Chinese names: the codes a school profile's ``stage`` may take.
STAGES: dict[str, str] = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "twelve_year": "十二年一贯制",
    "complete_secondary": "完全中学",
    "kindergarten": "幼儿园",
    "senior": "高中",
}


def sections_of(school_type: str) -> tuple[str, ...]:
    """The sections of a school type (a section code stands for itself)."""
    return SCHOOL_TYPES.get(school_type, (school_type,) if school_type in SECTIONS else ())


#: School traits: what a school has or is, beyond its type and location. An item
#: listing traits applies only to schools having all of them. One line per code.
SCHOOL_TRAITS: dict[str, str] = {
    "boarding": "寄宿制/有住宿学生",
    "group_core": "集团核心校",
    "township_central": "乡镇中心校/中心园",
    "school_bus": "有校车",
    "minority_language": "原民族语言授课",
    "teaching_point": "教学点",
    "canteen": "有食堂",
}

#: Where a school sits: county town, township centre or village.
LOCATIONS: dict[str, str] = {
    "urban": "城区",
    "town": "乡镇",
    "village": "村小",
}

#: Checklist groups an inspector recognises; ids are the same in every pack.
CHECKLISTS: dict[str, str] = {
    "campus_safety": "校园安全 / 平安校园",
    "school_conditions": "温馨校园与办学条件",
    "teaching_routine": "教学常规",
    "researcher_guidance": "教研员听评课与指导",
    "group_schooling": "集团化办学",
    "moral_mental": "心理健康与德育",
    "teacher_team": "教师队伍建设",
    "student_care": "控辍保学与学生关爱",
    "reporting": "督导与报送时限",
}

#: Who verifies an item.
CHECKED_BY: dict[str, str] = {
    "inspector_visit": "责任督学现场核查",
    "researcher_log": "教研员记录",
    "bureau_records": "教育局台账",
    "school_self_report": "学校自查上报",
}

#: Check types and their Chinese labels.
CHECK_TYPES: dict[str, str] = {
    "yes_no": "是/否",
    "numeric": "数值阈值",
    "count_per_period": "周期内次数",
    "percentage": "百分比",
    "deadline": "截止时限",
    "text": "文字记录",
}

#: Comparison operators allowed in numeric and percentage checks.
OPERATORS: dict[str, str] = {
    "<=": "≤",
    "<": "<",
    ">=": "≥",
    ">": ">",
    "==": "=",
}

#: Periods for count_per_period checks.
PERIODS: dict[str, str] = {
    "term": "每学期",
    "school_year": "每学年",
    "year": "每年",
    "three_years": "每三年",
}

#: Visit types: which checklist groups an inspector's visit covers.
#: ``None`` means every group that has on-site items.
VISIT_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    "routine": ("经常性督导", None),
    "safety": ("平安校园专项督导", frozenset({"campus_safety"})),
    "conditions": (
        "办学条件专项督导",
        frozenset({"school_conditions", "campus_safety"}),
    ),
    "teaching": (
        "教学常规专项督导",
        frozenset({"teaching_routine", "moral_mental", "researcher_guidance"}),
    ),
}

#: Pack status: a draft for comment (征求意见稿) is shown as such everywhere.
PACK_STATUSES: dict[str, str] = {"in_force": "正式印发", "draft": "征求意见稿"}

#: A composed item's status: from a draft pack, past its document's end date, or in force.
ITEM_STATUSES: dict[str, str] = {"in_force": "现行有效", "draft": "征求意见稿", "expired": "文件已到期"}

#: How binding an item's wording is: mandatory (须/应/要) or soft (力争, 原则上 …).
BINDINGS: dict[str, str] = {"mandatory": "约束性", "soft": "倡导性"}

#: Words that make a clause soft; a soft item names the one its quote uses.
BINDING_WORDS: tuple[str, ...] = ("力争", "原则上", "一般", "鼓励", "探索", "逐步", "倡导", "争取", "尽量", "可")

#: Kinds of time rule an item's ``due`` can be.
DUE_KINDS: dict[str, str] = {
    "once": "一次性时限",
    "yearly": "每年定期",
    "termly": "每学期定期",
    "cycle": "多年周期",
    "relative": "相对县定年份",
}

#: Types of the county settings a pack may declare (``county_settings``).
SETTING_TYPES: dict[str, str] = {"year": "年份", "date": "日期"}

#: Kinds of 教研员 activity a record can be. A pack's ``quota`` block names the
#: kinds that count toward an item, so a county's rule is data; a new kind of
#: activity is one line here.
ACTIVITY_KINDS: dict[str, str] = {
    "lesson": "听评课",
    "guidance": "教研指导",
    "studio": "工作室活动",
    "themed_research": "主题教研",
    "principal_forum": "校长论坛",
}

#: Kinds recorded as a lesson (class, subject, teacher observed, rubric); the others as a session.
LESSON_KINDS: frozenset[str] = frozenset({"lesson"})

#: The forms each kind of activity takes (a quota may count only some of them).
ACTIVITY_FORMS: dict[str, dict[str, str]] = {
    "lesson": {
        "observe": "听评课",
        "open": "公开课",
        "model": "示范课",
        "sending": "送教",
        "synchronous": "同步课堂",
    },
    "guidance": {
        "collective_prep": "集体备课",
        "seminar": "专题研讨",
        "homework": "作业设计指导",
        "quality_analysis": "质量分析",
        "other": "其他",
    },
    "studio": {"lesson_study": "课例研讨", "lecture": "专题讲座", "mentoring": "师徒结对", "other": "其他"},
    "themed_research": {"seminar": "专题研讨", "showcase": "展示交流", "other": "其他"},
    "principal_forum": {"forum": "论坛交流", "other": "其他"},
}

#: Subjects of observed lessons and of 教研员.
SUBJECTS: dict[str, str] = {
    "chinese": "语文",
    "math": "数学",
    "english": "英语",
    "morality": "道德与法治",
    "science": "科学",
    "physics": "物理",
    "chemistry": "化学",
    "biology": "生物",
    "history": "历史",
    "geography": "地理",
    "music": "音乐",
    "art": "美术",
    "pe": "体育与健康",
    "it": "信息科技",
    "labour": "劳动",
    "practice": "综合实践",
    "mental": "心理健康",
    "preschool": "学前教育",
    "other": "其他",
}

#: Grades (年级), kindergarten to senior three.
GRADES: dict[str, str] = {
    "k": "幼儿园",
    "g1": "一年级",
    "g2": "二年级",
    "g3": "三年级",
    "g4": "四年级",
    "g5": "五年级",
    "g6": "六年级",
    "g7": "七年级",
    "g8": "八年级",
    "g9": "九年级",
    "g10": "高一",
    "g11": "高二",
    "g12": "高三",
}

#: Whose count a quota is: each 教研员's, or coverage of every teacher of a school.
QUOTA_WHO: dict[str, str] = {"researcher": "每位教研员", "teacher": "每位教师"}

#: Which schools' records count: the 教研员's assigned (包片) schools, or any school.
QUOTA_SCHOOLS: dict[str, str] = {"assigned": "包片学校", "any": "不限学校"}

#: The lesson evaluation rubric used when a pack sets none: (id, label, top score).
DEFAULT_RUBRIC: tuple[tuple[str, str, int], ...] = (
    ("goals", "教学目标", 5),
    ("process", "教学过程", 5),
    ("engagement", "学生参与", 5),
    ("effect", "教学效果", 5),
)
