# chaosaitrapp: the two set-up commands are `make demo` (lab + leader-lock drill + evidence)
# and `make test` (everything the tests need, then the tests). Both install what they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-lab venv demo suite lab-up lab-down docker-engine docker-images test test-fast docs clean

venv: $(BIN)/chaos
$(BIN)/chaos: setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[lab,test]'
	$(BIN)/python -m compileall -q chaosaitrapp  # byte-compiled once: a drill's start does not compile its modules
	@touch $@

install-lab:
	bash scripts/install/apt.sh lab

install:
	bash scripts/install/apt.sh test
	$(MAKE) venv

# Main job: bring the lab up (fast profile) and run the seed's leader-lock drill; evidence in reports/chaos/.
demo: install-lab venv
	$(BIN)/aitrapp-chaos lab up
	NONINTERACTIVE=1 bash scripts/chaos_test_leader_lock.sh

# The whole seed suite against a running lab (or API=...): JUnit + summary + HTML index in reports/chaos/.
suite: venv
	$(BIN)/aitrapp-chaos run

lab-up: install-lab venv
	$(BIN)/aitrapp-chaos lab up

lab-down: venv
	$(BIN)/aitrapp-chaos lab down

docker-engine:
	bash scripts/docker/start-engine.sh

docker-images: docker-engine
	bash scripts/docker/build-images.sh

# Everything: apt packages, venv, Docker engine and images, then the whole test suite, on three
# workers (most tests wait on labs and drills; a module stays on one worker, and the tests bound to
# the host's default ports and container names share one: tests/conftest.py).
# The `alone` tests (latency and sampling rate under a stress they inject) run after the rest, one at a time
# on an otherwise idle machine; both parts always run, and either failing fails the target.
PYTEST_WORKERS ?= 3
test: install docker-images
	status=0; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=40 -m "not alone" || status=$$?; \
	$(BIN)/python -m pytest -m alone --durations=10 || status=$$?; \
	exit $$status

# The fast tier for the development loop: unit and in-process tests (no lab, no drill, no Docker, no
# Chromium: the screenshot tests need the browser `make test` installs); it installs the lab's packages
# (Redis, stress-ng, the C compiler of the clock shim) that its in-process tests run for real.
test-fast: install-lab venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not lab and not drill and not docker and not torture and not browser"

docs: venv
	$(BIN)/aitrapp-chaos docs --out docs/activities.md --readme README.md --experiments chaosaitrapp/experiments

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
