# clustersim build.  `make` builds bin/; `make test` installs what is
# missing, builds plain and sanitizer (ASan + UBSan) variants, checks that
# core/ is pure, and runs unit tests and scenario regressions; `make demo`
# tells the story; `make bench` measures.  SAN=1 builds with sanitizers.

BUILD   ?= build/plain
BIN     ?= bin
CC      ?= cc
PKGS    := yaml-0.1 cmocka libxxhash jansson libsodium
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs yaml-0.1 libxxhash jansson libsodium 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation -g
ifeq ($(FUZZER),1)
  # Coverage-guided fuzz targets (make fuzz): clang's libFuzzer with ASan and UBSan.
  CFLAGS_OPT := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -Wno-unknown-warning-option
  LDFLAGS_SAN := -fsanitize=address,undefined
else ifeq ($(SAN),1)
  CFLAGS_OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -DCS_CHECK_INTERNAL=1
  LDFLAGS_SAN := -fsanitize=address,undefined
else
  # Link-time optimisation lets the compiler inline across the simulator,
  # the seam and the core (about 8 % more fuzz seeds per second); LTO= turns
  # it off, for compilers without it.
  LTO ?= -flto=auto
  CFLAGS_OPT := -O2 $(LTO)
  LDFLAGS_SAN := -O2 $(LTO)
  # Debian's mimalloc replaces glibc's malloc in the optimised simulator:
  # it allocates and frees a message or a name per event, and mimalloc runs
  # the fuzz benchmark about 10 % faster (same behaviour: nothing depends on
  # addresses).  Only clustersim: the registry's own benchmark and the
  # daemon grow arrays of hundreds of MB, which glibc's realloc remaps where
  # mimalloc copies (13 % fewer table inserts a second).  The sanitizer
  # builds keep glibc's, which ASan intercepts.  MALLOC_LIBS= links glibc's.
  MIMALLOC_LINK := -Wl,--push-state,--no-as-needed -lmimalloc -Wl,--pop-state
  MALLOC_LIBS ?= $(if $(wildcard $(shell $(CC) -print-file-name=libmimalloc.so)),$(MIMALLOC_LINK))
endif
CFLAGS  += $(CFLAGS_BASE) $(CFLAGS_OPT) $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

