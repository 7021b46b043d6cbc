using System.Text.Json;
using OciRuntime.Spec.Json;

namespace OciRuntime.Spec;

/// <summary>
/// Reads and writes runtime-spec documents (config.json, process.json, state, features.json) with the generated
/// readers and writers of <see cref="SpecFastJson"/> (<see cref="FastJson"/>: System.Text.Json's rules, none of its
/// serializer's cost). Every read failure (missing file, directory, empty, oversized, deeply nested, syntax or type
/// error, invalid UTF-8) becomes a one-line <see cref="SpecException"/> such as
/// <c>config.json: linux.resources.memory.limit: expected an integer, got "1G"</c>; nothing else is thrown.
/// </summary>
public static class SpecSerializer
{
    /// <summary>The file name of the configuration inside a bundle: "config.json" (bundle.md).</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The largest document accepted: 64 MiB.</summary>
    public const long MaxDocumentSize = 64L * 1024 * 1024;

    /// <summary>The deepest JSON nesting accepted (objects and arrays): 64 levels. A valid config.json needs about 7.</summary>
    public const int MaxDepth = 64;

    // The generated writers' options: the same bytes System.Text.Json writes with tab indentation (config.json as runc writes it), compact, and with
    // two-space indentation (the OCI state as `runc state` prints it).
    // In a holder class: JavaScriptEncoder.UnsafeRelaxedJsonEscaping's class constructor builds its tables over every
    // UTF-16 code unit (≈0.2 ms in NativeAOT), paid only by a process that writes a document for people to read.
    private static class Writers
    {
        internal static readonly JsonWriterOptions Tabs = FastJson.WriterOptions(indented: true, '\t', 1);
        internal static readonly JsonWriterOptions Compact = FastJson.WriterOptions(indented: false);
        internal static readonly JsonWriterOptions TwoSpaces = FastJson.WriterOptions(indented: true, ' ', 2);
    }

    /// <summary>Parses a config.json document. Does not validate it; see <see cref="SpecValidator"/>.</summary>
    /// <param name="utf8Json">The UTF-8 JSON text (a leading UTF-8 BOM is skipped).</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SpecException">The document is empty, too large, too deep, not JSON, or a value has the wrong type.</exception>
    public static Spec Parse(ReadOnlySpan<byte> utf8Json, string fileName = ConfigFileName) =>
        ParseDocument(utf8Json, SpecFastJson.ReadSpec, fileName);

