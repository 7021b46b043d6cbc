using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Seccomp -- --filter '*'   (as root: loading a filter needs no_new_privs
// only, but the fixture paths and OCIRUN_BINARY assume the repository layout)
BenchmarkSwitcher.FromAssembly(typeof(OciRuntime.Benchmarks.Seccomp.SeccompBenchmarks).Assembly).Run(args);
