# The README's two commands. `make run` sets up and starts the daemon on SQLite under
# ./var; `make test` sets up and runs every test twice: an optimised build, and a build
# with AddressSanitizer + UndefinedBehaviorSanitizer.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build build-asan run test test-fast bench bench-dm bench-platform clean

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLWM2MD_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	./scripts/run.sh $(BUILD)

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Only the optimised build's tests (quicker while iterating).
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	./bench/run.sh $(BUILD)
	./bench/dtls.sh $(BUILD)
	./bench/dm.sh $(BUILD)
	./bench/platform.sh $(BUILD)

# Only the device-management benchmark (notifications, REST reads).
bench-dm: build
	./bench/dm.sh $(BUILD)

# Only the platform benchmark (reports through the codecs, commands).
bench-platform: build
	./bench/platform.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
