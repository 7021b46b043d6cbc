using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(OciRuntime.Benchmarks.ConfigBenchmarks).Assembly).Run(args);
