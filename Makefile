# tonghu: `make demo` sets up and serves the demo; `make test` sets up and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
BIN := $(VENV)/bin
UV := $(TOOLS)/bin/uv
VENDOR := tonghu/web/static/vendor
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help setup pdf-libs demo demo-data serve test test-sqlite test-postgres lint browser clean

help:
	@echo "make demo   安装依赖、建立内置 SQLite 数据库、载入演示区划和账号，并在 http://127.0.0.1:8000 提供服务"
	@echo "make test   安装依赖并在 SQLite 和（若可连接）PostgreSQL 上运行全部测试"
	@echo "make lint   ruff 与 mypy --strict 检查"

$(UV):
	@python=$$(scripts/find-python) && "$$python" -m venv $(TOOLS) && $(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

$(BIN)/tonghu: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python "$$(scripts/find-python)"
	@touch $@

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	@touch $@

# WeasyPrint (the annual report's PDF) needs Debian's pango, and the PDF needs CJK fonts.
pdf-libs:
	@if ! ldconfig -p | grep -q libpangoft2-1.0 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk >/dev/null; \
	  else echo "生成 PDF 需要 Debian 的 pango 和中文字体：sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk" >&2; fi; fi

setup: $(BIN)/tonghu $(VENDOR)/.installed pdf-libs

DEMO_DIR := var/demo
DEMO_AS_OF := 2025-06-30

# The demo county: synthetic feeds (written once), its division table and one whole round.
demo-data: setup
	$(BIN)/tonghu migrate --no-input -v 0
	$(BIN)/tonghu divisions load --demo
	$(BIN)/tonghu demo accounts
	@if [ ! -f $(DEMO_DIR)/county/divisions.csv ]; then \
	  rm -rf $(DEMO_DIR)/county && $(BIN)/tonghu synth $(DEMO_DIR)/county --children 3000 --seed 1 --as-of $(DEMO_AS_OF); fi
	$(BIN)/tonghu divisions load $(DEMO_DIR)/county/divisions.csv
	$(BIN)/tonghu round run $(DEMO_DIR)/county/feeds --as-of $(DEMO_AS_OF) --export $(DEMO_DIR)/export

serve: setup
	$(BIN)/tonghu serve 127.0.0.1:8000 --noreload

demo: demo-data serve

# Debian's chromium for the browser tests (never a downloaded browser) and CJK fonts so that
# the screenshots the tests save are readable.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "浏览器测试需要 Debian 的 chromium 和中文字体：sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi; fi

# The two databases' runs go side by side (each is one core's work; each keeps its files in
# its own var folder), and each prints its output whole when it ends.
test: setup browser
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres

test-sqlite:
	@echo "== 测试：SQLite =="
	env -u DATABASE_URL TONGHU_VAR_DIR=var/test-sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres:
	@if $(BIN)/python -c "import psycopg, sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== 测试：PostgreSQL（批处理库 pipeline、synth 不用数据库，已在上一轮运行）=="; \
	  DATABASE_URL=$(PG_URL) TONGHU_VAR_DIR=var/test-postgres $(BIN)/pytest -q -p no:cacheprovider --ignore=tonghu/pipeline --ignore=tonghu/synth; \
	else echo "== 未连接到 PostgreSQL（$(PG_URL)），跳过 PostgreSQL 测试 =="; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tonghu scripts

clean:
	rm -rf $(VENV) $(TOOLS) node_modules $(VENDOR)
