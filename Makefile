# The README's two commands. `make run` sets up and starts the daemon on SQLite under
# ./var (ARGS="--log-level debug ..." are passed to it; it builds the daemon and the tools
# only, quietly); `make test` sets up and runs every test twice: an optimised build, and a build
# with AddressSanitizer + UndefinedBehaviorSanitizer; then the console's browser tests
# against each of the two builds' daemons (docs/console-tests.md); then, when clang is
# installed (as scripts/deps.sh does), every libFuzzer target of tests/fuzz for a short,
# fixed number of runs over its seed corpus (docs/fuzzing.md); last, the Debian package
# (`make deb`: a build of the programs alone, packed, its contents checked). `make fuzz`
# runs each target for FUZZ_SECONDS on a working corpus kept in $(FUZZ_BUILD)/corpus.
BUILD ?= build
DEB_BUILD ?= build-deb
# Flags for the daemon under `make run`, e.g. make run ARGS="--http 0.0.0.0:8080".
ARGS ?=
# Where `make install` puts files below its prefix (/usr/local unless configured otherwise).
DESTDIR ?=
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# A subset of the targets for `make fuzz` (names as in tests/fuzz, e.g. fuzz_dtls); all
# when empty. FUZZ_NICE runs them at a lower priority on a shared machine.
FUZZ_TARGETS ?=
FUZZ_NICE ?= 0

.PHONY: all deps deps-console build build-programs build-asan build-fuzz run install deb test test-fast test-console \
	test-console-fast test-fuzz fuzz bench bench-dm bench-platform bench-firmware bench-bootstrap bench-console bench-soak clean

all: build

deps:
	@./scripts/deps.sh

# Chromium, node and npm for the console's browser tests.
deps-console:
	./scripts/deps.sh console

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLWM2MD_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The daemon and the tools only (CMake target "programs"): no tests or benchmarks. Their
# compiler output goes to $(BUILD)/programs.log, shown when the build fails.
build-programs: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) --target programs -j $(JOBS) >$(BUILD)/programs.log 2>&1 || \
		{ tail -n 40 $(BUILD)/programs.log; echo "build failed: $(BUILD)/programs.log"; exit 1; }

run: build-programs
	@./scripts/run.sh $(BUILD) $(ARGS)

# The daemon, the tools, an example /usr/local/etc/lwm2md/lwm2md.conf and a systemd unit
# (cmake/install.cmake, docs/deploying.md). DESTDIR=... stages it elsewhere.
install: build-programs
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian package (CPack): prefix /usr, config in /etc/lwm2md, the unit in
# /usr/lib/systemd/system; written to $(DEB_BUILD)/lwm2md_<version>_<arch>.deb.
deb: deps
	cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
		-DLWM2MD_TESTS=OFF >/dev/null
	cmake --build $(DEB_BUILD) -j $(JOBS) >$(DEB_BUILD)/build.log 2>&1 || \
		{ tail -n 40 $(DEB_BUILD)/build.log; exit 1; }
	cd $(DEB_BUILD) && cpack -G DEB
	./tests/install/check-install.sh $$(ls -t $(DEB_BUILD)/lwm2md_*.deb | head -n 1) $(DEB_BUILD)/deb-test

# The fuzz targets need clang (with libFuzzer's runtime); gcc builds ignore them.
build-fuzz: deps
	@if command -v clang >/dev/null 2>&1; then \
		cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DLWM2MD_FUZZ=ON \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
			>/dev/null && \
		cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS); \
	else \
		echo "clang is not installed: the fuzz targets are not built"; \
	fi

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-console
	$(MAKE) --no-print-directory test-fuzz
	$(MAKE) --no-print-directory deb

# The console's browser tests (tests/console, docs/console-tests.md): Debian's headless
# Chromium driven by playwright-core under `node --test`, against the optimised build's
# daemon, then the ASan build's (whose leak or sanitizer report at its stop fails a test).
# Screenshots and logs are kept in $(BUILD)/console-artefacts and $(ASAN_BUILD)/console-artefacts.
CONSOLE_DIR = tests/console
CONSOLE_NPM = $(CONSOLE_DIR)/node_modules/.installed
test-console: deps-console build build-asan $(CONSOLE_NPM)
	./scripts/console-tests.sh $(BUILD) $(ASAN_BUILD)

# Only against the optimised build (quicker while iterating).
test-console-fast: deps-console build $(CONSOLE_NPM)
	./scripts/console-tests.sh $(BUILD)

# The npm packages, exactly as the committed lockfile has them; again only when it changed.
$(CONSOLE_NPM): $(CONSOLE_DIR)/package-lock.json $(CONSOLE_DIR)/package.json | deps-console
	cd $(CONSOLE_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Each fuzz target over its seed corpus, then a fixed number of fuzzed runs (ctest label
# "fuzz"); a crash, a leak or a sanitizer report fails it.
test-fuzz: build-fuzz
	@if [ -f $(FUZZ_BUILD)/CTestTestfile.cmake ]; then \
		cd $(FUZZ_BUILD) && ctest -L fuzz --output-on-failure -j $(JOBS); \
	fi

# Every fuzz target for FUZZ_SECONDS each, on a working corpus seeded from the repository's.
fuzz: build-fuzz
	@command -v clang >/dev/null 2>&1 || { echo "make fuzz needs clang (scripts/deps.sh)"; exit 1; }
	nice -n $(FUZZ_NICE) ./tests/fuzz/run-all.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Only the optimised build's tests (quicker while iterating).
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	./bench/run.sh $(BUILD)
	./bench/dtls.sh $(BUILD)
	./bench/dm.sh $(BUILD)
	./bench/platform.sh $(BUILD)
	./bench/firmware.sh $(BUILD)
	./bench/bootstrap.sh $(BUILD)

# Only the device-management benchmark (notifications, REST reads).
bench-dm: build
	./bench/dm.sh $(BUILD)

# Only the platform benchmark (reports through the codecs, commands).
bench-platform: build
	./bench/platform.sh $(BUILD)

# Only the firmware benchmark: a campaign pulling a 200 KiB package to 10 000 devices
# (bench/firmware.sh; FW_DEVICES=1000 for a quick run).
FW_DEVICES ?= 10000
bench-firmware: build
	./bench/firmware.sh $(BUILD) $(FW_DEVICES)

# Only the Bootstrap-Server benchmark: 10 000 devices bootstrapping over plain CoAP and over
# DTLS against the same run's Register and handshake+Register rates (bench/bootstrap.sh;
# BS_DEVICES=1000 for a quick run).
BS_DEVICES ?= 10000
bench-bootstrap: build
	./bench/bootstrap.sh $(BUILD) $(BS_DEVICES)

# Only the soak benchmark (bench/soak.sh): 100 000 devices for 30 minutes, a line per 5;
# SOAK_ARGS="2000 2 1" for the smoke (DEVICES MINUTES WINDOW_MINUTES).
SOAK_ARGS ?=
bench-soak: build
	./bench/soak.sh $(BUILD) $(SOAK_ARGS)

# The web console in headless Chromium: its files' sizes, the device list's first row at
# 1k and 100k devices, the daemon's memory and CPU with consoles open on a busy fleet
# (bench/console.sh). At a lower priority: the machine is usually shared.
bench-console: deps-console build $(CONSOLE_NPM)
	nice -n 10 ./bench/console.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
