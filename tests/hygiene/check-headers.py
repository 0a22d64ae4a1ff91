#!/usr/bin/python3
"""Header hygiene gate for the public headers.

- each public header includes nothing but <stddef.h>, <stdint.h>, <stdbool.h>
  and other dynmem/ headers;
- each one compiles on its own as C99 with -pedantic -Werror, and as C++;
- the umbrella header preprocessed with -DDYNMEM_NO_ATTRIBUTES contains no
  compiler attribute, so its declarations can feed a C parser such as cffi.
Usage: check-headers.py SRC_INCLUDE BUILD_INCLUDE -- CC... -- CXX...
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ALLOWED = {"stddef.h", "stdint.h", "stdbool.h"}
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic-errors", "-fsyntax-only"]


def split_args(argv):
    src_inc, build_inc = argv[0], argv[1]
    rest = argv[3:]
    sep = rest.index("--")
    return src_inc, build_inc, rest[:sep], rest[sep + 1:]


def main():
    src_inc, build_inc, cc, cxx = split_args(sys.argv[1:])
    incs = ["-I" + src_inc, "-I" + build_inc]
    headers = sorted(pathlib.Path(src_inc, "dynmem").glob("*.h"))
    headers += [pathlib.Path(build_inc, "dynmem", "version.h")]
    failures = []
    for h in headers:
        for inc in re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', h.read_text(), re.M):
            if inc not in ALLOWED and not inc.startswith("dynmem/"):
                failures.append(f"{h.name}: includes <{inc}>; public headers may include only "
                                f"{sorted(ALLOWED)} and dynmem/ headers")
    with tempfile.TemporaryDirectory() as tmp:
        for h in headers:
            unit = pathlib.Path(tmp, "unit.c")
            unit.write_text(f"#include <dynmem/{h.name}>\n#include <dynmem/{h.name}>\n"
                            "int hygiene_unit_not_empty;\n")
            for lang, compiler, std in (("C99", cc, "-std=c99"), ("C++", cxx, "-std=c++11")):
                cmd = compiler + ([] if lang == "C99" else ["-x", "c++"]) + [std] + STRICT + incs + [str(unit)]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode:
                    failures.append(f"{h.name} alone as {lang}: {r.stderr.strip()}")
        pre = subprocess.run(cc + ["-E", "-P", "-DDYNMEM_NO_ATTRIBUTES"] + incs +
                             [os.path.join(src_inc, "dynmem", "dynmem.h")],
                             capture_output=True, text=True)
        if pre.returncode:
            failures.append("preprocessing with -DDYNMEM_NO_ATTRIBUTES: " + pre.stderr.strip())
        else:
            # Only our own declarations matter, not what libc's headers expand to.
            ours = pre.stdout[pre.stdout.find("enum dynmem_error"):]
            for word in ("__attribute__", "__declspec", "DYNMEM_API"):
                if word in ours:
                    failures.append(f"-DDYNMEM_NO_ATTRIBUTES output still contains {word}")
            if "dynmem_version_string" not in ours:
                failures.append("-DDYNMEM_NO_ATTRIBUTES output lost the declarations")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    print(f"headers: {len(headers)} public headers pass include, C99, C++ and attribute checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
