/* dispatch.h: runtime dispatch of hot vector loops (private to src/).
 *
 * The default build assumes only x86-64 (SSE2), so one binary runs on any
 * cluster node. A function marked HS_DISPATCH is compiled three times
 * (SSE2, AVX2, AVX-512) and the loader picks the copy the CPU runs; its
 * loops then call the matching libmvec variant. With -march=native
 * (HS_NATIVE) the copies are the same code. */
#ifndef HEADSPEC_DISPATCH_H
#define HEADSPEC_DISPATCH_H

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HS_DISPATCH __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
#endif
#ifndef HS_DISPATCH
#define HS_DISPATCH
#endif

#endif
