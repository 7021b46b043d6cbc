# OciRuntime — `make` builds the NativeAOT binary ./ocirun (like runc's make).
PREFIX  ?= /usr/local
DOTNET  ?= dotnet
SOURCES := $(shell find src -name '*.cs' -o -name '*.csproj' -o -name '*.c') Directory.Build.props Directory.Packages.props

.PHONY: all install demo test test-vm clean bench bench-micro conformance

all: ocirun

ocirun: $(SOURCES)
	$(DOTNET) publish src/Cli/ocirun.csproj -c Release -o artifacts/publish --nologo -v quiet $(if $(PIE),-p:PIE=$(PIE))
	cp -f artifacts/publish/ocirun ./ocirun

install: ocirun
	install -D -m 0755 ocirun $(DESTDIR)$(PREFIX)/bin/ocirun

# Installs missing apt packages, builds, makes a busybox bundle and runs it with `ocirun run`.
demo:
	scripts/install-deps.sh demo
	$(MAKE) ocirun
	scripts/demo.sh

# Installs what the tests need and runs them all.
test:
	scripts/install-deps.sh test
	$(MAKE) ocirun
	scripts/test.sh

# Lifecycle benchmark: ocirun vs crun vs runc (hyperfine), a markdown table on stdout.
bench: ocirun
	benchmarks/lifecycle.sh

# BenchmarkDotNet microbenchmarks of the hot code (parse/validate, state I/O).
bench-micro:
	$(DOTNET) run -c Release --project benchmarks/OciRuntime.Benchmarks -- --filter '*'

# Real clients drive ./ocirun (containerd + shim, podman + conmon) and the runtime-spec suite runs against it
# (root; installs containerd, podman, busybox-static, jq if missing). COMPARE=1 adds runc and crun side by side.
conformance: ocirun
	conformance/run.sh

# The VM stage: a Debian 12 guest (pure cgroup v2, systemd as PID 1; built once per machine into /var/cache/ocirun-vm)
# booted under qemu runs conformance/vm/guest/tests.sh, comparing ocirun with runc there (root).
test-vm: ocirun
	conformance/vm/run.sh

clean:
	rm -rf ocirun artifacts demo-bundle
	$(DOTNET) clean OciRuntime.sln -v quiet --nologo || true
