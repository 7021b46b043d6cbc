using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// A thread made with pthread_create whose body is managed code (entered through an UnmanagedCallersOnly function).
/// Unlike <see cref="Thread.Start()"/>, starting one does not wait until the new thread has reached its body (≈0.5 ms
/// here, most of it the new thread's own set-up), and <see cref="Join"/> (pthread_join) returns only once the thread
/// has ended completely: what the process model needs before a clone, where no other managed thread may run.
/// </summary>
internal sealed unsafe class NativeThread : IDisposable
{
    private readonly Action _body;
    private GCHandle _self;
    private nuint _thread;
    private bool _started;
    private Exception? _failure;

    private NativeThread(Action body) => _body = body;

    /// <summary>Starts <paramref name="body"/> on a new thread; an exception it throws is rethrown by <see cref="Join"/>.</summary>
    /// <exception cref="SyscallException">pthread_create failed.</exception>
    public static NativeThread Start(Action body)
    {
        var t = new NativeThread(body);
        t._self = GCHandle.Alloc(t);
        nuint thread;
        var error = Libc.pthread_create(&thread, null, &Entry, GCHandle.ToIntPtr(t._self));
        if (error != 0)
        {
            t._self.Free();
            throw new SyscallException("pthread_create", error);
        }
        t._thread = thread;
        t._started = true;
        return t;
    }

    [UnmanagedCallersOnly]
    private static nint Entry(nint self)
    {
        var t = (NativeThread)GCHandle.FromIntPtr(self).Target!;
        try
        {
            t._body();
        }
        catch (Exception e)
        {
            t._failure = e;
        }
        return 0;
    }

    /// <summary>Waits until the thread has ended (once; later calls return at once) and rethrows what its body threw.</summary>
    public void Join()
    {
        if (_started)
        {
            _ = Libc.pthread_join(_thread, null);
            _started = false;
            _self.Free();
        }
        if (_failure is { } e)
        {
            _failure = null;
            ExceptionDispatchInfo.Throw(e);
        }
    }

    /// <summary>Joins without rethrowing (cleanup after another failure).</summary>
    public void Dispose()
    {
        if (!_started) return;
        _ = Libc.pthread_join(_thread, null);
        _started = false;
        _self.Free();
    }
}
