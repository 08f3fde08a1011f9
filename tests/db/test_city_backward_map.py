"""The Riverton pack through the city-pack import, on SQLite and PostgreSQL: the backward map,
innovations, engagements and policy areas go in idempotently and audited, come back out by
export, and the demo seeder imports its catalogue through the same door.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from db.catalog import export_pack, import_pack, policy_area_labels
from db.models import (
    AuditLog,
    Base,
    CausalFactor,
    Engagement,
    FactorLink,
    Innovation,
    Problem,
    ProblemDistrict,
    ReportCategory,
)
from db.seed import seed_demo_city
from db.session import Database
from triage.citypack import CityPack, CitySpec, read_pack, write_pack
from triage.demo import build_demo_city
from triage.security import Principal
from triage.settings import REPO_ROOT

RIVERTON = REPO_ROOT / "packs" / "riverton"
ADMIN = Principal.system("test")
TZ = "America/New_York"
TODAY = dt.date(2026, 11, 18)
CATALOGUE = (
    "districts",
    "departments",
    "indicators",
    "problems",
    "actors",
    "categories",
    "policy_areas",
    "factors",
    "innovations",
    "engagements",
)


def _import(database: Database, pack: CityPack) -> Any:
    with database.session(write=True) as session:
        return import_pack(session, ADMIN, pack, city_tz=TZ)


def _export(database: Database) -> CityPack:
    with database.session() as session:
        return export_pack(session, default_city=CitySpec("Nowhere", "UTC"))


def _count(database: Database, model: Any) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_cbm001_riverton_imports_whole_then_changes_nothing(database: Database) -> None:
    first = _import(database, read_pack(RIVERTON))
    assert first.rejects == []
    added = {name: counts.added for name, counts in first.files.items()}
    assert added["factors.csv"] == 179 and added["innovations.csv"] == 87
    assert added["engagements.csv"] == 239 and added["policy_areas.csv"] == 10
    assert added["problems.csv"] == 37 and added["categories"] == 63
    assert _count(database, AuditLog) == first.changed
    assert _count(database, FactorLink) == 34 and _count(database, ProblemDistrict) == 235
    with database.session() as session:
        guns = session.scalars(select(Problem).where(Problem.code == "gun_violence")).one()
        assert (guns.political_capital, guns.authority) == (5, 3)
        codes = session.scalars(select(ReportCategory.code).order_by(ReportCategory.id)).all()
        assert codes[:2] == ["pothole", "street_cave_in"]  # the pack's codes, in its order
        assert policy_area_labels(session)["health"] == "Health"

    second = _import(database, read_pack(RIVERTON))
    assert second.changed == 0 and second.placement is None
    assert second.files["factors.csv"].unchanged == 179
    assert second.files["engagements.csv"].unchanged == 239
    assert _count(database, AuditLog) == first.changed


def test_cbm002_a_changed_backward_map_updates_what_changed(
    database: Database, tmp_path: Path
) -> None:
    _import(database, read_pack(RIVERTON))
    audited = _count(database, AuditLog)
    changed = tmp_path / "riverton"
    shutil.copytree(RIVERTON, changed)
    factors = (changed / "factors.csv").read_text(encoding="utf-8")
    # gun_violence factor 3 feeds into factor 1; make it feed into factor 2, and reweigh 1.
    jobs = "gun_violence,3,Few jobs and programmes for young men aged 16 to 24,influences,strong"
    feud = "gun_violence,1,Retaliation cycles between a small number of groups,influences,strong"
    assert f"{jobs},0.55,1," in factors and f"{feud},0.94," in factors
    factors = factors.replace(f"{jobs},0.55,1,", f"{jobs},0.55,2,")
    factors = factors.replace(f"{feud},0.94,", f"{feud},0.5,")
    (changed / "factors.csv").write_text(factors, encoding="utf-8")
    areas = (changed / "policy_areas.csv").read_text(encoding="utf-8")
    (changed / "policy_areas.csv").write_text(areas.replace(",Health\n", ",Public health\n"))

    report = _import(database, read_pack(changed))
    assert report.rejects == []
    assert report.files["factors.csv"].updated == 2
    assert report.files["policy_areas.csv"].updated == 1
    assert report.changed == 3
    assert _count(database, AuditLog) == audited + 3
    with database.session() as session:
        titles = dict(session.execute(select(CausalFactor.id, CausalFactor.title)).all())
        weights = dict(session.execute(select(CausalFactor.title, CausalFactor.weight)).all())
        links = {
            (titles[child], titles[parent])
            for child, parent in session.execute(select(FactorLink.factor_id, FactorLink.parent_id))
        }
        assert weights["Retaliation cycles between a small number of groups"] == 0.5
        jobs = "Few jobs and programmes for young men aged 16 to 24"
        assert (jobs, "Easy access to illegal handguns") in links
        assert (jobs, "Retaliation cycles between a small number of groups") not in links
        assert policy_area_labels(session)["health"] == "Public health"
        update = session.scalars(
            select(AuditLog).where(AuditLog.entity == "policy_area").order_by(AuditLog.id.desc())
        ).first()
        assert update is not None and update.before == {"label": "Health"}


def test_cbm003_export_then_import_into_an_empty_database_round_trips(
    database: Database, tmp_path: Path
) -> None:
    _import(database, read_pack(RIVERTON))
    exported = _export(database)
    write_pack(tmp_path / "out", exported)
    back = read_pack(tmp_path / "out")
    assert back.rejects == []
    assert len(back.factors) == 179 and len(back.engagements) == 239
    with database.engine.begin() as connection:
        for model in (Engagement, Innovation, FactorLink, CausalFactor):
            connection.execute(model.__table__.delete())
    # Re-importing the export restores the backward map exactly.
    restored = _import(database, back)
    assert restored.files["factors.csv"].added == 179
    assert restored.files["engagements.csv"].added == 239
    again = _export(database)
    for name in CATALOGUE:
        assert getattr(again, name) == getattr(exported, name), name


def test_cbm004_the_demo_seed_imports_its_catalogue_as_a_pack(database: Database) -> None:
    # replace=True restarts the id sequences (PostgreSQL keeps them between tests).
    summary = seed_demo_city(database, seed=7, scale="small", today=TODAY, replace=True)
    city = build_demo_city(seed=7, scale="small", today=TODAY)
    assert summary.counts["app_settings"] == 2 and _count(database, AuditLog) == 1
    with database.session() as session:
        problems = session.execute(select(Problem.id, Problem.code).order_by(Problem.id)).all()
        assert [tuple(p) for p in problems] == [
            (n, p["key"]) for n, p in enumerate(city.problems, start=1)
        ]
        assert policy_area_labels(session)["public_safety"] == "Public safety"
        # The same pack again changes nothing: the demo database is an imported city.
        report = import_pack(session, ADMIN, city.as_pack(), city_tz=TZ, audit=False)
        assert report.rejects == [] and report.changed == 0
    exported = _export(database)
    generated = city.as_pack()
    assert [f.title for f in exported.factors] == [f.title for f in generated.factors]
    assert sorted(e.actor for e in exported.engagements) == sorted(
        e.actor for e in generated.engagements
    )


# What the demo seeder wrote before its catalogue moved into packs/riverton (seed 7, small,
# 2026-11-18), as a digest of these columns: the move changed none of them. Problems gained a
# ``code`` (their key) and the city and policy-area settings were added; both are left out.
DEMO_COLUMNS = {
    "departments": ("id", "code", "name"),
    "districts": (
        "id",
        "code",
        "name",
        "population",
        "median_household_income",
        "need_index",
        "geometry",
    ),
    "users": ("id", "username", "display_name", "role", "department_id"),
    "problems": (
        "id",
        "title",
        "description",
        "policy_area",
        "status",
        "owner_id",
        "lead_department_id",
        "desired_outcome",
        "political_capital",
        "political_notes",
        "authority",
        "authority_notes",
        "created_at",
        "updated_at",
        "version",
    ),
    "problem_districts": ("problem_id", "district_id"),
    "indicators": (
        "id",
        "code",
        "name",
        "description",
        "unit",
        "direction",
        "cadence",
        "department_id",
        "target",
        "warning_threshold",
        "critical_threshold",
        "source",
        "created_at",
    ),
    "indicator_status_updates": ("id", "indicator_id", "status", "note", "author_id", "created_at"),
    "problem_indicators": ("problem_id", "indicator_id", "weight"),
    "report_categories": ("id", "code", "name", "department_id"),
    "category_problems": ("category_id", "problem_id", "weight"),
    "causal_factors": (
        "id",
        "problem_id",
        "title",
        "description",
        "reach",
        "evidence",
        "weight",
        "indicator_id",
    ),
    "factor_links": ("factor_id", "parent_id"),
    "actors": ("id", "name", "sector", "description", "contact"),
    "engagements": (
        "id",
        "actor_id",
        "problem_id",
        "factor_id",
        "role",
        "stance",
        "committed_funding",
        "authorisation",
        "strings",
        "last_contact",
    ),
    "innovations": (
        "id",
        "problem_id",
        "title",
        "description",
        "origin",
        "kind",
        "stage",
        "lead_actor_id",
        "evidence",
        "evidence_note",
        "cost",
    ),
    "decisions": ("id", "week", "problem_id", "decision", "note", "author_id", "created_at"),
    "observations": ("id", "indicator_id", "period", "value", "entered_by_id", "entered_at"),
}
DEMO_DIGEST_BEFORE_THE_PACK = "fc3311efeb193c4bde7f85308b7e57eafe45989f05bd71a5e08826b88cdab473"


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def demo_digest(database: Database) -> str:
    """sha256 of the demo tables' columns above, rows in primary-key order, backend-neutral."""
    digest = hashlib.sha256()
    tables = Base.metadata.tables
    with database.engine.connect() as connection:
        for name, columns in DEMO_COLUMNS.items():
            table = tables[name]
            keys = list(table.primary_key.columns)
            rows = connection.execute(select(*(table.c[c] for c in columns)).order_by(*keys)).all()
            text = json.dumps([[_plain(v) for v in row] for row in rows], sort_keys=True)
            digest.update(f"{name}:{len(rows)}:{text}\n".encode())
    return digest.hexdigest()


def test_cbm005_the_demo_tables_are_those_seeded_before_the_pack(database: Database) -> None:
    seed_demo_city(database, seed=7, scale="small", today=TODAY, replace=True)
    assert demo_digest(database) == DEMO_DIGEST_BEFORE_THE_PACK
