#!/usr/bin/env python3
"""Makes TorchSharp's native library load on systems whose libstdc++ is older than the one it was built with.

TorchSharp 0.107.0 ships libLibTorchSharp.so built with GCC 13. Its only use of a GCC 13 libstdc++ symbol is
``std::ios_base_library_init()`` (``_ZSt21ios_base_library_initv@GLIBCXX_3.4.32``), a marker that GCC 13's <iostream>
references so that programs link against a libstdc++ that initialises the standard streams itself. Debian 12's
libstdc++ (GCC 12) stops at GLIBCXX_3.4.30, so the dynamic loader refuses the library and TorchSharp reports a
misleading "doesn't contain a reference to libtorch-cpu-..." error.

The fix, applied to the copy in a build or publish output folder (never to the package cache):
  1. build a tiny shim library next to libLibTorchSharp.so that defines ``std::ios_base_library_init()`` and
     constructs a ``std::ios_base::Init`` when it loads (what GCC 12 programs do in every <iostream> unit);
  2. with patchelf, make libLibTorchSharp.so's reference to that symbol unversioned and add the shim as NEEDED
     (its RUNPATH starts with $ORIGIN, so the loader finds the shim beside it);
  3. mark the GLIBCXX_3.4.32 requirement in .gnu.version_r weak (VER_FLG_WEAK), so a missing version definition is
     no longer fatal.

It is a no-op when there is no libLibTorchSharp.so in the folder, when the library does not ask for GLIBCXX_3.4.32,
when the libstdc++ the loader picks already provides it, and when the library is already patched. The patched file
is written to a temporary name and renamed over the original, so a hard-linked package file is never modified.

Usage: torchsharp-native-fix.py OUTPUT_DIR [OUTPUT_DIR ...]
Exit status 0 on success or no-op, 1 with an MSBuild-style "error" line otherwise.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile

TOOL = "torchsharp-native-fix"
LIBRARY = "libLibTorchSharp.so"
SHIM = "libMtcnnIosBaseShim.so"
SYMBOL = "_ZSt21ios_base_library_initv"
VERSION = "GLIBCXX_3.4.32"
SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2

SHIM_SOURCE = r"""
// Stands in for GCC 13's std::ios_base_library_init() on an older libstdc++ (see torchsharp-native-fix.py).
#include <ios>

namespace std
{
    void ios_base_library_init();
}

namespace
{
    // Constructed when the shim loads, before libLibTorchSharp.so's own initialisers (the shim is its NEEDED
    // dependency): GCC 13 objects expect the library to have set up cout/cerr already.
    std::ios_base::Init streams_init;
}

