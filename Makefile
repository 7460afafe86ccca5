# alicloud-ccm: one executable, $(BIN)/cloud-controller-manager. Workers are the
# same file re-executed, so every module below links into it.
#
#   make            release build
#   make test       deps + unit tests (ASan+UBSan) + integration tests
#   make deps       install Debian packages the build and tests need
#   make check      clang-format, cppcheck, clang-tidy
#   make fuzz       libFuzzer targets (clang), run briefly
#   make bench      benchmarks (bench/), never part of make test
#   make image      OCI image (podman) -> build/image/alicloud-ccm-$(VERSION).tar
#   make install    PREFIX=/usr/local DESTDIR= : binary, unit, man page
#   make deb        Debian package -> build/deb/alicloud-ccm_*.deb

VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo 0.0.0)
CC        ?= gcc
PKGS      := libcurl yajl openssl libevent nanomsg
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wpointer-arith -Wvla -Wwrite-strings -Wimplicit-fallthrough \
	-Wundef -Wcast-align -Wnull-dereference -fno-common
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -I. $(WARN) $(PKG_CFLAGS) \
	-DCCM_VERSION='"$(VERSION)"' -MMD -MP
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# Test hooks (scaffold controllers, CCM_* test knobs, clock_test_advance)
# exist only in the sanitizer build the tests run, never in the release one.
SAN_CFLAGS  := $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -DCCM_TEST_HOOKS

# B (build dir) and BIN can be moved so parallel builds do not collide;
# MODULES can be narrowed to build a subset while other modules change.
B         ?= build
BIN       ?= bin
MODULES   ?= lib config kube alicloud ipc supervisor workers
MAIN_SRC  := supervisor/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(wildcard $(addsuffix /*.c,$(MODULES)) \
	$(addsuffix /*/*.c,$(MODULES))))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/san/tests/%,$(UNIT_SRCS))
