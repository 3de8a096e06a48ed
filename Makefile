# kb: a git-backed knowledge base of maintenance fault cases.
#
#   make             build libkb.a and the kb binary into $(BUILD)/
#   make test        install missing packages, build, run unit and end-to-end tests
#   make check-asan  the same tests under AddressSanitizer + UBSan (build-asan/)
#   make check-clang build everything with clang, warnings as errors (build-clang/)
#   make leakcheck   unit tests under valgrind
#   make fuzz        libFuzzer on every parser for FUZZ_TIME seconds each (build-fuzz/)
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
# Loaded on first use by importers/lazy_libs.c, not linked: start-up of every kb process.
LAZY_PKGS  := libcurl gmime-3.0
KB_LDLIBS  = $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) -lstemmer -lcsv -lz -lm -lpthread
TEST_LDLIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC  := $(sort $(wildcard core/*.c importers/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/unit/support/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%-replay)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_TIME ?= 60
LIBKB    := $(BUILD)/libkb.a
KB       := $(BUILD)/kb

.PHONY: all deps test test-binaries unit-test cli-test fuzz-replay fuzz check-asan check-clang leakcheck checksrc demo bench eval clean
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

# Each fuzz target twice: a replay binary (plain main over saved inputs, run
# by make test) and, in build-fuzz/, a libFuzzer binary (make fuzz).
$(BUILD)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/util.c tests/fuzz/fuzz.h $(LIBKB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(KB_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay.c tests/fuzz/util.c $(LIBKB) $(KB_LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/util.c tests/fuzz/fuzz.h $(LIBKB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(KB_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< tests/fuzz/util.c $(LIBKB) $(KB_LDLIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@./tests/fuzz/replay.sh $(BUILD)

unit-test: $(UNIT_BIN)
	@./tests/run-unit.sh $(BUILD) $(UNIT_BIN)

cli-test: $(KB)
	@./tests/cli/run.sh $(abspath $(KB))

test: deps
	@./scripts/checksrc.sh
	@$(MAKE) --no-print-directory all test-binaries
	@$(MAKE) --no-print-directory unit-test fuzz-replay cli-test

test-binaries: $(UNIT_BIN) $(FUZZ_REPLAY)

# tests/lsan.supp: a leak inside Debian 12's libgit2 1.5.1, fixed upstream.
check-asan: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  all unit-test fuzz-replay cli-test

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 \
	  SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  $(FUZZ_BIN:$(BUILD)/%=build-fuzz/%)
	@./tests/fuzz/run.sh build-fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

check-clang: deps
	@$(MAKE) --no-print-directory BUILD=build-clang CC=clang all $(UNIT_SRC:tests/unit/%.c=build-clang/tests/%) \
	  $(FUZZ_SRC:tests/fuzz/%.c=build-clang/fuzz/%-replay)

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
	rm -rf build build-asan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SUPPORT_OBJ:.o=.d)
