# Every target bootstraps .venv on first use: a fresh machine needs only Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out
STUDIES ?= studies/ms_exo studies/t2dm_exo

# Test workers (pytest-xdist); JOBS=0 runs the tests in one process. --dist loadfile keeps a module's tests on
# one worker (its module fixtures are built once); --no-loadscope-reorder keeps the order tests/conftest.py
# gives (modules with slow tests first), so that the longest module does not start last.
JOBS   ?= 2
XDIST  := -n $(JOBS) --dist loadfile --no-loadscope-reorder

.PHONY: sdtm adam all validate package report test test-fast lint demo-data spec-text clean help bench

help:
	@echo "make sdtm       build SDTM (XPT + reports) for the demo studies into $(OUT)/"
	@echo "make adam       build ADaM from the SDTM output (builds SDTM first where it is missing)"
	@echo "make all        sdtm, then adam, then the submission package, then the review report"
	@echo "make validate   validate SDTM and ADaM (built first where missing); QA reports in $(OUT)/<study>/validation/"
	@echo "make package    eCTD m5 folders (XPT, Dataset-JSON, define.xml, manifest) per study: $(OUT)/<study>/m5/"
	@echo "make report     data review report (offline HTML) per study: $(OUT)/<study>/review/review.html"
	@echo "make test       run the whole test suite (fast, study and slow tiers) on JOBS=$(JOBS) workers"
	@echo "make test-fast  the quick loop: tests that need no demo-study build (pytest -m \"not study and not slow\")"
	@echo "make lint       ruff (style, imports, bugbear) and mypy (types) on the product code"
	@echo "make bench      benchmark the whole path on simulated MS studies (SIZES=\"500 5000 20000\"); JSON in bench/results/"
	@echo "make demo-data  regenerate the committed demo raw data from the simulator"
	@echo "make spec-text  print every spec workbook as text (for review and diffs)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	@touch $(STAMP)

sdtm: $(STAMP)
	@for s in $(STUDIES); do $(BIN)/subgen sdtm --study $$s --out $(OUT) || exit $$?; done

adam: $(STAMP)
	@for s in $(STUDIES); do n=$$(basename $$s); \
	  [ -f $(OUT)/$$n/sdtm/dm.xpt ] || $(BIN)/subgen sdtm --study $$s --out $(OUT) || exit $$?; \
	  $(BIN)/subgen adam --study $$s --out $(OUT) || exit $$?; done

all: sdtm adam package report

# Exit status 1 when a study has unwaived Reject/Error findings (every study's reports are still written).
validate: $(STAMP)
	@rc=0; for s in $(STUDIES); do n=$$(basename $$s); \
	  [ -f $(OUT)/$$n/sdtm/dm.xpt ] || $(BIN)/subgen sdtm --study $$s --out $(OUT) || exit $$?; \
	  if [ -z "$$(ls $(OUT)/$$n/adam/*.xpt 2>/dev/null)" ] && grep -q '^adam_spec' $$s/study.toml; then \
	    $(BIN)/subgen adam --study $$s --out $(OUT) || exit $$?; fi; \
	  $(BIN)/subgen validate --study $$s --out $(OUT); r=$$?; [ $$r -le 1 ] || exit $$r; [ $$r -eq 0 ] || rc=1; \
	done; exit $$rc

# Validates first (or reuses $(OUT)/<study>/validation when it covers the current files); exit status 1 when
# unwaived Reject/Error findings block export, and the previous package stays. PACKAGE_ARGS passes options,
# e.g. PACKAGE_ARGS="--split-threshold-bytes 100000" or "--format xpt".
package: $(STAMP)
	@for s in $(STUDIES); do n=$$(basename $$s); \
	  [ -f $(OUT)/$$n/sdtm/dm.xpt ] || $(BIN)/subgen sdtm --study $$s --out $(OUT) || exit $$?; \
	  if [ -z "$$(ls $(OUT)/$$n/adam/*.xpt 2>/dev/null)" ] && grep -q '^adam_spec' $$s/study.toml; then \
	    $(BIN)/subgen adam --study $$s --out $(OUT) || exit $$?; fi; \
	  $(BIN)/subgen package --study $$s --out $(OUT) $(PACKAGE_ARGS) || exit $$?; done

# Reads what the other targets wrote; a part not built yet becomes a section saying what to run.
report: $(STAMP)
	@for s in $(STUDIES); do $(BIN)/subgen report --study $$s --out $(OUT) || exit $$?; done

test: $(STAMP)
	@bash tools/ensure-chromium.sh
	$(BIN)/python -m pytest -q $(XDIST) $(PYTEST_ARGS)

# No browser test is in this tier, so no chromium install either.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q $(XDIST) -m "not study and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check subgen subgen_cli sdtm adam validation export report simulate bench tools tests
	$(BIN)/mypy

# Benchmark: raw CSV -> sdtm -> adam -> validate -> package per size, each stage against its floor.
SIZES ?= 500 5000 20000
bench: $(STAMP)
	$(BIN)/python -m bench.run --sizes $(SIZES) $(BENCH_ARGS)

demo-data: $(STAMP)
	$(BIN)/python -m simulate --study ms_exo --out studies/ms_exo/raw
	$(BIN)/python -m simulate --study t2dm_exo --out studies/t2dm_exo/raw

spec-text: $(STAMP)
	@for f in specs/*.xlsx; do $(BIN)/subgen spec-text $$f; done

clean:
	rm -rf $(OUT) .pytest_cache
