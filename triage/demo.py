"""The demo city "Riverton": a deterministic generator of every table, for demos and benchmarks.

Pure numpy and pandas (no database, no Dash): ``db.seed`` writes what ``build_demo_city`` returns.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from triage.indicators import CADENCE_DAYS

CITY_NAME = "Riverton"
TIMEZONE = "America/New_York"
DISTRICTS_GEOJSON = Path(__file__).resolve().parent / "data" / "districts.geojson"
REPORT_SOURCE = "demo"

Progress = Callable[[str, float], None]

POLICY_AREAS: dict[str, str] = {
    "public_safety": "Public safety",
    "streets_transportation": "Streets & transportation",
    "sanitation_environment": "Sanitation & environment",
    "housing_homelessness": "Housing & homelessness",
    "health": "Health",
    "education_youth": "Education & youth",
    "economy_jobs": "Economy & jobs",
    "parks_recreation": "Parks & recreation",
    "equity_community": "Equity & community relations",
    "government_services": "Government services",
}


# --------------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """How much city to build: ``small`` for tests, ``city`` for demos, ``large`` for benchmarks."""

    name: str
    problems: int
    indicators_per_problem: int  # cap on each problem's own indicators
    indicators: int | None  # pad with district breakdowns up to this many (large only)
    history_years: int
    reports: int  # expected number of citizen reports
    weekly_only: bool = False  # every indicator weekly (the large benchmark's 5 years of weekly)


SCALES: dict[str, Scale] = {
    "small": Scale("small", problems=12, indicators_per_problem=3, indicators=None,
                   history_years=1, reports=5_000),
    "city": Scale("city", problems=37, indicators_per_problem=6, indicators=None,
                  history_years=3, reports=125_000),
    "large": Scale("large", problems=500, indicators_per_problem=6, indicators=5_000,
                   history_years=5, reports=10_000_000, weekly_only=True),
}  # fmt: skip

SMALL_PROBLEMS = (
    "gun_violence",
    "potholes",
    "traffic_deaths",
    "dumping",
    "rodents",
    "unsheltered",
    "housing_conditions",
    "overdoses",
    "absenteeism",
    "park_maintenance",
    "slow_permits",
    "police_trust",
)

# --------------------------------------------------------------------------------------------
# Departments, districts, users
# --------------------------------------------------------------------------------------------

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("PW", "Public Works"),
    ("TRN", "Transportation"),
    ("POL", "Police"),
    ("FIRE", "Fire & Emergency Medical Services"),
    ("HLTH", "Public Health"),
    ("HSG", "Housing & Community Development"),
    ("PRK", "Parks & Recreation"),
    ("SAN", "Sanitation"),
    ("EDU", "Education & Youth"),
    ("ECON", "Economic Development & Permits"),
)
_DEPT_NAME = dict(DEPARTMENTS)


class _District(NamedTuple):
    code: str
    name: str
    population: int
    income: float  # median household income, USD
    need: float  # 0 (least) .. 1 (most need); tracks low income, crowding and health burden
    propensity: float  # how readily residents report to 311, per capita, relative


# Affluent districts report about 3x more readily per resident than the poorest (a known 311
# bias); tests of bias correction compare against these true values.
_DISTRICTS: tuple[_District, ...] = (
    _District("D01", "Harbor Point", 44_000, 131_000, 0.10, 1.65),
    _District("D02", "Old Mill Quarter", 72_000, 118_000, 0.16, 1.55),
    _District("D03", "Eastside Flats", 132_000, 42_000, 0.74, 0.80),
    _District("D04", "Westbank", 85_000, 92_000, 0.31, 1.20),
    _District("D05", "Civic Center", 41_000, 97_000, 0.27, 1.80),
    _District("D06", "Kettle Bay", 105_000, 108_000, 0.20, 1.35),
    _District("D07", "Linden Park", 120_000, 124_000, 0.13, 1.50),
    _District("D08", "Ashford Hill", 128_000, 139_000, 0.07, 1.60),
    _District("D09", "College Hill", 82_000, 51_000, 0.58, 0.85),
    _District("D10", "Northgate", 95_000, 39_000, 0.81, 0.65),
    _District("D11", "Millbrook", 92_000, 33_000, 0.92, 0.60),
    _District("D12", "Cedar Heights", 125_000, 46_000, 0.68, 0.70),
)
_DISTRICT_NAME = {d.code: d.name for d in _DISTRICTS}
ALL_DISTRICTS = tuple(d.code for d in _DISTRICTS)


@dataclass(frozen=True)
class DemoUser:
    """A demo sign-in; the password is deterministic and printed by ``triage demo``."""

    username: str
    display_name: str
    role: str
    department_code: str | None
    password: str


def _demo_user(username: str, display_name: str, role: str, dept: str | None = None) -> DemoUser:
    return DemoUser(username, display_name, role, dept, f"{username}-riverton-demo")


_HEADS = {
    "PW": "Tom Kowalski",
    "TRN": "Aisha Rahman",
    "POL": "Daniel Ortiz",
    "FIRE": "Kathleen Doyle",
    "HLTH": "Mei Chen",
    "HSG": "Andre Williams",
    "PRK": "Rosa Delgado",
    "SAN": "Frank Russo",
    "EDU": "Grace Adeyemi",
    "ECON": "Nikhil Shah",
}

DEMO_USERS: tuple[DemoUser, ...] = (
    _demo_user("mayor", "Elena Marsh", "mayor"),
    _demo_user("chief", "Jordan Reyes", "chief_of_staff"),
    _demo_user("analyst", "Priya Natarajan", "analyst"),
    _demo_user("admin", "Sam Okafor", "admin"),
    *(
        _demo_user(f"head-{code.lower()}", _HEADS[code], "department_head", code)
        for code, _ in DEPARTMENTS
    ),
)


def head_of(department_code: str) -> str:
    """Username of the demo head of a department."""
    return f"head-{department_code.lower()}"


# --------------------------------------------------------------------------------------------
# Problems: indicators, backward maps and ideas, as a chief of staff would write them
# --------------------------------------------------------------------------------------------

CTRL, INFL, OUTS = "controls", "influences", "outside"
STRONG, MOD, WEAK, ANEC = "strong", "moderate", "weak", "anecdotal"
TESTED, HOME, RECLAIMED, NEW = "tested_elsewhere", "home_grown", "reclaimed", "wholly_new"
SERVICE, CHEAPER, QUALITY, FLOW, COORD = (
    "new_service",
    "cheaper_method",
    "higher_quality",
    "new_resource_flow",
    "coordination",
)


class _Ind(NamedTuple):
    name: str
    unit: str
    direction: str  # which way is better
    cadence: str
    base: float  # typical level at the start of the history
    season: str = "none"  # a profile name from _season; a leading "-" inverts it
    dept: str | None = None  # default: the problem's lead department
    source: str = ""


class _Factor(NamedTuple):
    title: str
    reach: str
    evidence: str
    parents: tuple[int, ...] = ()  # earlier factors of the same problem, so the map is a DAG
    indicator: int | None = None  # index into the problem's indicators


class _Idea(NamedTuple):
    title: str
    origin: str
    kind: str
    description: str


@dataclass(frozen=True)
class _ProblemSpec:
    key: str
    title: str
    area: str
    dept: str
    status: str
    districts: tuple[str, ...]
    capital: int
    capital_note: str
    authority: int
    authority_note: str
    description: str
    outcome: str
    indicators: tuple[_Ind, ...]
    factors: tuple[_Factor, ...]
    ideas: tuple[_Idea, ...]


NORTH = ("D09", "D10", "D11", "D12")
SURVEY = "Riverton resident survey"
CAD = "EMS computer-aided dispatch"
CALLS_311 = "311 service request system"

_PROBLEMS: tuple[_ProblemSpec, ...] = (
    _ProblemSpec(
        key="gun_violence",
        title="Gun violence concentrated on a few blocks",
        area="public_safety",
        dept="POL",
        status="focus",
        districts=("D03", "D10", "D11", "D12"),
        capital=5,
        capital_note=(
            "Top concern at every district meeting since the summer shootings; the mayor "
            "campaigned on it."
        ),
        authority=3,
        authority_note=(
            "Policing, youth programmes and street lighting are city levers; gun laws, prosecution "
            "and courts belong to the state and county."
        ),
        description=(
            "Shootings are concentrated on roughly 40 blocks in Northgate, Millbrook and Eastside "
            "Flats, and most victims and shooters are men aged 16 to 30 who know each other. Each "
            "shooting brings retaliation, school absences and shop closures nearby."
        ),
        outcome=(
            "Cut shootings with injury by a third within two years, with the largest drop on the "
            "blocks that carry most of the violence."
        ),
        indicators=(
            _Ind("Shootings with injury", "count", "down", "weekly", 6, "summer"),
            _Ind("Homicides", "count", "down", "monthly", 5, "summer"),
            _Ind(
                "Shots-fired detections confirmed by officers",
                "count",
                "down",
                "weekly",
                18,
                "summer",
            ),
            _Ind(
                "Young people in the violence-interruption caseload",
                "count",
                "up",
                "monthly",
                140,
                dept="HLTH",
            ),
            _Ind(
                "Residents who feel safe walking at night",
                "%",
                "up",
                "quarterly",
                48,
                source=SURVEY,
            ),
        ),
        factors=(
            _Factor(
                "Retaliation cycles between a small number of groups", INFL, STRONG, indicator=0
            ),
            _Factor("Easy access to illegal handguns", OUTS, MOD),
            _Factor(
                "Few jobs and programmes for young men aged 16 to 24",
                INFL,
                STRONG,
                (0,),
                indicator=3,
            ),
            _Factor("Vacant lots and dark blocks that give cover", CTRL, MOD),
            _Factor("Most shootings go unsolved", INFL, MOD),
            _Factor("Low trust in police keeps witnesses silent", INFL, MOD, (4,)),
            _Factor("Gun trafficking from states with weak laws", OUTS, WEAK, (1,)),
        ),
        ideas=(
            _Idea(
                "Focused deterrence call-ins with street outreach",
                TESTED,
                COORD,
                (
                    "Police, prosecutors, outreach workers and families meet the few group members "
                    "driving the violence with a clear offer of help and a clear warning."
                ),
            ),
            _Idea(
                "Hospital-based violence intervention at Riverton General",
                TESTED,
                SERVICE,
                (
                    "Counsellors meet shooting victims at the bedside to head off retaliation and "
                    "connect them to services."
                ),
            ),
            _Idea(
                "Clean and green vacant lots on the hot-spot blocks",
                TESTED,
                CHEAPER,
                (
                    "Clear, fence and plant vacant lots; evaluations elsewhere found fewer gun "
                    "assaults nearby at low cost per lot."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="car_breakins",
        title="Car break-ins and catalytic converter theft",
        area="public_safety",
        dept="POL",
        status="watch",
        districts=("D02", "D04", "D05", "D07"),
        capital=2,
        capital_note=(
            "Loud on neighbourhood social media and in the Ledger; low in the resident survey."
        ),
        authority=3,
        authority_note=(
            "Patrol and investigations are city; scrap dealer licensing sits with the state."
        ),
        description=(
            "Reported vehicle break-ins rose sharply downtown and on the west side, and thefts of "
            "catalytic converters from parked hybrids are a new pattern. Many victims no longer "
            "report because they expect nothing to happen."
        ),
        outcome=(
            "Bring vehicle break-ins back below 2019 levels and raise the share of victims who "
            "report."
        ),
        indicators=(
            _Ind("Vehicle break-ins reported", "count", "down", "weekly", 55),
            _Ind("Catalytic converter thefts reported", "count", "down", "monthly", 40),
            _Ind("Property crimes cleared by arrest", "%", "up", "quarterly", 9),
        ),
        factors=(
            _Factor("Resale market for stolen catalytic converters", OUTS, MOD),
            _Factor("Scrap dealers not checking sellers' identity", INFL, MOD, (0,)),
            _Factor("Valuables left visible in parked cars", INFL, ANEC),
            _Factor("Few detectives assigned to property crime", CTRL, MOD, indicator=2),
            _Factor("Poorly lit parking lots and garages", INFL, WEAK),
        ),
        ideas=(
            _Idea(
                "Catalytic converter etching events",
                TESTED,
                CHEAPER,
                (
                    "Free engraving of converters with licence numbers at weekend events, so "
                    "dealers can spot stolen parts."
                ),
            ),
            _Idea(
                "Online crime reports with an automatic follow-up text",
                HOME,
                QUALITY,
                (
                    "Victims file online in five minutes and get a case number and a text when "
                    "anything changes."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="ems_response",
        title="Ambulance response times slipping in the north end",
        area="public_safety",
        dept="FIRE",
        status="emerging",
        districts=NORTH,
        capital=3,
        capital_note=(
            "Two widely reported long waits this year; the council has asked for a hearing."
        ),
        authority=4,
        authority_note=(
            "The city runs EMS directly; emergency-room handover times are up to the hospitals."
        ),
        description=(
            "The 90th-percentile response time to life-threatening calls in the four northern "
            "districts has crept past 10 minutes, while ambulances spend longer waiting to hand "
            "patients over at emergency rooms. A growing share of calls are not emergencies."
        ),
        outcome="Reach 90% of life-threatening calls within 8 minutes in every district.",
        indicators=(
            _Ind(
                "90th-percentile EMS response time, life-threatening calls",
                "minutes",
                "down",
                "weekly",
                9.2,
                "winter",
                source=CAD,
            ),
            _Ind(
                "Ambulance hours lost waiting at hospital handover",
                "hours",
                "down",
                "weekly",
                310,
                "winter",
                source=CAD,
            ),
            _Ind("911 medical calls handled by the nurse triage line", "%", "up", "monthly", 6),
            _Ind("Paramedic vacancies", "count", "down", "monthly", 22),
        ),
        factors=(
            _Factor("Long handover waits at emergency rooms", OUTS, STRONG, indicator=1),
            _Factor("Paramedic vacancies and overtime fatigue", CTRL, MOD, indicator=3),
            _Factor("Ambulances sent to non-emergency calls", CTRL, MOD, indicator=2),
            _Factor("Few primary-care options in the north end", INFL, MOD, (2,)),
            _Factor("Station locations set before the north end grew", CTRL, WEAK),
            _Factor("Pay below private ambulance companies", INFL, MOD, (1,)),
        ),
        ideas=(
            _Idea(
                "Nurse navigation line for low-acuity 911 calls",
                TESTED,
                CHEAPER,
                (
                    "Nurses on the dispatch floor divert minor calls to clinics, telehealth or "
                    "taxis, keeping ambulances free."
                ),
            ),
            _Idea(
                "Peak-hour ambulance posted at the Northgate station",
                HOME,
                QUALITY,
                "Move one unit north between 2 pm and 10 pm, when call volume peaks.",
            ),
            _Idea(
                "Hospital handover compact with shared data",
                NEW,
                COORD,
                (
                    "Hospitals and EMS agree a 30-minute handover standard and publish performance "
                    "weekly."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="fire_deaths",
        title="Home fire deaths among older residents",
        area="public_safety",
        dept="FIRE",
        status="watch",
        districts=("D03", "D10", "D11", "D12"),
        capital=1,
        capital_note="Rarely raised, but each death is in the news for a week.",
        authority=4,
        authority_note=(
            "Inspections and alarm programmes are city; the older housing stock is private."
        ),
        description=(
            "Most of last year's fire deaths were residents over 70 living alone in older "
            "rowhouses, often without a working smoke alarm. Space heaters and cooking are the "
            "usual causes."
        ),
        outcome="No one dies in a home fire for want of a working smoke alarm.",
        indicators=(
            _Ind("Residential structure fires", "count", "down", "monthly", 38, "winter"),
            _Ind("Smoke alarms installed by the fire department", "count", "up", "monthly", 210),
            _Ind("Civilian fire deaths", "count", "down", "quarterly", 3, "winter"),
        ),
        factors=(
            _Factor("Homes without working smoke alarms", INFL, STRONG, indicator=1),
            _Factor("Space heaters in poorly heated units", INFL, MOD),
            _Factor("Older residents living alone", OUTS, MOD),
            _Factor("Landlords not replacing alarm batteries", INFL, WEAK, (0,)),
            _Factor("Heating failures in older rental buildings", INFL, MOD, (1,)),
        ),
        ideas=(
            _Idea(
                "Door-to-door smoke alarm blitz after every fatal fire",
                RECLAIMED,
                QUALITY,
                (
                    "Crews knock on every door within four blocks in the week after a fatal fire, "
                    "as the department did in the 1990s."
                ),
            ),
            _Idea(
                "Meal delivery drivers flag fire risks",
                HOME,
                COORD,
                (
                    "Drivers for the senior meals programme check alarms and heaters and refer "
                    "homes for a visit."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="potholes",
        title="Potholes and crumbling road surfaces",
        area="streets_transportation",
        dept="PW",
        status="monitoring",
        districts=ALL_DISTRICTS,
        capital=4,
        capital_note="The most common complaint to council offices every spring.",
        authority=5,
        authority_note=(
            "Public Works owns and repairs every city street except the two state routes."
        ),
        description=(
            "About a third of city lane-miles are rated poor. Freeze-thaw cycles open thousands of "
            "potholes each spring, and patches on worn streets fail within months. Resurfacing has "
            "been deferred for a decade."
        ),
        outcome=(
            "Fill reported potholes within three working days and bring 70% of streets to good "
            "condition."
        ),
        indicators=(
            _Ind(
                "Potholes repaired within 3 working days", "%", "up", "weekly", 72, "-freeze_thaw"
            ),
            _Ind(
                "Pothole reports", "count", "down", "weekly", 180, "freeze_thaw", source=CALLS_311
            ),
            _Ind("Lane-miles resurfaced", "lane-miles", "up", "monthly", 9, "summer"),
            _Ind("Streets rated good or better", "%", "up", "quarterly", 52),
            _Ind("Pothole damage claims paid", "USD", "down", "quarterly", 180_000, "freeze_thaw"),
        ),
        factors=(
            _Factor("A decade of deferred resurfacing", CTRL, STRONG, indicator=3),
            _Factor("Freeze-thaw cycles", OUTS, STRONG),
            _Factor("Utility trenches patched poorly by contractors", INFL, MOD),
            _Factor("Heavy trucks on residential streets", INFL, WEAK),
            _Factor("Capital budget squeezed by debt service", INFL, MOD, (0,)),
            _Factor("Patch crews working from complaints, not a plan", CTRL, MOD, indicator=0),
        ),
        ideas=(
            _Idea(
                "Infrared patching trucks",
                TESTED,
                CHEAPER,
                (
                    "Heat and re-blend the existing asphalt so patches bond and last years, not "
                    "months."
                ),
            ),
            _Idea(
                "Road condition scored by cameras on garbage trucks",
                NEW,
                CHEAPER,
                (
                    "Cameras already driving every street each week rate the pavement, replacing a "
                    "survey done every four years."
                ),
            ),
            _Idea(
                "Restoration bond for utility street cuts",
                RECLAIMED,
                FLOW,
                "Utilities post a bond that pays for re-paving when their patches fail inspection.",
            ),
        ),
    ),
    _ProblemSpec(
        key="traffic_deaths",
        title="Traffic deaths and serious injuries on arterial roads",
        area="streets_transportation",
        dept="TRN",
        status="focus",
        districts=("D03", "D04", "D10", "D11", "D12"),
        capital=3,
        capital_note=(
            "Families for Safe Streets presses hard; some councilmembers resist losing parking."
        ),
        authority=4,
        authority_note=(
            "The city controls street design and signals; speed limits on the two state routes "
            "need state approval."
        ),
        description=(
            "Two-thirds of traffic deaths happen on 8% of streets, mostly wide arterials in the "
            "north end where drivers speed at night. Pedestrians over 65 and children walking to "
            "school are over-represented."
        ),
        outcome=(
            "Halve traffic deaths and serious injuries within five years, starting with the "
            "high-injury network."
        ),
        indicators=(
            _Ind("Traffic deaths", "count", "down", "monthly", 3),
            _Ind("Serious-injury crashes", "count", "down", "monthly", 34, "summer"),
            _Ind("Pedestrians struck by vehicles", "count", "down", "weekly", 9, "winter"),
            _Ind("High-injury network miles redesigned", "miles", "up", "quarterly", 2.5),
            _Ind(
                "Drivers 10 mph or more over the limit at camera sites", "%", "down", "monthly", 11
            ),
        ),
        factors=(
            _Factor("Wide arterials designed for speed", CTRL, STRONG, indicator=3),
            _Factor("Speeding at night", INFL, STRONG, (0,), indicator=4),
            _Factor("Speed limits on state routes set by the state", OUTS, MOD),
            _Factor("Poor lighting at crossings", CTRL, MOD),
            _Factor("Few protected crossings near schools and senior centres", CTRL, MOD),
            _Factor("Traffic enforcement moved to other priorities", INFL, WEAK, (1,)),
            _Factor("Larger, heavier vehicles", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Quick-build road diets with paint and posts",
                TESTED,
                CHEAPER,
                (
                    "Narrow four-lane arterials to three lanes within weeks using paint and "
                    "flexible posts, then rebuild in concrete what works."
                ),
            ),
            _Idea(
                "Speed cameras in school zones",
                TESTED,
                FLOW,
                "Automated enforcement near schools, with fines ring-fenced for safety projects.",
            ),
            _Idea(
                "Leading pedestrian intervals at 100 signals",
                TESTED,
                CHEAPER,
                (
                    "Give people on foot a five-second head start at the most dangerous crossings "
                    "by reprogramming signals."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="bus_reliability",
        title="Unreliable bus service on crosstown routes",
        area="streets_transportation",
        dept="TRN",
        status="watch",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=3,
        capital_note=(
            "Bus riders are many but rarely organised; the transit workers' union is vocal."
        ),
        authority=1,
        authority_note=(
            "The Regional Transit Authority runs the buses; the city controls curbs, lanes and "
            "signals."
        ),
        description=(
            "Crosstown routes run late or bunch, with a third of trips more than five minutes off "
            "schedule. Riders in the north end, who depend most on buses, lose the most time."
        ),
        outcome="80% of crosstown bus trips on time and 15% faster end to end.",
        indicators=(
            _Ind("Crosstown bus trips on time", "%", "up", "weekly", 68, "-winter"),
            _Ind("Average crosstown bus speed", "mph", "up", "monthly", 7.4),
            _Ind("Bus lane miles", "miles", "up", "quarterly", 6),
            _Ind("Weekday bus riders", "count", "up", "monthly", 84_000, "-school"),
        ),
        factors=(
            _Factor("Cars and trucks blocking bus stops and lanes", INFL, STRONG),
            _Factor("Driver shortage at the transit authority", OUTS, MOD),
            _Factor("Traffic signals that ignore buses", CTRL, MOD),
            _Factor("Route network unchanged since the 1990s", OUTS, MOD),
            _Factor("Bus lanes not enforced", CTRL, MOD, (0,), indicator=2),
        ),
        ideas=(
            _Idea(
                "Camera enforcement of bus lanes",
                TESTED,
                QUALITY,
                "Forward-facing cameras on buses ticket cars parked in bus lanes.",
            ),
            _Idea(
                "Transit signal priority on Route 12",
                TESTED,
                CHEAPER,
                "Signals hold the green for late buses on the busiest crosstown route.",
            ),
            _Idea(
                "Joint city and transit authority corridor team",
                HOME,
                COORD,
                (
                    "One team with staff from both agencies fixes the ten slowest corridors block "
                    "by block."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="streetlights",
        title="Streetlight outages leaving blocks dark",
        area="streets_transportation",
        dept="PW",
        status="watch",
        districts=("D03", "D10", "D11", "D12"),
        capital=2,
        capital_note="Raised often at community safety meetings.",
        authority=5,
        authority_note=(
            "The city owns the poles and fixtures; the utility supplies power and repairs some "
            "circuits."
        ),
        description=(
            "About 1,400 streetlights are out at any time and repairs take three weeks on average, "
            "longer where the fault is underground. Dark blocks feel unsafe and see more car "
            "break-ins."
        ),
        outcome="Repair 90% of outages within five working days.",
        indicators=(
            _Ind("Streetlights out at week's end", "count", "down", "weekly", 1450, "winter"),
            _Ind("Outages repaired within 5 working days", "%", "up", "weekly", 61),
            _Ind("Fixtures converted to LED", "%", "up", "quarterly", 44),
        ),
        factors=(
            _Factor("Ageing underground wiring", CTRL, STRONG),
            _Factor("Outages found only when residents report them", CTRL, MOD, indicator=1),
            _Factor("Copper wire theft", OUTS, MOD, (0,)),
            _Factor("Utility slow to repair feeder circuits", INFL, MOD),
        ),
        ideas=(
            _Idea(
                "Networked LED lights that report their own failures",
                TESTED,
                QUALITY,
                "Each new fixture reports an outage to the work-order system the night it fails.",
            ),
            _Idea(
                "Night sanitation crews log dark blocks",
                HOME,
                CHEAPER,
                "Crews already out before dawn tap outages into a phone app on their routes.",
            ),
        ),
    ),
    _ProblemSpec(
        key="sidewalks",
        title="Broken sidewalks and missing curb ramps",
        area="streets_transportation",
        dept="PW",
        status="watch",
        districts=ALL_DISTRICTS,
        capital=2,
        capital_note="Disability advocates have filed a federal accessibility complaint.",
        authority=4,
        authority_note=(
            "Owners must repair their sidewalks by ordinance; the city builds curb ramps."
        ),
        description=(
            "Tree roots and age have lifted sidewalks across older neighbourhoods, and a third of "
            "corners still lack an accessible curb ramp. Owners rarely repair their frontage and "
            "trip-and-fall claims are rising."
        ),
        outcome=(
            "Every corner on the pedestrian priority network has an accessible ramp within five "
            "years."
        ),
        indicators=(
            _Ind("Curb ramps built or upgraded", "count", "up", "monthly", 45, "summer"),
            _Ind("Sidewalk trip-and-fall claims", "count", "down", "monthly", 28, "winter"),
            _Ind("Sidewalk repair requests open over 90 days", "count", "down", "monthly", 900),
        ),
        factors=(
            _Factor("Owners responsible but rarely made to repair", INFL, MOD, indicator=2),
            _Factor("Street tree roots lifting slabs", CTRL, MOD),
            _Factor("Curb ramp programme underfunded", CTRL, STRONG, indicator=0),
            _Factor("Salt and frost damage", OUTS, WEAK),
        ),
        ideas=(
            _Idea(
                "Block-by-block repair sweeps billed to owners",
                RECLAIMED,
                CHEAPER,
                (
                    "The city repairs whole blocks at contract prices and bills owners in "
                    "instalments, as it did until 2004."
                ),
            ),
            _Idea(
                "Rubber sidewalk panels around mature trees",
                TESTED,
                QUALITY,
                "Flexible panels flex over roots instead of cracking, saving the tree.",
            ),
        ),
    ),
    _ProblemSpec(
        key="blocked_lanes",
        title="Double parking and blocked bus and bike lanes downtown",
        area="streets_transportation",
        dept="TRN",
        status="watch",
        districts=("D01", "D02", "D05", "D06"),
        capital=2,
        capital_note="Businesses and cyclists are both unhappy, for opposite reasons.",
        authority=5,
        authority_note="Curb rules and parking enforcement are entirely city powers.",
        description=(
            "Delivery vans and ride-hail cars double park on downtown streets all day, blocking "
            "bus and bike lanes. Loading zones are too few and go unenforced."
        ),
        outcome="Bus and bike lanes clear 95% of the time at peak hours.",
        indicators=(
            _Ind("Blocked-lane reports", "count", "down", "weekly", 120, source=CALLS_311),
            _Ind("Downtown loading-zone spaces", "count", "up", "quarterly", 180),
            _Ind("Peak-hour lane obstruction in spot checks", "%", "down", "monthly", 22),
        ),
        factors=(
            _Factor("Growth in parcel deliveries", OUTS, STRONG),
            _Factor("Too few loading zones", CTRL, MOD, indicator=1),
            _Factor("Parking enforcement staff cut", CTRL, MOD),
            _Factor("Ride-hail pick-ups in travel lanes", INFL, WEAK),
        ),
        ideas=(
            _Idea(
                "Bookable smart loading zones",
                TESTED,
                FLOW,
                "Delivery firms book and pay for curb time by app; revenue funds enforcement.",
            ),
            _Idea(
                "Off-hours delivery agreements with large retailers",
                TESTED,
                COORD,
                "Large stores take deliveries before 7 am in return for relaxed noise rules.",
            ),
        ),
    ),
    _ProblemSpec(
        key="dumping",
        title="Illegal dumping in alleys and vacant lots",
        area="sanitation_environment",
        dept="SAN",
        status="emerging",
        districts=("D03", "D10", "D11", "D12"),
        capital=3,
        capital_note="Residents in Millbrook and Northgate see it as proof the city ignores them.",
        authority=4,
        authority_note=(
            "Clean-up and enforcement are city; many of the contractors who dump come from outside "
            "the city."
        ),
        description=(
            "Construction debris, mattresses and tyres are dumped in alleys and vacant lots, "
            "mostly in the north and east. Each clean-up costs about $400, and the same sites are "
            "hit again within weeks."
        ),
        outcome=(
            "Clear reported dumping within two days and halve repeat dumping at the 50 worst sites."
        ),
        indicators=(
            _Ind(
                "Illegal dumping reports",
                "count",
                "down",
                "weekly",
                95,
                "spring_summer",
                source=CALLS_311,
            ),
            _Ind("Dumping cleared within 2 days", "%", "up", "weekly", 74),
            _Ind(
                "Tons of dumped material collected", "tons", "down", "monthly", 160, "spring_summer"
            ),
            _Ind("Dumping citations issued", "count", "up", "monthly", 14),
        ),
        factors=(
            _Factor("Contractors avoiding transfer-station fees", INFL, MOD),
            _Factor("Bulk pickup hard to book", CTRL, MOD),
            _Factor("Vacant lots with no fencing or lighting", INFL, MOD),
            _Factor("Few cameras and almost no prosecutions", CTRL, MOD, indicator=3),
            _Factor("Belief that nobody cleans up here", INFL, ANEC, (2,)),
            _Factor("Tipping fees raised last year", CTRL, WEAK, (0,)),
        ),
        ideas=(
            _Idea(
                "Cameras at the 20 worst dumping sites",
                TESTED,
                QUALITY,
                "Motion-triggered cameras identify vehicles; owners are cited and named.",
            ),
            _Idea(
                "Free bulk pickup days by district",
                RECLAIMED,
                SERVICE,
                (
                    "A monthly free collection day per district, as the city ran before the 2011 "
                    "budget cuts."
                ),
            ),
            _Idea(
                "Lot adoption by block clubs with small grants",
                HOME,
                COORD,
                (
                    "Block clubs adopt a lot, with $2,000 for fencing and planting and a direct "
                    "line to sanitation."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="missed_pickups",
        title="Missed trash and recycling pickups",
        area="sanitation_environment",
        dept="SAN",
        status="monitoring",
        districts=ALL_DISTRICTS,
        capital=3,
        capital_note="Missed pickups bring more angry calls than anything else the city does.",
        authority=5,
        authority_note="City crews collect every residential route.",
        description=(
            "Missed collections rose after last year's route changes and with breakdowns in an "
            "ageing truck fleet. Misses cluster on the same routes week after week."
        ),
        outcome="Fewer than one missed collection per 10,000 households served.",
        indicators=(
            _Ind("Missed collections per 10,000 households", "rate", "down", "weekly", 6.5),
            _Ind("Collection trucks out of service", "%", "down", "weekly", 14, "winter"),
            _Ind("Recycling diversion rate", "%", "up", "monthly", 21),
            _Ind("Missed pickups collected next day", "%", "up", "weekly", 82),
        ),
        factors=(
            _Factor("Ageing truck fleet", CTRL, STRONG, indicator=1),
            _Factor("Driver vacancies and overtime", CTRL, MOD),
            _Factor("New routes not adjusted after complaints", CTRL, MOD),
            _Factor("Cars parked over collection points", INFL, WEAK),
        ),
        ideas=(
            _Idea(
                "GPS route tracking with missed-stop alerts",
                TESTED,
                QUALITY,
                "Trucks log every stop; supervisors see skipped blocks before residents call.",
            ),
            _Idea(
                "Lease trucks instead of buying them",
                TESTED,
                CHEAPER,
                (
                    "A full-service lease keeps the fleet under seven years old for the same "
                    "annual cost."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="rodents",
        title="Rat infestations in dense residential blocks",
        area="sanitation_environment",
        dept="HLTH",
        status="watch",
        districts=("D02", "D03", "D10", "D11"),
        capital=2,
        capital_note="Viral videos bring it to the front a few times a year.",
        authority=3,
        authority_note=(
            "Health inspects and baits public land; most burrows are on private property."
        ),
        description=(
            "Rodent complaints are up, concentrated where old buildings, restaurants and bagged "
            "trash on the curb meet. Baiting alone has not held numbers down."
        ),
        outcome="Cut rodent complaints by 30% in the four worst districts.",
        indicators=(
            _Ind("Rodent complaints", "count", "down", "weekly", 110, "summer", source=CALLS_311),
            _Ind("Inspections finding active rat signs", "%", "down", "monthly", 31, "summer"),
            _Ind("Properties baited", "count", "up", "monthly", 640),
        ),
        factors=(
            _Factor("Trash set out in bags overnight", INFL, STRONG),
            _Factor("Restaurant waste stored poorly", INFL, MOD),
            _Factor("Burrows on private property the city cannot enter", OUTS, MOD),
            _Factor("Construction disturbing colonies", OUTS, WEAK),
            _Factor("Baiting without follow-up inspections", CTRL, MOD, indicator=1),
            _Factor("No requirement to put trash in containers", CTRL, MOD, (0,)),
        ),
        ideas=(
            _Idea(
                "Containerised trash pilot in Eastside Flats",
                TESTED,
                QUALITY,
                "Lidded bins for every building on 30 blocks, collected by side-loading trucks.",
            ),
            _Idea(
                "Dry-ice burrow treatment",
                TESTED,
                CHEAPER,
                "Dry ice in burrows kills rats without poison and costs less per burrow.",
            ),
        ),
    ),
    _ProblemSpec(
        key="flooding",
        title="Street and basement flooding after heavy rain",
        area="sanitation_environment",
        dept="PW",
        status="watch",
        districts=("D01", "D06", "D08", "D11"),
        capital=2,
        capital_note="Rises after each storm and is forgotten by the next week.",
        authority=3,
        authority_note="Drains are city; the regional water authority runs the combined sewer.",
        description=(
            "Short, intense storms overwhelm catch basins and the combined sewer, flooding low "
            "streets and basements near the river. Storms like these come more often than a decade "
            "ago."
        ),
        outcome=(
            "No repeat basement flooding at the 300 properties flooded more than once since 2020."
        ),
        indicators=(
            _Ind(
                "Flooding and sewer backup reports",
                "count",
                "down",
                "weekly",
                30,
                "rainy",
                source=CALLS_311,
            ),
            _Ind("Catch basins cleaned", "count", "up", "monthly", 1200),
            _Ind("Green stormwater capacity added", "gallons", "up", "quarterly", 450_000),
        ),
        factors=(
            _Factor("Combined sewer at capacity", OUTS, STRONG),
            _Factor("Clogged catch basins", CTRL, MOD, indicator=1),
            _Factor("More intense rainstorms", OUTS, STRONG),
            _Factor("Paved-over yards and lots", INFL, MOD, indicator=2),
        ),
        ideas=(
            _Idea(
                "Backwater valve grants for repeat-flood homes",
                TESTED,
                SERVICE,
                (
                    "Grants cover a plumber fitting a valve that stops sewage backing up into "
                    "basements."
                ),
            ),
            _Idea(
                "Stormwater fee credit for green roofs and rain gardens",
                TESTED,
                FLOW,
                "Owners who hold rain on site pay a lower stormwater fee.",
            ),
        ),
    ),
    _ProblemSpec(
        key="summer_heat",
        title="Dangerous summer heat in neighbourhoods with little shade",
        area="sanitation_environment",
        dept="PRK",
        status="emerging",
        districts=("D03", "D10", "D11", "D12"),
        capital=2,
        capital_note="Low until the first heat wave, then urgent.",
        authority=3,
        authority_note=(
            "Tree planting and cooling centres are city; insulation and air conditioning are "
            "private."
        ),
        description=(
            "Neighbourhoods with few trees run several degrees hotter on summer afternoons, and "
            "heat-related emergency visits concentrate there, among older residents and outdoor "
            "workers."
        ),
        outcome=(
            "Raise tree canopy in the four hottest districts to 20% and cut heat-related emergency "
            "visits by a quarter."
        ),
        indicators=(
            _Ind(
                "Heat-related emergency department visits",
                "count",
                "down",
                "weekly",
                14,
                "strong_summer",
                dept="HLTH",
            ),
            _Ind("Street trees planted", "count", "up", "monthly", 180, "spring"),
            _Ind("Tree canopy cover in the hottest districts", "%", "up", "quarterly", 12),
            _Ind("Cooling centre visits", "count", "up", "weekly", 300, "strong_summer"),
        ),
        factors=(
            _Factor("Little tree canopy in the north and east", CTRL, STRONG, indicator=2),
            _Factor("Older residents living alone without air conditioning", INFL, STRONG),
            _Factor("Dark roofs and large parking lots", INFL, MOD),
            _Factor("Hotter summers", OUTS, STRONG),
            _Factor("Cooling centres with short hours", CTRL, MOD, (1,), indicator=3),
        ),
        ideas=(
            _Idea(
                "Check-in calls to older residents on heat-advisory days",
                RECLAIMED,
                COORD,
                (
                    "Volunteers and 311 staff phone a registry of isolated older residents, as the "
                    "city did after the 1995 heat wave."
                ),
            ),
            _Idea(
                "Cool roof coating programme",
                TESTED,
                CHEAPER,
                (
                    "White coating on flat roofs of low-income homes cuts indoor heat for a few "
                    "hundred dollars."
                ),
            ),
            _Idea(
                "Tree planting with three years of watering by youth crews",
                HOME,
                QUALITY,
                "Paid teen crews water new trees through their first three summers, when most die.",
            ),
        ),
    ),
    _ProblemSpec(
        key="litter",
        title="Litter and overflowing bins on commercial streets",
        area="sanitation_environment",
        dept="SAN",
        status="monitoring",
        districts=("D01", "D02", "D03", "D05"),
        capital=2,
        capital_note="Business associations raise it at every meeting.",
        authority=5,
        authority_note="Public bins and street sweeping are city services.",
        description=(
            "Public litter bins on busy commercial streets overflow by mid-afternoon, especially "
            "on summer weekends, and sweeping is missed where cars are not moved."
        ),
        outcome="No public bin found overflowing on commercial corridors at inspection.",
        indicators=(
            _Ind("Commercial streets rated acceptably clean", "%", "up", "monthly", 78),
            _Ind(
                "Overflowing bin reports", "count", "down", "weekly", 60, "summer", source=CALLS_311
            ),
            _Ind("Street sweeping routes completed", "%", "up", "weekly", 85, "-winter"),
        ),
        factors=(
            _Factor(
                "Bin collection on a fixed schedule regardless of demand", CTRL, MOD, indicator=1
            ),
            _Factor("Household trash dumped in public bins", INFL, WEAK),
            _Factor("Parked cars blocking sweepers", INFL, MOD, indicator=2),
            _Factor("More takeaway packaging", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Solar compacting bins that report when full",
                TESTED,
                CHEAPER,
                "Bins hold five times more and call for collection, cutting trips.",
            ),
            _Idea(
                "Sweeping crews from a social enterprise",
                HOME,
                SERVICE,
                (
                    "A local social enterprise employing people leaving prison sweeps business "
                    "districts daily."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="unsheltered",
        title="Unsheltered homelessness downtown and along the river",
        area="housing_homelessness",
        dept="HSG",
        status="focus",
        districts=("D01", "D03", "D05"),
        capital=5,
        capital_note="Dominates downtown business complaints and local news; deeply divisive.",
        authority=2,
        authority_note=(
            "Shelter money comes mostly from the county and state; the city controls outreach, "
            "some shelter beds and public-space rules."
        ),
        description=(
            "The point-in-time count found about 1,300 people unsheltered, a third more than two "
            "years ago, with encampments along the river path and downtown. Many have serious "
            "mental illness or addiction, and shelter beds are often full or refused."
        ),
        outcome=(
            "Halve unsheltered homelessness in three years by moving people into housing, not "
            "merely out of sight."
        ),
        indicators=(
            _Ind(
                "People counted unsheltered",
                "count",
                "down",
                "quarterly",
                1300,
                source="Point-in-time count",
            ),
            _Ind("People placed in permanent housing", "count", "up", "monthly", 85),
            _Ind("Encampment reports", "count", "down", "weekly", 48, "summer", source=CALLS_311),
            _Ind("Outreach contacts that end in shelter or housing", "%", "up", "monthly", 18),
            _Ind("Days from referral to housing", "days", "down", "monthly", 140),
        ),
        factors=(
            _Factor("Too few affordable and supportive homes", INFL, STRONG, indicator=1),
            _Factor("Untreated mental illness and addiction", INFL, STRONG),
            _Factor("Shelter rules people avoid: no partners, pets or belongings", CTRL, MOD),
            _Factor("Discharges from jail and hospital to the street", OUTS, MOD),
            _Factor("Slow paperwork for housing placements", CTRL, MOD, (0,), indicator=4),
            _Factor("Rents rising faster than incomes", OUTS, STRONG, (0,)),
            _Factor(
                "Outreach teams not coordinated across agencies", CTRL, MOD, (1, 2), indicator=3
            ),
        ),
        ideas=(
            _Idea(
                "Housing First placements in master-leased apartments",
                TESTED,
                SERVICE,
                (
                    "The city leases apartments in bulk and places people straight from the street "
                    "with support services."
                ),
            ),
            _Idea(
                "One by-name list shared by every outreach team",
                TESTED,
                COORD,
                (
                    "All agencies work from one list of people sleeping outside, matched weekly to "
                    "housing."
                ),
            ),
            _Idea(
                "Low-barrier navigation centre",
                TESTED,
                SERVICE,
                "A shelter that takes partners, pets and possessions, with housing staff on site.",
            ),
            _Idea(
                "Motel conversions to bridge housing",
                RECLAIMED,
                CHEAPER,
                "Buy ageing motels and convert them into studios for a fraction of new-build cost.",
            ),
        ),
    ),
    _ProblemSpec(
        key="rent_burden",
        title="Rent burden and displacement of long-time residents",
        area="housing_homelessness",
        dept="HSG",
        status="watch",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=4,
        capital_note=(
            "Tenant groups are organised and vocal; landlords and builders resist regulation."
        ),
        authority=1,
        authority_note=(
            "Rent rules are set by the state; the city can use zoning, land and subsidy."
        ),
        description=(
            "Half of renter households spend more than 30% of income on rent and a quarter more "
            "than half. Rents in College Hill and Northgate rose fastest, pushing long-time "
            "residents out."
        ),
        outcome=(
            "Stop the growth in severely rent-burdened households and build or preserve 4,000 "
            "affordable homes in five years."
        ),
        indicators=(
            _Ind(
                "Renter households paying over half of income on rent",
                "%",
                "down",
                "quarterly",
                26,
                source="American Community Survey estimates",
            ),
            _Ind("Affordable homes built or preserved", "count", "up", "quarterly", 160),
            _Ind("Median asking rent, two bedrooms", "USD", "down", "monthly", 1850),
        ),
        factors=(
            _Factor("Too little housing built for a decade", INFL, STRONG, indicator=1),
            _Factor("Zoning that blocks apartments near transit", CTRL, STRONG, (0,)),
            _Factor("Stagnant wages for service workers", OUTS, STRONG),
            _Factor("Investors buying small rental buildings", OUTS, MOD),
            _Factor("Slow permits for housing projects", CTRL, MOD, (0,)),
        ),
        ideas=(
            _Idea(
                "Allow up to four homes per lot near transit",
                TESTED,
                CHEAPER,
                "A zoning change that lets small builders add homes without public subsidy.",
            ),
            _Idea(
                "Community land trust on city-owned lots",
                RECLAIMED,
                FLOW,
                "Lots go to a trust that keeps homes permanently affordable.",
            ),
        ),
    ),
    _ProblemSpec(
        key="housing_conditions",
        title="Unsafe housing: no heat, mould and lead paint",
        area="housing_homelessness",
        dept="HSG",
        status="emerging",
        districts=("D03", "D10", "D11", "D12"),
        capital=3,
        capital_note=(
            "The tenant union's campaign is gaining attention after a child's lead poisoning."
        ),
        authority=3,
        authority_note="The city inspects and can repair and bill; owners are responsible.",
        description=(
            "No-heat and mould complaints concentrate in older rental buildings owned by a small "
            "number of landlords. Repeat violations are common and fines are rarely collected."
        ),
        outcome=(
            "Resolve no-heat complaints within 24 hours and halve repeat violations at the 100 "
            "worst buildings."
        ),
        indicators=(
            _Ind("No-heat complaints", "count", "down", "weekly", 150, "heating", source=CALLS_311),
            _Ind("Housing code violations corrected within 30 days", "%", "up", "monthly", 47),
            _Ind(
                "Children with elevated blood lead levels",
                "count",
                "down",
                "quarterly",
                64,
                dept="HLTH",
            ),
            _Ind("Buildings on the worst-landlord list", "count", "down", "quarterly", 112),
        ),
        factors=(
            _Factor("A few large landlords with many violations", INFL, STRONG, indicator=3),
            _Factor("Fines too small and rarely collected", CTRL, MOD, (0,)),
            _Factor("Too few housing inspectors", CTRL, MOD, indicator=1),
            _Factor("Old boilers and pre-1978 lead paint", OUTS, STRONG),
            _Factor("Tenants fear retaliation if they complain", INFL, MOD),
            _Factor("Housing court slow to hear repair cases", OUTS, MOD, (1,)),
        ),
        ideas=(
            _Idea(
                "Emergency repairs billed to the landlord",
                RECLAIMED,
                SERVICE,
                (
                    "City contractors restore heat within a day and the cost becomes a lien on the "
                    "property."
                ),
            ),
            _Idea(
                "Proactive inspections of pre-1978 rentals",
                TESTED,
                QUALITY,
                "Inspect every older rental on a cycle instead of waiting for complaints.",
            ),
            _Idea(
                "Free lawyers for tenants in repair cases",
                TESTED,
                SERVICE,
                "Legal aid attorneys represent tenants who withhold rent over repairs.",
            ),
        ),
    ),
    _ProblemSpec(
        key="vacant_buildings",
        title="Vacant and abandoned buildings",
        area="housing_homelessness",
        dept="HSG",
        status="watch",
        districts=NORTH,
        capital=2,
        capital_note="Neighbours complain; owners are often impossible to reach.",
        authority=3,
        authority_note=(
            "The city can register, board up and take by tax foreclosure, after long delays."
        ),
        description=(
            "About 1,100 buildings stand empty, many behind on taxes, attracting dumping, fires "
            "and squatting."
        ),
        outcome="Return 150 vacant buildings a year to use.",
        indicators=(
            _Ind("Registered vacant buildings", "count", "down", "quarterly", 1100),
            _Ind("Vacant buildings returned to use", "count", "up", "quarterly", 28),
            _Ind("Fires in vacant buildings", "count", "down", "monthly", 6, "winter", dept="FIRE"),
        ),
        factors=(
            _Factor("Owners who cannot be found", OUTS, MOD),
            _Factor("Slow tax foreclosure", OUTS, MOD),
            _Factor("No land bank to hold and resell properties", CTRL, STRONG, indicator=1),
            _Factor("Renovation costs above resale value", OUTS, STRONG),
        ),
        ideas=(
            _Idea(
                "Riverton land bank",
                TESTED,
                FLOW,
                (
                    "A public land bank takes tax-foreclosed buildings and sells them to "
                    "owner-occupants and local builders."
                ),
            ),
            _Idea(
                "Vacant property registration fee",
                TESTED,
                FLOW,
                "Owners of empty buildings pay a rising annual fee that funds board-ups.",
            ),
        ),
    ),
    _ProblemSpec(
        key="evictions",
        title="Eviction filings back above pre-pandemic levels",
        area="housing_homelessness",
        dept="HSG",
        status="emerging",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=3,
        capital_note="Tenant groups want a right to counsel; landlords oppose it.",
        authority=2,
        authority_note=(
            "Eviction law and the courts are state and county; the city funds legal help and "
            "emergency rent."
        ),
        description=(
            "Monthly eviction filings now exceed 2019 levels, most for less than two months' rent. "
            "Most tenants face court without a lawyer, and many evicted families end up in "
            "shelter."
        ),
        outcome=(
            "Keep eviction filings below 2019 levels and give every low-income tenant in court a "
            "lawyer."
        ),
        indicators=(
            _Ind(
                "Eviction filings",
                "count",
                "down",
                "monthly",
                420,
                source="Harlow County court records",
            ),
            _Ind("Tenants in eviction court with a lawyer", "%", "up", "monthly", 14),
            _Ind("Emergency rental assistance paid", "USD", "up", "monthly", 310_000),
        ),
        factors=(
            _Factor("Rents rising faster than incomes", OUTS, STRONG),
            _Factor("Few tenants have a lawyer", INFL, STRONG, indicator=1),
            _Factor("Emergency rent help slow to arrive", CTRL, MOD, indicator=2),
            _Factor("Landlords filing early as a collection tactic", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Right to counsel for tenants facing eviction",
                TESTED,
                SERVICE,
                "Every tenant under 200% of the poverty line gets a lawyer at the first hearing.",
            ),
            _Idea(
                "Eviction diversion at the first court date",
                TESTED,
                COORD,
                "Mediators and rent assistance staff sit in court and settle cases on the day.",
            ),
        ),
    ),
    _ProblemSpec(
        key="overdoses",
        title="Rising opioid overdoses",
        area="health",
        dept="HLTH",
        status="emerging",
        districts=("D01", "D03", "D10", "D11"),
        capital=4,
        capital_note=(
            "Families of victims and faith leaders press hard; harm reduction is contested."
        ),
        authority=2,
        authority_note=(
            "Treatment is paid for by the state and insurers; the city runs outreach, naloxone "
            "distribution and EMS."
        ),
        description=(
            "Fentanyl in the drug supply has driven overdoses up, with deaths concentrated among "
            "men aged 30 to 55 in Eastside Flats and Millbrook. Many overdoses happen alone, and "
            "few people leave the emergency room with treatment."
        ),
        outcome="Cut fatal overdoses by a quarter in two years.",
        indicators=(
            _Ind(
                "Suspected opioid overdoses treated by EMS",
                "count",
                "down",
                "weekly",
                24,
                source=CAD,
            ),
            _Ind(
                "Fatal overdoses",
                "count",
                "down",
                "monthly",
                21,
                source="Harlow County Medical Examiner",
            ),
            _Ind("Naloxone kits distributed", "count", "up", "monthly", 2600),
            _Ind("Emergency room patients started on treatment", "%", "up", "monthly", 16),
        ),
        factors=(
            _Factor("Fentanyl in the local drug supply", OUTS, STRONG, indicator=0),
            _Factor("Too few treatment places, with waiting lists", INFL, STRONG, indicator=3),
            _Factor("People using alone", INFL, MOD),
            _Factor("Stigma keeps people from seeking help", INFL, MOD, (1, 2)),
            _Factor("No follow-up after a non-fatal overdose", CTRL, MOD),
            _Factor("Release from jail without treatment", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Outreach within 72 hours of a non-fatal overdose",
                TESTED,
                SERVICE,
                "A peer and a paramedic visit each survivor to offer treatment and naloxone.",
            ),
            _Idea(
                "Naloxone boxes in bars, libraries and stations",
                TESTED,
                CHEAPER,
                "Wall-mounted kits anyone can open, restocked weekly.",
            ),
            _Idea(
                "Bridge clinic at Riverton General",
                TESTED,
                COORD,
                "Start treatment in the emergency room and hand patients to a clinic the next day.",
            ),
        ),
    ),
    _ProblemSpec(
        key="mental_health_crises",
        title="Mental health crises answered by police",
        area="health",
        dept="HLTH",
        status="focus",
        districts=ALL_DISTRICTS,
        capital=3,
        capital_note="Broad support after a fatal police encounter; the police union is wary.",
        authority=3,
        authority_note=(
            "The city runs 911 dispatch and can fund crisis teams; psychiatric beds are regulated "
            "by the state."
        ),
        description=(
            "Police answer about 1,200 mental health calls a month; a few end in injury or arrest, "
            "and most end with no connection to care. Psychiatric emergency beds are often full."
        ),
        outcome=(
            "Send a trained crisis team, not police, to most mental health calls where no weapon "
            "is involved."
        ),
        indicators=(
            _Ind(
                "Mental health calls answered by police",
                "count",
                "down",
                "monthly",
                1200,
                dept="POL",
            ),
            _Ind("Mental health calls handled by civilian crisis teams", "%", "up", "monthly", 8),
            _Ind("Crisis calls ending in arrest or injury", "%", "down", "monthly", 6, dept="POL"),
        ),
        factors=(
            _Factor("No alternative to police at dispatch", CTRL, STRONG, indicator=1),
            _Factor("Psychiatric beds scarce", OUTS, STRONG),
            _Factor("Long waits for outpatient care", OUTS, MOD),
            _Factor("Dispatchers lack triage protocols", CTRL, MOD, (0,)),
            _Factor("Crisis teams work weekday daytimes only", CTRL, MOD, (0,)),
        ),
        ideas=(
            _Idea(
                "Civilian crisis teams dispatched through 911",
                TESTED,
                SERVICE,
                (
                    "A clinician and a medic answer calls about people in crisis, with police only "
                    "when there is a weapon."
                ),
            ),
            _Idea(
                "Shared triage protocol for 988 and 911",
                NEW,
                COORD,
                (
                    "One script and a warm transfer between the crisis line and 911 so calls reach "
                    "the right responder."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="food_access",
        title="Limited access to fresh food in the north end",
        area="health",
        dept="HLTH",
        status="watch",
        districts=("D10", "D11", "D12"),
        capital=1,
        capital_note="Supported in principle, rarely urgent.",
        authority=1,
        authority_note=(
            "Where groceries open is a private decision; the city can offer land, tax breaks and "
            "market support."
        ),
        description=(
            "Two grocery stores closed in Millbrook and Cedar Heights, leaving about 40,000 "
            "residents more than a mile from a full grocery. Corner stores sell little fresh "
            "produce."
        ),
        outcome="Every resident within half a mile of fresh produce.",
        indicators=(
            _Ind(
                "Residents more than a mile from a grocery store",
                "count",
                "down",
                "quarterly",
                40_000,
            ),
            _Ind("SNAP dollars spent at farmers markets", "USD", "up", "monthly", 21_000, "summer"),
            _Ind("Corner stores stocking fresh produce", "count", "up", "quarterly", 34),
        ),
        factors=(
            _Factor("Grocery chains expect low margins in the north end", OUTS, STRONG),
            _Factor("Large sites hard to assemble", INFL, MOD),
            _Factor("Few bus links to grocery stores", INFL, MOD),
            _Factor("Low household incomes", OUTS, STRONG),
        ),
        ideas=(
            _Idea(
                "Healthy corner store conversions",
                TESTED,
                CHEAPER,
                "Coolers, produce displays and training for owners of 40 corner stores.",
            ),
            _Idea(
                "Cooperative grocery on city-owned land",
                HOME,
                FLOW,
                "A member-owned store on a city lot, with a low lease and start-up loan.",
            ),
        ),
    ),
    _ProblemSpec(
        key="childhood_asthma",
        title="Childhood asthma emergencies",
        area="health",
        dept="HLTH",
        status="watch",
        districts=("D03", "D10", "D11"),
        capital=1,
        capital_note="Raised by paediatricians and school nurses; little public noise.",
        authority=2,
        authority_note=(
            "Housing inspections and traffic are city; air quality rules are state and federal."
        ),
        description=(
            "Children in Millbrook visit the emergency room for asthma at four times the city "
            "rate, linked to mould, pests and diesel traffic near the expressway."
        ),
        outcome="Halve the gap in asthma emergency visits between Millbrook and the city average.",
        indicators=(
            _Ind("Child asthma emergency visits", "count", "down", "monthly", 95, "autumn"),
            _Ind("Homes treated by asthma remediation teams", "count", "up", "monthly", 40),
        ),
        factors=(
            _Factor("Mould and pests in older apartments", INFL, STRONG, indicator=1),
            _Factor("Diesel truck traffic near homes and schools", OUTS, MOD),
            _Factor("Gaps in medication and care plans", INFL, MOD),
            _Factor("Smoking in apartment buildings", INFL, WEAK),
        ),
        ideas=(
            _Idea(
                "Community health workers for asthma home visits",
                TESTED,
                SERVICE,
                "Workers visit families, fix triggers and teach medication use.",
            ),
            _Idea(
                "Medicaid-funded home remediation",
                TESTED,
                FLOW,
                "Health plans pay for pest and mould remediation as an asthma treatment.",
            ),
        ),
    ),
    _ProblemSpec(
        key="absenteeism",
        title="Chronic absenteeism in middle and high schools",
        area="education_youth",
        dept="EDU",
        status="focus",
        districts=ALL_DISTRICTS,
        capital=4,
        capital_note="The school board chair and the parents' coalition want the mayor's help.",
        authority=1,
        authority_note=(
            "The independent school district runs the schools; the city controls transit passes, "
            "recreation and youth services."
        ),
        description=(
            "One in three middle and high school students missed at least 10% of school days last "
            "year, up from one in five before the pandemic. Absence is highest where families move "
            "often and the trip to school is hard."
        ),
        outcome="Bring chronic absenteeism back below 20% in three years.",
        indicators=(
            _Ind(
                "Students chronically absent",
                "%",
                "down",
                "monthly",
                31,
                source="Riverton Unified School District",
            ),
            _Ind(
                "Average daily attendance",
                "%",
                "up",
                "weekly",
                89,
                "-winter",
                source="Riverton Unified School District",
            ),
            _Ind("Students using free transit passes", "count", "up", "monthly", 6200),
            _Ind("Students in after-school programmes", "count", "up", "monthly", 4100),
        ),
        factors=(
            _Factor("Families moving often", INFL, STRONG),
            _Factor("Long, unsafe trips to school", INFL, MOD, indicator=2),
            _Factor("Students disengaged from classes", OUTS, MOD),
            _Factor("Family responsibilities and jobs", OUTS, MOD),
            _Factor("Illness and untreated asthma", INFL, MOD),
            _Factor("No one calls home after a first absence", OUTS, MOD, (2,)),
        ),
        ideas=(
            _Idea(
                "Free transit passes for all secondary students",
                TESTED,
                SERVICE,
                "Every student aged 12 to 18 rides buses free all year.",
            ),
            _Idea(
                "Attendance mentors from community organisations",
                TESTED,
                COORD,
                "Trained mentors check in with chronically absent students three times a week.",
            ),
            _Idea(
                "Text-message nudges to parents",
                TESTED,
                CHEAPER,
                "Parents get a weekly text with their child's absences compared with classmates'.",
            ),
        ),
    ),
    _ProblemSpec(
        key="summer_youth",
        title="Too few summer jobs and programmes for teenagers",
        area="education_youth",
        dept="EDU",
        status="watch",
        districts=ALL_DISTRICTS,
        capital=3,
        capital_note="Every summer shooting reopens the question.",
        authority=4,
        authority_note=(
            "The city runs the summer jobs programme and recreation; employers decide on "
            "placements."
        ),
        description=(
            "Each year about 9,000 teenagers apply for 3,500 summer jobs, and recreation "
            "programmes fill within days. Teens from the north end get fewer placements because "
            "most employers are downtown."
        ),
        outcome="A job or programme place for every teenager who applies.",
        indicators=(
            _Ind("Summer job placements", "count", "up", "quarterly", 3500),
            _Ind("Applicants without a placement", "count", "down", "quarterly", 5400),
            _Ind(
                "Teens in evening recreation programmes",
                "count",
                "up",
                "monthly",
                1900,
                "summer",
                dept="PRK",
            ),
        ),
        factors=(
            _Factor("Too few employer placements", INFL, STRONG, indicator=0),
            _Factor("Programme money fixed in each budget", CTRL, MOD),
            _Factor("Applications open too late in spring", CTRL, WEAK),
            _Factor("Long trips from the north end to jobs downtown", INFL, MOD),
        ),
        ideas=(
            _Idea(
                "Year-round youth jobs co-funded by employers",
                TESTED,
                FLOW,
                "Employers pay half the wages of teen interns kept on through the school year.",
            ),
            _Idea(
                "Midnight basketball at recreation centres",
                RECLAIMED,
                SERVICE,
                "Late-night leagues with mentoring, revived from the city's 1990s programme.",
            ),
        ),
    ),
    _ProblemSpec(
        key="early_literacy",
        title="Third-graders not reading at grade level",
        area="education_youth",
        dept="EDU",
        status="monitoring",
        districts=ALL_DISTRICTS,
        capital=2,
        capital_note="Broad support, little urgency.",
        authority=1,
        authority_note="Schools run instruction; libraries and parks are city.",
        description=(
            "Only 41% of third-graders read at grade level, and a quarter in the north end. "
            "Children still behind in third grade rarely catch up."
        ),
        outcome="Two-thirds of third-graders reading at grade level within five years.",
        indicators=(
            _Ind(
                "Third-graders reading at grade level",
                "%",
                "up",
                "quarterly",
                41,
                source="State Department of Education",
            ),
            _Ind("Children in library summer reading", "count", "up", "quarterly", 5200, "summer"),
            _Ind("Pre-K seats filled", "%", "up", "monthly", 84),
        ),
        factors=(
            _Factor("Too few pre-K places", INFL, STRONG, indicator=2),
            _Factor("Summer learning loss", INFL, MOD, indicator=1),
            _Factor("Teacher turnover in high-need schools", OUTS, MOD),
            _Factor("Few books at home", INFL, WEAK, (1,)),
        ),
        ideas=(
            _Idea(
                "A free book a month for every child under five",
                TESTED,
                CHEAPER,
                "Books mailed to every registered child, about $25 a year each.",
            ),
            _Idea(
                "Reading tutors from retired residents",
                HOME,
                COORD,
                "Retirees tutor second-graders twice a week in school libraries.",
            ),
        ),
    ),
    _ProblemSpec(
        key="vacant_storefronts",
        title="Empty storefronts on neighbourhood main streets",
        area="economy_jobs",
        dept="ECON",
        status="watch",
        districts=("D03", "D05", "D09", "D10", "D11", "D12"),
        capital=2,
        capital_note="Merchants' associations are worried; no broad public pressure.",
        authority=2,
        authority_note=(
            "Leasing is private; the city controls permits, incentives and the street environment."
        ),
        description=(
            "One in six storefronts on neighbourhood main streets is empty, twice the downtown "
            "rate. Owners hold out for high rents and new businesses wait months for permits."
        ),
        outcome="Bring main-street storefront vacancy below 10%.",
        indicators=(
            _Ind("Main-street storefront vacancy", "%", "down", "quarterly", 16),
            _Ind("New business licences issued", "count", "up", "monthly", 190),
            _Ind("Small business grants awarded", "count", "up", "quarterly", 45),
        ),
        factors=(
            _Factor("Owners holding out for high rents", OUTS, MOD),
            _Factor("Permit delays for new tenants", CTRL, STRONG, indicator=1),
            _Factor("Online shopping", OUTS, STRONG),
            _Factor("Main streets seen as unsafe and dirty", INFL, MOD),
        ),
        ideas=(
            _Idea(
                "Tax on storefronts empty for over a year",
                TESTED,
                FLOW,
                "An escalating annual charge on long-empty ground-floor shops.",
            ),
            _Idea(
                "Pop-up leases for local entrepreneurs",
                HOME,
                SERVICE,
                "The city brokers six-month leases at low rent in empty shops.",
            ),
        ),
    ),
    _ProblemSpec(
        key="disconnected_youth",
        title="Young adults out of work and out of school",
        area="economy_jobs",
        dept="ECON",
        status="watch",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=2,
        capital_note="Raised by workforce advocates; tied to the debate on violence.",
        authority=2,
        authority_note=(
            "Workforce money comes from the state and federal governments; the city shapes its use "
            "and hires directly."
        ),
        description=(
            "About 9,000 residents aged 16 to 24 are neither working nor in school, concentrated "
            "in the north end. Many lack a diploma or a driver's licence."
        ),
        outcome="Halve the number of young adults out of work and school in five years.",
        indicators=(
            _Ind(
                "Residents aged 16 to 24 out of work and school",
                "count",
                "down",
                "quarterly",
                9000,
                source="American Community Survey estimates",
            ),
            _Ind("Apprenticeship starts", "count", "up", "quarterly", 260),
            _Ind("Unemployment rate, ages 16 to 24", "%", "down", "monthly", 14),
        ),
        factors=(
            _Factor("No diploma or credentials", INFL, STRONG),
            _Factor("Few entry-level jobs near the north end", OUTS, MOD),
            _Factor("Criminal records screen out applicants", INFL, MOD),
            _Factor("Training not linked to employers", CTRL, MOD, indicator=1),
        ),
        ideas=(
            _Idea(
                "City apprenticeships in trades and utilities",
                HOME,
                SERVICE,
                "Paid apprenticeships in city departments leading to civil-service jobs.",
            ),
            _Idea(
                "Fair-chance hiring pledge with large employers",
                TESTED,
                COORD,
                "Employers drop the conviction question from first applications.",
            ),
        ),
    ),
    _ProblemSpec(
        key="park_maintenance",
        title="Run-down parks and broken playgrounds",
        area="parks_recreation",
        dept="PRK",
        status="monitoring",
        districts=ALL_DISTRICTS,
        capital=2,
        capital_note=(
            "Friends-of-the-park groups are active in the south and almost absent in the north."
        ),
        authority=5,
        authority_note="Parks are city-owned and city-maintained.",
        description=(
            "Maintenance crews are a third smaller than in 2010. Parks in wealthier districts rely "
            "on friends groups for upkeep, so parks in the north end fall behind."
        ),
        outcome=(
            "Every park rated acceptable at inspection, to the same standard in every district."
        ),
        indicators=(
            _Ind("Parks rated acceptable at inspection", "%", "up", "monthly", 81, "-winter"),
            _Ind("Playground repairs open over 30 days", "count", "down", "monthly", 46),
            _Ind("Maintenance staff per 100 acres", "rate", "up", "quarterly", 3.1),
        ),
        factors=(
            _Factor("Maintenance staff cut by a third since 2010", CTRL, STRONG, indicator=2),
            _Factor("Friends-group money concentrated in wealthy districts", OUTS, MOD),
            _Factor("Equipment past its design life", CTRL, MOD, indicator=1),
            _Factor("Vandalism and night use", INFL, WEAK),
        ),
        ideas=(
            _Idea(
                "Parks equity fund matching friends-group money",
                HOME,
                FLOW,
                (
                    "Every dollar raised by a friends group in the south funds a dollar of upkeep "
                    "in the north."
                ),
            ),
            _Idea(
                "Work-order app for park crews",
                TESTED,
                CHEAPER,
                "Crews log and close repairs by phone, replacing paper tickets.",
            ),
        ),
    ),
    _ProblemSpec(
        key="rec_centres",
        title="Pools and recreation centres closed for lack of staff",
        area="parks_recreation",
        dept="PRK",
        status="emerging",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=3,
        capital_note="Parents and councilmembers angry about last summer's pool closures.",
        authority=4,
        authority_note=(
            "The city runs every recreation centre and pool; hiring follows civil-service rules."
        ),
        description=(
            "Four of nine public pools stayed closed last summer for lack of lifeguards, and "
            "recreation centres cut evening hours. Hiring takes three months through the "
            "civil-service process."
        ),
        outcome="Every pool open all summer and recreation centres open evenings six days a week.",
        indicators=(
            _Ind("Recreation centre hours open per week", "hours", "up", "weekly", 410),
            _Ind("Lifeguard positions filled", "%", "up", "monthly", 58, "summer"),
            _Ind("Recreation centre visits", "count", "up", "monthly", 52_000, "summer"),
        ),
        factors=(
            _Factor("Lifeguard pay below private pools", CTRL, MOD),
            _Factor("Slow civil-service hiring", CTRL, STRONG, indicator=1),
            _Factor("Fewer teenagers certified as lifeguards", INFL, MOD),
            _Factor("Deferred repairs closing facilities", CTRL, MOD, indicator=0),
        ),
        ideas=(
            _Idea(
                "Free lifeguard certification for high-school students",
                TESTED,
                SERVICE,
                "Free classes each spring with a guaranteed summer job.",
            ),
            _Idea(
                "Direct hiring for seasonal posts",
                NEW,
                CHEAPER,
                (
                    "Hire lifeguards and seasonal staff outside the civil-service list, cutting "
                    "three months to two weeks."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="police_trust",
        title="Low trust between police and residents in the north end",
        area="equity_community",
        dept="POL",
        status="watch",
        districts=NORTH,
        capital=4,
        capital_note=(
            "Racial justice groups and the police union are at odds; every incident becomes a "
            "citywide story."
        ),
        authority=3,
        authority_note=(
            "Police policy and training are city; the union contract and state law limit "
            "discipline."
        ),
        description=(
            "Only a third of residents in Northgate and Millbrook say they trust the police, half "
            "the citywide figure. Stops and complaints fall disproportionately on Black and Latino "
            "residents."
        ),
        outcome="Raise trust in police in the north end to the citywide level within four years.",
        indicators=(
            _Ind(
                "North-end residents who trust the police",
                "%",
                "up",
                "quarterly",
                34,
                source=SURVEY,
            ),
            _Ind("Complaints against officers", "count", "down", "monthly", 48),
            _Ind(
                "Stop rate of Black drivers relative to population share",
                "ratio",
                "down",
                "quarterly",
                2.3,
            ),
        ),
        factors=(
            _Factor("History of aggressive stop practices", INFL, STRONG, indicator=2),
            _Factor("Slow, opaque complaint process", CTRL, MOD, indicator=1),
            _Factor("Few officers from the neighbourhoods they patrol", INFL, MOD),
            _Factor("Union contract limits on discipline", OUTS, MOD, (1,)),
            _Factor("Few positive contacts outside enforcement", CTRL, WEAK),
        ),
        ideas=(
            _Idea(
                "Civilian review board with subpoena power",
                TESTED,
                QUALITY,
                "An independent board investigates complaints and publishes findings.",
            ),
            _Idea(
                "Neighbourhood policing teams with fixed beats",
                RECLAIMED,
                COORD,
                "The same officers work the same blocks for at least two years.",
            ),
        ),
    ),
    _ProblemSpec(
        key="unequal_service",
        title="Slower city services in low-income neighbourhoods",
        area="equity_community",
        dept="PW",
        status="emerging",
        districts=("D03", "D09", "D10", "D11", "D12"),
        capital=2,
        capital_note="A Ledger analysis of 311 data made it a story last spring.",
        authority=4,
        authority_note="Service standards and crew deployment are city decisions.",
        description=(
            "Requests from low-income districts take longer to close, and those districts file "
            "fewer requests per resident even where conditions are worse, so crews follow "
            "complaints to wealthier blocks."
        ),
        outcome="Close requests in every district within 10% of the citywide median time.",
        indicators=(
            _Ind(
                "Days to close 311 requests, slowest district vs fastest",
                "ratio",
                "down",
                "monthly",
                1.6,
                source=CALLS_311,
            ),
            _Ind(
                "311 requests closed within service standard",
                "%",
                "up",
                "weekly",
                74,
                source=CALLS_311,
            ),
            _Ind(
                "Requests per 1,000 residents, lowest-reporting district",
                "rate",
                "up",
                "monthly",
                18,
                source=CALLS_311,
            ),
        ),
        factors=(
            _Factor("Crews dispatched by complaint volume", CTRL, STRONG, indicator=0),
            _Factor("Lower 311 use in low-income districts", INFL, MOD, indicator=2),
            _Factor("Language barriers to reporting", INFL, MOD, (1,)),
            _Factor("Older infrastructure fails more often", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Proactive inspections on a need-weighted schedule",
                HOME,
                QUALITY,
                "Crews sweep districts in proportion to need, not to complaints.",
            ),
            _Idea(
                "311 by text message in five languages",
                TESTED,
                SERVICE,
                (
                    "Residents report problems by text in Spanish, Chinese, Arabic, Haitian Creole "
                    "or English."
                ),
            ),
        ),
    ),
    _ProblemSpec(
        key="noise",
        title="Late-night noise from parties, bars and vehicles",
        area="public_safety",
        dept="POL",
        status="watch",
        districts=("D01", "D02", "D04", "D05", "D06"),
        capital=2,
        capital_note="Constant in downtown council inboxes; nightlife businesses push back.",
        authority=4,
        authority_note="The noise code, nightlife licences and enforcement are city powers.",
        description=(
            "Noise is the most common complaint on summer weekends, mostly from house parties, "
            "bars with open doors and modified exhausts. Police answer few noise calls because of "
            "other priorities."
        ),
        outcome="Act on repeat noise locations within a week and cut repeat complaints by 30%.",
        indicators=(
            _Ind("Noise complaints", "count", "down", "weekly", 420, "summer", source=CALLS_311),
            _Ind("Repeat noise locations resolved", "%", "up", "monthly", 36),
        ),
        factors=(
            _Factor("Police have little time for noise calls", CTRL, MOD, indicator=1),
            _Factor("Bars and venues with no sound management", INFL, MOD),
            _Factor("Modified exhausts and car stereos", INFL, WEAK),
            _Factor("Dense housing next to nightlife", OUTS, MOD),
        ),
        ideas=(
            _Idea(
                "Night mayor to mediate between venues and neighbours",
                TESTED,
                COORD,
                "A night-time economy manager brokers agreements before complaints pile up.",
            ),
            _Idea(
                "Noise cameras for modified exhausts",
                TESTED,
                QUALITY,
                "Acoustic cameras ticket vehicles above the legal noise limit.",
            ),
        ),
    ),
    _ProblemSpec(
        key="slow_permits",
        title="Slow building and business permits",
        area="government_services",
        dept="ECON",
        status="emerging",
        districts=ALL_DISTRICTS,
        capital=3,
        capital_note=(
            "Builders, restaurateurs and the chamber complain loudly; housing advocates join them."
        ),
        authority=5,
        authority_note="Permitting is entirely a city process.",
        description=(
            "A typical restaurant or small renovation permit takes 94 days, up from 60 in 2019, "
            "passing through as many as seven reviewers. Applicants cannot see where their file "
            "is."
        ),
        outcome="Issue 80% of small business and residential permits within 30 days.",
        indicators=(
            _Ind("Median days to issue a building permit", "days", "down", "weekly", 94),
            _Ind("Permits issued within 30 days", "%", "up", "monthly", 38),
            _Ind("Applications waiting for first review", "count", "down", "weekly", 640),
            _Ind("Plan reviewer vacancies", "count", "down", "monthly", 9),
        ),
        factors=(
            _Factor("Sequential reviews by up to seven departments", CTRL, STRONG, indicator=0),
            _Factor("Plan reviewer vacancies", CTRL, MOD, indicator=3),
            _Factor("Paper and email applications", CTRL, MOD, (0,)),
            _Factor("Incomplete applications from first-time applicants", INFL, MOD),
            _Factor("State code changes adding requirements", OUTS, WEAK),
        ),
        ideas=(
            _Idea(
                "Online tracker showing every application's status",
                TESTED,
                QUALITY,
                "Applicants see which reviewer has the file and for how long.",
            ),
            _Idea(
                "Concurrent review for small projects",
                TESTED,
                CHEAPER,
                "All reviewers work on the file at once, with one combined comment letter.",
            ),
            _Idea(
                "Permit navigator for small businesses",
                HOME,
                SERVICE,
                "One staff member guides each new restaurant or shop from application to opening.",
            ),
        ),
    ),
    _ProblemSpec(
        key="code_backlog",
        title="Backlog of building and housing code complaints",
        area="government_services",
        dept="HSG",
        status="watch",
        districts=ALL_DISTRICTS,
        capital=1,
        capital_note="Mostly invisible except to those waiting.",
        authority=5,
        authority_note="Inspections are a city service.",
        description=(
            "About 3,800 code complaints are waiting for a first inspection, some for over six "
            "months. Inspectors spend a third of their time driving and on paperwork."
        ),
        outcome="A first inspection within 30 days for every complaint.",
        indicators=(
            _Ind("Code complaints awaiting first inspection", "count", "down", "weekly", 3800),
            _Ind("Median days to first inspection", "days", "down", "monthly", 48),
            _Ind("Inspections per inspector per day", "rate", "up", "monthly", 4.2),
        ),
        factors=(
            _Factor("Inspector vacancies", CTRL, MOD),
            _Factor("Paper inspection reports", CTRL, MOD, indicator=2),
            _Factor("Complaints not triaged by risk", CTRL, MOD, indicator=1),
            _Factor("More complaints since tenants began organising", OUTS, WEAK),
        ),
        ideas=(
            _Idea(
                "Tablets and mobile reporting for inspectors",
                TESTED,
                CHEAPER,
                "Inspectors file from the field, adding two inspections a day.",
            ),
            _Idea(
                "Risk-based triage of complaints",
                HOME,
                QUALITY,
                "No heat, gas and structural complaints jump the queue.",
            ),
        ),
    ),
)

# A few indicators also inform a neighbouring problem: (problem, other problem, its indicator, w).
_CROSS_LINKS: tuple[tuple[str, str, int, float], ...] = (
    ("gun_violence", "streetlights", 0, 0.3),
    ("summer_youth", "gun_violence", 0, 0.4),
    ("absenteeism", "childhood_asthma", 0, 0.3),
    ("unequal_service", "potholes", 0, 0.4),
    ("dumping", "vacant_buildings", 0, 0.3),
    ("rodents", "litter", 1, 0.3),
    ("evictions", "rent_burden", 2, 0.4),
    ("vacant_storefronts", "slow_permits", 1, 0.5),
    ("housing_conditions", "code_backlog", 0, 0.4),
    ("unsheltered", "overdoses", 1, 0.3),
)

# --------------------------------------------------------------------------------------------
# Report categories
# --------------------------------------------------------------------------------------------


class _Category(NamedTuple):
    code: str
    name: str
    dept: str
    weight: float  # share of all reports, relative
    season: str
    week: str  # weekday profile
    hours: str  # time-of-day profile
    need_skew: float  # >0: more in high-need districts, <0: more in affluent ones
    close_days: float  # median days to close
    problems: tuple[tuple[str, float], ...]
    texts: tuple[str, ...]
    hotspots: tuple[str, ...] = ()


_CATEGORIES: tuple[_Category, ...] = (
    _Category("pothole", "Pothole", "PW", 6.0, "freeze_thaw", "weekday", "day", 0.0, 4,
              (("potholes", 1.0),),
              ("Large pothole in the travel lane, cars swerving around it",
               "Pothole reopened a month after it was patched",
               "Deep pothole at the crosswalk, a tyre was damaged",
               "Several potholes along the block after the thaw")),
    _Category("street_cave_in", "Street cave-in or sinkhole", "PW", 0.3, "spring", "weekday",
              "day", 0.2, 10, (("potholes", 0.6),),
              ("Road surface sinking near a manhole", "Hole opening in the road by the curb",
               "Pavement collapsed over a utility trench")),
    _Category("street_condition", "Street surface in poor condition", "PW", 1.0, "freeze_thaw",
              "weekday", "day", -0.2, 45, (("potholes", 0.8),),
              ("Whole block is crumbling and needs repaving",
               "Patched so many times the road is like a washboard",
               "Road surface breaking up at the bus stop")),
    _Category("streetlight_out", "Streetlight out", "PW", 3.0, "winter", "weekday", "evening",
              0.0, 6, (("streetlights", 1.0),),
              ("Streetlight out in front of the building",
               "Three lights out in a row, the block is completely dark",
               "Light flickers on and off all night",
               "Streetlight has been out for weeks")),
    _Category("traffic_signal", "Traffic signal not working", "TRN", 1.2, "none", "weekday",
              "day", 0.0, 1, (("traffic_deaths", 0.5),),
              ("Signal stuck on red in all directions", "Walk signal not working at the crossing",
               "Signal flashing yellow during rush hour")),
    _Category("sidewalk_damage", "Damaged sidewalk", "PW", 1.5, "spring", "weekday", "day",
              -0.3, 60, (("sidewalks", 1.0),),
              ("Sidewalk lifted by tree roots, people tripping",
               "Broken slabs in front of the vacant house",
               "Sidewalk caved in near the corner")),
    _Category("curb_ramp", "Missing or broken curb ramp", "PW", 0.4, "none", "weekday", "day",
              0.0, 90, (("sidewalks", 1.0),),
              ("No curb ramp at this corner, wheelchair users cannot cross",
               "Curb ramp cracked and blocked by a puddle",
               "Ramp too steep for a walker")),
    _Category("speeding", "Speeding or dangerous driving", "TRN", 1.2, "summer", "weekday",
              "evening", 0.3, 20, (("traffic_deaths", 1.0),),
              ("Cars racing down the street at night",
               "Drivers speed past the school every morning",
               "Drivers run the stop sign constantly")),
    _Category("traffic_calming", "Request for crosswalk or traffic calming", "TRN", 0.8, "none",
              "weekday", "day", -0.2, 120, (("traffic_deaths", 0.6),),
              ("Please add a crosswalk near the senior centre",
               "Speed humps needed on this residential street",
               "Children cross here to the park with no crosswalk")),
    _Category("blocked_bike_lane", "Vehicle blocking bike or bus lane", "TRN", 1.4, "none",
              "weekday", "day", -0.6, 0.3,
              (("blocked_lanes", 1.0), ("bus_reliability", 0.5)),
              ("Delivery van parked in the bike lane", "Car parked in the bus lane at rush hour",
               "Ride-hail cars stopping in the bike lane all day"),
              ("D01", "D02", "D05")),
    _Category("double_parking", "Double parking", "TRN", 1.6, "none", "weekday", "day", -0.4,
              0.2, (("blocked_lanes", 1.0),),
              ("Trucks double parked, the street is blocked",
               "Double-parked car blocking my driveway", "Double parking outside the school"),
              ("D01", "D05", "D06")),
    _Category("abandoned_vehicle", "Abandoned vehicle", "TRN", 1.5, "none", "weekday", "day",
              0.6, 14, (("dumping", 0.3),),
              ("Car with flat tyres parked here for a month",
               "Vehicle with no plates and broken windows",
               "Abandoned van full of trash")),
    _Category("bus_stop", "Bus stop damaged or missing shelter", "TRN", 0.5, "winter",
              "weekday", "day", 0.3, 30, (("bus_reliability", 0.6),),
              ("Bus shelter glass smashed", "Bus stop sign missing",
               "No bench or shelter at a busy stop")),
    _Category("snow_unplowed", "Street not plowed", "PW", 2.0, "snow", "none", "day", 0.0, 2,
              (), ("Street still not plowed a day after the storm",
                   "Plow blocked the crosswalk with snow", "Side street has not been touched")),
    _Category("icy_sidewalk", "Icy or unshoveled sidewalk", "PW", 1.2, "snow", "none", "day",
              -0.2, 3, (("sidewalks", 0.5),),
              ("Sidewalk not shoveled, solid ice", "Corner is a sheet of ice at the bus stop",
               "Business never clears its sidewalk")),
    _Category("illegal_dumping", "Illegal dumping", "SAN", 3.0, "spring_summer", "weekday",
              "day", 1.1, 6, (("dumping", 1.0),),
              ("Mattresses and furniture dumped in the alley",
               "Construction debris dumped on the vacant lot overnight",
               "Pile of tyres left by the fence",
               "Bags of trash dumped behind the store again"),
              ("D10", "D11")),
    _Category("missed_trash", "Missed trash pickup", "SAN", 4.0, "none", "weekday", "morning",
              0.0, 2, (("missed_pickups", 1.0),),
              ("Trash not collected on our scheduled day",
               "Whole block was skipped this week", "Missed again, third time this month")),
    _Category("missed_recycling", "Missed recycling pickup", "SAN", 2.0, "none", "weekday",
              "morning", -0.4, 3, (("missed_pickups", 1.0),),
              ("Recycling not picked up", "Recycling truck skipped our side of the street",
               "Recycling bins still full from last week")),
    _Category("bulk_item", "Bulk item pickup request", "SAN", 2.5, "spring_summer", "weekday",
              "day", 0.0, 7, (("dumping", 0.3),),
              ("Pickup for a couch and a mattress", "Old refrigerator to be collected",
               "Moving out, several large items at the curb")),
    _Category("overflowing_bin", "Overflowing public litter bin", "SAN", 2.0, "summer",
              "nightlife", "day", -0.2, 2, (("litter", 1.0),),
              ("Public bin overflowing onto the sidewalk", "Bin at the bus stop is full again",
               "Trash piled around the corner bin all weekend"),
              ("D01", "D02", "D05")),
    _Category("dirty_street", "Dirty street or litter", "SAN", 2.5, "summer", "weekday", "day",
              0.5, 5, (("litter", 1.0),),
              ("Litter all along the block", "Broken glass across the sidewalk",
               "Street not swept in weeks")),
    _Category("graffiti", "Graffiti", "PW", 2.0, "spring_summer", "weekday", "day", 0.3, 12,
              (("litter", 0.4), ("vacant_storefronts", 0.3)),
              ("Graffiti on the side of the building", "Tagging on the mailbox and signs",
               "Graffiti on the playground wall")),
    _Category("leaf_collection", "Leaf collection", "SAN", 1.0, "autumn", "weekday", "day",
              -0.9, 10, (), ("Leaf bags at the curb not picked up",
                             "Leaves clogging the storm drain",
                             "Piles of leaves in the street for two weeks"),
              ("D07", "D08")),
    _Category("rodent_sighting", "Rodent sighting", "HLTH", 3.0, "summer", "weekday", "day",
              1.0, 12, (("rodents", 1.0),),
              ("Rats running between the trash bags at night",
               "Rat burrows in the tree pit", "Rats in the backyard and the alley",
               "Seeing rats in daylight near the restaurant")),
    _Category("mosquito", "Standing water or mosquitoes", "HLTH", 0.4, "strong_summer",
              "weekday", "day", 0.2, 8, (),
              ("Standing water in an abandoned pool", "Clogged gutter full of water",
               "Mosquitoes breeding in old tyres")),
    _Category("food_establishment", "Unsanitary food establishment", "HLTH", 0.8, "summer",
              "weekday", "day", 0.0, 14, (("rodents", 0.4),),
              ("Roaches seen in the restaurant", "Food left out on the counter uncovered",
               "Got sick after eating here")),
    _Category("no_heat", "No heat or hot water", "HSG", 3.0, "heating", "none", "evening", 1.2,
              3, (("housing_conditions", 1.0),),
              ("No heat in the apartment for three days",
               "No hot water in the whole building", "Radiators cold, landlord not responding",
               "Heat off every night")),
    _Category("mould_leak", "Mould, leaks or water damage in an apartment", "HSG", 1.5,
              "rainy", "weekday", "day", 1.2, 30,
              (("housing_conditions", 1.0), ("childhood_asthma", 0.5)),
              ("Mould growing in the bathroom and bedroom",
               "Ceiling leaking from the unit upstairs",
               "Water damage, the landlord will not fix it")),
    _Category("lead_paint", "Peeling paint in a home with young children", "HSG", 0.4, "none",
              "weekday", "day", 1.2, 45, (("housing_conditions", 1.0),),
              ("Peeling paint on the window sills, toddler in the home",
               "Paint chips on the floor of an old building",
               "Landlord sanding old paint without protection")),
    _Category("pests_in_unit", "Roaches or mice in an apartment", "HSG", 1.0, "summer",
              "weekday", "day", 1.2, 30,
              (("housing_conditions", 0.7), ("rodents", 0.5)),
              ("Mice in the kitchen, landlord will not call an exterminator",
               "Roaches throughout the building",
               "Mice coming through holes in the walls")),
    _Category("illegal_conversion", "Illegal apartment conversion", "HSG", 0.5, "none",
              "weekday", "day", 0.3, 60, (("code_backlog", 1.0),),
              ("Basement converted into apartments", "Too many people living in one unit",
               "House split into rooms without permits")),
    _Category("vacant_building", "Vacant building open to trespass", "HSG", 0.8, "none",
              "weekday", "day", 1.0, 45, (("vacant_buildings", 1.0),),
              ("Empty house with the back door open", "People going in and out of a boarded house",
               "Vacant building with broken windows")),
    _Category("no_permit_work", "Construction without a permit", "ECON", 0.7, "summer",
              "weekday", "day", -0.2, 40, (("code_backlog", 0.8),),
              ("Renovation going on with no permit posted",
               "Work on a weekend with no permit", "Building an extension without a permit")),
    _Category("encampment", "Homeless encampment", "HSG", 2.0, "summer", "weekday", "day", 0.2,
              5, (("unsheltered", 1.0),),
              ("Tents along the river path", "Encampment under the bridge getting bigger",
               "People sleeping in the doorway of the closed bank"),
              ("D01", "D03", "D05")),
    _Category("person_in_need", "Person in need of outreach", "HSG", 1.2, "winter", "none",
              "evening", 0.3, 1, (("unsheltered", 0.8), ("mental_health_crises", 0.5)),
              ("Man sleeping outside in the cold without a coat",
               "Woman in distress at the bus stop", "Elderly person who seems confused and lost"),
              ("D01", "D05")),
    _Category("needles", "Discarded needles", "HLTH", 0.6, "summer", "weekday", "day", 1.0, 2,
              (("overdoses", 1.0),),
              ("Needles in the playground sand", "Syringes by the library steps",
               "Needles in the alley behind the shops")),
    _Category("noise_residential", "Loud music or party", "POL", 4.0, "summer", "nightlife",
              "night", -0.2, 0.15, (("noise", 1.0),),
              ("Loud party next door past 2 am", "Music blasting from the apartment upstairs",
               "Party in the backyard every weekend", "Neighbour's bass shaking the walls")),
    _Category("noise_bar", "Noise from a bar or club", "POL", 1.5, "summer", "nightlife",
              "night", -0.6, 0.2, (("noise", 1.0),),
              ("Bar with the doors open and loud music", "Crowd shouting outside the club",
               "Club noise until 4 am"),
              ("D02", "D04", "D05")),
    _Category("noise_construction", "After-hours construction noise", "ECON", 1.2, "summer",
              "weekday", "morning", -0.3, 5, (("noise", 0.6),),
              ("Construction starting at 5 am", "Jackhammering on a Sunday",
               "Crane work late at night")),
    _Category("noise_vehicle", "Car alarms and vehicle noise", "POL", 0.8, "summer",
              "nightlife", "night", 0.0, 0.2, (("noise", 0.8),),
              ("Car alarm going off for an hour", "Motorbikes with loud exhausts every night",
               "Car stereo blasting at the corner")),
    _Category("drug_activity", "Drug activity", "POL", 1.0, "summer", "none", "evening", 1.0,
              10, (("overdoses", 0.6), ("gun_violence", 0.3)),
              ("Drug dealing at the corner day and night",
               "People using drugs in the stairwell", "Steady foot traffic to a vacant house")),
    _Category("patrol_request", "Request for police patrol", "POL", 0.7, "summer", "none",
              "evening", 0.8, 7, (("gun_violence", 0.6), ("police_trust", 0.3)),
              ("Shots heard last night, please patrol",
               "Group fighting outside the store every evening",
               "Need more patrols near the park after dark")),
    _Category("car_break_in", "Vehicle break-in report", "POL", 1.0, "none", "weekday", "day",
              -0.3, 15, (("car_breakins", 1.0),),
              ("Car window smashed overnight", "Catalytic converter stolen from my car",
               "Several cars broken into on the block")),
    _Category("park_maintenance", "Park maintenance needed", "PRK", 1.5, "spring_summer",
              "weekday", "day", 0.2, 14, (("park_maintenance", 1.0),),
              ("Grass not cut in weeks", "Park bathroom locked and filthy",
               "Broken benches and overflowing trash in the park")),
    _Category("playground", "Broken playground equipment", "PRK", 0.6, "summer", "weekday",
              "day", 0.3, 21, (("park_maintenance", 1.0),),
              ("Swing chain broken", "Slide cracked with sharp edges",
               "Rubber surface torn under the climbing frame")),
    _Category("tree_down", "Fallen tree or branch", "PRK", 1.0, "rainy", "none", "day", 0.0, 3,
              (), ("Large branch down across the sidewalk", "Tree fell on a parked car",
                   "Branch hanging over the street after the storm")),
    _Category("tree_request", "Street tree planting request", "PRK", 0.6, "spring", "weekday",
              "day", -0.6, 120, (("summer_heat", 0.5),),
              ("Please plant a tree in the empty tree pit",
               "Request trees on our block, no shade at all", "Dead tree needs replacing")),
    _Category("tree_pruning", "Tree pruning or dead tree", "PRK", 1.0, "summer", "weekday",
              "day", -0.3, 60, (),
              ("Branches blocking the streetlight", "Dead tree leaning toward the house",
               "Low branches hitting trucks")),
    _Category("open_hydrant", "Open fire hydrant", "FIRE", 0.8, "strong_summer", "none",
              "evening", 1.0, 0.5, (("summer_heat", 0.6),),
              ("Hydrant open and flooding the street", "Kids opened the hydrant again",
               "Hydrant leaking for days")),
    _Category("extreme_heat", "Extreme heat: no cooling or vulnerable resident", "HLTH", 0.6,
              "strong_summer", "none", "day", 1.0, 1, (("summer_heat", 1.0),),
              ("Elderly neighbour with no air conditioning in this heat",
               "Apartment over 95 degrees, no cooling",
               "Cooling centre closed during the heat advisory")),
    _Category("street_flooding", "Street flooding or clogged storm drain", "PW", 1.2, "rainy",
              "none", "day", 0.0, 4, (("flooding", 1.0),),
              ("Street flooded after the rain", "Storm drain clogged with leaves and trash",
               "Water up to the curb at the intersection"),
              ("D01", "D06", "D11")),
    _Category("sewer_backup", "Sewer backup", "PW", 0.6, "rainy", "none", "day", 0.3, 2,
              (("flooding", 1.0),),
              ("Sewage backing up into the basement", "Sewer smell and water in the basement",
               "Manhole overflowing")),
    _Category("water_leak", "Water main leak", "PW", 0.6, "winter", "none", "day", 0.2, 2, (),
              ("Water bubbling up through the street", "Water main break, street flooded",
               "Leak by the hydrant")),
    _Category("smoke_alarm", "Request for a free smoke alarm", "FIRE", 0.4, "winter",
              "weekday", "day", 0.5, 20, (("fire_deaths", 1.0),),
              ("Elderly parent needs smoke alarms installed", "Landlord never installed alarms",
               "Need a carbon monoxide alarm")),
    _Category("fire_hazard", "Fire safety hazard", "FIRE", 0.4, "winter", "weekday", "day",
              0.5, 10, (("fire_deaths", 0.8),),
              ("Fire exit blocked with storage", "Hoarding in the apartment next door",
               "Extension cords running to space heaters everywhere")),
    _Category("permit_enquiry", "Permit application status enquiry", "ECON", 1.2, "spring",
              "weekday", "day", -0.5, 15, (("slow_permits", 1.0),),
              ("Permit submitted two months ago, no response",
               "Cannot find out who is reviewing my application",
               "Told to resubmit documents a second time")),
    _Category("business_licence", "Business licence or inspection delay", "ECON", 0.6, "none",
              "weekday", "day", -0.2, 20,
              (("slow_permits", 1.0), ("vacant_storefronts", 0.5)),
              ("Restaurant ready to open, still waiting for inspection",
               "Licence renewal stuck for weeks", "Nobody answers at the licensing office")),
    _Category("vacant_storefront", "Vacant storefront in poor condition", "ECON", 0.4, "none",
              "weekday", "day", 0.5, 60, (("vacant_storefronts", 1.0),),
              ("Empty store with broken windows on the main street",
               "Shuttered storefront covered in posters", "Vacant shop attracting trash")),
    _Category("rec_centre_closed", "Recreation centre or pool closed", "PRK", 0.5, "summer",
              "weekday", "day", 0.6, 7, (("rec_centres", 1.0),),
              ("Pool closed again, no lifeguard", "Rec centre closed on a weekday evening",
               "Gym closed with no notice")),
    _Category("crossing_guard", "Crossing guard missing at school", "EDU", 0.3, "school",
              "school", "morning", 0.4, 2,
              (("absenteeism", 0.4), ("traffic_deaths", 0.4)),
              ("No crossing guard at the school this morning",
               "Crossing guard post empty all week", "Kids crossing a busy road alone")),
    _Category("truancy", "Students out of school during school hours", "EDU", 0.3, "school",
              "school", "day", 1.0, 5, (("absenteeism", 1.0),),
              ("Group of students in the park during school hours",
               "Teenagers hanging around the store every morning",
               "Kids out of school at the mall")),
    _Category("service_complaint", "Complaint about a city service", "PW", 0.5, "none",
              "weekday", "day", 0.3, 20, (("unequal_service", 1.0),),
              ("Reported the same problem three times, nothing happened",
               "Request closed but the work was never done",
               "Waited on hold for 40 minutes")),
    _Category("police_conduct", "Complaint about police conduct", "POL", 0.3, "none", "weekday",
              "day", 1.0, 60, (("police_trust", 1.0),),
              ("Officer was rude and would not give a name",
               "Stopped and searched for no reason", "Officers did not respond to my call")),
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------

_TAG_OF_AREA = {
    "public_safety": "safety",
    "streets_transportation": "streets",
    "sanitation_environment": "environment",
    "housing_homelessness": "housing",
    "health": "health",
    "education_youth": "youth",
    "economy_jobs": "economy",
    "parks_recreation": "parks",
    "equity_community": "equity",
    "government_services": "services",
}


class _Actor(NamedTuple):
    name: str
    sector: str
    tags: tuple[str, ...]  # policy areas the actor works on; "*" for all
    description: str
    department: str | None = None  # a city department acting as an actor


_GOV, _ELECTED, _PHIL, _CORP = (
    "government_agency",
    "elected_political",
    "philanthropic",
    "corporate_civic",
)
_COMM, _NONPROFIT, _LABOUR, _FAITH, _MEDIA = (
    "community",
    "nonprofit_social_enterprise",
    "labour",
    "faith",
    "media",
)

_ACTORS: tuple[_Actor, ...] = (
    _Actor("Riverton Police Department", _GOV, ("safety", "equity"),
           "City police: patrol, investigations and 911 response.", "POL"),
    _Actor("Riverton Public Works", _GOV, ("streets", "environment", "services"),
           "City streets, lighting, drains and the 311 work-order system.", "PW"),
    _Actor("Riverton Department of Transportation", _GOV, ("streets",),
           "Street design, signals, curb rules and parking enforcement.", "TRN"),
    _Actor("Riverton Fire & EMS", _GOV, ("safety", "health"),
           "Fire suppression, prevention and the city ambulance service.", "FIRE"),
    _Actor("Riverton Department of Public Health", _GOV, ("health", "environment", "safety"),
           "Inspections, disease control, overdose prevention and health data.", "HLTH"),
    _Actor("Riverton Housing & Community Development", _GOV, ("housing", "services"),
           "Code enforcement, homeless services contracts and housing finance.", "HSG"),
    _Actor("Riverton Parks & Recreation", _GOV, ("parks", "youth", "environment"),
           "Parks, pools, recreation centres and street trees.", "PRK"),
    _Actor("Riverton Sanitation", _GOV, ("environment",),
           "Trash, recycling, bulk pickup, street sweeping and dumping clean-up.", "SAN"),
    _Actor("Mayor's Office of Education & Youth", _GOV, ("youth",),
           "Liaison to the school district; runs summer jobs and youth programmes.", "EDU"),
    _Actor("Riverton Economic Development & Permits", _GOV, ("economy", "services"),
           "Business support, licences and building permits.", "ECON"),
    _Actor("Riverton Unified School District", _GOV, ("youth",),
           "Independent school district with 48 schools and its own elected board."),
    _Actor("Regional Transit Authority", _GOV, ("streets",),
           "Runs buses and light rail across three counties."),
    _Actor("Harlow County Department of Social Services", _GOV, ("housing", "health"),
           "County welfare, shelter funding and child protective services."),
    _Actor("Harlow County Behavioral Health", _GOV, ("health", "safety"),
           "County mental health and addiction treatment contracts."),
    _Actor("Harlow County Sheriff's Office", _GOV, ("safety",),
           "Runs the county jail and serves eviction orders."),
    _Actor("Harlow County District Attorney", _GOV, ("safety", "equity"),
           "Prosecutes felonies and misdemeanours in the county."),
    _Actor("State Department of Transportation, District 4", _GOV, ("streets",),
           "Owns the two state routes through the city."),
    _Actor("State Housing Finance Agency", _GOV, ("housing",),
           "Allocates tax credits for affordable housing."),
    _Actor("Riverton Housing Authority", _GOV, ("housing",),
           "Public housing and housing vouchers for 11,000 households."),
    _Actor("Metropolitan Water Reclamation District", _GOV, ("environment",),
           "Regional sewer and stormwater authority."),
    _Actor("Riverton Public Library", _GOV, ("youth", "equity"),
           "Twelve branches; summer reading and digital help."),
    _Actor("Valley Workforce Development Board", _GOV, ("economy", "youth"),
           "Distributes federal workforce funds in the region."),
    _Actor("Harlow County Courts", _GOV, ("housing", "safety"),
           "County courts, including housing court."),
    _Actor("Council President Dana Whitfield", _ELECTED, ("*",),
           "Sets the council agenda; in her third term."),
    _Actor("Councilmember Luis Ortega (District 10)", _ELECTED, ("safety", "housing", "equity"),
           "Represents Northgate; chairs the public safety committee."),
    _Actor("Councilmember Janet Pryor (District 8)", _ELECTED, ("streets", "services", "parks"),
           "Represents Ashford Hill; fiscal hawk."),
    _Actor("Councilmember Kwame Asante (District 11)", _ELECTED,
           ("housing", "health", "environment", "equity"),
           "Represents Millbrook; former tenant organiser."),
    _Actor("Councilmember Helen Fitzgerald (District 5)", _ELECTED,
           ("economy", "safety", "streets"), "Represents Civic Center and downtown business."),
    _Actor("Councilmember Marco Bianchi (District 3)", _ELECTED,
           ("housing", "environment", "safety"), "Represents Eastside Flats; first term."),
    _Actor("Council Housing Committee", _ELECTED, ("housing",),
           "Five councilmembers; reviews housing ordinances and budgets."),
    _Actor("State Senator Ruth Calloway", _ELECTED, ("housing", "health", "youth"),
           "Represents most of the city in the state senate; sits on appropriations."),
    _Actor("State Representative Omar Haddad", _ELECTED, ("streets", "environment", "safety"),
           "Represents the north end; sponsor of the speed camera bill."),
    _Actor("Harlow County Executive Marcus Bell", _ELECTED, ("health", "housing"),
           "Controls county social services and behavioural health budgets."),
    _Actor("School Board Chair Anita Desai", _ELECTED, ("youth",),
           "Elected chair of the Riverton Unified school board."),
    _Actor("Congresswoman Teresa Huang", _ELECTED, ("economy", "housing", "streets"),
           "Represents the city in Congress; can help with federal grants."),
    _Actor("Riverton Community Foundation", _PHIL, ("*",),
           "The city's largest community foundation, with $600 million in assets."),
    _Actor("United Way of the Riverton Valley", _PHIL, ("housing", "health", "youth", "economy"),
           "Workplace giving; funds basic needs and the 211 helpline."),
    _Actor("Thornbury Family Foundation", _PHIL, ("youth", "parks"),
           "Family foundation focused on children and public spaces."),
    _Actor("Greater Riverton Health Trust", _PHIL, ("health",),
           "Conversion foundation from the sale of a non-profit hospital."),
    _Actor("Abernathy Fund for Children", _PHIL, ("youth", "health"),
           "Funds early childhood and school attendance work."),
    _Actor("Calder Foundation", _PHIL, ("economy", "equity"),
           "Corporate foundation of Calder Logistics; workforce and small business."),
    _Actor("Riverbend Parks & Trees Fund", _PHIL, ("parks", "environment"),
           "Donor fund for parks, trees and the river path."),
    _Actor("Whitcombe Trust", _PHIL, ("housing",),
           "Private trust investing in affordable housing and homelessness."),
    _Actor("Hollis Family Foundation", _PHIL, ("safety", "equity", "youth"),
           "Funds violence prevention and justice reform."),
    _Actor("Riverton Chamber of Commerce", _CORP, ("economy", "services", "safety"),
           "Represents 1,900 member businesses."),
    _Actor("Downtown Riverton Partnership", _CORP,
           ("economy", "environment", "streets", "housing", "safety"),
           "Business improvement district for the downtown core."),
    _Actor("First Riverton Bank", _CORP, ("economy", "housing"),
           "Largest locally owned bank; community lending commitments."),
    _Actor("Northbank Utilities", _CORP, ("streets", "environment"),
           "Electric and gas utility; maintains street-lighting circuits."),
    _Actor("Riverton General Hospital", _CORP, ("health", "safety"),
           "Largest hospital and employer in the city; runs the trauma centre."),
    _Actor("Calder Logistics", _CORP, ("streets", "economy"),
           "Regional freight and delivery company headquartered downtown."),
    _Actor("Riverton Restaurant Association", _CORP, ("economy", "environment"),
           "Represents 600 restaurants and bars."),
    _Actor("Harlow Valley Home Builders Association", _CORP, ("housing", "services"),
           "Trade group for home builders and remodelers."),
    _Actor("Riverton Landlords Association", _CORP, ("housing",),
           "Represents owners of small and mid-size rental buildings."),
    _Actor("Meridian Health Plan", _CORP, ("health",),
           "Medicaid managed-care plan covering 140,000 residents."),
    _Actor("Riverton Tech Council", _CORP, ("economy", "youth"),
           "Association of technology employers."),
    _Actor("Millbrook Tenants Union", _COMM, ("housing", "equity"),
           "Tenant organising in 60 buildings in Millbrook and Northgate."),
    _Actor("Eastside Flats Neighborhood Association", _COMM, ("environment", "safety", "housing"),
           "Monthly meetings of residents and block clubs."),
    _Actor("Northgate Block Captains Network", _COMM, ("safety", "environment"),
           "Volunteer block captains on 120 blocks."),
    _Actor("Cedar Heights Parents Coalition", _COMM, ("youth", "safety"),
           "Parents from eight schools in Cedar Heights."),
    _Actor("Harbor Point Residents Council", _COMM, ("environment", "streets"),
           "Residents' council for the waterfront neighbourhoods."),
    _Actor("Friends of Linden Park", _COMM, ("parks",),
           "Volunteers and donors who care for Linden Park."),
    _Actor("Riverton Bike & Walk Coalition", _COMM, ("streets",),
           "Advocates for safe streets, bike lanes and transit."),
    _Actor("Families for Safe Streets Riverton", _COMM, ("streets",),
           "Families of people killed or injured in traffic crashes."),
    _Actor("College Hill Merchants & Neighbors", _COMM, ("economy", "safety"),
           "Merchants and residents along College Hill's main street."),
    _Actor("Westbank Seniors Circle", _COMM, ("health", "streets"),
           "Older residents' network with 900 members."),
    _Actor("Riverton Youth Council", _COMM, ("youth", "equity"),
           "Elected high-school students advising the mayor."),
    _Actor("Riverton Disability Rights Network", _COMM, ("streets", "services", "equity"),
           "Advocates for accessible streets, transit and services."),
    _Actor("Safe Passage Violence Interrupters", _NONPROFIT, ("safety", "youth"),
           "Outreach workers who mediate conflicts before they turn violent."),
    _Actor("Harbor House Shelter", _NONPROFIT, ("housing",),
           "Runs the largest emergency shelter and a street outreach team."),
    _Actor("Riverton Food Bank", _NONPROFIT, ("health",),
           "Supplies 140 pantries and meal programmes."),
    _Actor("Open Door Community Clinics", _NONPROFIT, ("health",),
           "Federally qualified health centres at five sites."),
    _Actor("Bright Futures Tutoring", _NONPROFIT, ("youth",),
           "Reading and maths tutoring in 20 schools."),
    _Actor("GreenWorks Riverton", _NONPROFIT, ("environment", "parks", "economy"),
           "Social enterprise employing people leaving prison in landscaping and clean-up."),
    _Actor("Riverton Legal Aid", _NONPROFIT, ("housing", "equity"),
           "Free civil legal help, mostly housing and benefits."),
    _Actor("Fresh Start Reentry Services", _NONPROFIT, ("safety", "economy"),
           "Jobs and housing help for people coming home from prison."),
    _Actor("Homeward Riverton", _NONPROFIT, ("housing", "health"),
           "Supportive housing developer and operator."),
    _Actor("Code for Riverton", _NONPROFIT, ("services",),
           "Volunteer technologists building tools with the city."),
    _Actor("Riverton Neighborhood Housing Services", _NONPROFIT, ("housing",),
           "Home repair loans and homebuyer counselling."),
    _Actor("CrossTown Works", _NONPROFIT, ("economy", "youth"),
           "Job training and placement for young adults."),
    _Actor("Recovery Bridge", _NONPROFIT, ("health",),
           "Peer recovery coaches and naloxone training."),
    _Actor("Main Street Lending Circle", _NONPROFIT, ("economy",),
           "Micro-loans for first-time business owners."),
    _Actor("Riverton Police Officers Association", _LABOUR, ("safety", "equity"),
           "Union representing 1,400 sworn officers."),
    _Actor("Firefighters & Paramedics Local 88", _LABOUR, ("safety", "health"),
           "Union representing firefighters and paramedics."),
    _Actor("Municipal Employees Union Local 402", _LABOUR,
           ("services", "environment", "parks", "streets"),
           "Represents sanitation, public works and parks staff."),
    _Actor("Riverton Federation of Teachers", _LABOUR, ("youth",),
           "Teachers' union for the school district."),
    _Actor("Building Trades Council of Harlow County", _LABOUR, ("housing", "economy"),
           "Coalition of construction unions."),
    _Actor("Transit Workers Local 9", _LABOUR, ("streets",),
           "Bus and rail operators of the transit authority."),
    _Actor("Service Workers United Riverton", _LABOUR, ("economy", "health"),
           "Hospital, janitorial and hotel workers."),
    _Actor("Riverton Interfaith Council", _FAITH, ("safety", "housing", "equity"),
           "Forty congregations working together on community issues."),
    _Actor("Mount Zion Baptist Church", _FAITH, ("safety", "youth", "equity"),
           "Large congregation in Northgate with youth programmes."),
    _Actor("St. Brigid's Parish", _FAITH, ("housing", "health"),
           "Catholic parish running a soup kitchen and winter beds."),
    _Actor("Masjid Al-Noor", _FAITH, ("youth", "health"),
           "Mosque and community centre in Cedar Heights."),
    _Actor("Temple Beth Shalom", _FAITH, ("housing", "equity"),
           "Reform synagogue active in tenant advocacy."),
    _Actor("Iglesia Nueva Esperanza", _FAITH, ("housing", "youth", "equity"),
           "Spanish-speaking congregation in Millbrook."),
    _Actor("Catholic Charities of Harlow County", _FAITH, ("housing", "health"),
           "Shelters, food and immigration services."),
    _Actor("Gurdwara Sahib of Riverton", _FAITH, ("health",),
           "Sikh temple serving free community meals daily."),
    _Actor("The Riverton Ledger", _MEDIA, ("*",),
           "Daily newspaper and website; investigative desk."),
    _Actor("WRVT Channel 7 News", _MEDIA, ("safety", "streets"),
           "Local television news."),
    _Actor("Riverton Public Radio", _MEDIA, ("*",),
           "Public radio station with a weekly city hall programme."),
    _Actor("The Northgate Voice", _MEDIA, ("equity", "housing", "safety"),
           "Community newspaper for the north end."),
    _Actor("El Mensajero de Riverton", _MEDIA, ("equity", "housing"),
           "Spanish-language weekly."),
    _Actor("RivertonNow", _MEDIA, ("services", "streets", "environment"),
           "Online local news and neighbourhood newsletters."),
    _Actor("Riverton Business Journal", _MEDIA, ("economy", "services"),
           "Weekly business news."),
)  # fmt: skip

_FIRST_NAMES = (
    "Maria", "James", "Linda", "Robert", "Keisha", "David", "Sofia", "Michael", "Grace",
    "Ahmed", "Yolanda", "Kevin", "Hannah", "Luis", "Naomi", "Peter", "Fatima", "Brian",
    "Carmen", "Derek", "Irene", "Samuel", "Tanya", "Victor", "Wendy", "Ibrahim", "Lucy",
    "Oscar", "Renee", "Hector",
)  # fmt: skip
_LAST_NAMES = (
    "Alvarez", "Brooks", "Carter", "Donnelly", "Edwards", "Flores", "Greene", "Hughes",
    "Iverson", "Jackson", "Kim", "Lopez", "Morgan", "Nguyen", "O'Brien", "Patel", "Quinn",
    "Rivera", "Sullivan", "Thompson", "Underwood", "Vasquez", "Walsh", "Young", "Zhang",
    "Baptiste", "Mensah", "Novak", "Haddad", "Schmidt",
)  # fmt: skip
_CONTACT_TITLES = {
    _GOV: "Deputy Director",
    _ELECTED: "Chief of Staff",
    _PHIL: "Program Officer",
    _CORP: "Vice President, Community Affairs",
    _COMM: "Chair",
    _NONPROFIT: "Executive Director",
    _LABOUR: "President",
    _FAITH: "Pastor",
    _MEDIA: "City Hall Reporter",
}
_FAITH_TITLES = {
    "Masjid Al-Noor": "Imam",
    "Temple Beth Shalom": "Rabbi",
    "Gurdwara Sahib of Riverton": "Granthi",
    "St. Brigid's Parish": "Father",
    "Riverton Interfaith Council": "Convener",
    "Catholic Charities of Harlow County": "Executive Director",
}

_ROLE_WEIGHTS: dict[str, dict[str, float]] = {
    _GOV: {"delivering": 0.5, "authorising": 0.3, "funding": 0.2},
    _ELECTED: {"authorising": 0.5, "advocating": 0.4, "convening": 0.1},
    _PHIL: {"funding": 0.75, "convening": 0.25},
    _CORP: {"funding": 0.35, "advocating": 0.35, "delivering": 0.15, "convening": 0.15},
    _COMM: {"advocating": 0.55, "delivering": 0.3, "convening": 0.15},
    _NONPROFIT: {"delivering": 0.7, "advocating": 0.2, "funding": 0.1},
    _LABOUR: {"advocating": 0.8, "delivering": 0.2},
    _FAITH: {"convening": 0.4, "delivering": 0.4, "advocating": 0.2},
    _MEDIA: {"advocating": 0.6, "convening": 0.4},
}
# Chance that an actor of a sector works against the city's approach (or does not care).
_COMPETING = {_LABOUR: 0.35, _CORP: 0.2, _ELECTED: 0.15, _MEDIA: 0.1}
_INDIFFERENT = {_MEDIA: 0.3, _CORP: 0.15, _GOV: 0.1}
# Typical committed funding of a funder, USD (median of a lognormal).
_FUNDING_MEDIAN = {_PHIL: 250_000, _CORP: 60_000, _GOV: 800_000, _NONPROFIT: 40_000}

_AUTHORISATIONS: dict[str, tuple[str, ...]] = {
    "authorising": (
        "Council resolution {n} directs the work; renewed with each budget.",
        "Signed the memorandum of understanding; expects a report every quarter.",
        "Approved the pilot for one year; extension depends on results.",
        "Statutory sign-off needed for any change on state roads or funds.",
    ),
    "funding": (
        "Board approved a {years}-year grant in {year}.",
        "Funds released in annual tranches against agreed milestones.",
        "Committed in a signed letter; contract still being drafted.",
        "Grant renewable once, subject to an independent evaluation.",
    ),
    "delivering": (
        "Delivers under a city contract that runs to {until}.",
        "Operates the service under a memorandum of understanding with the city.",
        "Works alongside city staff with no formal agreement.",
        "Delivers with its own money and staff; no contract.",
    ),
    "advocating": (
        "Publicly supports the goal; has not endorsed the city's approach.",
        "Backs the work and mobilises members at hearings.",
        "Supports in principle; wants more say in decisions.",
        "Raises the issue in public; no formal relationship with the city.",
    ),
    "convening": (
        "Hosts a monthly working group; members attend voluntarily.",
        "Convened partners at the mayor's request.",
        "Chairs the neighbourhood round-table where the issue is discussed.",
    ),
}
_STRINGS: dict[str, tuple[str, ...]] = {
    _PHIL: (
        "Restricted to the north-end districts.",
        "Requires a third-party evaluation and public results.",
        "Expects matching city funds within a year.",
        "Wants a seat on the steering group.",
        "",
    ),
    _CORP: (
        "Wants public credit and naming at launch events.",
        "Expects the city to speed up related permits.",
        "Support conditional on no new business fees.",
        "",
    ),
    _GOV: (
        "Reporting to the state every quarter.",
        "Funds cannot pay for staff salaries.",
        "Must follow federal procurement rules.",
        "",
    ),
    _ELECTED: (
        "Expects announcements in the district.",
        "Wants results before the next election.",
        "",
    ),
    _LABOUR: (
        "Insists any new service be staffed by union members.",
        "No changes to shifts without bargaining.",
        "",
    ),
    _COMM: ("Wants residents to choose the sites.", "Expects monthly updates at meetings.", ""),
    _NONPROFIT: ("Needs multi-year funding to keep staff.", "Keeps its own client data.", ""),
    _FAITH: ("Volunteers available evenings and weekends only.", ""),
    _MEDIA: ("",),
}

_STATUS_NOTES: dict[str, tuple[str, ...]] = {
    "on_track": (
        "On track; no concerns this period.",
        "Holding steady within target.",
        "Better than last period; keeping the current approach.",
        "Back on track after the staffing changes.",
    ),
    "at_risk": (
        "Drifting past the warning level; watching closely.",
        "Worse than plan; overtime approved to recover.",
        "At risk because of vacancies; recovery plan drafted.",
        "Seasonal pressure; expect improvement next period.",
    ),
    "off_track": (
        "Off track; escalated to the chief of staff.",
        "Past the critical level; recovery plan due in two weeks.",
        "Off track after contractor delays; weekly check-ins set up.",
    ),
}

_EVIDENCE_NOTES: dict[str, tuple[str, ...]] = {
    "strong": (
        "Randomised or quasi-experimental evaluations in several cities found clear effects.",
        "Evaluated in at least five US cities with consistent results.",
    ),
    "moderate": (
        "Before-and-after studies in two comparable cities show improvement; no controlled trial.",
        "Promising results elsewhere; effect depends on how well it is run.",
    ),
    "weak": (
        "A small local pilot reported good results but had no comparison group.",
        "One evaluation, in a city quite unlike ours.",
    ),
    "anecdotal": (
        "Staff and partners say it works; no data collected yet.",
        "Residents asked for it; nobody has measured results.",
    ),
}
_EVIDENCE_BY_ORIGIN = {
    TESTED: ("strong", "moderate", "moderate"),
    HOME: ("weak", "anecdotal", "moderate"),
    RECLAIMED: ("moderate", "weak"),
    NEW: ("anecdotal", "weak"),
}
_COST_MEDIAN = {SERVICE: 600_000, CHEAPER: 120_000, QUALITY: 250_000, FLOW: 60_000, COORD: 45_000}

_REACH_SENTENCE = {
    CTRL: "The city controls this directly through its own budget, staff and rules.",
    INFL: (
        "The city can shape this by convening, regulating, purchasing or persuading, but does not "
        "control it."
    ),
    OUTS: "This lies outside city government's reach; others hold the levers.",
}
_EVIDENCE_SENTENCE = {
    STRONG: "Evidence that it drives the problem is strong: local data and outside research agree.",
    MOD: "Evidence is moderate: local data point this way.",
    WEAK: "Evidence is weak: a plausible link with little data behind it.",
    ANEC: "Evidence is anecdotal: staff and residents describe it.",
}

_STREETS = (
    "Main St", "River Rd", "Oak Ave", "Maple St", "Harbor Blvd", "Mill St", "Franklin Ave",
    "Lincoln Ave", "Cedar St", "Elm St", "Park Ave", "Washington St", "Chestnut St",
    "Water St", "Market St", "Church St", "Union St", "Spring St", "Prospect Ave",
    "Highland Ave", "Grove St", "Walnut St", "Pine St", "Jefferson Ave", "Madison Ave",
    "College Ave", "Summit Ave", "Garden St", "Bridge St", "Canal St", "Dock St",
    "Ferry Rd", "Kettle Ln", "Linden Blvd", "Ashford Rd", "Northgate Ave", "Millbrook Rd",
    "Hillside Ave", "Vine St", "Front St", "Beacon St", "Orchard St", "Laurel Ave",
    "Willow St", "Station Rd", "Academy St", "Depot St", "Mercer St",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Seasons, weekdays, hours and weather
# --------------------------------------------------------------------------------------------

_WEEKDAY: dict[str, tuple[float, ...]] = {
    "none": (1.0,) * 7,
    "weekday": (1.16, 1.12, 1.08, 1.06, 1.0, 0.82, 0.76),
    "nightlife": (0.75, 0.7, 0.75, 0.9, 1.3, 1.6, 1.0),
    "school": (1.38, 1.38, 1.38, 1.38, 1.3, 0.09, 0.09),
}
_HOURS: dict[str, tuple[float, ...]] = {
    "day": (0.3, 0.2, 0.15, 0.1, 0.15, 0.4, 1.0, 2.0, 3.2, 3.8, 3.9, 3.7,
            3.4, 3.4, 3.3, 3.1, 2.9, 2.6, 2.1, 1.7, 1.4, 1.1, 0.8, 0.5),
    "morning": (0.2, 0.1, 0.1, 0.1, 0.3, 1.2, 2.8, 4.5, 5.0, 4.4, 3.6, 2.8,
                2.2, 1.8, 1.5, 1.3, 1.1, 0.9, 0.7, 0.5, 0.4, 0.3, 0.3, 0.2),
    "evening": (0.8, 0.5, 0.3, 0.2, 0.2, 0.4, 0.8, 1.4, 1.8, 2.0, 2.1, 2.1,
                2.1, 2.2, 2.3, 2.5, 2.8, 3.1, 3.3, 3.3, 3.0, 2.6, 2.0, 1.3),
    "night": (3.5, 2.8, 2.0, 1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6,
              0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0, 2.6, 3.2, 3.8, 4.2, 4.0),
}  # fmt: skip
_HOUR_NAMES = tuple(_HOURS)
_HOUR_CDFS = tuple(np.cumsum(h) / np.sum(h) for h in _HOURS.values())


def _peak(doy: np.ndarray, day: float) -> np.ndarray:
    return np.cos(2 * np.pi * (doy - day) / 365.25)


def _season(profile: str, doy: np.ndarray) -> np.ndarray:
    """Seasonal multiplier (about 1 on average over a year) for each day of the year."""
    doy = np.asarray(doy, dtype=float)
    if profile in ("none", "snow"):  # snow comes from storms, see _weather
        return np.ones_like(doy)
    if profile == "summer":
        return 1 + 0.6 * _peak(doy, 196)
    if profile == "strong_summer":
        return 0.12 + 2.6 * np.clip(_peak(doy, 200), 0, None) ** 2
    if profile == "winter":
        return 1 + 0.45 * _peak(doy, 15)
    if profile == "heating":
        return 0.15 + 2.3 * np.clip(_peak(doy, 20), 0, None) ** 1.5
    if profile == "freeze_thaw":  # potholes open after the late-winter thaws
        return 0.55 + 1.7 * np.exp(-0.5 * ((doy - 78) / 28) ** 2)
    if profile == "spring":
        return 1 + 0.45 * _peak(doy, 120)
    if profile == "spring_summer":
        return 1 + 0.4 * _peak(doy, 170)
    if profile == "autumn":
        return 0.08 + 2.8 * np.exp(-0.5 * ((doy - 305) / 20) ** 2)
    if profile == "rainy":
        return 1 + 0.3 * _peak(doy, 120) + 0.2 * _peak(doy, 280)
    if profile == "school":
        out = np.full_like(doy, 1.05)
        out[(doy >= 178) & (doy <= 243)] = 0.12
        out[(doy >= 356) | (doy <= 2)] = 0.3
        return out
    raise ValueError(f"unknown season profile {profile!r}")


def _weather(days: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Daily multipliers from snowstorms, heat waves and downpours (they drive report spikes)."""
    n = len(days)
    doy = days.day_of_year.to_numpy()
    month = days.month.to_numpy()
    snow = np.zeros(n)
    winter = (month == 12) | (month <= 2) | ((month == 3) & (days.day.to_numpy() <= 20))
    for start in np.flatnonzero(winter & ~np.r_[False, winter[:-1]]):
        end = start
        while end < n and winter[end]:
            end += 1
        storms = rng.choice(
            np.arange(start, end), size=min(rng.integers(4, 9), end - start), replace=False
        )
        for s in storms:
            span = np.arange(s, min(s + 5, n))
            snow[span] += rng.uniform(0.4, 2.0) * np.exp(-(span - s) / 1.2)
    # Ice complaints trickle in between storms, but only in the cold months.
    snow[winter] += 0.03
    snow[~winter] = 0.0
    if snow.sum() > 0:
        snow *= n / snow.sum()
    heat = np.ones(n)
    summer = (doy >= 166) & (doy <= 243)
    for start in np.flatnonzero(summer & ~np.r_[False, summer[:-1]]):
        for _ in range(rng.integers(2, 5)):
            first = start + rng.integers(0, 70)
            heat[first : min(first + rng.integers(3, 7), n)] = 2.5
    rain = np.ones(n)
    wet = rng.random(n) < np.where((month >= 4) & (month <= 10), 0.11, 0.07)
    intensity = rng.uniform(1.0, 4.0, n) * wet
    rain += intensity
    rain[1:] += 0.5 * intensity[:-1]
    return {"snow": snow, "heat": heat, "rain": rain / rain.mean()}


