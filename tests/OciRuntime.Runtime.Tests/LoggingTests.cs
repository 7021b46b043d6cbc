using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using OciRuntime.Runtime.Cli;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Runtime.Logging;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// The --log lines (runc's logrus format, parsed by containerd's shim), their timestamps, and the version text (parsed
/// by go-runc). The timestamps are written digit by digit (Rfc3339); .NET's own formatter is the oracle.
/// </summary>
public sealed class LoggingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ocirun-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<long> Instants()
    {
        var data = new TheoryData<long>
        {
            DateTime.UnixEpoch.Ticks,
            new DateTime(2026, 11, 21, 7, 9, 38, DateTimeKind.Utc).Ticks, // a whole second
            new DateTime(2026, 11, 21, 7, 9, 38, DateTimeKind.Utc).Ticks + 1, // 100 ns
            new DateTime(2026, 11, 21, 7, 9, 38, DateTimeKind.Utc).Ticks + 1_724_750,
            new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks,
            DateTime.MaxValue.Ticks,
        };
        var random = new Random(9);
        for (var i = 0; i < 200; i++) data.Add(random.NextInt64(DateTime.UnixEpoch.Ticks, new DateTime(2200, 1, 1).Ticks));
        return data;
    }

    [Theory]
    [MemberData(nameof(Instants))]
    public void Ticks_matches_the_dotnet_round_trip_pattern_in_utc(long ticks)
    {
        // At an offset, to prove the conversion to UTC (+05:30 keeps the instant inside DateTime's range at both ends).
        var utc = new DateTime(ticks, DateTimeKind.Utc);
        var time = new DateTimeOffset(utc).ToOffset(ticks > TimeSpan.TicksPerDay ? TimeSpan.FromMinutes(-330) : TimeSpan.Zero);

        Rfc3339.Ticks(time).Should().Be(utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Instants))]
    public void Nano_matches_go_rfc3339nano_trailing_zeros_trimmed(long ticks)
    {
        var utc = new DateTime(ticks, DateTimeKind.Utc);
        var fraction = (ticks % TimeSpan.TicksPerSecond * 100).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        var expected = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "") + "Z";

        Rfc3339.Nano(new DateTimeOffset(utc)).Should().Be(expected);
    }

    [Fact]
    public void Nano_has_no_fraction_for_a_whole_second_and_trims_zeros()
    {
        var second = new DateTimeOffset(2026, 11, 21, 7, 9, 38, TimeSpan.Zero);
        Rfc3339.Nano(second).Should().Be("2026-11-21T07:09:38Z");
        Rfc3339.Nano(second.AddTicks(1_724_750)).Should().Be("2026-11-21T07:09:38.172475Z");
    }

    [Fact]
    public void Text_lines_are_logfmt_with_a_utc_time_and_levels_filtered()
    {
        var path = Path.Combine(_dir, "log");
        var before = DateTime.UtcNow;
        using (var log = new RuntimeLog(path, LogFormat.Text, debug: false))
        {
            log.Debug("not written without --debug");
            log.Info("started");
            log.Error("bad \"value\"\nsecond line");
        }

        var lines = File.ReadAllLines(path);
        lines.Should().HaveCount(2);
        lines[0].Should().MatchRegex("^time=\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{7}Z\" level=info msg=\"started\"$");
        lines[1].Should().EndWith(" level=error msg=\"bad \\\"value\\\"\\nsecond line\"");
        var stamp = DateTime.Parse(Regex.Match(lines[0], "time=\"([^\"]+)\"").Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        stamp.Should().BeOnOrAfter(before.AddSeconds(-1)).And.BeOnOrBefore(DateTime.UtcNow.AddSeconds(1));
    }

    [Fact]
    public void Json_lines_carry_level_msg_and_time_and_debug_passes_with_debug()
    {
        var path = Path.Combine(_dir, "log.json");
        using (var log = new RuntimeLog(path, LogFormat.Json, debug: true))
        {
            log.Debug("phase parse 120us");
            log.Warn("w");
        }

        var lines = File.ReadAllLines(path);
        lines.Should().HaveCount(2);
        using var first = JsonDocument.Parse(lines[0]);
        first.RootElement.GetProperty("level").GetString().Should().Be("debug");
        first.RootElement.GetProperty("msg").GetString().Should().Be("phase parse 120us");
        first.RootElement.GetProperty("time").GetString().Should().MatchRegex("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{7}Z$");
        JsonDocument.Parse(lines[1]).RootElement.GetProperty("level").GetString().Should().Be("warning");
    }

    [Fact]
    public void A_log_that_logs_nothing_creates_no_file()
    {
        var path = Path.Combine(_dir, "never");
        using (var log = new RuntimeLog(path, LogFormat.Text, debug: false)) log.Debug("dropped");
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public void Version_text_has_the_three_lines_go_runc_parses()
    {
        var lines = OcirunCli.VersionText().Split('\n');
        lines[0].Should().MatchRegex("^ocirun version \\d+\\.\\d+\\.\\d+$");
        lines[1].Should().MatchRegex("^commit: ([0-9a-f]{40}|unknown)$");
        lines[2].Should().Be("spec: " + ContainerRuntime.SpecVersion);
    }
}
