"""Events of one aggregate arriving out of order, repeated, or at the same time: the newest version
wins and nothing is applied twice (services.common.consumer, versioned subscriptions).

For every consumer service and each of its versioned subscriptions with a real event in the demo
district, five newer versions of that event (each with a visibly different name) are applied with the
service's own Consumer.handle, on copies of its seeded store:

- in order on one copy, shuffled with repeats on another: the two stores must end up the same;
- two deliveries at once (the newer one first, the older one while it is still in its transaction,
  as two worker threads or two worker replicas can): the store must end up as if they came in order.
"""

from __future__ import annotations

import random
import threading

import psycopg
import pytest

from tests.reliability import stats
from tests.reliability.cluster import plain_url, scalar, wait_until
from tests.reliability.events import consumer_for, content, differences, renewed, samples
from tests.reliability.topology import consumers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

VERSIONS = 5


def _versioned(seeded, databases, service):
    pairs = [(s, e) for s, e in samples(seeded, databases, service) if s.versioned and e.get("aggregate_id")]
    if not pairs:
        pytest.fail(f"{service} consumes no versioned event that the demo district publishes")
    return pairs


@pytest.mark.parametrize("service", consumers())
def test_out_of_order_and_repeated_events_leave_the_newest_version(service, seeded, databases):
    pairs = _versioned(seeded, databases, service)
    in_order, shuffled = (databases.create(f"{label}_{service}", template=seeded[service])
                          for label in ("inorder", "shuffled"))
    ordered_runtime, ordered = consumer_for(service, in_order)
    shuffled_runtime, mixed = consumer_for(service, shuffled)
    rng = random.Random(20261128)
    deliveries = 0
    try:
        for index, (subscription, envelope) in enumerate(pairs):
            versions = [renewed(envelope, subscription, version_bump=1000 * (index + 1) + k, tag=f"v{k}")
                        for k in range(1, VERSIONS + 1)]
            for event in versions:
                ordered.handle(subscription, event)
            arrivals = versions + rng.sample(versions, 3)
            rng.shuffle(arrivals)
            outcomes = [mixed.handle(subscription, event) for event in arrivals]
            deliveries += len(arrivals)
            key = f"{envelope['source']}/{envelope['subject']}"
            assert scalar(shuffled, "SELECT version FROM applied_versions WHERE aggregate = %s", (key,)) \
                == versions[-1]["aggregate_version"], f"{subscription.name}: the newest version is not the applied one"
            assert outcomes.count("applied") <= VERSIONS and outcomes.count("duplicate") == 3, outcomes
    finally:
        ordered_runtime.store.dispose()
        shuffled_runtime.store.dispose()
    stats.count("fault: out-of-order and repeated deliveries (in-process consumer)", deliveries)
    found = differences(content(in_order), content(shuffled))
    assert not found, f"{service}: out of order is not the same as in order:\n" + "\n".join(found)


def _waiting(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE NOT l.granted AND a.datname = current_database()")


@pytest.mark.parametrize("service", consumers())
def test_concurrent_deliveries_of_one_aggregate_keep_the_newest(service, seeded, databases):
    subscription, envelope = _versioned(seeded, databases, service)[0]
    base = renewed(envelope, subscription, version_bump=500, tag="base")
    newer = renewed(envelope, subscription, version_bump=2000, tag="newer")
    older = renewed(envelope, subscription, version_bump=1000, tag="older")

    reference = databases.create(f"ref_{service}", template=seeded[service])
    runtime, consumer = consumer_for(service, reference)
    for event in (base, newer, older):
        consumer.handle(subscription, event)
    runtime.store.dispose()

    url = databases.create(f"race_{service}", template=seeded[service])
    runtime, consumer = consumer_for(service, url)
    consumer.handle(subscription, base)
    outcomes: dict[str, str] = {}

    def deliver(name: str, event: dict) -> None:
        outcomes[name] = consumer.handle(subscription, event)

    try:
        with psycopg.connect(plain_url(url)) as locker:
            # Inserts into the inbox wait: a transaction that reaches its inbox row stays open.
            locker.execute("LOCK TABLE inbox IN SHARE MODE")
            first = threading.Thread(target=deliver, args=("newer", newer))
            first.start()
            wait_until(lambda: _waiting(url) >= 1, 10, "the newer event's transaction to wait at its inbox row")
            second = threading.Thread(target=deliver, args=("older", older))
            second.start()
            wait_until(lambda: _waiting(url) >= 2, 10, "the older event's transaction to wait too")
            locker.rollback()
        first.join(30)
        second.join(30)
    finally:
        runtime.store.dispose()
    stats.count("fault: concurrent deliveries of one aggregate (in-process consumer)", 2)
    key = f"{envelope['source']}/{envelope['subject']}"
    applied = scalar(url, "SELECT version FROM applied_versions WHERE aggregate = %s", (key,))
    found = differences(content(reference), content(url))
    assert applied == newer["aggregate_version"] and not found, \
        f"{service}: outcomes {outcomes}, applied version {applied} (newest {newer['aggregate_version']}):\n" + \
        "\n".join(found)
