# tlswitness - plain Makefile.  make, make check, make check-asan, make lab.
CC      ?= cc
STD     = -std=c11 -D_GNU_SOURCE -I/usr/include/postgresql
WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter -Wvla
OPT     = -O2 -g
CFLAGS  ?=
CFLAGS  += $(STD) $(WARN) $(OPT) -MMD -MP
# mimalloc: glibc malloc was a third of the log pipeline (bench/run.sh).
MALLOC_LIB ?= -Wl,--no-as-needed -lmimalloc -Wl,--as-needed
# libpq is not linked: store/pqlib.c opens it when the store is used.
BASE_LIBS = -lpcap -lcrypto -lyaml -lz -lsystemd -pthread
LDLIBS  = $(MALLOC_LIB) $(BASE_LIBS)
BUILD   ?= build
TW_BIN  ?= tlswitness

# The stages, bottom first (ARCHITECTURE.md "Stages"): each is an archive
# of its own, and a stage may call only the stages below it.  The binary
# and every unit test link the archives top first, so a call upward finds
# nothing to link against; `make layers` also links each stage whole
# against only the stages below it.
STAGES  = util model ingest correlate rules report store cli
stage_src = $(wildcard $(1)/*.c)
stage_obj = $(patsubst %.c,$(BUILD)/%.o,$(call stage_src,$(1))) \
            $(if $(filter rules,$(1)),$(BUILD)/default_policy.o) \
            $(if $(filter store,$(1)),$(BUILD)/store_schema.o)
# $(call upto,STAGE): STAGE and those below it, bottom first.
upto    = $(if $(filter $(1),$(firstword $(2))),$(firstword $(2)),$(firstword $(2)) \
            $(call upto,$(1),$(wordlist 2,$(words $(2)),$(2))))
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
# $(call archives,STAGE): the archives to link for STAGE, top first.
archives = $(foreach s,$(call reverse,$(call upto,$(1),$(STAGES))),$(BUILD)/lib$(s).a)
LIB_SRC = $(foreach s,$(STAGES),$(call stage_src,$(s)))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/default_policy.o $(BUILD)/store_schema.o
ALL_ARCHIVES = $(call archives,cli)
UNIT_SRC = $(wildcard tests/unit/*_test.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The stage each unit test tests: it links against that stage and below.
util_test_STAGE   = util
parse_test_STAGE  = ingest
scan_test_STAGE   = ingest
join_test_STAGE   = correlate
track_test_STAGE  = correlate
policy_test_STAGE = rules
report_test_STAGE = report
copytext_test_STAGE = store

all: $(TW_BIN) layers

$(TW_BIN): $(BUILD)/tlswitness.o $(ALL_ARCHIVES)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The folder is a prerequisite too: a file added or removed remakes it.
define stage_rule
$(BUILD)/lib$(1).a: $(call stage_obj,$(1)) $(1)
	@rm -f $$@
	$(AR) rcs $$@ $(call stage_obj,$(1))
endef
$(foreach s,$(STAGES),$(eval $(call stage_rule,$(s))))

# Each stage linked whole against only the stages below it: an upward call
# is an undefined reference here.
$(BUILD)/layers.ok: tests/unit/layer_stub.c $(ALL_ARCHIVES)
	@for s in $(STAGES); do \
	  below=""; for t in $(STAGES); do [ "$$t" = "$$s" ] && break; below="$(BUILD)/lib$$t.a $$below"; done; \
	  $(CC) $(CFLAGS) $(LDFLAGS) -o $(BUILD)/layer_$$s tests/unit/layer_stub.c \
	    -Wl,--whole-archive $(BUILD)/lib$$s.a -Wl,--no-whole-archive $$below $(LDLIBS) \
	    || { echo "layers: $$s calls a stage above it (see the undefined references)"; exit 1; }; \
	  rm -f $(BUILD)/layer_$$s $(BUILD)/layer_$$s.d; \
	done
	@touch $@
layers: $(BUILD)/layers.ok

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# A text file as a C string: $(call embed,NAME) writes const char NAME[].
embed = @mkdir -p $(dir $@); { echo 'const char $(1)[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

# The built-in policy, and the evidence store's schema.
$(BUILD)/default_policy.c: rules/default.yaml
	$(call embed,tw_default_policy)
$(BUILD)/store_schema.c: store/schema.sql
	$(call embed,tw_store_schema)

$(BUILD)/default_policy.o $(BUILD)/store_schema.o: %.o: %.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Wno-missing-variable-declarations -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(call archives,$$($$*_STAGE))
	@mkdir -p $(dir $@)
	@[ -n "$($*_STAGE)" ] || { echo "Makefile: say which stage $* tests ($*_STAGE)"; exit 1; }
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call archives,$($*_STAGE)) $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# The whole suite: unit tests (cmocka), golden files, corpus and lab checks.
check: $(TW_BIN) layers $(UNIT_BIN)
	@TW=./$(TW_BIN) sh tests/run.sh $(UNIT_BIN)

# One golden case regenerated from a run, after a reviewed change:
#   make golden-update CASE=name   (several: CASE="a b")
golden-update: $(TW_BIN)
	@[ -n "$(CASE)" ] || { echo "make golden-update CASE=name (a folder of tests/golden)"; exit 2; }
	@TW=./$(TW_BIN) sh tests/golden.sh update $(CASE)

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
FUZZ_TARGETS = maillog capture smtp received rules state verify policytable journal load
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang MALLOC_LIB= OPT="$(FUZZ_FLAGS)" $(LIB_SRC:%.c=build-fuzz/%.o) build-fuzz/default_policy.o build-fuzz/store_schema.o
	for t in $(FUZZ_TARGETS); do \
	  clang $(STD) $(FUZZ_FLAGS) -fsanitize=fuzzer -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
	    $(LIB_SRC:%.c=build-fuzz/%.o) build-fuzz/default_policy.o build-fuzz/store_schema.o $(BASE_LIBS) || exit 1; \
	done

fuzz: fuzz-build
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Longer than CI's 20 s a target: FUZZ_LONG_SECONDS per target (default 300,
# 25 CPU-minutes in all); the corpus each target grew is kept in
# build-fuzz/out/TARGET/work and seeds the next run.
FUZZ_LONG_SECONDS ?= 300
fuzz-long: fuzz-build
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_LONG_SECONDS)

# Regenerate a lab set from real Postfix and Sendmail (needs root).
lab: tlswitness
	TLSWITNESS=$(CURDIR)/tlswitness bash tests/lab/lab.sh $(or $(LAB_OUT),build/lab)

# tlswitness beside pflogsumm, zcat, tshark and tcpdump on 1 GiB inputs.
bench: tlswitness
	sh bench/run.sh $(BENCH_SIZE)

# The evidence store at fleet scale (bench/store.sh): FLEET_PAIRS=50 FLEET_COPIES=100.
bench-store: tlswitness
	sh bench/store.sh ./tlswitness

# make install [PREFIX=/usr/local] [DESTDIR=...] [UNITDIR=...]: the binary,
# the per-host shard runner, the man page, the schemas (of the output, and
# the evidence store's SQL), the systemd sweep units,
# the shipped policies and the bash completion; make uninstall takes them
# away.  The built-in policy stays built in.
PREFIX  ?= /usr/local
BINDIR  = $(PREFIX)/bin
MANDIR  = $(PREFIX)/share/man/man1
DATADIR = $(PREFIX)/share/tlswitness
COMPDIR = $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
# (INSTALL_ONLY=1: install the binary TW_BIN names as it is, the tests' way)
install: $(if $(INSTALL_ONLY),,$(TW_BIN))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(COMPDIR) \
	  $(DESTDIR)$(DATADIR)/schema $(DESTDIR)$(UNITDIR)
	install -m 0755 $(TW_BIN) $(DESTDIR)$(BINDIR)/tlswitness
	sed 's|TLSWITNESS:-tlswitness}|TLSWITNESS:-$(BINDIR)/tlswitness}|' contrib/shards/tlswitness-shards \
	  > $(DESTDIR)$(BINDIR)/tlswitness-shards
	chmod 0755 $(DESTDIR)$(BINDIR)/tlswitness-shards
	sed 's|/usr/share/tlswitness|$(DATADIR)|g' man/tlswitness.1 > $(DESTDIR)$(MANDIR)/tlswitness.1
	chmod 0644 $(DESTDIR)$(MANDIR)/tlswitness.1
	install -m 0644 rules/default.yaml rules/strict.yaml rules/opportunistic.yaml $(DESTDIR)$(DATADIR)/
	install -m 0644 completion/tlswitness.bash $(DESTDIR)$(COMPDIR)/tlswitness
	install -m 0644 schema/*.schema.json $(DESTDIR)$(DATADIR)/schema/
	install -m 0644 store/schema.sql $(DESTDIR)$(DATADIR)/store-schema.sql
	for u in contrib/systemd/tlswitness-sweep.service contrib/systemd/tlswitness-sweep.timer; do \
	  sed 's|/usr/local/bin/tlswitness|$(BINDIR)/tlswitness|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tlswitness $(DESTDIR)$(BINDIR)/tlswitness-shards \
	  $(DESTDIR)$(DATADIR)/store-schema.sql $(DESTDIR)$(MANDIR)/tlswitness.1 \
	  $(DESTDIR)$(DATADIR)/default.yaml $(DESTDIR)$(DATADIR)/strict.yaml \
	  $(DESTDIR)$(DATADIR)/opportunistic.yaml $(DESTDIR)$(COMPDIR)/tlswitness \
	  $(DESTDIR)$(UNITDIR)/tlswitness-sweep.service $(DESTDIR)$(UNITDIR)/tlswitness-sweep.timer
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/schema/,$(notdir $(wildcard schema/*.schema.json)))
	-rmdir $(DESTDIR)$(DATADIR)/schema $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-tsan build-fuzz tlswitness

# README.md's field reference, generated from the schemas in schema/.
fieldref:
	python3 tests/schema/readme_fieldref.py --write

.PHONY: fieldref all layers unit check golden-update fuzz-long install uninstall check-asan check-tsan fuzz fuzz-build lab bench bench-store clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
