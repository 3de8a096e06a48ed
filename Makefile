# kb: a git-backed knowledge base of maintenance fault cases.
#
#   make             build libkb.a and the kb binary into $(BUILD)/
#   make test        install missing packages, build, run unit and end-to-end tests
#   make check-asan  the same tests under AddressSanitizer + UBSan (build-asan/)
#   make check-clang build everything with clang, warnings as errors (build-clang/)
#   make leakcheck   unit tests under valgrind
#   make checksrc    style checks (banned functions, headers compile alone)
#   make demo        install, build, create a demo KB from kb/ and look up similar cases
#   make bench       benchmark harness (bench/)
#   make eval        retrieval evaluation on ../shared/datasets (eval/), DATA=dir for another set
#   make scenario    three clones, 500 random operations against a loopback git daemon (tests/scenario/)
#
# Every source file under core/ and importers/ goes into libkb.a; every
# tests/unit/test_*.c is its own cmocka binary linked against libkb.a.

BUILD   ?= build
CC      ?= cc
PKGS    := sqlite3 libgit2 libcmark yaml-0.1 libutf8proc libcurl jansson gmime-3.0
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
KB_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
             -Iinclude -Icore $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SAN)
KB_LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lcsv -lz -lm -lpthread
TEST_LDLIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC  := $(sort $(wildcard core/*.c importers/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/unit/support/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBKB    := $(BUILD)/libkb.a
KB       := $(BUILD)/kb

.PHONY: all deps test unit-test cli-test check-asan check-clang leakcheck checksrc demo bench eval clean
.PHONY: scenario

all: $(KB)

deps:
	@./scripts/install-deps.sh

# Quiet by default; `make V=1` prints the full commands.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(KB_CFLAGS) -MMD -MP -c $< -o $@

# Embedded starter files (template, synonyms, abbreviations, config) for `kb init`.
$(BUILD)/core/starter_data.o: core/starter_data.S kb/kb.conf kb/templates/case.md kb/synonyms.txt kb/abbreviations.txt
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -c $< -o $@

$(LIBKB): $(LIB_OBJ) $(BUILD)/core/starter_data.o
	@rm -f $@
	@$(if $(V),,echo "  AR      $@")
	$(Q)ar rcs $@ $^

$(KB): $(CLI_OBJ) $(LIBKB)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $(CLI_OBJ) $(LIBKB) $(KB_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(SUPPORT_OBJ) $(LIBKB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(KB_CFLAGS) -Itests/unit/support -o $@ $< $(SUPPORT_OBJ) $(LIBKB) $(KB_LDLIBS) $(TEST_LDLIBS)

unit-test: $(UNIT_BIN)
	@./tests/run-unit.sh $(BUILD) $(UNIT_BIN)

cli-test: $(KB)
	@./tests/cli/run.sh $(abspath $(KB))

test: deps
	@./scripts/checksrc.sh
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@$(MAKE) --no-print-directory unit-test cli-test

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  all unit-test cli-test

check-clang: deps
	@$(MAKE) --no-print-directory BUILD=build-clang CC=clang all $(UNIT_SRC:tests/unit/%.c=build-clang/tests/%)

leakcheck: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@KB_VALGRIND=1 ./tests/run-unit.sh $(BUILD) $(UNIT_BIN)

checksrc:
	@./scripts/checksrc.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh $(abspath $(KB)) $(BUILD)/demo-kb

bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C bench BUILD=$(abspath $(BUILD)) KB=$(abspath $(KB))

eval: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C eval BUILD=$(abspath $(BUILD)) DATA="$(DATA)"
	@$(MAKE) --no-print-directory -C eval/maint BUILD=$(abspath $(BUILD)) DATA="$(DATA)"

SCENARIO_OPS  ?= 500
SCENARIO_SEED ?= 1
scenario: deps
	@$(MAKE) --no-print-directory all
	@./tests/scenario/scenario.sh $(abspath $(KB)) --ops $(SCENARIO_OPS) --seed $(SCENARIO_SEED)

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SUPPORT_OBJ:.o=.d)
