// The ocirun entry point: everything lives in OciRuntime.Runtime so tests can call it.
return OciRuntime.Runtime.Cli.OcirunCli.Main(args);