    /// <summary>Parses a config.json document given as a .NET string. Does not validate it.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SpecException">The document cannot be parsed.</exception>
    public static Spec Parse(string json, string fileName = ConfigFileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json), fileName);
    }

    /// <summary>Reads and parses a config.json file. Does not validate it.</summary>
    /// <param name="configPath">Path of the file.</param>
    /// <param name="displayName">Name used in error messages; defaults to <paramref name="configPath"/>.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SpecException">The file is missing, unreadable, a directory, larger than <see cref="MaxDocumentSize"/>, or invalid.</exception>
    public static Spec Load(string configPath, string? displayName = null)
    {
        ArgumentNullException.ThrowIfNull(configPath);
        string name = displayName ?? configPath;
        return Parse(ReadDocument(configPath, name, null), name);
    }

    /// <summary>Reads and parses <c>config.json</c> of a bundle directory. Errors are reported against "config.json".</summary>
    /// <param name="bundleDir">The bundle directory.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SpecException">e.g. <c>config.json: no such file in bundle /path/to/bundle</c>.</exception>
    public static Spec LoadBundle(string bundleDir)
    {
        ArgumentNullException.ThrowIfNull(bundleDir);
        if (!Directory.Exists(bundleDir))
        {
            string what = File.Exists(bundleDir) ? "is not a directory" : "does not exist";
            throw new SpecException(ConfigFileName, null, $"bundle {bundleDir} {what}");
        }
        return Parse(ReadDocument(Path.Combine(bundleDir, ConfigFileName), ConfigFileName, bundleDir), ConfigFileName);
    }

    /// <summary>
    /// Serialises a configuration. Indented output is byte-for-byte what runc writes for the same values: keys in runtime-spec
    /// Go field order, one tab per level, "\n" line breaks, no trailing newline.
    /// </summary>
    /// <param name="spec">The configuration.</param>
    /// <param name="indented"><see langword="true"/> for tab-indented output, <see langword="false"/> for one compact line.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(Spec spec, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return System.Text.Encoding.UTF8.GetString(SerializeToUtf8(spec, indented));
    }

    /// <summary>Serialises a configuration to UTF-8, like <see cref="Serialize(Spec, bool)"/>.</summary>
    /// <param name="spec">The configuration.</param>
    /// <param name="indented"><see langword="true"/> for tab-indented output.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] SerializeToUtf8(Spec spec, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return FastJson.Write(spec, indented ? Writers.Tabs : Writers.Compact, SpecFastJson.WriteSpec);
    }

    /// <summary>
    /// Serialises a configuration for the runtime's own use (the init's orders, the state directory's copy): one compact
    /// line, non-ASCII and HTML-sensitive characters escaped as \uXXXX. The same document as <see cref="SerializeToUtf8"/>
    /// for any JSON reader, without the cost of the relaxed encoder's tables.
    /// </summary>
    /// <param name="spec">The configuration.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] SerializeForRuntime(Spec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return FastJson.Write(spec, FastJson.CompactWriter, SpecFastJson.WriteSpec);
    }

    /// <summary>Deep-copies a configuration (through its JSON form).</summary>
    /// <param name="spec">The configuration.</param>
    /// <returns>An independent copy.</returns>
    public static Spec Clone(Spec spec) => Parse(SerializeForRuntime(spec), "clone");

    /// <summary>Deep-copies a process (through its JSON form).</summary>
    /// <param name="process">The process.</param>
    /// <returns>An independent copy.</returns>
    public static Process CloneProcess(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        return ParseProcess(FastJson.Write(process, FastJson.CompactWriter, SpecFastJson.WriteProcess), "process");
    }

    /// <summary>
    /// Parses a standalone process document: the JSON of <c>config.json</c>'s <c>process</c> object, as passed to
    /// <c>exec --process process.json</c> by containerd. Does not validate it; see <see cref="SpecValidator.ValidateProcess"/>.
    /// </summary>
    /// <param name="utf8Json">The UTF-8 JSON text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The process.</returns>
    /// <exception cref="SpecException">The document cannot be parsed; paths are relative to it, e.g. <c>user.uid</c>.</exception>
    public static Process ParseProcess(ReadOnlySpan<byte> utf8Json, string fileName = "process.json") =>
        ParseDocument(utf8Json, SpecFastJson.ReadProcess, fileName);

    /// <summary>Reads and parses a standalone process document (see <see cref="ParseProcess"/>).</summary>
    /// <param name="path">Path of the file.</param>
    /// <param name="displayName">Name used in error messages; defaults to <paramref name="path"/>.</param>
    /// <returns>The process.</returns>
    /// <exception cref="SpecException">The file is missing, unreadable or invalid.</exception>
    public static Process LoadProcess(string path, string? displayName = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = displayName ?? path;
        return ParseProcess(ReadDocument(path, name, null), name);
    }

    /// <summary>Serialises a standalone process document (tab-indented or compact).</summary>
    /// <param name="process">The process.</param>
    /// <param name="indented"><see langword="true"/> for tab indentation.</param>
    /// <returns>The JSON text.</returns>
    public static string SerializeProcess(Process process, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(process);
        return System.Text.Encoding.UTF8.GetString(SerializeProcessToUtf8(process, indented));
    }

    /// <summary>Serialises a standalone process document to UTF-8, like <see cref="SerializeProcess"/>.</summary>
    /// <param name="process">The process.</param>
    /// <param name="indented"><see langword="true"/> for tab indentation.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] SerializeProcessToUtf8(Process process, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(process);
        return FastJson.Write(process, indented ? Writers.Tabs : Writers.Compact, SpecFastJson.WriteProcess);
    }

    /// <summary>Parses an OCI state document (runtime.md#state).</summary>
    /// <param name="utf8Json">The UTF-8 JSON text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The state.</returns>
    /// <exception cref="SpecException">The document cannot be parsed.</exception>
    public static State ParseState(ReadOnlySpan<byte> utf8Json, string fileName = "state.json") =>
        ParseDocument(utf8Json, SpecFastJson.ReadState, fileName);

    /// <summary>Reads and parses an OCI state file.</summary>
    /// <param name="path">Path of the file.</param>
    /// <returns>The state.</returns>
    /// <exception cref="SpecException">The file is missing, unreadable or invalid.</exception>
    public static State LoadState(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ParseState(ReadDocument(path, path, null), path);
    }

    /// <summary>Serialises an OCI state: compact (for hooks' stdin) or indented with two spaces (like <c>runc state</c>).</summary>
    /// <param name="state">The state.</param>
    /// <param name="indented"><see langword="true"/> for two-space indentation.</param>
    /// <returns>The JSON text.</returns>
    public static string SerializeState(State state, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        return System.Text.Encoding.UTF8.GetString(SerializeStateToUtf8(state, indented));
    }

    /// <summary>Serialises an OCI state to UTF-8, like <see cref="SerializeState"/>.</summary>
    /// <param name="state">The state.</param>
    /// <param name="indented"><see langword="true"/> for two-space indentation.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] SerializeStateToUtf8(State state, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        return FastJson.Write(state, indented ? Writers.TwoSpaces : Writers.Compact, SpecFastJson.WriteState);
    }

    /// <summary>Parses a features document (features.md).</summary>
    /// <param name="utf8Json">The UTF-8 JSON text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The features.</returns>
    /// <exception cref="SpecException">The document cannot be parsed.</exception>
    public static Features ParseFeatures(ReadOnlySpan<byte> utf8Json, string fileName = "features.json") =>
        ParseDocument(utf8Json, SpecFastJson.ReadFeatures, fileName);

    /// <summary>Serialises a features document (tab-indented by default).</summary>
    /// <param name="features">The features.</param>
    /// <param name="indented"><see langword="true"/> for tab indentation.</param>
    /// <returns>The JSON text.</returns>
    public static string SerializeFeatures(Features features, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        return System.Text.Encoding.UTF8.GetString(FastJson.Write(features, indented ? Writers.Tabs : Writers.Compact, SpecFastJson.WriteFeatures));
    }

    /// <summary>Serialises the container process state sent to a seccomp listener (compact UTF-8).</summary>
    /// <param name="state">The container process state.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] SerializeContainerProcessStateToUtf8(ContainerProcessState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return FastJson.Write(state, Writers.Compact, SpecFastJson.WriteContainerProcessState);
    }

    /// <summary>Parses a container process state (as received by a seccomp listener).</summary>
    /// <param name="utf8Json">The UTF-8 JSON text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The container process state.</returns>
    /// <exception cref="SpecException">The document cannot be parsed.</exception>
    public static ContainerProcessState ParseContainerProcessState(ReadOnlySpan<byte> utf8Json, string fileName = "containerProcessState") =>
        ParseDocument(utf8Json, SpecFastJson.ReadContainerProcessState, fileName);

    /// <summary>Parses <paramref name="json"/> with a generated reader, after the checks no reader makes.</summary>
    /// <param name="json">The document (a leading UTF-8 BOM is skipped).</param>
    /// <param name="read">The generated reader of the root type.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <exception cref="SpecException">too large, empty, whitespace only, or invalid (see <see cref="FastJson.Read{T}"/>).</exception>
    public static T ParseDocument<T>(ReadOnlySpan<byte> json, FastJson.Reader<T> read, string fileName)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (json.Length > MaxDocumentSize)
        {
            throw new SpecException(fileName, null, $"file is too large ({json.Length} bytes, the limit is {MaxDocumentSize} bytes)");
        }
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            json = json[3..];
        }
        if (json.IsEmpty)
        {
            throw new SpecException(fileName, null, "file is empty");
        }
        if (json.IndexOfAnyExcept((ReadOnlySpan<byte>)" \t\r\n"u8) < 0)
        {
            throw new SpecException(fileName, null, "file contains only whitespace");
        }
        return FastJson.Read(json, read, fileName);
    }

    private static byte[] ReadDocument(string path, string displayName, string? bundleDir)
    {
        if (Directory.Exists(path))
        {
            throw new SpecException(displayName, null, bundleDir is null ? "is a directory, not a file" : $"is a directory, not a file (in bundle {bundleDir})");
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
            long length = stream.CanSeek ? stream.Length : -1;
            if (length > MaxDocumentSize)
            {
                throw new SpecException(displayName, null, $"file is too large ({length} bytes, the limit is {MaxDocumentSize} bytes)");
            }
            // Files that do not report a size (pipes, /proc, character devices) are read up to the limit plus one byte.
            byte[] buffer = new byte[length > 0 ? length + 1 : 64 * 1024];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > MaxDocumentSize)
                    {
                        throw new SpecException(displayName, null, $"file is too large (more than {MaxDocumentSize} bytes)");
                    }
                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, MaxDocumentSize + 1));
                }
                int read = stream.Read(buffer, total, buffer.Length - total);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
            if (total > MaxDocumentSize)
            {
                throw new SpecException(displayName, null, $"file is too large (more than {MaxDocumentSize} bytes)");
            }
            Array.Resize(ref buffer, total);
            return buffer;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SpecException(displayName, null, bundleDir is null ? "no such file" : $"no such file in bundle {bundleDir}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SpecException(displayName, null, "cannot read the file: permission denied", ex);
        }
        catch (IOException ex)
        {
            throw new SpecException(displayName, null, $"cannot read the file: {ex.Message}", ex);
        }
    }
}
