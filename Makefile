# Loyalty Lens. `make run` and `make test` are all a fresh machine needs (Python 3.11 and the package registries).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test demo bench clean
N ?= 1000000
REPEATS ?= 3

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Serve the app on localhost:$(PORT), loading the demo data first when the database holds no orders.
run: $(VENV)/.runtime
	$(PY) -m loyalty demo --if-empty
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address localhost

# Install what the tests need (Debian's chromium for the browser tests) and run every test.
test: $(VENV)/.dev
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m pytest

demo: $(VENV)/.runtime
	$(PY) -m loyalty demo

# Time every page's analytics on N generated orders (REPEATS times each) against a plain-pandas baseline (bench/run.py).
bench: $(VENV)/.dev
	$(PY) -m bench.run --orders $(N) --repeats $(REPEATS)

clean:
	rm -rf $(VENV) .pytest_cache
