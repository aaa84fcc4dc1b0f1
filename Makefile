# tlswitness - plain Makefile.  make, make check, make check-asan, make lab.
CC      ?= cc
STD     = -std=c11 -D_GNU_SOURCE
WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter -Wvla
OPT     = -O2 -g
CFLAGS  ?=
CFLAGS  += $(STD) $(WARN) $(OPT) -MMD -MP
# mimalloc: glibc malloc was a third of the log pipeline (bench/run.sh).
MALLOC_LIB ?= -Wl,--no-as-needed -lmimalloc -Wl,--as-needed
BASE_LIBS = -lpcap -lcrypto -lyaml -lz -pthread
LDLIBS  = $(MALLOC_LIB) $(BASE_LIBS)
BUILD   ?= build
TW_BIN  ?= tlswitness

LIB_SRC = $(wildcard util/*.c model/*.c ingest/*.c correlate/*.c rules/*.c report/*.c cli/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/default_policy.o
UNIT_SRC = $(wildcard tests/unit/*_test.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(TW_BIN)

$(TW_BIN): $(BUILD)/tlswitness.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The built-in policy: rules/default.yaml as a C string.
$(BUILD)/default_policy.c: rules/default.yaml
	@mkdir -p $(dir $@)
	{ echo 'const char tw_default_policy[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/default_policy.o: $(BUILD)/default_policy.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Wno-missing-variable-declarations -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# The whole suite: unit tests (cmocka), golden files, corpus and lab checks.
check: $(TW_BIN) $(UNIT_BIN)
	@TW=./$(TW_BIN) sh tests/run.sh $(UNIT_BIN)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-asan:
	TW_NO_VALGRIND=1 $(MAKE) BUILD=build-asan TW_BIN=build-asan/tlswitness CC=clang MALLOC_LIB= \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" check

# The threaded pipeline under ThreadSanitizer (clang).
check-tsan:
	$(MAKE) BUILD=build-tsan TW_BIN=build-tsan/tlswitness CC=clang MALLOC_LIB= \
	  OPT="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" build-tsan/tlswitness
	sh tests/tsan.sh build-tsan/tlswitness

# libFuzzer targets for every parser (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = maillog capture smtp received rules
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang MALLOC_LIB= OPT="$(FUZZ_FLAGS)" $(LIB_SRC:%.c=build-fuzz/%.o) build-fuzz/default_policy.o
	for t in $(FUZZ_TARGETS); do \
	  clang $(STD) $(FUZZ_FLAGS) -fsanitize=fuzzer -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
	    $(LIB_SRC:%.c=build-fuzz/%.o) build-fuzz/default_policy.o $(BASE_LIBS) || exit 1; \
	done

fuzz: fuzz-build
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Regenerate a lab set from real Postfix and Sendmail (needs root).
lab: tlswitness
	TLSWITNESS=$(CURDIR)/tlswitness bash tests/lab/lab.sh $(or $(LAB_OUT),build/lab)

# tlswitness beside pflogsumm, zcat, tshark and tcpdump on 1 GiB inputs.
bench: tlswitness
	sh bench/run.sh $(BENCH_SIZE)

clean:
	rm -rf build build-asan build-tsan build-fuzz tlswitness

.PHONY: all unit check check-asan check-tsan fuzz fuzz-build lab bench clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
