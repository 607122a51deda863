# Sieve: `make run` brings it up, `make test` builds and passes every test.
# Both install what they need first (idempotent): Debian packages, the
# Maven 3.9 bootstrap (into .build/, ignored), Java 25 from /usr/lib/jvm.

SHELL       := /bin/bash
JAVA_HOME   ?= /usr/lib/jvm/temurin-25-jdk-amd64
MAVEN_VER   := 3.9.11
BUILD_DIR   := $(CURDIR)/.build
MVN         := $(BUILD_DIR)/apache-maven-$(MAVEN_VER)/bin/mvn
MVN_FLAGS   ?= -B -ntp
export JAVA_HOME

.PHONY: all deps maven build test bench run clean

all: build

deps:
	@scripts/install-deps.sh

maven: $(MVN)

$(MVN):
	@scripts/bootstrap-maven.sh "$(BUILD_DIR)" "$(MAVEN_VER)"

build: deps maven
	@scripts/build-ui.sh
	$(MVN) $(MVN_FLAGS) -q -DskipTests install
	@rm -f cli/target/sieve-cli.jsa cli/target/sieve-cli.aot && SIEVE_CLI_DAEMON=0 SIEVE_TRAIN_AOT=1 bin/sieve --version >/dev/null # trains the CLI's AOT cache
	@echo "built: bin/sieve bin/sieve-agent bin/sieve-relay"

test: deps maven
	@MVN="$(MVN)" MVN_FLAGS="$(MVN_FLAGS)" scripts/test.sh

bench: build
	@scripts/bench.sh

run: build
	@scripts/run.sh

clean:
	$(MVN) $(MVN_FLAGS) -q clean || true
