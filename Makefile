# Two commands for a newcomer: `make run` and `make test`. Both install what they need
# (system packages through apt, a .venv, the requirements) and do nothing twice.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= $(CURDIR)/var
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# What the product needs on every machine, and what only the tests need. Pango and a font
# are for the care report's PDF; poppler-utils lets the tests look at it.
APT_RUN := libvlc5 libvlc-bin vlc-plugin-base libebur128-1 python3-venv libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
# ffmpeg and the AMR encoder only make test files in the formats families have (WMA, WebM, AC-3, AMR...).
APT_TEST := chromium shellcheck systemd nodejs poppler-utils ffmpeg libopencore-amrnb0 caddy
STAMP := $(VENV)/.stamp

.PHONY: run run-hub test test-fast test-slow test-arm64 bench setup setup-test check clean

# The package lists live in this file, so a change to it installs what is new.
$(VENV)/.apt-run: Makefile
	@bash deploy/apt-ensure.sh $(APT_RUN)
	@mkdir -p $(VENV) && touch $@

$(VENV)/.apt-test: $(VENV)/.apt-run Makefile
	@bash deploy/apt-ensure.sh $(APT_TEST)
	@touch $@

$(VENV)/bin/python: | $(VENV)/.apt-run
	$(PYTHON) -m venv $(VENV)

$(VENV)/.req-run: requirements.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.req-test: requirements-test.txt requirements.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

# The era catalogue, normalised once so the kiosk and admin start quickly.
CATALOGUE := content/era/data/songs.prepared.json
$(CATALOGUE): content/era/data/songs.csv content/era/normalise.py content/era/catalogue.py $(VENV)/.req-run
	@$(PY) -m content.era.catalogue

setup: $(VENV)/.apt-run $(VENV)/.req-run $(CATALOGUE)

setup-test: setup $(VENV)/.apt-test $(VENV)/.req-test

run: setup
	@EVERGREEN_DATA=$(DATA) $(PY) -m content demo
	@EVERGREEN_DATA=$(DATA) bash deploy/run-dev.sh $(PY)

# A hub and one music box side by side (./var-hub, ./var-box), Caddy in front when installed.
run-hub: setup
	@bash deploy/run-hub.sh $(PY)

# Everything, slow journeys included.
test: setup-test
	$(PY) -m pytest

# Without the slow journeys (browser, power-cut soak): for a quick loop while working.
test-fast: setup-test
	$(PY) -m pytest -m "not slow"

test-slow: setup-test
	$(PY) -m pytest -m slow

# arm64 Debian 12 (and 13 where debootstrap offers it), emulated with qemu-user-static:
# deploy/install.sh run inside for real, then songs, the kiosk and the admin. Slow (the
# first run builds the roots), so not part of `make test`. The roots are kept outside
# the repository, in ARM64_CACHE; ARM64_RELEASES=bookworm checks one release.
ARM64_CACHE ?= $(HOME)/.cache/evergreen-arm64
ARM64_RELEASES ?=
test-arm64: setup-test
	ARM64_CACHE="$(ARM64_CACHE)" PY="$(CURDIR)/$(PY)" nice -n 15 bash tests/arm64/run.sh $(ARM64_RELEASES)

bench: setup-test
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache test-output
