# grayhound: two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# grayhound's bytecode written as pip writes it for what it installs: an editable install leaves
# it to the first import, and where PYTHONDONTWRITEBYTECODE is set nothing would write it (every
# command compiling its modules first). Written again by `make bench`; after other edits, stale.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -c 'from benchmarks.host import compile_packages; compile_packages()'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grayhound demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The demo digest as a reader sees it: demo/digest.png (needs chromium; skipped without it).
CHROMIUM ?= chromium
screenshot: $(STAMP)
	@if ! command -v $(CHROMIUM) >/dev/null 2>&1; then \
		echo "make screenshot: $(CHROMIUM) not found (apt-get install -y chromium); skipped"; \
		exit 0; fi; \
	$(BIN)/grayhound demo && \
	html=$$(ls -t demo/digests/digest-*.html | head -n 1) && \
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir=$$(mktemp -d) --window-size=1280,2000 \
		--screenshot=demo/digest.png "file://$$(pwd)/$$html" 2>/dev/null && \
	echo "wrote demo/digest.png from $$html"

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) demo bench-out .pytest_cache
