using System.Diagnostics;
using System.Text;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

/// <summary>Whole-file problems: each must give a one-line SpecException quickly (the Stopwatch bound is a generous hang guard).</summary>
public sealed class MalformedFileTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("ocirun-spec-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Bundle(byte[] config)
    {
        string bundle = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(bundle);
        File.WriteAllBytes(Path.Combine(bundle, "config.json"), config);
        return bundle;
    }

    private static SpecException LoadFails(string bundle)
    {
        var watch = Stopwatch.StartNew();
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.LoadBundle(bundle));
        watch.Elapsed.Should().BeLessThan(HangGuard);
        ex.Message.Should().StartWith("config.json: ");
        ex.Message.Should().NotContainAny("\n", "\r");
        return ex;
    }

    [Fact]
    public void Empty_file()
    {
        LoadFails(Bundle([])).Message.Should().Be("config.json: file is empty");
    }

    [Fact]
    public void Whitespace_only_file()
    {
        LoadFails(Bundle(Utf8(" \n\t\r\n "))).Message.Should().Be("config.json: file contains only whitespace");
    }

    [Fact]
    public void Truncated_file()
    {
        byte[] full = FixtureBytes("runc-spec.json");
        SpecException ex = LoadFails(Bundle(full[..(full.Length / 2)]));
        ex.Message.Should().Contain("invalid JSON: unexpected end of input at line");
        ex.Line.Should().BeGreaterThan(1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(2559)]
    public void File_truncated_anywhere(int length)
    {
        byte[] full = FixtureBytes("runc-spec.json");
        LoadFails(Bundle(full[..length])).Message.Should().Contain("invalid JSON");
    }

    [Fact]
    public void Binary_garbage()
    {
        var random = new Random(42);
        byte[] garbage = new byte[4096];
        random.NextBytes(garbage);
        garbage[0] = 0x7F; // not a JSON start
        LoadFails(Bundle(garbage)).Message.Should().Contain("invalid JSON: unexpected byte 0x7F at line 1, column 1");
    }

    [Fact]
    public void Elf_binary_instead_of_json()
    {
        byte[] elf = File.ReadAllBytes("/bin/true");
        LoadFails(Bundle(elf)).Message.Should().Contain("invalid JSON: unexpected byte 0x7F");
    }

    [Fact]
    public void Directory_instead_of_file()
    {
        string bundle = Path.Combine(_dir, "dirbundle");
        Directory.CreateDirectory(Path.Combine(bundle, "config.json"));
        LoadFails(bundle).Message.Should().Be($"config.json: is a directory, not a file (in bundle {bundle})");
    }

    [Fact]
    public void Missing_config_json()
    {
        string bundle = Path.Combine(_dir, "empty-bundle");
        Directory.CreateDirectory(bundle);
        LoadFails(bundle).Message.Should().Be($"config.json: no such file in bundle {bundle}");
    }

    [Fact]
    public void Missing_bundle_directory()
    {
        string bundle = Path.Combine(_dir, "does-not-exist");
        LoadFails(bundle).Message.Should().Be($"config.json: bundle {bundle} does not exist");
    }

    [Fact]
    public void Bundle_is_a_file()
    {
        string bundle = Path.Combine(_dir, "file-bundle");
        File.WriteAllText(bundle, "{}");
        LoadFails(bundle).Message.Should().Be($"config.json: bundle {bundle} is not a directory");
    }

    [Fact]
    public void Load_reports_the_given_path()
    {
        string path = Path.Combine(_dir, "nope.json");
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Load(path));
        ex.Message.Should().Be($"{path}: no such file");
        ex.File.Should().Be(path);
    }

    [Fact]
    public void Unreadable_file_is_reported_when_not_root()
    {
        string bundle = Bundle(FixtureBytes("runc-spec.json"));
        string config = Path.Combine(bundle, "config.json");
        File.SetUnixFileMode(config, UnixFileMode.None);
        try
        {
            if (Environment.UserName == "root")
            {
                SpecSerializer.LoadBundle(bundle).Should().NotBeNull(); // root reads anyway
            }
            else
            {
                LoadFails(bundle).Message.Should().Be("config.json: cannot read the file: permission denied");
            }
        }
        finally
        {
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Fact]
    public void Huge_100_MB_file_is_refused_without_reading_it()
    {
        string bundle = Path.Combine(_dir, "huge");
        Directory.CreateDirectory(bundle);
        using (var stream = new FileStream(Path.Combine(bundle, "config.json"), FileMode.CreateNew))
        {
            stream.Write(Utf8("{\"ociVersion\":\"1.0.0\",\"annotations\":{\"a\":\""));
            stream.SetLength(100L * 1024 * 1024); // sparse: 100 MB of NULs after the prefix
        }

        var watch = Stopwatch.StartNew();
        SpecException ex = LoadFails(bundle);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        ex.Message.Should().Be("config.json: file is too large (104857600 bytes, the limit is 67108864 bytes)");
    }

    [Fact]
    public void Huge_span_is_refused()
    {
        byte[] big = new byte[SpecSerializer.MaxDocumentSize + 1];
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse(big));
        ex.Message.Should().StartWith("config.json: file is too large");
    }

    [Fact]
    public void Endless_character_device_is_cut_off_at_the_limit()
    {
        var watch = Stopwatch.StartNew();
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Load("/dev/zero", "config.json"));
        watch.Elapsed.Should().BeLessThan(HangGuard);
        ex.Message.Should().Be("config.json: file is too large (more than 67108864 bytes)");
    }

    [Fact]
    public void Deeply_nested_arrays_10000_levels()
    {
        string json = new string('[', 10000) + new string(']', 10000);
        SpecException ex = LoadFails(Bundle(Utf8(json)));
        ex.Message.Should().Be("config.json: invalid JSON: nesting is deeper than the maximum of 64 levels at line 1, column 65");
    }

    [Fact]
    public void Deeply_nested_objects_inside_a_valid_field()
    {
        var sb = new StringBuilder("{\"ociVersion\":\"1.0.0\",\"annotations\":");
        for (int i = 0; i < 10000; i++)
        {
            sb.Append("{\"a\":");
        }
        sb.Append('1').Append('}', 10001);
        SpecException ex = LoadFails(Bundle(Utf8(sb.ToString())));
        ex.Message.Should().Contain("nesting is deeper than the maximum of 64 levels");
    }

    [Fact]
    public void Deep_but_unterminated_nesting()
    {
        LoadFails(Bundle(Utf8(new string('{', 10000)))).Message.Should().Contain("invalid JSON");
    }

    [Theory]
    [InlineData("[]", "config.json: expected an object, got an array")]
    [InlineData("null", "config.json: expected a JSON object, got null")]
    [InlineData("42", "config.json: expected an object, got 42")]
    [InlineData("\"config\"", "config.json: expected an object, got \"config\"")]
    [InlineData("{} {}", "config.json: invalid JSON: unexpected character '{' at line 1, column 4")]
    [InlineData("{\"ociVersion\": \"1.0.0\",}", "config.json: invalid JSON: unexpected character '}' at line 1, column 24")]
    [InlineData("{\"ociVersion\": '1.0.0'}", "config.json: ociVersion: invalid JSON: unexpected character ''' at line 1, column 16")]
    [InlineData("{// comment\n}", "config.json: invalid JSON: unexpected character '/' at line 1, column 2")]
    [InlineData("{\"ociVersion\": \"1.0.0\"\n\"hostname\": \"x\"}", "config.json: invalid JSON: unexpected character '\"' at line 2, column 1")]
    [InlineData("{\"process\": {\"args\": [\"a\\qb\"]}}", "config.json: process.args[0]: invalid JSON: unexpected character 'q' at line 1, column 26")]
    [InlineData("{\"hostname\": tru", "config.json: hostname: invalid JSON: unexpected end of input at line 1, column 17")]
    [InlineData("{\"hostname\": NaN}", "config.json: hostname: invalid JSON: unexpected character 'N' at line 1, column 14")]
    public void Malformed_text(string json, string message)
    {
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse(json));
        ex.Message.Should().Be(message);
    }

    [Fact]
    public void Control_character_inside_a_string()
    {
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse("{\"hostname\": \"a\u0001b\"}"));
        ex.Message.Should().Be("config.json: hostname: invalid JSON: unexpected byte 0x01 at line 1, column 16");
    }

    [Fact]
    public void Invalid_utf8_inside_a_string()
    {
        byte[] json = Utf8("{\"ociVersion\":\"1.0.0\",\"hostname\":\"XX\"}");
        int at = Array.IndexOf(json, (byte)'X');
        json[at] = 0xC3;
        json[at + 1] = 0x28;
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse(json));
        ex.Message.Should().Be("config.json: hostname: string is not valid UTF-8");
    }

    [Fact]
    public void Utf8_bom_is_accepted()
    {
        byte[] json = [0xEF, 0xBB, 0xBF, .. FixtureBytes("runc-spec.json")];
        SpecSerializer.Parse(json).Hostname.Should().Be("runc");
    }

    [Fact]
    public void Custom_file_name_appears_in_messages()
    {
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse("[]", "/b/config.json"));
        ex.Message.Should().Be("/b/config.json: expected an object, got an array");
        ex.File.Should().Be("/b/config.json");
        ex.JsonPath.Should().BeNull();
    }
}