CORE_SRC := $(wildcard core/*.c core/tracker/*.c)
# config/: the YAML reader and the cluster configuration (clustersim and
# clusterd); config/scenario/: the scenario loader (clustersim only).
CONFIG_SRC := $(wildcard config/*.c)
SIM_SRC  := $(CONFIG_SRC) $(wildcard config/scenario/*.c) $(wildcard sim/*.c) $(wildcard shims/sim/*.c) \
            $(wildcard drivers/*.c) \
            $(wildcard reports/*.c)
CLI_SRC  := $(wildcard cli/*.c) $(wildcard real/*.c)
POSIX_SRC := $(wildcard shims/posix/*.c) daemon/clusterd.c daemon/clusterd_args.c daemon/http.c daemon/metrics.c \
             daemon/metrics_process.c daemon/clusterctl.c $(wildcard daemon/clusterctl_*.c) daemon/control_path.c
POSIX_OBJ := $(POSIX_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI_LIB_OBJ := $(addprefix $(BUILD)/cli/,fuzz_seed.o fuzz_summary.o shrinker.o) $(BUILD)/real/dns_front.o
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)
FUZZ_OBJ := $(FUZZ_SRC:%.c=$(BUILD)/%.o)
FUZZ_TARGETS := $(addprefix $(BUILD)/,fuzz_loader fuzz_wire fuzz_conn fuzz_sim fuzz_trace)

CLUSTERSIM := $(BUILD)/clustersim
CLUSTERD   := $(BUILD)/clusterd
CLUSTERCTL := $(BUILD)/clusterctl
BENCH_REGISTRY := $(BUILD)/bench-registry
UNIT       := $(BUILD)/unit-tests

.PHONY: all deps test test-plain test-asan unit scenarios check-core check-layers asan demo bench bench-baseline clean fuzz fuzz-targets install uninstall

# bin/clustersim is built with profile-guided optimisation when the
# compiler is GCC (scripts/pgo-build.sh: about 10 % more fuzz seeds and
# registrations per second, same behaviour); PGO=0 copies the plain build.
PGO ?= 1
PGO_BUILD := build/pgo
PGO_STAMP := build/pgo.stamp
PGO_INPUTS := $(CORE_SRC) $(SIM_SRC) $(CLI_SRC) $(wildcard core/*.h core/tracker/*.h config/*.h config/scenario/*.h sim/*.h shims/sim/*.h drivers/*.h \
              reports/*.h cli/*.h) scripts/pgo-build.sh

all: deps
	@$(MAKE) --no-print-directory build-bins
	@mkdir -p $(BIN) && cp -f $(CLUSTERD) $(BIN)/clusterd && cp -f $(CLUSTERCTL) $(BIN)/clusterctl
	@if [ "$(PGO)" = 1 ] && $(CC) --version | grep -qi 'gcc\|free software foundation'; then \
		if $(MAKE) --no-print-directory $(PGO_STAMP); then cp -f $(PGO_BUILD)/clustersim $(BIN)/clustersim; \
		else echo "make: the profile-guided build failed; bin/clustersim is the plain build" >&2; \
			cp -f $(CLUSTERSIM) $(BIN)/clustersim; fi; \
	else cp -f $(CLUSTERSIM) $(BIN)/clustersim; fi

$(PGO_STAMP): $(PGO_INPUTS)
	@echo "  PGO     $(PGO_BUILD)/clustersim (about 100 s: an instrumented build, training runs, the final build)"
	@scripts/pgo-build.sh $(PGO_BUILD) && touch $@

.PHONY: build-bins
build-bins: $(CLUSTERSIM) $(CLUSTERD) $(CLUSTERCTL) $(BENCH_REGISTRY) $(UNIT)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -c $< -o $@

$(CLUSTERSIM): $(CORE_OBJ) $(SIM_OBJ) $(CLI_OBJ)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $(LDFLAGS_SAN) $^ $(MALLOC_LIBS) $(LDLIBS) -o $@

# The node daemon: the same core on real sockets; and its client.
$(CLUSTERCTL): $(filter $(BUILD)/daemon/clusterctl%.o,$(POSIX_OBJ)) $(BUILD)/daemon/control_path.o \
               $(BUILD)/config/nearest.o $(BUILD)/config/cli_opts.o
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $(LDFLAGS_SAN) $^ -ljansson -o $@

# (config/ reads --config files; nothing of the simulator links in)
$(CLUSTERD): $(CORE_OBJ) $(filter-out $(BUILD)/daemon/clusterctl%.o,$(POSIX_OBJ)) $(CONFIG_SRC:%.c=$(BUILD)/%.o)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $(LDFLAGS_SAN) $^ $(LDLIBS) -lcares -lmicrohttpd -o $@

$(UNIT): $(CORE_OBJ) $(SIM_OBJ) $(CLI_LIB_OBJ) $(TEST_OBJ) $(BUILD)/tests/fuzz/null_env.o \
         $(BUILD)/tests/fuzz/conn_driver.o
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $(LDFLAGS_SAN) $^ $(LDLIBS) $(CMOCKA_LIBS) -o $@

# One target per surface; FUZZ_LINK is -fsanitize=fuzzer (libFuzzer) or the
# AFL++ driver flags.
FUZZ_LINK ?= -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/null_env.o $(BUILD)/tests/fuzz/conn_driver.o \
                 $(CORE_OBJ) $(SIM_OBJ)
	@echo "  LINK    $@"
	@$(CC) $(FUZZ_LINK) $^ $(LDLIBS) -o $@

fuzz-targets: $(FUZZ_TARGETS)

# The in-process registry benchmark (make bench).
$(BENCH_REGISTRY): $(BUILD)/tests/bench/bench_registry.o $(BUILD)/tests/fuzz/null_env.o $(CORE_OBJ)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $(LDFLAGS_SAN) $^ $(LDLIBS) -o $@

# The purity check reads objects built for it: no LTO (nm cannot read LTO
# objects) and no builtins (a constant printf or an abort would not show).
PURITY_FLAGS := $(CFLAGS_BASE) -O1 -fno-lto -fno-builtin $(PKG_CFLAGS)
PURITY_OBJ := $(CORE_SRC:%.c=build/purity/%.o)
build/purity/%.o: %.c
	@mkdir -p $(dir $@)
	@$(CC) $(PURITY_FLAGS) -MMD -MP -c $< -o $@

check-core: $(PURITY_OBJ)
	@$(PART) "core: purity" sh -c 'scripts/check-core.sh --self-test $(CC) $(PURITY_FLAGS) && scripts/check-core.sh $(PURITY_OBJ)'

# The layers: the include graph (scripts/check-layers.py) and the daemon's
# link, which must hold no simulator or scenario-loader symbol.
# The start-up fidelity set against the real Swarm 3.4 figures
# (docs/fidelity.md), known gaps included; then the agreement table between
# the simulator and real daemons (clustersim agree, docs/worlds.md).
.PHONY: fidelity
FIDELITY_GAPS = $(shell grep -l '^\# KNOWN GAP' scenarios/fidelity/*.yaml)
fidelity: $(CLUSTERSIM)
	@$(CLUSTERSIM) run $(filter-out $(FIDELITY_GAPS),$(wildcard scenarios/fidelity/*.yaml)) --seeds 1..2000 --quiet
	@echo "known gaps (docs/fidelity.md): these fail until the model reaches the real figures"
	-@$(CLUSTERSIM) run $(FIDELITY_GAPS) --seeds 1..2000 --quiet
	@echo "the agreement table: every scenario marked worlds: [sim, real], simulated and real (as root;"
	@echo "about 80 minutes: real time; docs/worlds.md explains each difference)"
	@$(CLUSTERSIM) agree $$(grep -l '^worlds: \[sim, real\]' scenarios/*.yaml scenarios/fidelity/*.yaml) \
		| tee build/agreement.md

.PHONY: check-layers
check-layers: $(CLUSTERD)
	@$(PART) "core: layers" sh -c 'scripts/check-layers.py --self-test && \
		if nm $(CLUSTERD) | grep -E " [TtDdBbRr] (sim_|scenario_|ld_|world_|evq_)"; then \
		echo "check-layers: clusterd links simulator code (above)" >&2; exit 1; fi; \
		echo "ok   check-layers: clusterd links no simulator or scenario-loader symbol"'

# The plain variant: purity check, layers, scenario regressions through the
# CLI, rejection of malformed scenarios, then the unit tests.  Each script is
# a part (scripts/test-part.sh): every part runs even when one fails, and
# `make test` ends with one line per part and "N passed, N failed".
PART := scripts/test-part.sh
test test-plain test-asan: export TEST_PART_COLLECT = 1
test-plain:
	@[ -n "$(TEST_ALL)" ] || $(PART) --begin
	@$(PART) "plain: build" $(MAKE) --no-print-directory build-bins $(FUZZ_OBJ)
	@$(MAKE) --no-print-directory check-core
	@$(MAKE) --no-print-directory check-layers
	@$(PART) "plain: scenarios" scripts/run-scenarios.sh $(CLUSTERSIM)
	@$(PART) "plain: invalid scenarios" scripts/check-invalid.sh $(CLUSTERSIM)
	@$(PART) "plain: replay" scripts/check-replay.sh $(CLUSTERSIM)
	@$(PART) "plain: fuzz" scripts/check-fuzz.sh $(CLUSTERSIM)
	@$(PART) "plain: reports" scripts/check-report.sh $(BUILD)
	@$(PART) "plain: browser" scripts/check-browser.sh $(BUILD)
	@$(PART) "plain: command line" scripts/check-cli.sh $(BUILD)
	@$(PART) "plain: long work and Ctrl-C" scripts/check-long-work.sh $(BUILD)
	@$(PART) "plain: demo verdict" scripts/check-demo.sh $(BUILD)
	@$(PART) "plain: README examples" sh -c 'scripts/check-readme.py --self-test $(BUILD) && scripts/check-readme.py $(BUILD)'
	@$(PART) "plain: daemon" scripts/check-daemon.sh $(CLUSTERD)
	@$(PART) "plain: walkthroughs" scripts/check-walkthrough.sh $(BUILD)
	@$(PART) "plain: metrics and logs" scripts/check-metrics.sh $(CLUSTERD)
	@$(PART) "plain: deployment manifests" scripts/check-deploy.sh $(BUILD)
	@$(PART) "plain: install and man pages" scripts/check-install.sh $(BUILD)
	@$(PART) "plain: hostile peers" scripts/check-hostile.sh $(CLUSTERD)
	@$(PART) "plain: namespaces" scripts/check-netns.sh $(CLUSTERD)
	@$(PART) "plain: unit tests" $(UNIT)
	@[ -n "$(TEST_ALL)" ] || $(PART) --end

# The sanitizer variant runs the same unit tests (which include every
# shipped scenario) under ASan and UBSan.
ASAN_ENV := env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
test-asan:
	@[ -n "$(TEST_ALL)" ] || $(PART) --begin
	@$(PART) "asan: build" $(MAKE) --no-print-directory BUILD=build/asan SAN=1 build-bins
	@$(PART) "asan: exploration" $(ASAN_ENV) build/asan/clustersim explore scenarios/explore/join-3-crash-swarm.yaml \
		--from 4900ms --out build/asan/explore
	@$(PART) "asan: invalid scenarios" $(ASAN_ENV) scripts/check-invalid.sh build/asan/clustersim
	@$(PART) "asan: replay" $(ASAN_ENV) scripts/check-replay.sh build/asan/clustersim
	@$(PART) "asan: reports" $(ASAN_ENV) scripts/check-report.sh build/asan
	@$(PART) "asan: daemon" $(ASAN_ENV) scripts/check-daemon.sh build/asan/clusterd
	@$(PART) "asan: walkthroughs" $(ASAN_ENV) scripts/check-walkthrough.sh build/asan
	@$(PART) "asan: metrics and logs" $(ASAN_ENV) scripts/check-metrics.sh build/asan/clusterd
	@$(PART) "asan: hostile peers" $(ASAN_ENV) scripts/check-hostile.sh build/asan/clusterd
	@$(PART) "asan: real world" $(ASAN_ENV) scripts/check-real.sh build/asan/clustersim
	@$(PART) "asan: unit tests" $(ASAN_ENV) build/asan/unit-tests
	@[ -n "$(TEST_ALL)" ] || $(PART) --end

test: deps
	@$(PART) --begin
	@$(MAKE) --no-print-directory test-plain TEST_ALL=1 || echo "make test: the plain half stopped early"
	@$(MAKE) --no-print-directory test-asan TEST_ALL=1 || echo "make test: the sanitizer half stopped early"
	@$(PART) --end

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build-bins
	@mkdir -p $(BIN) && cp -f build/asan/clustersim $(BIN)/clustersim-asan

# The story, with what the build does said as it happens (compiler lines go
# to build/demo-build.log) and a verdict at the end (scripts/demo.sh).
demo: deps
	@mkdir -p build
	@echo "demo: building bin/ (about 2 minutes on a fresh 2-core machine; compiler output in build/demo-build.log)"
	@bash -c 'set -o pipefail; $(MAKE) --no-print-directory all 2>&1 | tee build/demo-build.log \
		| sed -un -E "/^  (LINK|PGO) |error|make: /s/^ */demo:   /p"' \
		|| { tail -n 30 build/demo-build.log; echo "demo: the build failed (build/demo-build.log)"; exit 1; }
	@scripts/demo.sh $(BIN)/clustersim

# Every benchmark, one table: build/bench/results.md and results.json, each
# figure compared with bench/baseline.json; fails when one is more than 30 %
# worse (BENCH_NO_FAIL=1: report only).  make bench-baseline records the
# last results as the new baseline.
bench: all
	@scripts/bench.sh $(BUILD) $(BIN)

bench-baseline:
	@scripts/bench.sh --record

# The long campaigns: coverage-guided targets (libFuzzer, and AFL++ when it
# installs), then seeded campaigns.  FUZZ_TIME (s) per libFuzzer target,
# FUZZ_SEEDS for the fixed-mode campaign; see scripts/fuzz.sh.
fuzz: all
	@scripts/fuzz.sh $(BIN)/clustersim

# make install [PREFIX=/usr/local] [DESTDIR=...]: bin/'s clustersim, clusterd
# and clusterctl, the man pages (man/), the example scenarios, deploy/ and the
# docs (scripts/install.sh says where); make uninstall removes what it put
# there.  scripts/check-install.sh BUILD checks both, and the pages' drift.
PREFIX ?= /usr/local
install: all
	@DESTDIR="$(DESTDIR)" scripts/install.sh $(BIN) $(PREFIX)

uninstall:
	@DESTDIR="$(DESTDIR)" scripts/install.sh --uninstall $(PREFIX)

clean:
	rm -rf build $(BIN) reports-out

-include $(PURITY_OBJ:.o=.d)
-include $(BUILD)/tests/bench/bench_registry.d $(POSIX_OBJ:.o=.d) $(CORE_OBJ:.o=.d) $(SIM_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
