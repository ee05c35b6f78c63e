# Two commands on a fresh machine: `make run` (the app with demo data) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
VENDOR := static/vendor
PYTEST_ARGS ?= -n auto

.PHONY: install run test lint messages bench clean gettext

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/.copied: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons/font $(VENDOR)/htmx $(VENDOR)/chartjs
	cp -r node_modules/bootstrap/dist/css node_modules/bootstrap/dist/js $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts $(VENDOR)/bootstrap-icons/font/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chartjs/
	touch $@

# gettext's msgfmt compiles the ja catalogue; installed from Debian's packages when missing.
gettext:
	@command -v msgfmt >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null)

install: $(VENV)/.installed $(VENDOR)/.copied gettext
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

run: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "http://127.0.0.1:8000/ — demo logins (password: demo-pass):"
	@echo "  sales underwriter approver operations collections compliance manager admin"
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Extract new strings into the ja catalogue (translate them, then `make install`).
messages: gettext
	$(PY) manage.py makemessages -l ja --no-obsolete --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench --ignore=staticfiles

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) staticfiles test-artifacts
