# CyDEx: thin wrapper around CMake. The two commands a new user needs:
#   make demo   install what is missing, build, run the demo federation
#   make test   install what is missing, build, run every test (ctest)
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build test demo bench asan tsan fuzz format format-check clean deb

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	rm -rf $(BUILD)/demo
	$(BUILD)/bin/cydex demo --dir $(BUILD)/demo

bench: build
	$(BUILD)/bin/bench_envelope
	$(BUILD)/bin/bench_log
	$(BUILD)/bin/bench_roster
	$(BUILD)/bin/bench_e2e
	$(BUILD)/bin/bench_report

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCDX_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)"

# The unit tests under ThreadSanitizer: the library's own threads (parallel
# verification in the audit, the broker and the node). Not the tests that use
# ZeroMQ (the multi-process ones and transport_test): Debian's libzmq is not
# built with TSan, and its lock-free queues hand messages between threads in
# ways TSan cannot see, so it reports races in every message buffer.
tsan:
	$(MAKE) build BUILD=build-tsan CMAKE_FLAGS="-DCDX_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)"
	ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -L unit -E transport_test

# libFuzzer targets (clang); FUZZ_SECONDS each, JOBS at a time, each one's
# output in build-fuzz/fuzz-NAME.log (its last line is printed, the whole log
# if it found something: then its input is build-fuzz/fuzz-NAME-crash-*, and
# make fails once every target has run). The same list is CDX_FUZZ_TARGETS
# in CMakeLists.txt.
FUZZ_TARGETS = envelope json logentry ingress checkpoint merkle catchup control proof roster \
  config records canonical
FUZZ_SECONDS ?= 30
FUZZ_MAX_LEN ?= 65536
FUZZ_MAX_LEN_roster = 2097152
fuzz:
	CDX_WITH_CLANG=1 scripts/install-deps
	CC=clang cmake -S . -B build-fuzz -DCDX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
	cmake --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	$(MAKE) --no-print-directory -k -j $(JOBS) $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz-run-%:
	@mkdir -p build-fuzz/corpus-$*
	@if build-fuzz/bin/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN)) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/fuzz-$*- -timeout=30 \
	    build-fuzz/corpus-$* fuzz/corpus/$* > build-fuzz/fuzz-$*.log 2>&1; then \
	  echo "fuzz_$*: `grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' build-fuzz/fuzz-$*.log | tail -1`"; \
	else \
	  cat build-fuzz/fuzz-$*.log; echo "fuzz_$*: FAILED (build-fuzz/fuzz-$*.log)"; exit 1; \
	fi

# A Debian package of the programs, their systemd units, man pages and bash
# completion ($(BUILD)/cydex_VERSION_ARCH.deb); installing it creates the
# system user cydex the units run as.
deb: build
	@command -v scdoc >/dev/null || { echo "make deb: the man pages need scdoc (apt-get install scdoc)" >&2; exit 1; }
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/cydex_*.deb

SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(SOURCES)
format-check:
	clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf build build-asan build-tsan build-fuzz
