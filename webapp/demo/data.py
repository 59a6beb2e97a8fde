"""Demo data: one county per policy set, schools of mixed profiles, users for every role."""

from __future__ import annotations

from datetime import date

DEMO_PASSWORD = "demo1234"

#: (code suffix, name, stage, location, boarding, enrolment, classes, dlat, dlon, group); a county's
#: ``traits`` add trait codes per code suffix (boarding comes from the tuple), its ``settings`` the values
#: of its pack's county settings.
_School = tuple[str, str, str, str, bool, int, int, float, float, str]

COUNTIES: list[dict] = [
    {
        "key": "helan",
        "name": "贺兰县",
        "region": "宁夏回族自治区银川市",
        "policy_set": "helan",
        "centre": (38.554, 106.349),
        "schools": [
            ("01", "贺兰县第一小学", "primary", "urban", False, 2150, 44, 0.0, 0.0, "第一教育集团"),
            ("02", "贺兰县第二中学", "junior", "urban", False, 1680, 33, 0.01, 0.012, "第二教育集团"),
            ("03", "贺兰县第一幼儿园", "kindergarten", "urban", False, 420, 14, -0.006, 0.004, ""),
            ("04", "贺兰县回民高级中学", "senior", "urban", True, 1900, 36, 0.015, -0.01, ""),
            ("05", "立岗镇中心小学", "primary", "town", True, 620, 14, 0.08, 0.05, "第一教育集团"),
            ("06", "金贵镇中学", "junior", "town", True, 540, 12, -0.07, 0.11, "第二教育集团"),
            ("07", "常信乡中心学校", "nine_year", "town", True, 760, 18, 0.12, 0.09, "第三教育集团"),
            ("08", "洪广镇欣荣小学", "primary", "village", False, 96, 6, 0.21, -0.14, "第一教育集团"),
            ("09", "常信乡四十里店小学", "primary", "village", False, 58, 6, 0.15, 0.16, "第三教育集团"),
            ("10", "习岗镇桃林小学", "primary", "village", False, 130, 6, -0.04, 0.07, "第二教育集团"),
            ("11", "暖泉学校", "nine_year", "village", True, 310, 9, 0.25, -0.06, "第三教育集团"),
            ("12", "立岗镇兰光小学", "primary", "village", False, 74, 6, 0.1, 0.02, "第一教育集团"),
            ("13", "贺兰县第一中学", "twelve_year", "urban", True, 2800, 58, 0.02, 0.018, "第二教育集团"),
        ],
        "traits": {
            "01": ["group_core", "canteen"],
            "02": ["group_core", "canteen"],
            "05": ["township_central", "canteen"],
            "07": ["township_central", "group_core", "school_bus", "canteen"],
            "11": ["school_bus", "canteen"],
            "13": ["canteen"],
        },
        "settings": {"training_cycle_anchor": "2023-09-01"},
    },
    {
        "key": "xiji",
        "name": "西吉县",
        "region": "宁夏回族自治区固原市",
        "policy_set": "xiji",
        "centre": (35.964, 105.729),
        "schools": [
            ("01", "西吉县第一小学", "primary", "urban", False, 2600, 52, 0.0, 0.0, "一小教育集团"),
            ("02", "西吉县第七中学", "junior", "urban", False, 2300, 44, 0.008, 0.01, "七中教育集团"),
            ("03", "西吉县第六幼儿园", "kindergarten", "urban", False, 380, 12, -0.005, 0.006, "六幼教育集团"),
            ("04", "袁河中学", "nine_year", "town", True, 880, 20, 0.09, -0.12, "袁河教育集团"),
            ("05", "吉强镇中心小学", "primary", "town", True, 540, 13, 0.03, 0.05, "一小教育集团"),
            ("06", "兴隆镇中学", "junior", "town", True, 610, 14, -0.11, 0.08, "七中教育集团"),
            ("07", "硝河乡中心小学", "primary", "town", True, 330, 9, 0.18, 0.14, "袁河教育集团"),
            ("08", "将台堡镇明台小学", "primary", "village", False, 64, 6, -0.2, 0.17, "一小教育集团"),
            ("09", "火石寨乡大庄小学", "primary", "village", False, 41, 6, 0.15, -0.08, "七中教育集团"),
            ("10", "偏城乡涝池小学", "primary", "village", False, 35, 5, 0.26, 0.21, "袁河教育集团"),
            ("11", "马建乡马建学校", "nine_year", "village", True, 290, 9, -0.16, -0.19, "袁河教育集团"),
        ],
        "traits": {
            "01": ["group_core", "canteen"],
            "02": ["group_core", "canteen"],
            "03": ["group_core"],
            "04": ["group_core", "township_central", "school_bus", "canteen"],
            "05": ["township_central", "canteen"],
            "07": ["township_central", "school_bus"],
            "10": ["teaching_point"],
            "11": ["school_bus", "canteen"],
        },
        "settings": {"teacher_cycle_anchor": "2022-09-01"},
    },
    {
        "key": "liaocheng",
        "name": "聊城市",
        "region": "山东省聊城市",
        "policy_set": "liaocheng",
        "centre": (36.456, 115.985),
        "schools": [
            ("01", "聊城市东昌府区实验小学", "primary", "urban", False, 2400, 48, 0.0, 0.0, "东昌教育集团"),
            ("02", "聊城市第四中学", "junior", "urban", False, 1800, 36, 0.012, -0.01, "东昌教育集团"),
            ("03", "聊城市实验幼儿园", "kindergarten", "urban", False, 450, 15, -0.008, 0.012, ""),
            ("04", "聊城第一中学", "senior", "urban", True, 3600, 60, 0.02, 0.02, ""),
            ("05", "堂邑镇中心小学", "primary", "town", False, 720, 16, -0.1, -0.14, "堂邑教育集团"),
            ("06", "梁水镇中学", "junior", "town", True, 860, 18, 0.14, 0.09, "梁水教育集团"),
            ("07", "沙镇中心学校", "nine_year", "town", True, 930, 21, -0.18, 0.12, "堂邑教育集团"),
            ("08", "郑家镇韩庄小学", "primary", "village", False, 88, 6, 0.08, -0.22, "堂邑教育集团"),
            ("09", "侯营镇前屯小学", "primary", "village", False, 102, 6, 0.22, 0.15, "梁水教育集团"),
            ("10", "张炉集镇李庄小学", "primary", "village", False, 67, 6, -0.24, -0.05, "梁水教育集团"),
            ("11", "堂邑镇中心幼儿园", "kindergarten", "town", False, 210, 7, -0.095, -0.135, "堂邑教育集团"),
            ("12", "斗虎屯镇中学", "junior", "town", True, 520, 12, 0.05, 0.25, "梁水教育集团"),
            ("13", "聊城市东昌中学", "complete_secondary", "urban", True, 2500, 50, 0.018, -0.016, "东昌教育集团"),
        ],
        "traits": {
            "01": ["group_core", "canteen"],
            "05": ["township_central", "group_core", "canteen"],
            "06": ["group_core", "canteen"],
            "07": ["township_central", "school_bus", "canteen"],
            "11": ["township_central"],
            "13": ["canteen"],
        },
    },
    {
        "key": "xinganmeng",
        "name": "兴安盟",
        "region": "内蒙古自治区兴安盟",
        "policy_set": "xinganmeng",
        "centre": (46.077, 122.068),
        "schools": [
            ("01", "乌兰浩特市第一小学", "primary", "urban", False, 2100, 42, 0.0, 0.0, ""),
            ("02", "乌兰浩特市第四中学", "junior", "urban", False, 1500, 30, 0.01, 0.015, ""),
            ("03", "科尔沁右翼前旗第二小学", "primary", "urban", False, 1300, 28, 0.05, -0.07, ""),
            ("04", "乌兰浩特市第二幼儿园", "kindergarten", "urban", False, 360, 12, -0.01, 0.01, ""),
            ("05", "归流河镇中心学校", "nine_year", "town", True, 680, 17, 0.2, -0.2, ""),
            ("06", "察尔森镇中学", "junior", "town", True, 420, 10, 0.3, 0.15, ""),
            ("07", "义勒力特镇中心小学", "primary", "town", True, 390, 10, -0.22, 0.3, ""),
            ("08", "乌兰毛都苏木学校", "nine_year", "village", True, 180, 9, 0.45, -0.35, ""),
            ("09", "满族屯满族乡小学", "primary", "village", False, 90, 6, -0.3, -0.25, ""),
            ("10", "居力很镇蒙古族小学", "primary", "village", True, 140, 6, 0.12, 0.42, ""),
            ("11", "科尔沁右翼中旗蒙古族学校", "twelve_year", "town", True, 1650, 39, 0.35, 0.5, ""),
        ],
        "traits": {
            "05": ["township_central", "school_bus", "canteen"],
            "07": ["township_central", "canteen"],
            "08": ["minority_language", "school_bus", "canteen"],
            "10": ["minority_language"],
            "11": ["minority_language", "canteen"],
        },
        # Each 旗县市 has its own 优质均衡 acceptance year (文件一: 乌兰浩特市、科右前旗、科右中旗 2028).
        "settings": {"acceptance_year": 2028},
    },
]

TERMS = [
    ("2025-2026学年第二学期", "2025-2026", date(2026, 3, 2), date(2026, 7, 10)),
    ("2026-2027学年第一学期", "2026-2027", date(2026, 9, 1), date(2027, 1, 22)),
]

#: Per county: (username suffix, name, role, indexes of assigned schools)
USERS = [
    ("duxue1", "王督学", "inspector", [0, 1, 2, 4, 7]),
    ("duxue2", "李督学", "inspector", [3, 5, 6, 8, 9]),
    ("jyy1", "张老师（教研员）", "researcher", [4, 7, 8]),
    ("jyy2", "刘老师（教研员）", "researcher", [5, 6, 9]),
    ("dds", "赵主任（督导室）", "reviewer", []),
]

#: Per county: 学校 accounts (username suffix, name, index of their school) — schools the demo visits have tasks at.
SCHOOL_USERS = [
    ("school1", "校长（学校账号）", 0),
    ("school2", "校办（学校账号）", 3),
]

ADMIN = ("admin", "系统管理员")
