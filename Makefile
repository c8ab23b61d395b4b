# wagtail-personalize: `make demo` runs the demo site, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LTS_VENV ?= .venv-wagtail7
LTS_STAMP := $(LTS_VENV)/.installed

.PHONY: demo test test-lts test-wagtail install lint benchmark load clean docs-images messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# `make demo PORT=8080` serves on another port.
PORT ?= 8000
export PORT

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:$(PORT) (admin at /admin/, login printed above)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

# Wagtail's own tests with the package installed (tests/wagtail_suite): what the package cannot
# affect must behave exactly as on vanilla Wagtail. SQLite in memory, whatever DATABASE_URL says.
WAGTAIL_SUITE_PARALLEL ?= 2
test-wagtail: $(STAMP)
	$(BIN)/python -m django test --settings=tests.wagtail_suite.settings \
		--parallel $(WAGTAIL_SUITE_PARALLEL) --noinput

# The same suite on Wagtail 7.0 LTS.
$(LTS_STAMP): pyproject.toml
	$(PYTHON) -m venv $(LTS_VENV)
	$(LTS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LTS_VENV)/bin/python -m pip install --quiet -e ".[dev]" "wagtail>=7.0,<7.1"
	touch $(LTS_STAMP)

test-lts: $(LTS_STAMP)
	$(LTS_VENV)/bin/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check personalize cms_site tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The screenshots in docs/images/, taken by the browser tests (a plain test run leaves them alone).
docs-images: $(STAMP)
	PERSONALIZE_DOCS_IMAGES=1 $(BIN)/python -m pytest tests/browser -m browser

benchmark: $(STAMP)
	$(BIN)/python -m benchmarks

# Fault and load runs under gunicorn (needs PostgreSQL on 127.0.0.1:5432 and redis-server).
load: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,load]"
	$(BIN)/python -m benchmarks.load

# The package's translations (docs/how-to/translations.md): update the catalogues in
# personalize/locale from the code and templates, then compile them. `make messages LOCALES=fr`
# adds or updates another language. Needs GNU gettext (apt-get install gettext).
LOCALES ?= de
MESSAGES_OPTIONS := -d django --add-location=file --no-obsolete --no-wrap --ignore=migrations

messages: $(STAMP)
	cd personalize && $(abspath $(BIN))/django-admin makemessages \
		$(addprefix -l ,$(LOCALES)) $(MESSAGES_OPTIONS)
	cd personalize && $(abspath $(BIN))/django-admin compilemessages $(addprefix -l ,$(LOCALES))

clean:
	rm -rf $(VENV) $(LTS_VENV) demo.sqlite3 demo-analytics.json* var .pytest_cache .mypy_cache .ruff_cache