# Fixtures shared by unit tests (tests/unit/*_fixture.c): not tests
# themselves; each is linked into the tests that list it below.
UNIT_FIX_SRCS := $(wildcard tests/unit/*_fixture.c)
UNIT_FIX_OBJS := $(patsubst %.c,$(B)/san/%.o,$(UNIT_FIX_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCH_BINS := $(patsubst bench/%.c,$(B)/rel/bench/%,$(BENCH_SRCS))
# Shared by the benchmarks (the NodeList generator); not a benchmark itself.
BENCH_FIX_OBJS := $(B)/rel/bench/nodelist_gen.o
.SECONDARY: $(BENCH_FIX_OBJS)
# Small C drivers that integration tests run against the real API server.
PROG_SRCS := $(wildcard tests/integ/prog_*.c)
PROG_BINS := $(patsubst tests/integ/%.c,$(B)/san/tests/integ/%,$(PROG_SRCS))

REL_OBJS := $(patsubst %.c,$(B)/rel/%.o,$(LIB_SRCS))
SAN_OBJS := $(patsubst %.c,$(B)/san/%.o,$(LIB_SRCS))

.PHONY: all deps test testbins unit integ check format fuzz clean run apiserver bench \
	image install deb chaos

all: $(BIN)/cloud-controller-manager

$(BIN)/cloud-controller-manager: $(B)/rel/$(MAIN_SRC:.c=.o) $(REL_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PKG_LIBS)

# The sanitizer build of the binary is what integration tests run.
$(BIN)/san/cloud-controller-manager: $(B)/san/$(MAIN_SRC:.c=.o) $(SAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c -o $@ $<

$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(B)/san/tests/%: tests/unit/%.c $(SAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(B)/san/tests/test_slb_attrs $(B)/san/tests/test_slb_diff: \
	$(B)/san/tests/unit/slb_fixture.o
$(B)/san/tests/test_kube_async $(B)/san/tests/test_wk_fiber: \
	$(B)/san/tests/unit/httpd_fixture.o

$(B)/san/tests/integ/%: tests/integ/%.c $(SAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/rel/bench/%: bench/%.c $(REL_OBJS) $(BENCH_FIX_OBJS)
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS)

# Benchmarks: never part of make test (performance is not asserted there).
bench: $(BIN)/cloud-controller-manager $(BENCH_BINS)
	@bash bench/run.sh

# The chaos run (tests/integ/test_chaos.py): 8 minutes of chaos, under 10 in
# all with setup and convergence; make test runs 2. CHAOS_SEED fixes the
# random choices.
chaos:
	@bash tests/harness/deps.sh
	@$(MAKE) --no-print-directory testbins
	@KUBE_APISERVER=$$(bash tests/harness/build-apiserver.sh) \
		CHAOS_SECONDS=$${CHAOS_SECONDS:-480} \
		CCM_BIN=$(CURDIR)/$(BIN)/san/cloud-controller-manager \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		/usr/bin/python3 -m pytest -s -q tests/integ/test_chaos.py::test_chaos

# Everything the test runner needs built.
testbins: $(BIN)/cloud-controller-manager $(BIN)/san/cloud-controller-manager \
	$(UNIT_BINS) $(PROG_BINS)

deps:
	@bash tests/harness/deps.sh

apiserver: deps
	@bash tests/harness/build-apiserver.sh

# Everything: unit tests under ASan+UBSan, then integration tests against a
# real etcd + kube-apiserver and the cloud simulator.
test: deps
	@bash tests/run.sh

unit: $(UNIT_BINS)
	@bash tests/run.sh --unit-only

integ: $(BIN)/san/cloud-controller-manager $(BIN)/cloud-controller-manager
	@bash tests/run.sh --integ-only

# pkg-config flags are read when make starts, so deps run first and the
# build happens in a fresh make.
run:
	@bash tests/harness/deps.sh
	@$(MAKE) --no-print-directory all
	@bash tests/harness/run-local.sh

# Packaging (deploy/): the release binary as an OCI image, a make install,
# and a Debian package for IDC gateway hosts.
PREFIX  ?= /usr/local
DESTDIR ?=
image: $(BIN)/cloud-controller-manager
	@BINARY=$(BIN)/cloud-controller-manager VERSION=$(VERSION) \
		OUT=$(B)/image bash deploy/build-image.sh

install: $(BIN)/cloud-controller-manager
	@BINARY=$(BIN)/cloud-controller-manager PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR) bash deploy/install.sh

deb: $(BIN)/cloud-controller-manager
	@BINARY=$(BIN)/cloud-controller-manager OUT=$(B)/deb bash deploy/build-deb.sh

# clang-tidy gets the compiler's flags minus dependency-file output, and one
# process per file: in a multi-file run clang-tidy 14's analyzer reports
# every vsnprintf after the first file as using an uninitialised va_list.
TIDY_CFLAGS := $(filter-out -MMD -MP,$(BASE_CFLAGS))
TIDY_JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
check:
	clang-format --dry-run -Werror $(LIB_SRCS) $(MAIN_SRC) \
		$(wildcard */*.h */*/*.h)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. $(MODULES)
	printf '%s\n' $(LIB_SRCS) $(MAIN_SRC) | xargs -P $(TIDY_JOBS) -I{} \
		clang-tidy --quiet {} -- $(TIDY_CFLAGS)

format:
	clang-format -i $(LIB_SRCS) $(MAIN_SRC) $(wildcard */*.h) $(UNIT_SRCS) \
		$(UNIT_FIX_SRCS) $(UNIT_FIX_SRCS:.c=.h)

FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -I. -g -O1 -DCCM_VERSION='"fuzz"' \
	-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -o $@ $^ $(PKG_LIBS)

fuzz: $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS)) \
	$(B)/san/tests/integ/prog_yaml
	@PROG_YAML=$(B)/san/tests/integ/prog_yaml bash tests/fuzz/run.sh \
		$(filter $(B)/fuzz/%,$^)

clean:
	rm -rf build bin

# main.o is outside REL_OBJS/SAN_OBJS but includes config/cfg.h: without
# its .d a changed struct cfg left a stale main.o linked in.
-include $(REL_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(UNIT_FIX_OBJS:.o=.d) \
	$(BENCH_FIX_OBJS:.o=.d) \
	$(B)/rel/$(MAIN_SRC:.c=.d) $(B)/san/$(MAIN_SRC:.c=.d)
