# Every entry point a person or CI uses. `make run` and `make test` work on a fresh clone:
# they create the virtual environment and the generated stubs when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STUBS := supervision/.generated
PROTOS := $(shell find protos -name '*.proto')
PYTEST := $(PY) -m pytest

.PHONY: run test test-unit test-integration test-nameko protos lint bench clean

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(STUBS): $(PROTOS) $(INSTALLED) tools/gen_protos.py
	rm -rf supervision
	$(PY) tools/gen_protos.py

protos: $(STUBS)

run: $(STUBS)
	$(PY) -m services.monolith

# The nameko tests run eventlet-patched workers: they get a pytest process of their own so that
# no gRPC code ever runs monkey-patched.
test: $(STUBS)
	$(PYTEST) -m "not nameko" -p no:nameko
	$(PYTEST) -m nameko tests/integration

lint: $(STUBS)
	$(PY) -m ruff check services tests tools bench
	$(PY) tools/buf.py lint
	$(PY) tools/buf.py breaking

bench: $(STUBS)
	$(PY) -m bench.foundation

clean:
	rm -rf supervision build var .pytest_cache .ruff_cache
