using System.Globalization;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// ocirun binds libm on first use (src/Cli/native/lazy-libm.c) instead of loading it at every start: the binary must
/// not need libm.so.6, and the five functions it defines must give glibc's results.
/// </summary>
public sealed class LazyLibmTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lazy-libm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ocirun_does_not_load_libm_at_start()
    {
        var dynamic = Ocirun.Exec("readelf", ["-d", Ocirun.DefaultBinary]);
        dynamic.ExitCode.Should().Be(0, dynamic.Stderr);
        dynamic.Stdout.Should().Contain("libc.so.6").And.NotContain("libm.so");
    }

    [Fact]
    public void The_lazy_functions_give_glibc_results_without_linking_libm()
    {
        var main = Path.Combine(_dir, "main.c");
        File.WriteAllText(main, """
            #include <stdio.h>
            double ceil(double); double cos(double); double sin(double); double pow(double, double); double modf(double, double *);
            int main(void)
            {
                double integral;
                double fraction = modf(-3.75, &integral);
                printf("%a %a %a %a %a %a\n", ceil(1.25), cos(1.0), sin(1.0), pow(2.0, 0.5), fraction, integral);
                return 0;
            }
            """);
        var exe = Path.Combine(_dir, "lazy");
        var lazy = Path.Combine(Ocirun.RepoRoot, "src/Cli/native/lazy-libm.c");
        var build = Ocirun.Exec("gcc", ["-O2", "-fno-builtin", "-o", exe, main, lazy]); // no -lm
        build.ExitCode.Should().Be(0, build.Stderr);
        Ocirun.Exec("readelf", ["-d", exe]).Stdout.Should().NotContain("libm.so", "the test program must get libm only through dlopen");

        var run = Ocirun.Exec(exe, []);
        run.ExitCode.Should().Be(0, run.Stderr);
        // Bit-exact: the same glibc functions as .NET's Math calls on this machine.
        run.Stdout.Trim().Should().Be(string.Join(' ',
            Hex(Math.Ceiling(1.25)), Hex(Math.Cos(1.0)), Hex(Math.Sin(1.0)), Hex(Math.Pow(2.0, 0.5)), Hex(-0.75), Hex(-3.0)));
    }

    /// <summary>printf's %a form of a finite double, e.g. 0x1.6a09e667f3bcdp+0.</summary>
    private static string Hex(double value)
    {
        if (value == 0) return double.IsNegative(value) ? "-0x0p+0" : "0x0p+0";
        long bits = BitConverter.DoubleToInt64Bits(value);
        var sign = bits < 0 ? "-" : "";
        int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        var digits = mantissa.ToString("x13", CultureInfo.InvariantCulture).TrimEnd('0');
        return $"{sign}0x1{(digits.Length > 0 ? "." + digits : "")}p{(exponent >= 0 ? "+" : "")}{exponent}";
    }
}
