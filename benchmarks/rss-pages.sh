#!/usr/bin/env bash
# Which pages of ocirun's image a `run` /bin/true leaves resident, and whose code and data they hold:
#   dotnet publish src/Cli/ocirun.csproj -c Release -o /tmp/ocirun-syms -p:StripSymbols=false
#   benchmarks/rss-pages.sh /tmp/ocirun-syms/ocirun [windows]
# An LD_PRELOADed destructor reads /proc/self/pagemap when the runtime exits; the symbol table (an unstripped build has
# the same layout as the shipped one) attributes every byte of __managedcode, .data and .rodata to an assembly
# ("S_P_CoreLib" is System.Private.CoreLib). Prints per section the KB resident, per assembly the KB of code and data
# in the image, and with `windows` one line per 64 KB window (the kernel's fault-around maps file pages a window at a
# time, so one touched method maps its whole window).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/ocirun-pages.XXXXXX)
state=$(mktemp -d /dev/shm/ocirun-pages-state.XXXXXX)
trap 'rm -rf "$work" "$state"' EXIT
cat > "$work/pages.c" <<'C'
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((destructor)) static void dump(void) {
  const char *out = getenv("PAGES_OUT"), *lo = getenv("PAGES_LO"), *hi = getenv("PAGES_HI");
  if (!out || !lo || !hi || getpid() != atoi(getenv("PAGES_PID") ? getenv("PAGES_PID") : "0")) return;
  FILE *o = fopen(out, "w");
  int pm = open("/proc/self/pagemap", O_RDONLY);
  for (uint64_t a = strtoull(lo, 0, 16); a < strtoull(hi, 0, 16); a += 4096) {
    uint64_t e = 0;
    if (pread(pm, &e, 8, (a / 4096) * 8) == 8 && (e >> 63)) fprintf(o, "%lx\n", (unsigned long)a);
  }
  fclose(o);
  close(pm);
}
C
gcc -shared -fPIC -O2 -o "$work/pages.so" "$work/pages.c"
scripts/make-bundle.sh "$work/true" "$bin" >/dev/null
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/true/config.json" > "$work/c" && mv "$work/c" "$work/true/config.json"
range=$(readelf -lW "$bin" | python3 -c '
import sys
loads = [l.split() for l in sys.stdin if l.split()[:1] == ["LOAD"]]
print(loads[0][2], hex(int(loads[-1][2], 16) + int(loads[-1][5], 16)))')
# Only the runtime's own process writes the file (exec'd children do not keep the preload's destructor anyway).
bash -c 'export PAGES_PID=$$; exec env LD_PRELOAD="$0" PAGES_OUT="$1" PAGES_LO="$2" PAGES_HI="$3" "$4" --root "$5" run -b "$6" pages' \
  "$work/pages.so" "$work/pages" ${range} "$bin" "$state" "$work/true"
nm -n "$bin" > "$work/nm"
readelf -SW "$bin" > "$work/sections"
python3 - "$work/nm" "$work/sections" "$work/pages" "${2:-}" <<'PY'
import collections, re, sys
nm, sections, pages, mode = sys.argv[1:5]
pages = {int(l, 16) for l in open(pages)}
secs = {}
for l in open(sections):
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)', l)
    if m: secs[m.group(1)] = (int(m.group(2), 16), int(m.group(2), 16) + int(m.group(3), 16))
syms = sorted((int(p[0], 16), p[-1]) for p in (l.split() for l in open(nm)) if len(p) >= 3)
def owner(n):
    n = re.sub(r'^(_ZTV\d+|__GCSTATICS|__NONGCSTATICS|__THREADSTATICS|<Boxed>|__GenericDict_|__InterfaceDispatchCell_|__FrozenObj_)', '', n)
    if n.startswith('__Str_'): return 'strings'
    m = re.match(r'(S_P_[A-Za-z]+|System_[A-Za-z]+|Microsoft_[A-Za-z]+|[A-Z][A-Za-z]+_[A-Z][A-Za-z]+)', n)
    return m.group(1) if m else 'runtime/other'
def res(lo, hi): return 4 * sum(1 for p in range(lo // 4096 * 4096, hi, 4096) if p in pages)
print('section          image KB  resident KB')
for s in ['.text', '__managedcode', '.rodata', '.dotnet_eh_table', '.eh_frame', '.data', '.bss']:
    if s in secs: print(f'{s:16} {(secs[s][1] - secs[s][0]) // 1024:9} {res(*secs[s]):12}')
parts = {'code': (secs['__managedcode'][0], secs['__unbox'][1] if '__unbox' in secs else secs['__managedcode'][1]), 'data': secs['.data']}
for name, (lo, hi) in parts.items():
    size = collections.Counter(); win = collections.defaultdict(collections.Counter)
    for i, (a, n) in enumerate(syms):
        if not lo <= a < hi: continue
        e = min(syms[i + 1][0] if i + 1 < len(syms) else hi, hi)
        size[owner(n)] += e - a
        x = a
        while x < e:
            w = x // 65536; y = min(e, (w + 1) * 65536); win[w][owner(n)] += y - x; x = y
    print(f'\n{name}: KB in the image by assembly')
    print('  ' + ', '.join(f'{k} {v // 1024}' for k, v in size.most_common() if v >= 1024))
    if mode == 'windows':
        for w in sorted(win):
            r = sum(1 for p in range(w * 16, w * 16 + 16) if p * 4096 in pages)
            print(f'  {w * 65536:x} resident {r:2}/16  ' + ', '.join(f'{k} {v // 1024}K' for k, v in win[w].most_common(4)))
PY
