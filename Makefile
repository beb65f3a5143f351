# tunebot: `make demo` shows the product, `make test` runs every check.
# Both create .venv and install what they need on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest demo docs clean iac-install iac-check package chromium

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict recommendations service aws charts

pytest: install chromium
	$(BIN)/pytest -q

# The sandbox's browser test drives Debian's Chromium; Playwright's own download does not work
# here. CI runs as root; elsewhere install the package once by hand.
CHROMIUM := /usr/bin/chromium

chromium:
	@test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

test: lint typecheck pytest iac-check

demo: install
	$(BIN)/tunebot demo

docs: install
	$(BIN)/python -m handlers.catalogue docs/rules.md
	$(BIN)/python -m handlers.catalogue --diagnoses docs/alerts.md

clean:
	rm -rf $(VENV) $(IAC_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# --- deploy (docs/deploy.md) ------------------------------------------------------------------
# IaC tools live in their own venv: checkov pins versions of boto3 and pydantic that conflict
# with the product's.
IAC_VENV := .venv-iac
IAC_STAMP := $(IAC_VENV)/.installed
LAMBDA_FUNCTIONS := SlackFunction AlarmFunction CostAnomalyFunction DigestFunction \
	TuningPlanFunction TuningInvokeBatchFunction TuningUpdateFunction

iac-install: $(IAC_STAMP)

$(IAC_STAMP): deploy/requirements-iac.txt
	@test -x $(IAC_VENV)/bin/python || $(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(IAC_VENV)/bin/python -m pip install --quiet -r deploy/requirements-iac.txt
	@touch $(IAC_STAMP)

# cfn-lint; the SAM transform, offline; checkov on the template and on its transform.
iac-check: iac-install
	$(IAC_VENV)/bin/cfn-lint --include-checks I -- template.yaml
	$(IAC_VENV)/bin/python deploy/sam_transform.py template.yaml build/iac/template.json
	$(IAC_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		--file template.yaml --file build/iac/template.json

# The deployment zip, built locally with pip for arm64 (no boto3, no dev dependencies).
package: install
	$(BIN)/python deploy/package.py --zip build/tunebot-lambda.zip

# `sam build` calls these (BuildMethod: makefile); every function ships the same package.
$(addprefix build-,$(LAMBDA_FUNCTIONS)):
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) deploy/package.py --output-dir "$(ARTIFACTS_DIR)"
