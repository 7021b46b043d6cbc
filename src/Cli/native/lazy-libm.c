/*
 * The five libm functions ocirun's managed code can call (Math.Ceiling, Cos, Pow, Sin and ModF: reached from
 * System.Private.CoreLib, not from anything a container start runs), bound on first use instead of at start-up.
 *
 * Why: with libm.so.6 NEEDED, every ocirun process (one per container operation) maps libm, relocates it and binds its
 * symbols (-z now) before main: ≈0.3 MB of peak RSS and a fifth shared object on every start, for functions it never
 * calls. Here ocirun defines the symbols itself; the first call dlopen()s libm.so.6 and forwards to glibc's own
 * implementation (same results, same errno behaviour). A failure to load libm is reported and aborts: it cannot
 * happen on a glibc system, where libm is always installed next to libc. `ocirun init` binds them first (below).
 *
 * Built by ocirun.csproj (BuildOcirunNative) and linked into the binary; the link drops -lm. See benchmarks/README.md.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static void *libm_symbol(const char *name)
{
    static void *handle;
    void *h = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
    if (h == NULL) {
        h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
        if (h != NULL) __atomic_store_n(&handle, h, __ATOMIC_RELEASE);
    }
    void *f = h != NULL ? dlsym(h, name) : NULL;
    if (f == NULL) {
        static const char message[] = "ocirun: cannot load a function of libm.so.6\n";
        ssize_t ignored = write(2, message, sizeof message - 1);
        (void)ignored;
        abort();
    }
    return f;
}

/* One cached pointer per function: resolved once, then a plain indirect call. */
#define LAZY(ret, name, params, args)                                           \
    ret name params                                                             \
    {                                                                           \
        static ret (*fn) params;                                                \
        ret (*f) params = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);               \
        if (f == NULL) {                                                        \
            f = (ret (*) params)libm_symbol(#name);                             \
            __atomic_store_n(&fn, f, __ATOMIC_RELEASE);                         \
        }                                                                       \
        return f args;                                                          \
    }

LAZY(double, ceil, (double x), (x))
LAZY(double, cos, (double x), (x))
LAZY(double, sin, (double x), (x))
LAZY(double, pow, (double x, double y), (x, y))
LAZY(double, modf, (double x, double *integral), (x, integral))

/*
 * Binds all five now. `ocirun init` calls this first thing (OcirunNative.LibmPreload), while its root is still the host's:
 * a first call after it has moved into the container's root would dlopen the container's libm.so.6 into a process
 * that still holds the runtime's privileges.
 */
void ocirun_libm_preload(void)
{
    volatile double x = 0.5;
    double integral;
    (void)ceil(x);
    (void)cos(x);
    (void)sin(x);
    (void)pow(x, x);
    (void)modf(x, &integral);
}
