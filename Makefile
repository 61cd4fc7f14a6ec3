# The two commands of README: `make run` and `make test`. Everything they need is installed here.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check chromium translations

run: $(STAMP)
	$(VENV)/bin/kundenakte serve --demo

test: $(STAMP) chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Static checks (configured in pyproject.toml and .importlinter); each fails on a violation.
check: $(STAMP)
	$(VENV)/bin/ruff check kundenakte
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

$(STAMP): pyproject.toml examples/kundenakte-reklamation/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# whoosh-reloaded and whoosh3 both install the package `whoosh`: an older venv must drop the former.
	$(PY) -m pip uninstall -y -q whoosh-reloaded whoosh3 2>/dev/null || true
	$(PY) -m pip install -q -e ".[test]"
	# The external example plugin, installed like a third-party package: the tests exercise it.
	$(PY) -m pip install -q -e examples/kundenakte-reklamation
	touch $(STAMP)

# Browser tests drive Debian's Chromium through Playwright; Playwright never downloads a browser here.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; fi; }

# Refresh the English catalogue after changing UI strings: extract, merge, compile.
translations: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _ -k gettext -k lazy_gettext -k N_ --no-location --sort-output -o /tmp/kundenakte-messages.pot .
	$(VENV)/bin/pybabel -q update -N -i /tmp/kundenakte-messages.pot -d kundenakte/web/translations
	$(VENV)/bin/pybabel -q compile -d kundenakte/web/translations
