"""移动执法, the whole market: the directory holds every market entity of the district, not only the
12 key object types. Now and then an office registers a new business of no key type (a petrol
station, a hardware shop, a hotel that runs lifts...) by its industry code (国民经济行业分类), and
now and then the registration authority's extract arrives as a CSV file with a few bad rows: the
import refuses the whole file and reports each bad row, and the operator then asks for the good
rows. The simulator knows which rows it spoiled and checks both answers by hand.

Credit codes come from the system's random source, not the run's seed: a second run with the same
seed must not find its new businesses already registered.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from simulator import content
from simulator.actions.enforcement import SERVICE
from simulator.context import ActionSpec, Ctx, NotReady
from simulator.world import Business, Work
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

CODES = random.SystemRandom()
HEADER = ("uscc", "name", "category", "address", "street", "risk_level", "key_supervision", "industry_code")
# Rows of an extract (a registration authority sends what registered lately), and how many are spoilt.
EXTRACT_ROWS = (20, 60)
BAD_ROWS = (1, 3)
# A division the classification does not have (it ends at 97).
NO_SUCH_INDUSTRY = "9901"
NO_SUCH_STREET = "不存在街道"


@dataclass(frozen=True)
class Trade:
    """A kind of business of no key object type: its industry class and what it is called."""

    industry_code: str
    # The classification's section letter of the code (an extract may write it first: "F5265").
    section: str
    label: str
    risk: int
    # 92: an individual business (个体工商户); 91: an enterprise.
    kind: str = "91"
    key_share: float = 0.0


TRADES = (
    Trade("5265", "F", "加油站", pb.RISK_LEVEL_HIGH),
    Trade("5234", "F", "五金店", pb.RISK_LEVEL_LOW, "92"),
    Trade("5232", "F", "服装店", pb.RISK_LEVEL_LOW, "92"),
    Trade("5271", "F", "家电商行", pb.RISK_LEVEL_LOW),
    Trade("6110", "H", "酒店", pb.RISK_LEVEL_MEDIUM),  # a lift user (电梯使用单位)
    Trade("8111", "O", "汽车修理厂", pb.RISK_LEVEL_MEDIUM),
    # A gas supply station: a key supervision object although of no key object type.
    Trade("4511", "D", "燃气供应站", pb.RISK_LEVEL_VERY_HIGH, key_share=0.5),
)


def _entities(ctx: Ctx) -> pb_grpc.EntityServiceStub:
    return ctx.stub(SERVICE, pb_grpc.EntityServiceStub)


def new_business(ctx: Ctx, street: str, with_section: bool = False) -> pb.Entity:
    """A business of no key object type in the street, by its industry code (with its section
    letter first when asked, as some extracts write it: "F5265")."""
    trade = ctx.rng.choice(TRADES)
    number = ctx.rng.randint(1, 999)
    return pb.Entity(uscc=content.uscc(CODES, trade.kind), name=f"{street}{trade.label}{number}号店",
                     category=pb.ENTITY_CATEGORY_UNSPECIFIED, address=f"闵行区{street}{number}号", street=street,
                     risk_level=trade.risk, key_supervision=ctx.chance(trade.key_share),
                     industry_code=(trade.section if with_section else "") + trade.industry_code)


def digits(industry_code: str) -> str:
    """The code as the directory stores it: without its section letter."""
    return industry_code.lstrip("ABCDEFGHIJKLMNOPQRST")


def _street(ctx: Ctx, work: Work) -> str:
    streets = ctx.district.offices[work.office_id].streets
    if not streets:
        raise NotReady(f"office {work.office_id} covers no street")
    return ctx.rng.choice(streets)


def _remember(ctx: Ctx, office_id: str, entity: pb.Entity) -> None:
    """The office now supervises the business too: routine inspections may pick it."""
    office = ctx.district.offices[office_id]
    office.businesses.append(Business(entity.uscc, entity.name, entity.address, entity.street, office_id))
    office.business_count += 1
    ctx.district.changed()


async def register(ctx: Ctx, work: Work) -> None:
    """An office registers a business of no key object type; the directory keeps its industry code."""
    wanted = new_business(ctx, _street(ctx, work), with_section=ctx.chance(0.3))
    entity = await _entities(ctx).RegisterEntity(pb.RegisterEntityRequest(request_id=ctx.request_id("entity"),
                                                                          entity=wanted), timeout=ctx.timeout)
    ctx.check("entity.register", "entity.industry_code",
              entity.industry_code == digits(wanted.industry_code)
              and entity.category == pb.ENTITY_CATEGORY_UNSPECIFIED and entity.office_id == work.office_id,
              f"{entity.uscc}: sent {wanted.industry_code!r} of no key type in {wanted.street}, got "
              f"{entity.industry_code!r}, category {entity.category}, office {entity.office_id}")
    _remember(ctx, entity.office_id, entity)


def _row(entity: pb.Entity) -> list[str]:
    risk = pb.RiskLevel.Name(entity.risk_level).removeprefix("RISK_LEVEL_")
    return [entity.uscc, entity.name, "", entity.address, entity.street, risk,
            "true" if entity.key_supervision else "false", entity.industry_code]


def _spoil(ctx: Ctx, row: list[str]) -> None:
    """One fault the registration authority's extract may carry: a wrong check character, an industry
    division the classification lacks, a street no office covers."""
    fault = ctx.rng.randrange(3)
    if fault == 0:
        wrong = next(c for c in "0123456789" if c != row[0][-1])
        row[0] = row[0][:-1] + wrong
    elif fault == 1:
        row[7] = NO_SUCH_INDUSTRY
    else:
        row[4] = NO_SUCH_STREET
        row[3] = f"闵行区{NO_SUCH_STREET}1号"


def extract(ctx: Ctx, streets: list[str]) -> tuple[bytes, list[pb.Entity], set[int]]:
    """A CSV extract of new businesses in the streets, a few rows spoilt: the content, the good
    businesses, and the lines (the header being line 1) that must be refused."""
    rows, good, bad_lines = [], [], set()
    count = ctx.rng.randint(*EXTRACT_ROWS)
    spoilt = set(ctx.rng.sample(range(count), ctx.rng.randint(*BAD_ROWS)))
    for index in range(count):
        entity = new_business(ctx, ctx.rng.choice(streets))
        row = _row(entity)
        if index in spoilt:
            _spoil(ctx, row)
            bad_lines.add(index + 2)
        else:
            good.append(entity)
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), good, bad_lines


def _refused_lines(answer: pb.ImportEntitiesResponse) -> set[int]:
    return {error.line for error in answer.rejected_rows}


async def import_extract(ctx: Ctx, work: Work) -> None:
    """The extract arrives; the import refuses the whole file and reports every spoilt row."""
    streets = ctx.district.offices[work.office_id].streets
    if not streets:
        raise NotReady(f"office {work.office_id} covers no street")
    data, good, bad_lines = extract(ctx, streets)
    answer = await _entities(ctx).ImportEntities(pb.ImportEntitiesRequest(
        request_id=ctx.request_id("import"), content=data), timeout=ctx.timeout)
    ctx.check("entity.import", "import.refused_whole", answer.imported_count == 0
              and answer.row_count == len(good) + len(bad_lines) and _refused_lines(answer) == bad_lines,
              f"{len(good) + len(bad_lines)} rows, bad lines {sorted(bad_lines)}: imported {answer.imported_count} "
              f"of {answer.row_count}, refused lines {sorted(_refused_lines(answer))}")
    ctx.handoff("entities:refused", Work(work.id or "import", work.office_id,
                                         {"content": data, "good": [e.SerializeToString() for e in good],
                                          "bad_lines": sorted(bad_lines)}))


async def import_good_rows(ctx: Ctx, work: Work) -> None:
    """The operator reads the report and asks for the good rows (a new request: the first one's
    answer would be replayed)."""
    bad_lines = set(work.info["bad_lines"])
    good = [pb.Entity.FromString(raw) for raw in work.info["good"]]
    answer = await _entities(ctx).ImportEntities(pb.ImportEntitiesRequest(
        request_id=ctx.request_id("import-valid"), content=work.info["content"], import_valid_rows=True),
        timeout=ctx.timeout)
    ctx.check("entity.import_valid", "import.good_rows", answer.imported_count == len(good)
              and _refused_lines(answer) == bad_lines,
              f"{len(good)} good rows, bad lines {sorted(bad_lines)}: imported {answer.imported_count}, "
              f"refused lines {sorted(_refused_lines(answer))}")
    for entity in good:
        _remember(ctx, work.office_id, entity)


SPECS = [
    # A new business of no key type every few days per office; an extract now and then.
    ActionSpec("entity.register", SERVICE, register, per_office_daily=0.2, needs="streets",
               summary="an office registers a business of no key object type"),
    ActionSpec("entity.import", SERVICE, import_extract, per_office_daily=0.01, needs="streets",
               feeds=(("entities:refused", 1.0),),
               summary="the registration authority's extract is imported (bad rows: refused whole)"),
    ActionSpec("entity.import_valid", SERVICE, import_good_rows, consumes="entities:refused", delay_hours=(0.5, 24)),
]
