using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Cli;

/// <summary>
/// Writes text to fd 1 and 2 directly. System.Console's first write on Unix starts .NET's terminal and signal handling
/// (a thread and some sixty sigactions, ≈0.3 ms of CPU): too much for <c>state</c>, <c>list</c> and every error line.
/// A closed pipe (EPIPE) is ignored, as Console does.
/// </summary>
internal static class StdIo
{
    /// <summary>Writes <paramref name="text"/> to stdout.</summary>
    public static void Out(string text) => Write(1, text);

    /// <summary>Writes <paramref name="text"/> and "\n" to stdout.</summary>
    public static void OutLine(string text) => Write(1, text + "\n");

    /// <summary>Writes <paramref name="text"/> and "\n" to stderr.</summary>
    public static void ErrorLine(string text) => Write(2, text + "\n");

    private static void Write(int fd, string text)
    {
        try
        {
            Libc.WriteAll(fd, Encoding.UTF8.GetBytes(text), fd == 1 ? "stdout" : "stderr");
        }
        catch (SyscallException e) when (e.Errno is Errno.EPIPE or Errno.EBADF)
        {
        }
    }
}
