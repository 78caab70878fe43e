/*
 * Compiles our .iig files as C++ on Linux (make macos-check).  IIG's
 * annotations are syntax only IIG understands; here they become nothing,
 * so the compiler checks what is left: every type, base class, override
 * and signature in the .iig against the declaration headers in
 * macos/sdk.  What IIG adds to the class (ivars, the _Impl methods,
 * CreateAction<Method>) is in iig-out/, checked against the .cpp files;
 * tests/macos/run.sh checks that the two list the same methods.
 */
#ifndef VFA_IIG_SHIM_H
#define VFA_IIG_SHIM_H

#define LOCAL
#define LOCALONLY
#define TYPE(method)
#define QUEUENAME(name)

#endif