void std::ios_base_library_init()
{
    static std::ios_base::Init init;
}
"""


class FixError(Exception):
    pass


def info(message):
    print(f"{TOOL}: {message}")


def find_libraries(folder):
    candidates = [os.path.join(folder, LIBRARY), os.path.join(folder, "runtimes", "linux-x64", "native", LIBRARY)]
    return [c for c in candidates if os.path.isfile(c)]


def read_sections(data):
    """(type, offset, size, link) of every section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise FixError("not a 64-bit little-endian ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        _, sh_type, _, _, sh_offset, sh_size, sh_link = struct.unpack_from("<IIQQQQI", data, base)
        sections.append((sh_type, sh_offset, sh_size, sh_link))
    return sections


def version_needs(data):
    """Yields (file offset of the Vernaux entry, version name, flags) for every entry of .gnu.version_r."""
    sections = read_sections(data)
    for sh_type, offset, _, link in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[link][1]

        def name_at(pos):
            end = data.index(b"\0", strtab + pos)
            return data[strtab + pos:end].decode("ascii", "replace")

        need = offset
        while True:
            _, vn_cnt, _, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
            aux = need + vn_aux
            for _ in range(vn_cnt):
                _, vna_flags, _, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                yield aux, name_at(vna_name), vna_flags
                if vna_next == 0:
                    break
                aux += vna_next
            if vn_next == 0:
                break
            need += vn_next


def run(args, what):
    try:
        result = subprocess.run(args, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise FixError(f"{what}: {args[0]} is not installed") from e
    if result.returncode != 0:
        raise FixError(f"{what} failed ({' '.join(args)}): {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def loader_libstdcxx(library):
    """The libstdc++.so.6 the dynamic loader resolves for the library (via ldd), or None."""
    result = subprocess.run(["ldd", library], capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "libstdc++.so.6" and len(parts) >= 3 and parts[1] == "=>" and os.path.isfile(parts[2]):
            return parts[2]
    return None


def provides_version(libstdcxx):
    with open(libstdcxx, "rb") as f:
        return (VERSION.encode("ascii") + b"\0") in f.read()


def needed_libraries(library):
    return run(["patchelf", "--print-needed", library], "reading the NEEDED entries").split()


def is_patched(library, data):
    weak = all(flags & VER_FLG_WEAK for _, name, flags in version_needs(data) if name == VERSION)
    return weak and shutil.which("patchelf") is not None and SHIM in needed_libraries(library)


def build_shim(folder):
    target = os.path.join(folder, SHIM)
    if os.path.isfile(target) and os.path.getmtime(target) >= os.path.getmtime(__file__):
        return
    if shutil.which("g++") is None:
        raise FixError(f"g++ is needed to build {SHIM} (apt-get install g++)")
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "shim.cpp")
        with open(source, "w", encoding="ascii") as f:
            f.write(SHIM_SOURCE)
        built = os.path.join(tmp, SHIM)
        run(["g++", "-shared", "-fPIC", "-O2", f"-Wl,-soname,{SHIM}", "-o", built, source], "compiling the shim")
        staged = target + ".tmp"
        shutil.copyfile(built, staged)
        os.chmod(staged, 0o755)
        os.replace(staged, target)


def fix(library):
    folder = os.path.dirname(library)
    with open(library, "rb") as f:
        data = f.read()
    if not any(name == VERSION for _, name, _ in version_needs(data)):
        return "no-op: the library does not require " + VERSION
    libstdcxx = loader_libstdcxx(library)
    if libstdcxx is not None and provides_version(libstdcxx):
        return f"no-op: {libstdcxx} provides {VERSION}"
    if shutil.which("patchelf") is None:
        raise FixError(
            f"patchelf is required to make {LIBRARY} load here (the system libstdc++ lacks {VERSION}); "
            "install it with 'apt-get install patchelf' and build again")
    build_shim(folder)
    if is_patched(library, data):
        return "already patched"

    staged = library + ".patching"
    shutil.copyfile(library, staged)
    try:
        run(["patchelf", "--clear-symbol-version", SYMBOL, staged], "clearing the symbol version")
        if SHIM not in needed_libraries(staged):
            run(["patchelf", "--add-needed", SHIM, staged], "adding the shim as NEEDED")
        with open(staged, "r+b") as f:
            patched = bytearray(f.read())
            for aux, name, flags in list(version_needs(bytes(patched))):
                if name == VERSION:
                    struct.pack_into("<H", patched, aux + 4, flags | VER_FLG_WEAK)
            f.seek(0)
            f.write(patched)
        os.chmod(staged, os.stat(library).st_mode)
        os.replace(staged, library)
    finally:
        if os.path.exists(staged):
            os.remove(staged)

    result = subprocess.run(["ldd", library], capture_output=True, text=True, check=False)
    # A missing *weak* version is only reported, never fatal: that is the point of step 3.
    missing = [line.strip() for line in (result.stdout + result.stderr).splitlines()
               if "not found" in line and "weak version" not in line]
    if missing:
        raise FixError(f"{library} still does not resolve after patching: {'; '.join(missing)}")
    return f"patched ({SHIM} added, {VERSION} weak)"


def main(argv):
    if len(argv) < 2:
        print(f"usage: {argv[0]} OUTPUT_DIR [OUTPUT_DIR ...]", file=sys.stderr)
        return 2
    if not sys.platform.startswith("linux"):
        return 0
    status = 0
    for folder in argv[1:]:
        for library in find_libraries(folder):
            try:
                info(f"{library}: {fix(library)}")
            except (FixError, OSError, struct.error, ValueError) as e:
                print(f"{TOOL}: error TSNATIVE1: {library}: {e}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
