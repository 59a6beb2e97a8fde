"""Closed vocabularies shared by every policy pack.

Packs may only use the codes listed here, so that checklists from different
counties line up (the bureau compares 校园安全 in 贺兰 with 校园安全 in 西吉)
and the app can label every code in Chinese.
"""

from __future__ import annotations

#: School stages (学段) a school profile can have.
STAGES: dict[str, str] = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "kindergarten": "幼儿园",
    "senior": "高中",
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
