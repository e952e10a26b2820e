"""A nameko worker killed (SIGKILL) in the middle of handling an event: the event is redelivered and
applied exactly once.

For every service that consumes events, and one of its subscriptions with a real event from the demo
district: the worker runs on a copy of the seeded store; the test holds a SHARE lock on its inbox
(reads pass, inserts wait), publishes the event, waits until the worker's transaction is blocked
inserting the inbox row (its effects written, not committed), then kills the worker with SIGKILL.
Nothing may be left; a new worker gets the redelivered event and must leave the store exactly as one
application of the event does (Consumer.handle on another copy); a second delivery changes nothing.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.reliability import stats
from tests.reliability.cluster import Fingerprint, inbox_ids, plain_url, publisher, scalar, wait_until
from tests.reliability.events import consumer_for, counts, renewed, samples
from tests.reliability.topology import consumers

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(180)]


@pytest.mark.parametrize("service", consumers())
def test_a_worker_killed_mid_event_leaves_nothing_and_the_redelivery_applies_once(service, seeded, databases,
                                                                                    cluster):
    candidates = samples(seeded, databases, service)
    assert candidates, f"the demo district publishes none of the events {service} consumes"
    reference = databases.create(f"ref_{service}", template=seeded[service])
    runtime, consumer = consumer_for(service, reference)
    # The subscription whose event visibly changes the store (beyond the inbox), if any.
    chosen = None
    for subscription, envelope in candidates:
        event = renewed(envelope, subscription)
        before = counts(reference)
        outcome = consumer.handle(subscription, event)
        changed = {t for t, n in counts(reference).items() if n != before.get(t)} - {"inbox", "applied_versions"}
        chosen = (subscription, event, outcome, before)
        if outcome == "applied" and changed:
            break
    runtime.store.dispose()
    subscription, event, outcome, reference_before = chosen
    reference_after = counts(reference)
    delta = {t: n - reference_before.get(t, 0) for t, n in reference_after.items()}

    url = databases.create(service, template=seeded[service])
    worker = cluster.worker(service, url)
    start = counts(url)
    expected = {t: n + delta.get(t, 0) for t, n in start.items()}
    fingerprint = Fingerprint(url)
    untouched = fingerprint()
    with psycopg.connect(plain_url(url)) as locker:
        locker.execute("LOCK TABLE inbox IN SHARE MODE")
        publisher(cluster.amqp_uri).publish(event)
        wait_until(lambda: scalar(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                       "WHERE c.relname = 'inbox' AND NOT l.granted"), 20,
                   f"{service}'s worker to be blocked writing the inbox row")
        worker.kill()
        locker.rollback()
    wait_until(lambda: not scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid() AND state <> 'idle'"), 20,
               "the killed worker's transaction to end")
    assert event["id"] not in inbox_ids(url, subscription.source, subscription.type_name)
    assert fingerprint() == untouched, "a killed worker left a partial effect: " + \
        "; ".join(fingerprint.diff(untouched, fingerprint()))

    cluster.worker(service, url)
    wait_until(lambda: event["id"] in inbox_ids(url, subscription.source, subscription.type_name), 30,
               "the redelivered event to be applied")
    applied = counts(url)
    publisher(cluster.amqp_uri).publish(event)  # and once more: a duplicate
    wait_until(lambda: scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND pid <> pg_backend_pid() AND state = 'active'") == 0, 10, "the worker to idle")
    fingerprint.close()
    stats.count("fault: worker SIGKILL mid-event (consumer services)", 1)
    stats.note("worker kill", f"{service}: {subscription.source}.{subscription.event_type} -> {outcome}, "
                              f"{sum(applied.values()) - sum(start.values())} rows")
    assert applied == expected, f"after redelivery {service}'s store differs from one application: " + \
        str({t: (applied.get(t), expected.get(t)) for t in expected if applied.get(t) != expected.get(t)})
    assert counts(url) == applied, "a duplicate delivery changed the store"
