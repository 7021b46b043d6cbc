using System.Text;
using System.Text.Json;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Spec;
using OciRuntime.Spec.Json;

namespace OciRuntime.Runtime.State;

/// <summary>
/// The runtime's own JSON (state.json, the init's orders and report, <c>state</c>/<c>list</c> output) through the
/// generated <see cref="RuntimeFastJson"/> (see <see cref="FastJson"/>).
/// </summary>
internal static class RuntimeJson
{
    // state.json and the state output: two-space indentation, default encoder. The init's messages: FastJson.CompactWriter.
    private static readonly JsonWriterOptions s_state = FastJson.WriterOptions(indented: true, ' ', 2, relaxed: false);

    /// <summary>state.json's bytes.</summary>
    public static byte[] Write(ContainerRecord record) => FastJson.Write(record, s_state, RuntimeFastJson.WriteContainerRecord);

    /// <summary>Reads state.json. <exception cref="SpecException">not a state document.</exception></summary>
    public static ContainerRecord ReadRecord(ReadOnlySpan<byte> json) => FastJson.Read(json, RuntimeFastJson.ReadContainerRecord, "state.json");

    /// <summary>The init's orders (the Bootstrap frame).</summary>
    public static byte[] Write(InitOptions options) => FastJson.Write(options, FastJson.CompactWriter, RuntimeFastJson.WriteInitOptions);

    /// <summary>Reads the init's orders. <exception cref="SpecException">malformed.</exception></summary>
    public static InitOptions ReadInitOptions(ReadOnlySpan<byte> json) => FastJson.Read(json, RuntimeFastJson.ReadInitOptions, "init orders");

    /// <summary>The init's report (the Ready frame).</summary>
    public static byte[] Write(InitReport report) => FastJson.Write(report, FastJson.CompactWriter, RuntimeFastJson.WriteInitReport);

    /// <summary>Reads the init's report. <exception cref="SpecException">malformed.</exception></summary>
    public static InitReport ReadInitReport(ReadOnlySpan<byte> json) => FastJson.Read(json, RuntimeFastJson.ReadInitReport, "init report");

    /// <summary><c>state</c>'s output, as runc prints it (two-space indentation).</summary>
    public static string Format(ContainerStateOutput state) =>
        Encoding.UTF8.GetString(FastJson.Write(state, s_state, RuntimeFastJson.WriteContainerStateOutput));

    /// <summary>
    /// <c>list --format json</c>'s output as runc prints it (Go's json.Encoder): compact, on one line; "null" when there
    /// is no container (a nil slice).
    /// </summary>
    public static string Format(List<ContainerStateOutput> states) => states.Count == 0 ? "null"
        : Encoding.UTF8.GetString(FastJson.Write(states, FastJson.CompactWriter, RuntimeFastJson.WriteList_ContainerStateOutput));
}
