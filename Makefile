# Every entry point a person or CI uses. `make run` and `make test` work on a fresh clone:
# they create the virtual environment and the generated stubs when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STUBS := supervision/.generated
PROTOS := $(shell find protos -name '*.proto')
PYTEST := $(PY) -m pytest
# make test's pytest-xdist workers; a module's tests stay on one (loadfile), so a module's fixtures
# (a district, a browser) are built once. The contract tests run in one process of their own: their
# last test checks that together they exercised every subscription.
TEST_WORKERS ?= 2
# The dashboard's chart library, from npm at build time (services/gateway/web/build.sh).
WEB := services/gateway/web
WEB_ASSETS := services/gateway/static/vendor/.built

.PHONY: run test test-unit test-integration test-nameko protos web lint bench clean events

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(STUBS): $(PROTOS) $(INSTALLED) tools/gen_protos.py
	rm -rf supervision
	$(PY) tools/gen_protos.py

protos: $(STUBS)

$(WEB_ASSETS): $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/build.sh
	$(WEB)/build.sh
	touch $@

web: $(WEB_ASSETS)

run: $(STUBS) $(WEB_ASSETS)
	$(PY) -m services.monolith

# The nameko tests run eventlet-patched workers: they get a pytest process of their own so that
# no gRPC code ever runs monkey-patched; the contract tests get one for their coverage check. The
# main run hands its files to the workers longest first (by the last run's seconds, kept in pytest's
# cache; tests/conftest.py), so that neither worker is left alone with a long one at the end while
# the other idles, and the modules of the shared demo district go to one worker, which loads it once.
# The nameko run waits on the broker most of its time and the contract tests take one process, so
# both run beside the main run (whose two workers leave the cores idle while they wait on browsers,
# brokers and processes); their reports follow its, and the target fails if any of them does.
test: $(STUBS) $(WEB_ASSETS)
	@mkdir -p build; \
	$(PYTEST) -m nameko tests/integration > build/test-nameko.log 2>&1 & nameko=$$!; \
	$(PYTEST) -m "not nameko" -p no:nameko tests/contracts > build/test-contracts.log 2>&1 & contracts=$$!; \
	$(PYTEST) -m "not nameko" -p no:nameko -n $(TEST_WORKERS) --dist loadfile \
		tests/integration tests/api tests/simulator tests/deploy tests/unit; main=$$?; \
	wait $$contracts; contracts_status=$$?; \
	wait $$nameko; nameko_status=$$?; \
	echo "--- $(PYTEST) -m \"not nameko\" -p no:nameko tests/contracts"; cat build/test-contracts.log; \
	echo "--- $(PYTEST) -m nameko tests/integration"; cat build/test-nameko.log; \
	test $$main -eq 0 && test $$contracts_status -eq 0 && test $$nameko_status -eq 0

# While editing: the domains and the shared code, with no server at all (seconds).
test-unit: $(STUBS)
	$(PYTEST) -p no:nameko -q tests/unit

# The services through real gRPC, real stores (SQLite, PostgreSQL), real events and processes.
test-integration: $(STUBS) $(WEB_ASSETS)
	$(PYTEST) -m "not nameko" -p no:nameko -n $(TEST_WORKERS) --dist loadfile tests/api tests/integration tests/simulator
	$(PYTEST) -m "not nameko" -p no:nameko tests/contracts

# The services' nameko workers against RabbitMQ.
test-nameko: $(STUBS)
	$(PYTEST) -m nameko tests/integration

# The house rules, checked: ruff (with a docstring on every public name of services/common and the
# domains), mypy strict on services/common and every domain package, import-linter's contracts
# (services independent of each other, common above every service, domains free of transport and
# of their service's outer layer; pyproject.toml), the protos' lint and compatibility, and the
# event map's freshness.
lint: $(STUBS)
	$(PY) -m ruff check services tests tools bench simulator
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) tools/buf.py lint
	$(PY) tools/buf.py breaking
	$(PY) tools/event_map.py --check

# docs/events.md: every event, its publisher and its consumers, generated from the contracts and
# the services' subscriptions (tools/event_map.py); `make lint` fails when it is stale.
events: $(STUBS)
	$(PY) tools/event_map.py

bench: $(STUBS)
	$(PY) -m bench.run

clean:
	rm -rf supervision build var .pytest_cache .ruff_cache services/gateway/static/vendor $(WEB)/node_modules

# Deploy and operate: the microservices topology on this machine, and the offline checks of the
# image, the Kubernetes manifests, the alerts and the dashboards (docs/operations.md).
.PHONY: run-micro k8s-check

# Per service a PostgreSQL database on 127.0.0.1 (supervision_<service>), its migrations, an API
# and a worker process, events through RabbitMQ, the demo district; Ctrl-C stops everything.
run-micro: $(STUBS) $(WEB_ASSETS)
	$(PY) tools/run_micro.py

# Installs its pinned tools on first use (pip; promtool from Debian's prometheus package).
k8s-check: $(INSTALLED)
	$(PY) tools/k8s_check.py

# A release's manifests: OVERLAY (default prod) rendered into build/release/<overlay>.yaml with every
# image pinned to its digest. DIGESTS: a file of "<image> sha256:..." lines (CI without registry
# access); without it crane, skopeo or docker buildx asks the registry. Refuses tag-only images.
.PHONY: release-manifests
release-manifests: $(INSTALLED)
	$(PY) tools/release_manifests.py --overlay $(or $(OVERLAY),prod) $(if $(DIGESTS),--digests $(DIGESTS))

# A living district. demo: the center as `make run` starts it, and the simulator playing days of the
# district at 120x through its APIs, nights skipped so the dashboard never goes quiet; Ctrl-C
# stops both. smoke: the center on free ports in a temporary directory and a minute of load with
# every action in the mix, at a rate this machine holds; any failed request fails it.
# bench-soak: ten minutes of the simulator's mix, errors and the center's memory recorded.
.PHONY: demo smoke bench-soak

demo: $(STUBS) $(WEB_ASSETS)
	$(PY) -m simulator --center run --speed 120 --skip-nights --start 08:30

smoke: $(STUBS)
	$(PY) -m simulator --center temp --rate 20 --duration 60 --mix all --progress 15

bench-soak: $(STUBS)
	$(PY) -m bench.soak

# The reliability suite (tests/reliability, docs/reliability.md): faults, bad input, access
# and evidence on real processes, PostgreSQL and RabbitMQ, in microservices mode. Its tests are
# collected only when named, so `make test` does not run them. Workers run as processes of their own,
# so no test of this suite runs eventlet-patched: one pytest process, with nameko's plugin off.
# CHAOS_EXAMPLES (default 20) sets the generated requests per method; CHAOS_RANDOM=1 explores.
.PHONY: chaos

chaos: $(STUBS)
	$(PYTEST) -p no:nameko tests/reliability