# --------------------------------------------------------------------------------------------
# Geometry: district polygons and points inside them (ray casting; no shapely at runtime)
# --------------------------------------------------------------------------------------------


def load_district_features() -> tuple[dict[str, Any], ...]:
    """The 12 district features of ``data/districts.geojson`` (properties: code, name, boro_cd)."""
    with DISTRICTS_GEOJSON.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    return tuple(sorted(collection["features"], key=lambda f: f["properties"]["code"]))


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    raise ValueError(f"not a polygon: {geometry['type']}")


def _edges(geometry: dict[str, Any]) -> np.ndarray:
    """All ring edges as rows (x1, y1, x2, y2); holes and islands alike (even-odd rule)."""
    parts = []
    for ring in _rings(geometry):
        xy = np.asarray(ring, dtype=float)
        parts.append(np.column_stack([xy[:-1], xy[1:]]))
    return np.vstack(parts)


def points_in_geometry(lon: np.ndarray, lat: np.ndarray, geometry: dict[str, Any]) -> np.ndarray:
    """Boolean mask: which (lon, lat) points lie inside a GeoJSON Polygon or MultiPolygon.

    Even-odd ray casting over every ring, so holes and multiple parts need no special case.
    """
    return _inside(np.asarray(lon, float), np.asarray(lat, float), _edges(geometry))


