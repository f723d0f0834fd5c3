/* Runs Python the way an embedding host does (tritonserver's Python backend stub): through the
 * shared libpython named by $LIBPYTHON, not the python binary's own, often statically linked,
 * interpreter. bench/libpython_speed.py builds it and times the same code both ways. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *path = getenv("LIBPYTHON");
    if (!path) { fprintf(stderr, "embedded_python: set LIBPYTHON to a libpython3.X.so\n"); return 2; }
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { fprintf(stderr, "embedded_python: %s\n", dlerror()); return 2; }
    int (*bytes_main)(int, char **) = (int (*)(int, char **))dlsym(lib, "Py_BytesMain");
    if (!bytes_main) { fprintf(stderr, "embedded_python: %s\n", dlerror()); return 2; }
    return bytes_main(argc, argv);
}
