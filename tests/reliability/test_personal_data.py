"""Complainants' personal data (name, phone, ID number) never leaves the complaints service except to
those who may see it (docs/architecture.md, "Security"): not in any process's log, not in any service's outbox
(events), not in another service's store, not in any answer to a role that may not see it.

The district runs in microservices mode with AUTH_MODE=jwt and LOG_LEVEL=DEBUG. The test files
complaints, reports and inquiries whose complainants have unique name, phone and ID number, repeats
them in every free-text field it can (descriptions, notes, answers, feedback, reroute reasons), drives
the items through their states, also sends invalid variants (so that error paths run), lets every
event reach every consumer, and then scans.
"""

from __future__ import annotations

import json
import random
import time

import pytest
from google.protobuf.message import Message

from tests.reliability import catalog, stats
from tests.reliability.builders import plausible
from tests.reliability.cluster import query, tables
from tests.reliability.district import SECRET, Harvest, bearer, invoke, token
from tests.reliability.pii import leaks, person
from tests.reliability.topology import Topology

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]

def complaints_methods() -> dict[str, catalog.Method]:
    return {m.name: m for m in catalog.spec("complaints").methods}


@pytest.mark.skipif("complaints" not in catalog.service_names(), reason="no complaints service")
def test_personal_data_never_reaches_logs_events_other_stores_or_unentitled_callers(seeded, databases, cluster):
    topology = Topology.start(cluster, databases, seeded, amqp_uri=cluster.amqp_uri, AUTH_MODE="jwt",
                              JWT_SECRET=SECRET, LOG_LEVEL="DEBUG")
    leader = bearer(token(["bureau_leader"]))
    api = topology.apis["complaints"].channel
    methods = complaints_methods()
    harvest = Harvest()
    for method in methods.values():
        for message in invoke(api, method, method.request_class(), leader).messages():
            harvest.absorb(message)
    rng = random.Random(20261128)
    people = [person(rng) for _ in range(6)]
    complaint_type = methods["CreateComplaint"].input.fields_by_name["complaint"].message_type
    stored = [c for c in (_parse(complaint_type, raw) for raw in harvest.messages[complaint_type.full_name])
              if c.respondent.street]
    assert stored, "the demo district has no complaint to model new ones on"
    created: list[Message] = []
    for index, p in enumerate(people):
        template = stored[index % len(stored)]
        request = methods["CreateComplaint"].request_class(request_id=f"pii-{index}-{rng.random()}")
        request.complaint.CopyFrom(template)
        request.complaint.complainant.name = p["name"]
        request.complaint.complainant.phone = p["phone"]
        request.complaint.complainant.id_number = p["id_number"]
        request.complaint.complainant.anonymous = False
        request.complaint.description = (f"本人{p['name']}，电话{p['phone']}，身份证{p['id_number']}，"
                                         f"{template.description}")
        answer = invoke(api, methods["CreateComplaint"], request, leader)
        assert answer.ok, f"CreateComplaint refused: {answer.code.name} {answer.details}"
        created.append(answer.response)
        # The same person with a mistyped ID number and phone: the refusal must not quote them.
        bad = methods["CreateComplaint"].request_class()
        bad.CopyFrom(request)
        bad.request_id = ""
        bad.complaint.complainant.id_number = p["id_number"][:-1] + ("0" if p["id_number"][-1] != "0" else "1")
        bad.complaint.complainant.phone = p["phone"][:-1]
        refused = invoke(api, methods["CreateComplaint"], bad, leader)
        assert not refused.ok and not leaks(refused.details, people), refused.details

    # Every step that takes free text, with the complainant's details in it, on every item.
    topology.learn()
    offices = topology.offices()
    texts = {p["name"]: f"已联系{p['name']}（{p['phone']}，{p['id_number']}）" for p in people}
    steps = 0
    for item, p in zip(created, people, strict=True):
        text = texts[p["name"]]
        for name in ("AcceptComplaint", "VerifyReport", "RecordMediationOutcome", "RecordNotification",
                     "ExtendFilingDeadline", "DecideReport", "AnswerInquiry", "RecordFeedback", "RerouteComplaint"):
            method = methods.get(name)
            if method is None:
                continue
            request = method.request_class(id=item.id)
            for field in method.input.fields:
                if field.name in ("note", "answer", "comment", "reason", "approved_by"):
                    setattr(request, field.name, text)
                elif field.type == field.TYPE_ENUM:
                    setattr(request, field.name, 1)
                elif field.name == "file_case":
                    request.file_case = True
                elif field.name == "office_id":
                    request.office_id = next(o for o in offices if o != item.office_id)
            invoke(api, method, request, leader)
            steps += 1
    # Everyone else's view: every method of every service, as the auditor and as an office user of an
    # office that handles none of these items, with requests built from real records.
    handling = {c.office_id for c in created}
    final = {c.id: invoke(api, methods["GetComplaint"], methods["GetComplaint"].request_class(id=c.id), leader)
             .response for c in created}
    handling |= {c.office_id for c in final.values() if c is not None}
    outsider_office = next(o for o in topology.offices() if o not in handling)
    unentitled = {"auditor": bearer(token(["auditor"])),
                  "office_head elsewhere": bearer(token(["office_head"], outsider_office)),
                  "officer elsewhere": bearer(token(["officer"], outsider_office))}
    answers = 0
    exposed: list[str] = []
    for role, metadata in unentitled.items():
        for item in created:
            for name in ("GetComplaint", "ListComplaints"):
                method = methods[name]
                request = method.request_class(id=item.id) if name == "GetComplaint" else method.request_class()
                outcome = invoke(api, method, request, metadata)
                answers += 1
                hits = [h for m in outcome.messages() for h in leaks(m.SerializeToString().decode("utf-8", "replace"),
                                                                    people)]
                if hits:
                    exposed.append(f"{role} {name}({item.id}): {sorted(set(hits))}")
        for service, process in topology.apis.items():
            for method in catalog.spec(service).methods:
                for office in (outsider_office, sorted(handling)[0]):
                    for request in plausible(method, topology.harvest, office, variants=1)[:2]:
                        outcome = invoke(process.channel, method, request, metadata)
                        answers += 1
                        text = "".join(m.SerializeToString().decode("utf-8", "replace") for m in outcome.messages())
                        hits = leaks(text + outcome.details, people)
                        if hits:
                            exposed.append(f"{role} {method.path}: {sorted(set(hits))}")

    # Who may see it does see it (the masking is not simply everywhere).
    assert any(leaks(c.SerializeToString().decode("utf-8", "replace"), people) for c in final.values()
               if c is not None), "the bureau leader should see complainants' details"

    topology.wait_delivered(timeout=60)
    time.sleep(1.0)
    events = [json.dumps(e, ensure_ascii=False) for s in topology.urls for e in topology.new_events(s)]
    in_events = [f"{json.loads(e)['source']}.{json.loads(e)['type']}: {leaks(e, people)}" for e in events
                 if leaks(e, people)]
    in_stores = []
    own = "\n".join(row for table in tables(topology.urls["complaints"])
                    for (row,) in query(topology.urls["complaints"], f'SELECT x::text FROM "{table}" x'))
    assert set(leaks(own, people)) >= {p["phone"] for p in people}, "the scan does not find what complaints stores"
    for service, url in topology.urls.items():
        if service == "complaints":
            continue
        for table in tables(url):
            for (row,) in query(url, f'SELECT x::text FROM "{table}" x'):
                if leaks(row, people):
                    in_stores.append(f"{service}.{table}: {leaks(row, people)}")
    logs = cluster.logs()
    in_logs = sorted({line[:300] for line in logs.splitlines() if leaks(line, people)})

    stats.count("personal data: complainants with unique details", len(people))
    stats.count("personal data: steps with details in free text", steps)
    stats.count("personal data: answers to unentitled callers scanned", answers)
    stats.count("personal data: events scanned", len(events))
    stats.count("personal data: log lines scanned", logs.count("\n"))
    assert not exposed, "answers to callers who may not see them carry complainants' details:\n" + \
        "\n".join(exposed[:20])
    assert not in_events, "events carry complainants' details:\n" + "\n".join(in_events[:20])
    assert not in_stores, "other services' stores hold complainants' details:\n" + "\n".join(in_stores[:20])
    assert not in_logs, "logs carry complainants' details:\n" + "\n".join(in_logs[:20])
    assert not cluster.dead(), cluster.dead()


def _parse(descriptor, raw: bytes):
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor).FromString(raw)