def _inside(px: np.ndarray, py: np.ndarray, edges: np.ndarray) -> np.ndarray:
    inside = np.zeros(px.shape, dtype=bool)
    for x1, y1, x2, y2 in edges:
        if y1 == y2:
            continue
        crosses = (y1 > py) != (y2 > py)
        x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_at)
    return inside


def _sample_points(
    rng: np.random.Generator, n: int, edges: np.ndarray, bbox: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside the polygon, by rejection from its bounding box."""
    west, south, east, north = bbox
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    found = 0
    while found < n:
        m = int((n - found) * 2.2) + 16
        x = rng.uniform(west, east, m)
        y = rng.uniform(south, north, m)
        keep = _inside(x, y, edges)
        lons.append(x[keep])
        lats.append(y[keep])
        found += int(keep.sum())
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n]


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    """The emerging problems hidden in the data, so tests and demos can look for them."""

    surge_category: str  # category code
    surge_district: str  # district code
    surge_problem: str  # problem key the category maps to
    surge_start: dt.date  # first local day of the surge
    surge_end: dt.date  # last local day (yesterday)
    surge_multiplier: float  # mean multiplier over the expected baseline
    surge_expected_baseline: float  # expected reports in the window without the surge
    indicator_code: str  # crossed its critical threshold in the last periods
    indicator_problem: str
    indicator_first_critical: dt.date  # first period beyond the critical threshold
    indicator_periods_beyond: int
    stale_indicators: tuple[str, ...]  # last value older than 2x their cadence


@dataclass(frozen=True)
class _ReportPlan:
    seed: int
    days: np.ndarray  # datetime64[D], local calendar days
    counts: np.ndarray  # int32 (day, category, district): the exact daily counts
    month_bounds: tuple[tuple[int, int], ...]  # [start, stop) day indices of each month
    month_offsets: tuple[int, ...]  # reports before each month, for service_request_id
    category_codes: tuple[str, ...]
    category_names: tuple[str, ...]
    close_days: np.ndarray
    hour_profile: np.ndarray  # index into _HOUR_CDFS per category
    texts: np.ndarray  # every description, all categories
    text_offset: np.ndarray
    text_count: np.ndarray
    district_codes: tuple[str, ...]
    edges: tuple[np.ndarray, ...]
    bboxes: tuple[tuple[float, float, float, float], ...]
    addresses: np.ndarray  # addresses per district, ADDRESSES_PER_DISTRICT each
    now_utc: np.datetime64  # nothing happens after this instant (local midnight today)


ADDRESSES_PER_DISTRICT = 300
REPORT_COLUMNS = (
    "service_request_id",
    "category_code",
    "raw_category",
    "description",
    "status",
    "requested_at",
    "updated_at",
    "closed_at",
    "lat",
    "lon",
    "address",
    "district_code",
    "day",
)


@dataclass(eq=False)
class DemoCity:
    """Every table of the demo city with natural keys (codes, names, keys) instead of ids.

    Lists of dicts hold one dict per row; the keys are the model's columns, except that
    foreign keys are natural keys: ``*_code`` (departments, districts, indicators,
    categories), ``*_key`` (problems, causal factors), ``*_name`` (actors) and
    ``*_username`` (users). Times are naive UTC, periods and days are local dates.

    - ``departments``: code, name
    - ``districts``: code, name, population, median_household_income, need_index, geometry
    - ``users``: ``DemoUser`` (username, display_name, role, department_code, password)
    - ``problems``: key, title, description, policy_area, status, owner_username,
      lead_department_code, desired_outcome, political_capital, political_notes, authority,
      authority_notes, created_at, updated_at
    - ``problem_districts``: problem_key, district_code
    - ``indicators``: code, name, description, unit, direction, cadence, department_code,
      target, warning_threshold, critical_threshold, source, created_at
    - ``observations`` (DataFrame): indicator_code, period (datetime64, local date), value,
      entered_by (username), entered_at
    - ``indicator_status_updates``: indicator_code, status, note, author_username, created_at
    - ``problem_indicators``: problem_key, indicator_code, weight
    - ``categories``: code, name, department_code; ``category_problems``: category_code,
      problem_key, weight
    - ``causal_factors``: key, problem_key, title, description, reach, evidence, weight,
      indicator_code (or None); ``factor_links``: factor_key, parent_key
    - ``actors``: name, sector, description, contact
    - ``engagements``: actor_name, problem_key, factor_key (or None), role, stance,
      committed_funding, authorisation, strings, last_contact
    - ``innovations``: problem_key, title, description, origin, kind, stage,
      lead_actor_name (or None), evidence, evidence_note, cost (or None)
    - ``decisions``: week ("2026-W45"), problem_key, decision, note, author_username,
      created_at
    - ``reports`` (DataFrame, None at the large scale; see ``iter_reports``): the columns of
      ``REPORT_COLUMNS``: service_request_id, category_code, raw_category, description,
      status (open/closed), requested_at, updated_at, closed_at (NaT when open), lat, lon,
      address, district_code, day (local calendar day of requested_at, the aggregate's key)
    - ``report_propensity``: district code -> relative per-capita readiness to report
      (not stored in the database: the truth for tests of bias correction)
    """

    seed: int
    scale: str
    today: dt.date
    departments: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    users: list[DemoUser]
    problems: list[dict[str, Any]]
    problem_districts: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    observations: pd.DataFrame
    indicator_status_updates: list[dict[str, Any]]
    problem_indicators: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    category_problems: list[dict[str, Any]]
    causal_factors: list[dict[str, Any]]
    factor_links: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    engagements: list[dict[str, Any]]
    innovations: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    report_propensity: dict[str, float]
    planted: Planted
    reports: pd.DataFrame | None
    timezone: str = TIMEZONE
    name: str = CITY_NAME
    _plan: _ReportPlan | None = field(default=None, repr=False)

    @property
    def report_count(self) -> int:
        """Number of citizen reports, known before any chunk is generated."""
        assert self._plan is not None
        return int(self._plan.counts.sum())

    def iter_reports(self, chunk_rows: int = 250_000) -> Iterator[pd.DataFrame]:
        """Citizen reports in chronological chunks (columns as ``reports``).

        Chunks are whole calendar months, generated on demand unless ``reports`` is held, so
        the large scale never holds all reports; a month is split if over ``chunk_rows``.
        """
        if self.reports is not None:
            for start in range(0, len(self.reports), chunk_rows):
                yield self.reports.iloc[start : start + chunk_rows]
            return
        assert self._plan is not None
        for month in range(len(self._plan.month_bounds)):
            frame = _report_month(self._plan, month)
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start : start + chunk_rows]


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build_demo_city(
    seed: int = 7,
    scale: str = "city",
    *,
    today: dt.date,
    progress: Progress | None = None,
) -> DemoCity:
    """Generate the whole demo city; the same ``seed`` and ``today`` give identical output.

    ``scale`` is a key of ``SCALES``. ``progress(stage, fraction)`` is called as work goes on.
    DataFrames out: ``observations`` (indicator_code, period, value, entered_by, entered_at)
    and ``reports`` (``REPORT_COLUMNS``; None at the large scale, use ``iter_reports``).
    See ``DemoCity`` for the keys of every list-of-dicts table.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    report = progress or _no_progress
    streams = np.random.default_rng(seed).spawn(8)

    report("Districts and people", 0.0)
    districts = _DISTRICTS
    geometry = {f["properties"]["code"]: f["geometry"] for f in load_district_features()}
    instances = _problem_instances(spec)
    report("Districts and people", 1.0)

    report("Problems", 0.0)
    problems, problem_districts = _problems(instances, today, streams[0])
    report("Problems", 1.0)

    indicators, recipes, own = _indicator_specs(instances, spec)
    observations, updates, planted_ind, stale = _indicator_history(
        indicators, recipes, spec, today, streams[1], report
    )
    problem_indicators = _problem_indicators(instances, own, streams[2])

    report("Backward maps and actors", 0.0)
    factors, links = _factors(instances, own, streams[3])
    actors = _actors(streams[4])
    engagements = _engagements(instances, factors, streams[5], today)
    innovations = _innovations(instances, engagements, streams[6])
    decisions = _decisions(instances, today, streams[7])
    report("Backward maps and actors", 1.0)

    categories, category_problems = _categories(instances)
    plan, surge = _report_plan(seed, spec, today, districts, geometry)
    reports = None
    if scale != "large":
        report("Citizen reports", 0.0)
        months = len(plan.month_bounds)
        frames = []
        for month in range(months):
            frames.append(_report_month(plan, month))
            report("Citizen reports", (month + 1) / months)
        reports = pd.concat(frames, ignore_index=True)

    planted = Planted(
        **surge,
        indicator_code=planted_ind["code"],
        indicator_problem=_PLANTED_INDICATOR[0],
        indicator_first_critical=planted_ind["first_critical"],
        indicator_periods_beyond=planted_ind["periods_beyond"],
        stale_indicators=tuple(stale),
    )
    return DemoCity(
        seed=seed,
        scale=scale,
        today=today,
        departments=[{"code": code, "name": name} for code, name in DEPARTMENTS],
        districts=[
            {
                "code": d.code,
                "name": d.name,
                "population": d.population,
                "median_household_income": d.income,
                "need_index": d.need,
                "geometry": geometry[d.code],
            }
            for d in districts
        ],
        users=list(DEMO_USERS),
        problems=problems,
        problem_districts=problem_districts,
        indicators=indicators,
        observations=observations,
        indicator_status_updates=updates,
        problem_indicators=problem_indicators,
        categories=categories,
        category_problems=category_problems,
        causal_factors=factors,
        factor_links=links,
        actors=actors,
        engagements=engagements,
        innovations=innovations,
        decisions=decisions,
        report_propensity={d.code: d.propensity for d in districts},
        planted=planted,
        reports=reports,
        _plan=plan,
    )


def _no_progress(_stage: str, _fraction: float) -> None:
    return None


@dataclass(frozen=True)
class _Instance:
    """One problem of this scale: a catalogue entry, or a district variant of one (large)."""

    key: str
    spec: _ProblemSpec
    district: str | None  # the variant's district; None for the catalogue problem itself
    variant: int


def _problem_instances(spec: Scale) -> list[_Instance]:
    if spec.name == "small":
        return [_Instance(p.key, p, None, 0) for p in _PROBLEMS if p.key in SMALL_PROBLEMS]
    catalogue = list(_PROBLEMS)
    out = []
    for i in range(spec.problems):
        base = catalogue[i % len(catalogue)]
        variant = i // len(catalogue)
        if variant == 0:
            out.append(_Instance(base.key, base, None, 0))
        else:
            # Walk each template through the districts so no two variants share a title.
            district = ALL_DISTRICTS[(variant - 1 + i % len(catalogue)) % len(ALL_DISTRICTS)]
            out.append(_Instance(f"{base.key}-{variant:02d}", base, district, variant))
    return out


def _title(inst: _Instance) -> str:
    if inst.district is None:
        return inst.spec.title
    suffix = "" if inst.variant <= len(ALL_DISTRICTS) else f", phase {inst.variant // 12 + 1}"
    return f"{inst.spec.title} ({_DISTRICT_NAME[inst.district]}{suffix})"


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def _problems(
    instances: Sequence[_Instance], today: dt.date, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    problems = []
    districts = []
    for inst in instances:
        p = inst.spec
        created = today - dt.timedelta(days=int(rng.integers(90, 1000)))
        updated = today - dt.timedelta(days=int(rng.integers(1, 60)))
        description = p.description
        if inst.district is not None:
            description += f" This record follows the problem in {_DISTRICT_NAME[inst.district]}."
        problems.append(
            {
                "key": inst.key,
                "title": _title(inst),
                "description": description,
                "policy_area": p.area,
                "status": p.status,
                "owner_username": "chief" if p.status in ("focus", "emerging") else head_of(p.dept),
                "lead_department_code": p.dept,
                "desired_outcome": p.outcome,
                "political_capital": p.capital,
                "political_notes": p.capital_note,
                "authority": p.authority,
                "authority_notes": p.authority_note,
                "created_at": _at(created, 15),
                "updated_at": _at(max(updated, created), 16),
            }
        )
        codes = (inst.district,) if inst.district else p.districts
        districts.extend({"problem_key": inst.key, "district_code": c} for c in codes)
    return problems, districts


# --------------------------------------------------------------------------------------------
# Indicators and their history
# --------------------------------------------------------------------------------------------

_STATUS_DRIFT = {
    "emerging": 0.08,
    "watch": 0.02,
    "focus": -0.05,
    "monitoring": -0.02,
    "resolved": -0.06,
}
_PLANTED_INDICATOR = ("overdoses", 0)
_VACANCY_BASE = {
    "PW": 11,
    "TRN": 9,
    "POL": 8,
    "FIRE": 6,
    "HLTH": 12,
    "HSG": 14,
    "PRK": 15,
    "SAN": 10,
    "EDU": 7,
    "ECON": 13,
}


def _nice(value: float) -> float:
    """Round to three significant figures, the way thresholds are written in a plan."""
    if value == 0:
        return 0.0
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _thresholds(ind: _Ind) -> tuple[float, float, float]:
    band = 0.1
    base = ind.base
    if ind.direction == "down":
        target, warning, critical = base * (1 - band), base * (1 + band), base * (1 + 2.5 * band)
    else:
        target, warning, critical = base * (1 + band), base * (1 - band), base * (1 - 2.5 * band)
    if ind.unit == "%":
        target = min(target, 99.0)
    return _nice(target), _nice(warning), _nice(critical)


class _Recipe(NamedTuple):
    """How to generate one indicator's history (kept beside its row, not in it)."""

    spec: _Ind
    status: str  # the problem's status, which sets the drift
    planted: bool


def _indicator_specs(
    instances: Sequence[_Instance], spec: Scale
) -> tuple[list[dict[str, Any]], list[_Recipe], dict[str, list[str]]]:
    """Indicator rows, their recipes, and per problem key the codes of its own indicators."""
    counters = dict.fromkeys(_DEPT_NAME, 0)
    width = 4 if spec.indicators and spec.indicators >= 1000 else 3
    indicators: list[dict[str, Any]] = []
    recipes: list[_Recipe] = []
    own: dict[str, list[str]] = {}

    def add(
        ind: _Ind, dept: str, name: str, problem: _Instance | None, planted: bool = False
    ) -> str:
        counters[dept] += 1
        code = f"{dept}-{counters[dept]:0{width}d}"
        cadence = "weekly" if spec.weekly_only else ind.cadence
        target, warning, critical = _thresholds(ind)
        if planted:
            # Wider bands, so the calm history sits clearly inside them before the crossing.
            warning, critical = _nice(ind.base * 1.25), _nice(ind.base * 1.45)
        better = "Lower" if ind.direction == "down" else "Higher"
        what = f"{name}, reported {cadence} by {_DEPT_NAME[dept]}. {better} is better."
        if problem is not None:
            what += f" Measures progress on: {_title(problem)}."
        indicators.append(
            {
                "code": code,
                "name": name,
                "description": what,
                "unit": ind.unit,
                "direction": ind.direction,
                "cadence": cadence,
                "department_code": dept,
                "target": target,
                "warning_threshold": warning,
                "critical_threshold": critical,
                "source": ind.source or f"{_DEPT_NAME[dept]} records",
            }
        )
        recipes.append(_Recipe(ind, problem.spec.status if problem else "monitoring", planted))
        return code

    for inst in instances:
        codes = []
        for j, ind in enumerate(inst.spec.indicators[: spec.indicators_per_problem]):
            name = ind.name
            if inst.district is not None:
                name = f"{ind.name}, {_DISTRICT_NAME[inst.district]}"
            planted = (inst.key, j) == _PLANTED_INDICATOR
            codes.append(add(ind, ind.dept or inst.spec.dept, name, inst, planted))
        own[inst.key] = codes
    for dept, name in DEPARTMENTS:
        vacancy = _Ind(
            f"Budgeted positions vacant, {name}",
            "%",
            "down",
            "monthly",
            _VACANCY_BASE[dept],
            source="Human Resources payroll system",
        )
        add(vacancy, dept, vacancy.name, None)
    # The benchmark needs many indicators: add district breakdowns of each problem's measures.
    if spec.indicators:
        i = 0
        while len(indicators) < spec.indicators:
            inst = instances[i % len(instances)]
            round_ = i // len(instances)
            inds = inst.spec.indicators
            ind = inds[round_ % len(inds)]
            district = ALL_DISTRICTS[(round_ + i) % len(ALL_DISTRICTS)]
            name = f"{ind.name}, {_DISTRICT_NAME[district]} breakdown {round_ + 1}"
            scaled = ind._replace(base=max(ind.base / 6, 1) if ind.unit == "count" else ind.base)
            own[inst.key].append(add(scaled, ind.dept or inst.spec.dept, name, inst))
            i += 1
    return indicators, recipes, own


def _periods(cadence: str, start: dt.date, today: dt.date) -> pd.DatetimeIndex:
    """Observation periods (start dates) from ``start`` to the last complete period."""
    if cadence == "weekly":
        last = today - dt.timedelta(days=today.weekday() + 7)
        return pd.date_range(start + dt.timedelta(days=-start.weekday() % 7), last, freq="7D")
    if cadence == "monthly":
        last = (pd.Timestamp(today).to_period("M") - 1).start_time
        return pd.date_range(
            pd.Timestamp(start).to_period("M").end_time.normalize() + pd.Timedelta(days=1),
            last,
            freq="MS",
        )
    if cadence == "quarterly":
        last = (pd.Timestamp(today).to_period("Q") - 1).start_time
        return pd.date_range(
            pd.Timestamp(start).to_period("Q").end_time.normalize() + pd.Timedelta(days=1),
            last,
            freq="QS",
        )
    last = pd.Timestamp(dt.date(today.year - 1, 1, 1))
    return pd.date_range(pd.Timestamp(dt.date(start.year + 1, 1, 1)), last, freq="YS")


def _round_values(values: np.ndarray, unit: str) -> np.ndarray:
    if unit == "count":
        return np.round(values)
    if unit == "USD":
        return np.round(values, -2)
    if unit == "gallons":
        return np.round(values, -3)
    if unit in ("ratio", "rate", "mph", "miles", "lane-miles", "minutes"):
        return np.round(values, 2)
    return np.round(values, 1)


def _series(
    ind: _Ind, periods: pd.DatetimeIndex, cadence: str, drift: float, rng: np.random.Generator
) -> np.ndarray:
    n = len(periods)
    years = (periods - periods[0]).days.to_numpy() / 365.25
    level = ind.base * (1 + drift * years)
    profile = ind.season.lstrip("-")
    if profile != "none":
        sign = -1.0 if ind.season.startswith("-") else 1.0
        amp = rng.uniform(0.04, 0.1) if ind.unit == "%" else rng.uniform(0.25, 0.45)
        # The period's middle day carries its season.
        mid = periods + pd.Timedelta(days=CADENCE_DAYS[cadence] // 2)
        level = level * np.clip(1 + sign * amp * (_season(profile, mid.day_of_year) - 1), 0.1, None)
    level = np.clip(level, ind.base * 0.05, None)
    sd = rng.uniform(0.03, 0.07)
    eps = rng.normal(0, sd, n)
    wobble = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = 0.5 * acc + eps[i]
        wobble[i] = acc
    if ind.unit == "count" and ind.base < 1000:
        values = rng.poisson(np.clip(level * (1 + 0.5 * wobble), 0, None)).astype(float)
    else:
        values = level * (1 + wobble)
    if ind.unit == "%":
        values = np.clip(values, 0.5, 99.5)
    return _round_values(np.clip(values, 0, None), ind.unit)


def _indicator_history(
    indicators: list[dict[str, Any]],
    recipes: Sequence[_Recipe],
    spec: Scale,
    today: dt.date,
    rng: np.random.Generator,
    report: Progress,
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, Any], list[str]]:
    """Observations, status updates, the planted crossing and the stale indicator codes."""
    # Starting a season early guarantees whole years of history for quarterly indicators too.
    start = today - dt.timedelta(days=365 * spec.history_years + 100)
    midnight = np.datetime64(today, "s")
    eligible = [i for i, recipe in enumerate(recipes) if not recipe.planted]
    n_stale = max(1, round(0.09 * len(indicators)))
    stale_idx = set(rng.choice(eligible, size=n_stale, replace=False).tolist())
    frames = []
    updates: list[dict[str, Any]] = []
    planted: dict[str, Any] = {}
    stale: list[str] = []
    report("Indicator history", 0.0)
    for i, (row, (ind, status, is_planted)) in enumerate(zip(indicators, recipes, strict=True)):
        cadence = row["cadence"]
        periods = _periods(cadence, start, today)
        worse = 1.0 if ind.direction == "down" else -1.0
        drift = worse * _STATUS_DRIFT.get(status, 0.0) + rng.normal(0, 0.04)
        if is_planted:
            values = _planted_series(row, len(periods), rng)
            first = periods[-3].date()
            planted = {"code": row["code"], "first_critical": first, "periods_beyond": 3}
        else:
            values = _series(ind, periods, cadence, drift, rng)
        if i in stale_idx:
            drop = {
                "weekly": rng.integers(4, 9),
                "monthly": rng.integers(3, 6),
                "quarterly": rng.integers(2, 4),
            }.get(cadence, 1)
            periods, values = periods[: -int(drop)], values[: -int(drop)]
            stale.append(row["code"])
        step = CADENCE_DAYS[cadence]
        lag_max = {"weekly": 4, "monthly": 12, "quarterly": 40}.get(cadence, 60)
        lag = rng.integers(1, lag_max + 1, len(periods)) * 86_400 + rng.integers(
            9 * 3600, 17 * 3600, len(periods)
        )
        entered = (
            periods.to_numpy().astype("datetime64[s]")
            + np.timedelta64(step, "D")
            + lag.astype("timedelta64[s]")
        )
        entered = np.minimum(entered, midnight - np.timedelta64(3600, "s"))
        head = head_of(row["department_code"])
        frames.append(
            pd.DataFrame(
                {
                    "indicator_code": row["code"],
                    "period": periods.to_numpy().astype("datetime64[s]"),
                    "value": values,
                    "entered_by": head,
                    "entered_at": entered,
                }
            )
        )
        row["created_at"] = _at(start, 9)
        updates.extend(_status_updates(row, values, entered, is_planted, head, rng))
        if i % 50 == 0:
            report("Indicator history", (i + 1) / len(indicators))
    report("Indicator history", 1.0)
    observations = pd.concat(frames, ignore_index=True)
    observations["indicator_code"] = observations["indicator_code"].astype("category")
    observations["entered_by"] = observations["entered_by"].astype("category")
    return observations, updates, planted, stale


def _planted_series(row: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Calm, well below warning, then three periods past critical (a new batch of fentanyl)."""
    warning, critical = row["warning_threshold"], row["critical_threshold"]
    calm = rng.poisson(warning * 0.72, n).astype(float)
    calm = np.minimum(calm, warning - 2)
    calm[-3:] = np.ceil(critical * np.array([1.09, 1.2, 1.31]))
    return calm


def indicator_status(value: float, direction: str, warning: float, critical: float) -> str:
    """on_track / at_risk / off_track for a value against its thresholds."""
    if direction == "down":
        if value >= critical:
            return "off_track"
        return "at_risk" if value >= warning else "on_track"
    if value <= critical:
        return "off_track"
    return "at_risk" if value <= warning else "on_track"


def _status_updates(
    row: dict[str, Any],
    values: np.ndarray,
    entered: np.ndarray,
    is_planted: bool,
    author: str,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    n = len(values)
    if n == 0:
        return []
    # The department has not yet noticed the planted crossing: its last update predates it.
    last = n - 4 if is_planted else n - 1
    recent = {"weekly": 26, "monthly": 9, "quarterly": 4}.get(row["cadence"], 2)
    first = max(0, last - recent)
    k = int(rng.integers(1, 4))
    picks = sorted(set(rng.integers(first, last + 1, k).tolist()) | {last})
    out = []
    for p in picks:
        status = indicator_status(
            float(values[p]), row["direction"], row["warning_threshold"], row["critical_threshold"]
        )
        notes = _STATUS_NOTES[status]
        created = entered[p] + np.timedelta64(int(rng.integers(3600, 2 * 86_400)), "s")
        out.append(
            {
                "indicator_code": row["code"],
                "status": status,
                "note": _one(rng, notes),
                "author_username": author,
                "created_at": pd.Timestamp(
                    min(created, entered[-1] + np.timedelta64(3600, "s"))
                ).to_pydatetime(),
            }
        )
    return out


def _problem_indicators(
    instances: Sequence[_Instance], own: dict[str, list[str]], rng: np.random.Generator
) -> list[dict[str, Any]]:
    rows = []
    linked: dict[str, list[str]] = {}
    for inst in instances:
        codes = own[inst.key][:6]
        linked[inst.key] = list(codes)
        for j, code in enumerate(codes):
            weight = 1.0 if j == 0 else float(rng.choice([0.5, 0.6, 0.7, 0.8, 1.0]))
            rows.append({"problem_key": inst.key, "indicator_code": code, "weight": weight})
    for key, other, index, weight in _CROSS_LINKS:
        if key in linked and other in own and index < len(own[other]) and len(linked[key]) < 6:
            code = own[other][index]
            if code not in linked[key]:
                linked[key].append(code)
                rows.append({"problem_key": key, "indicator_code": code, "weight": weight})
    return rows


# --------------------------------------------------------------------------------------------
# Backward maps, actors, engagements, innovations, decisions
# --------------------------------------------------------------------------------------------

_EVIDENCE_WEIGHT = {STRONG: (0.55, 0.95), MOD: (0.35, 0.75), WEAK: (0.15, 0.5), ANEC: (0.1, 0.4)}


def factor_key(problem_key: str, index: int) -> str:
    """Natural key of the ``index``-th (0-based) causal factor of a problem."""
    return f"{problem_key}:F{index + 1}"


def _factors(
    instances: Sequence[_Instance], own: dict[str, list[str]], rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    factors = []
    links = []
    for inst in instances:
        specs = inst.spec.factors
        for i, f in enumerate(specs):
            low, high = _EVIDENCE_WEIGHT[f.evidence]
            codes = own[inst.key][:6]
            feeds = (
                "It feeds into "
                + " and ".join(f"“{specs[p].title.lower()}”" for p in f.parents)
                + "."
                if f.parents
                else "It contributes directly to the problem."
            )
            factors.append(
                {
                    "key": factor_key(inst.key, i),
                    "problem_key": inst.key,
                    "title": f.title,
                    "description": f"{feeds} {_REACH_SENTENCE[f.reach]} "
                    f"{_EVIDENCE_SENTENCE[f.evidence]}",
                    "reach": f.reach,
                    "evidence": f.evidence,
                    "weight": round(float(rng.uniform(low, high)), 2),
                    "indicator_code": codes[f.indicator]
                    if f.indicator is not None and f.indicator < len(codes)
                    else None,
                }
            )
            for p in f.parents:
                if p >= i:
                    raise ValueError(f"{inst.key}: factor {i} must name earlier parents only")
                links.append(
                    {"factor_key": factor_key(inst.key, i), "parent_key": factor_key(inst.key, p)}
                )
    return factors, links


def _actors(rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for actor in _ACTORS:
        first = _one(rng, _FIRST_NAMES)
        last = _one(rng, _LAST_NAMES)
        title = _FAITH_TITLES.get(actor.name, _CONTACT_TITLES[actor.sector])
        if actor.department:
            contact = f"{_HEADS[actor.department]}, department head"
        else:
            contact = f"{first} {last}, {title}"
        rows.append(
            {
                "name": actor.name,
                "sector": actor.sector,
                "description": actor.description,
                "contact": contact,
            }
        )
    return rows


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _one(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(0, len(options)))]


def _stance(rng: np.random.Generator, sector: str) -> str:
    competing = _COMPETING.get(sector, 0.05)
    indifferent = _INDIFFERENT.get(sector, 0.05)
    u = rng.random()
    if u < competing:
        return "competing"
    return "indifferent" if u < competing + indifferent else "complementary"


def _engagements(
    instances: Sequence[_Instance],
    factors: list[dict[str, Any]],
    rng: np.random.Generator,
    today: dt.date,
) -> list[dict[str, Any]]:
    by_problem: dict[str, list[dict[str, Any]]] = {}
    for f in factors:
        by_problem.setdefault(f["problem_key"], []).append(f)
    dept_actor = {a.department: a for a in _ACTORS if a.department}
    rows = []
    for inst in instances:
        tag = _TAG_OF_AREA[inst.spec.area]
        lead = dept_actor[inst.spec.dept]
        candidates = [a for a in _ACTORS if a is not lead and ("*" in a.tags or tag in a.tags)]
        weights = np.asarray([0.5 if a.department else 1.0 for a in candidates])
        k = min(len(candidates), int(rng.integers(3, 9)))
        picks = rng.choice(len(candidates), k, replace=False, p=weights / weights.sum())
        problem_factors = by_problem.get(inst.key, [])
        # One or two factors keep nobody on them: the neglected links of the causal chain.
        n_neglected = min(len(problem_factors) - 1, int(rng.integers(1, 3)))
        neglected = set(rng.choice(len(problem_factors), n_neglected, replace=False).tolist())
        attended = [f for i, f in enumerate(problem_factors) if i not in neglected]
        controlled = [f for f in attended if f["reach"] == CTRL] or attended
        for n, actor in enumerate([lead, *(candidates[i] for i in picks)]):
            if n == 0:
                role, stance, factor = "delivering", "complementary", _one(rng, controlled)
            else:
                role = _pick(rng, _ROLE_WEIGHTS[actor.sector])
                stance = _stance(rng, actor.sector)
                factor = _one(rng, attended) if rng.random() < 0.65 else None
            funding = 0.0
            if role == "funding":
                median = _FUNDING_MEDIAN.get(actor.sector, 50_000)
                funding = float(round(median * math.exp(rng.normal(0, 0.7)), -3))
            authorisation = _one(rng, _AUTHORISATIONS[role]).format(
                n=f"{today.year % 100 - 1:02d}-{int(rng.integers(100, 400))}",
                years=int(rng.integers(2, 4)),
                year=today.year - int(rng.integers(0, 2)),
                until=today.year + int(rng.integers(1, 3)),
            )
            rows.append(
                {
                    "actor_name": actor.name,
                    "problem_key": inst.key,
                    "factor_key": factor["key"] if factor else None,
                    "role": role,
                    "stance": stance,
                    "committed_funding": funding,
                    "authorisation": authorisation,
                    "strings": _one(rng, _STRINGS[actor.sector]),
                    "last_contact": today - dt.timedelta(days=int(rng.integers(2, 270))),
                }
            )
    return rows


_STAGE_WEIGHTS = {"idea": 0.3, "pilot": 0.25, "evaluating": 0.15, "scaling": 0.15, "retired": 0.15}


def _innovations(
    instances: Sequence[_Instance], engagements: list[dict[str, Any]], rng: np.random.Generator
) -> list[dict[str, Any]]:
    leads: dict[str, list[str]] = {}
    for e in engagements:
        if e["role"] in ("delivering", "funding", "convening"):
            leads.setdefault(e["problem_key"], []).append(e["actor_name"])
    rows = []
    for inst in instances:
        for idea in inst.spec.ideas:
            stage = _pick(rng, _STAGE_WEIGHTS)
            options = _EVIDENCE_BY_ORIGIN[idea.origin]
            evidence = _one(rng, options)
            notes = _EVIDENCE_NOTES[evidence]
            candidates = leads.get(inst.key, [])
            lead = _one(rng, candidates) if candidates and rng.random() < 0.9 else None
            cost = float(round(_COST_MEDIAN[idea.kind] * math.exp(rng.normal(0, 0.6)), -3))
            rows.append(
                {
                    "problem_key": inst.key,
                    "title": idea.title,
                    "description": idea.description,
                    "origin": idea.origin,
                    "kind": idea.kind,
                    "stage": stage,
                    "lead_actor_name": lead,
                    "evidence": evidence,
                    "evidence_note": _one(rng, notes),
                    "cost": None if stage == "idea" and rng.random() < 0.4 else cost,
                }
            )
    # Every stage appears at least once, even in the small city.
    stages = list(_STAGE_WEIGHTS)
    for stage in stages:
        if not any(r["stage"] == stage for r in rows):
            counts = {s: sum(r["stage"] == s for r in rows) for s in stages}
            donor = max(counts, key=lambda s: counts[s])
            victims = [i for i, r in enumerate(rows) if r["stage"] == donor]
            rows[_one(rng, victims)]["stage"] = stage
    return rows


def iso_week(day: dt.date) -> str:
    """ISO week label of a date, e.g. ``2026-W45``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _decisions(
    instances: Sequence[_Instance], today: dt.date, rng: np.random.Generator
) -> list[dict[str, Any]]:
    base = [i for i in instances if i.district is None]
    focus = [i for i in base if i.spec.status == "focus"]
    others = [i for i in base if i.spec.status in ("emerging", "watch")]
    rows = []
    monday = today - dt.timedelta(days=today.weekday())
    for weeks_ago in range(6, 0, -1):
        week_start = monday - dt.timedelta(weeks=weeks_ago)
        created = dt.datetime.combine(week_start + dt.timedelta(days=1), dt.time(15, 30))
        for inst in focus:
            if rng.random() < 0.6:
                rows.append(_decision(inst, week_start, created, "focus", rng))
        if others:
            inst = _one(rng, others)
            kind = ("delegate", "convene", "monitor")[int(rng.integers(0, 3))]
            rows.append(_decision(inst, week_start, created, kind, rng))
    return rows


def _decision(
    inst: _Instance,
    week_start: dt.date,
    created: dt.datetime,
    kind: str,
    rng: np.random.Generator,
) -> dict[str, Any]:
    dept = _DEPT_NAME[inst.spec.dept]
    tag = _TAG_OF_AREA[inst.spec.area]
    partners = [a.name for a in _ACTORS if not a.department and tag in a.tags]
    partner = _one(rng, partners) if partners else "partners"
    notes = {
        "focus": (
            "Stays on my list. Chief of staff to bring a one-page progress note next week.",
            f"Keep the focus; ask {dept} for a recovery plan by the end of the month.",
            "Still the priority. I want the numbers by district before the council hearing.",
        ),
        "delegate": (f"Delegate to {dept}; report back in four weeks.",),
        "convene": (
            f"Convene {partner} and the other partners within the month to agree who does what.",
        ),
        "monitor": ("Monitor: the indicators are steady enough. Revisit if the trend turns.",),
    }[kind]
    return {
        "week": iso_week(week_start),
        "problem_key": inst.key,
        "decision": kind,
        "note": _one(rng, notes),
        "author_username": "mayor",
        "created_at": created,
    }


# --------------------------------------------------------------------------------------------
# Citizen reports
# --------------------------------------------------------------------------------------------

_SURGE_CATEGORY, _SURGE_DISTRICT, _SURGE_DAYS = "illegal_dumping", "D11", 35
_SURGE_RAMP = (2.8, 4.2)  # multiplier over the baseline, first to last day of the surge
_SURGE_FLOOR_PER_WEEK = 6.0  # the surge must stand out even in the small city


def _categories(
    instances: Sequence[_Instance],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    present = {i.key for i in instances}
    categories = [{"code": c.code, "name": c.name, "department_code": c.dept} for c in _CATEGORIES]
    mapping = [
        {"category_code": c.code, "problem_key": key, "weight": weight}
        for c in _CATEGORIES
        for key, weight in c.problems
        if key in present
    ]
    return categories, mapping


def _report_plan(
    seed: int,
    spec: Scale,
    today: dt.date,
    districts: Sequence[_District],
    geometry: dict[str, dict[str, Any]],
) -> tuple[_ReportPlan, dict[str, Any]]:
    """Expected daily counts per category and district, drawn once (cheap even for 10M)."""
    rng = np.random.default_rng([seed, 311])
    n_days = 365 * spec.history_years
    first = today - dt.timedelta(days=n_days)
    days = pd.date_range(first, today - dt.timedelta(days=1), freq="D")
    doy = days.day_of_year.to_numpy()
    dow = days.day_of_week.to_numpy()
    years = np.arange(n_days) / 365.25
    weather = _weather(days, rng)
    cats = _CATEGORIES
    n_c, n_k = len(cats), len(districts)

    time = np.empty((n_days, n_c))
    for j, c in enumerate(cats):
        curve = _season(c.season, doy) * np.asarray(_WEEKDAY[c.week])[dow]
        if c.season == "snow":
            curve = curve * weather["snow"]
        elif c.season == "strong_summer":
            curve = curve * weather["heat"]
        elif c.season == "summer":
            curve = curve * np.where(weather["heat"] > 1, 1.2, 1.0)
        elif c.season == "rainy":
            curve = curve * weather["rain"]
        growth = 1 + rng.normal(0.04, 0.04) * years
        time[:, j] = c.weight * curve * np.clip(growth, 0.5, None)

    pop = np.asarray([d.population for d in districts], float)
    need = np.asarray([d.need for d in districts])
    prop = np.asarray([d.propensity for d in districts])
    codes = [d.code for d in districts]
    affinity = np.empty((n_c, n_k))
    for j, c in enumerate(cats):
        skew = (0.35 + need) ** (1.6 * c.need_skew)
        skew /= np.average(skew, weights=pop)
        hot = np.asarray([2.0 if code in c.hotspots else 1.0 for code in codes])
        noise = np.exp(rng.normal(0, 0.15, n_k))
        affinity[j] = pop / 1e5 * prop * skew * hot * noise
    lam = time[:, :, None] * affinity[None, :, :]
    lam *= spec.reports / lam.sum()

    c_idx = [c.code for c in cats].index(_SURGE_CATEGORY)
    k_idx = codes.index(_SURGE_DISTRICT)
    window = slice(n_days - _SURGE_DAYS, n_days)
    per_day = lam[window, c_idx, k_idx].mean()
    if per_day * 7 < _SURGE_FLOOR_PER_WEEK:
        lam[:, c_idx, k_idx] *= _SURGE_FLOOR_PER_WEEK / 7 / per_day
    # Measured against the weeks just before as well as the season, so the surge shows both
    # to a detector comparing with recent weeks and to one comparing with last year.
    recent = lam[n_days - _SURGE_DAYS - 56 : n_days - _SURGE_DAYS, c_idx, k_idx].mean()
    level = max(float(recent), float(lam[window, c_idx, k_idx].mean()))
    baseline = level * _SURGE_DAYS
    ramp = np.linspace(*_SURGE_RAMP, _SURGE_DAYS)
    lam[window, c_idx, k_idx] = level * ramp
    counts = rng.poisson(lam).astype(np.int32)

    month_ids = days.year.to_numpy() * 12 + days.month.to_numpy()
    starts = np.flatnonzero(np.r_[True, month_ids[1:] != month_ids[:-1]])
    stops = np.r_[starts[1:], n_days]
    per_day_total = counts.sum(axis=(1, 2))
    offsets = np.r_[
        0, np.cumsum([per_day_total[a:b].sum() for a, b in zip(starts, stops, strict=True)])
    ]
    texts, offset, count = [], [], []
    for c in cats:
        offset.append(len(texts))
        count.append(len(c.texts))
        texts.extend(c.texts)
    edges, bboxes = [], []
    for code in codes:
        e = _edges(geometry[code])
        edges.append(e)
        xs, ys = np.r_[e[:, 0], e[:, 2]], np.r_[e[:, 1], e[:, 3]]
        bboxes.append((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
    streets = np.asarray(_STREETS)
    addresses = []
    for k in range(n_k):
        local_streets = streets[(np.arange(12) * 4 + k) % len(streets)]
        numbers = rng.integers(1, 2400, ADDRESSES_PER_DISTRICT)
        names = rng.choice(local_streets, ADDRESSES_PER_DISTRICT)
        addresses.extend(f"{n} {s}" for n, s in zip(numbers, names, strict=True))
    now_utc = (
        (pd.Timestamp(today).tz_localize(TIMEZONE).tz_convert("UTC").tz_localize(None))
        .to_datetime64()
        .astype("datetime64[s]")
    )
    plan = _ReportPlan(
        seed=seed,
        days=days.to_numpy().astype("datetime64[D]"),
        counts=counts,
        month_bounds=tuple((int(a), int(b)) for a, b in zip(starts, stops, strict=True)),
        month_offsets=tuple(int(x) for x in offsets[:-1]),
        category_codes=tuple(c.code for c in cats),
        category_names=tuple(c.name for c in cats),
        close_days=np.asarray([c.close_days for c in cats], float),
        hour_profile=np.asarray([_HOUR_NAMES.index(c.hours) for c in cats]),
        texts=np.asarray(texts, dtype=object),
        text_offset=np.asarray(offset),
        text_count=np.asarray(count),
        district_codes=tuple(codes),
        edges=tuple(edges),
        bboxes=tuple(bboxes),
        addresses=np.asarray(addresses, dtype=object),
        now_utc=now_utc,
    )
    surge = {
        "surge_category": _SURGE_CATEGORY,
        "surge_district": _SURGE_DISTRICT,
        "surge_problem": "dumping",
        "surge_start": (days[window][0]).date(),
        "surge_end": (days[window][-1]).date(),
        "surge_multiplier": float(ramp.mean()),
        "surge_expected_baseline": baseline,
    }
    return plan, surge


def _report_month(plan: _ReportPlan, month: int) -> pd.DataFrame:
    """All reports of one calendar month, sorted by time (columns: ``REPORT_COLUMNS``)."""
    a, b = plan.month_bounds[month]
    rng = np.random.default_rng([plan.seed, 311, month])
    sub = plan.counts[a:b]
    flat = sub.reshape(-1)
    cells = np.flatnonzero(flat)
    cells = np.repeat(cells, flat[cells])
    d, c, k = np.unravel_index(cells, sub.shape)
    n = cells.size

    hour = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    profile = plan.hour_profile[c]
    for p, cdf in enumerate(_HOUR_CDFS):
        mask = profile == p
        hour[mask] = np.minimum(np.searchsorted(cdf, u[mask], side="right"), 23)
    seconds = hour * 3600 + rng.integers(0, 3600, n)
    day = plan.days[a + d]
    local = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    order = np.argsort(local, kind="stable")
    d, c, k, day, local = d[order], c[order], k[order], day[order], local[order]

    requested = (
        pd.DatetimeIndex(local)
        .tz_localize(TIMEZONE, ambiguous=np.zeros(n, dtype=bool), nonexistent="shift_forward")
        .tz_convert("UTC")
        .tz_localize(None)
        .to_numpy()
        .astype("datetime64[s]")
    )
    delay = plan.close_days[c] * np.exp(rng.normal(0, 0.9, n)) * 86_400
    closed = requested + delay.astype("timedelta64[s]")
    # About 1% fall through the cracks and stay open for good.
    is_closed = (rng.random(n) >= 0.01) & (closed <= plan.now_utc)
    waited = (plan.now_utc - requested).astype(np.int64)
    touched = requested + (waited * rng.uniform(0, 0.4, n)).astype("timedelta64[s]")
    nat = np.datetime64("NaT", "s")

    lat = np.empty(n)
    lon = np.empty(n)
    for kk in np.unique(k):
        rows = np.flatnonzero(k == kk)
        x, y = _sample_points(rng, rows.size, plan.edges[kk], plan.bboxes[kk])
        lon[rows], lat[rows] = np.round(x, 6), np.round(y, 6)

    text = plan.text_offset[c] + (rng.random(n) * plan.text_count[c]).astype(np.int64)
    address = k * ADDRESSES_PER_DISTRICT + rng.integers(0, ADDRESSES_PER_DISTRICT, n)
    first_id = plan.month_offsets[month] + 1
    return pd.DataFrame(
        {
            "service_request_id": [f"RVT-{i:08d}" for i in range(first_id, first_id + n)],
            "category_code": pd.Categorical.from_codes(c, categories=plan.category_codes),
            "raw_category": pd.Categorical.from_codes(c, categories=plan.category_names),
            "description": plan.texts[text],
            "status": np.where(is_closed, "closed", "open").astype(object),
            "requested_at": requested,
            "updated_at": np.where(is_closed, closed, touched),
            "closed_at": np.where(is_closed, closed, nat),
            "lat": lat,
            "lon": lon,
            "address": plan.addresses[address],
            "district_code": pd.Categorical.from_codes(k, categories=plan.district_codes),
            "day": day.astype("datetime64[s]"),
        },
        columns=list(REPORT_COLUMNS),
    )
