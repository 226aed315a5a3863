// Shared by the wasm backend's kernels on non-float tensors (cast.c, compare.c, where.c, gather.c,
// argmax.c): dtype codes and a broadcast walk. Keep the codes in step with kernels/wasm/typed.ts.
#ifndef KILN_TYPED_H
#define KILN_TYPED_H
#include "vmath.h"

typedef unsigned char u8;
typedef signed char i8;
typedef int i32;
typedef long long i64;
typedef unsigned long long u64;

enum { T_F32, T_I32, T_I64, T_U8, T_I8, T_BOOL, T_F16 };

#define BMAX 8

/**
 * Optimized for size: these kernels move bytes on mostly small tensors (indices, masks, shapes);
 * clang's vectorized copies of every (type, op, stride) loop cost ~10 KB gzip of the module's 60 KB
 * budget, against ~4 KB as scalar loops (docs/decisions.md, wasm-types).
 */
#define SMALL __attribute__((minsize))

/**
 * Walks an output of `rank` dims (desc: rank, dims[rank], then up to three operands' element
 * strides per output axis, 0 on broadcast axes; axes merged and size-1 axes dropped by
 * kernels/wasm/typed.ts) as runs of the last axis. BODY sees o0, o1, o2 (the operands' element
 * offsets at the run's start), oy (the output's), n (the run's length) and i0, i1, i2 (the operands'
 * strides along it).
 */
#define BWALK(desc, ...)                                                                         \
  do {                                                                                           \
    const int rank_ = (desc)[0];                                                                 \
    const int *dims_ = (desc) + 1, *s0_ = dims_ + rank_, *s1_ = s0_ + rank_, *s2_ = s1_ + rank_; \
    const int n = dims_[rank_ - 1], i0 = s0_[rank_ - 1], i1 = s1_[rank_ - 1], i2 = s2_[rank_ - 1]; \
    int ctr_[BMAX] = {0};                                                                        \
    int runs_ = 1;                                                                               \
    for (int d_ = 0; d_ < rank_ - 1; d_++) runs_ *= dims_[d_];                                   \
    int o0 = 0, o1 = 0, o2 = 0, oy = 0;                                                          \
    (void)o2, (void)i2; /* two-operand walks leave them unused */                                \
    for (int r_ = 0; r_ < runs_; r_++, oy += n) {                                                \
      __VA_ARGS__;                                                                               \
      for (int d_ = rank_ - 2; d_ >= 0; d_--) {                                                  \
        o0 += s0_[d_], o1 += s1_[d_], o2 += s2_[d_];                                             \
        if (++ctr_[d_] < dims_[d_]) break;                                                       \
        o0 -= s0_[d_] * dims_[d_], o1 -= s1_[d_] * dims_[d_], o2 -= s2_[d_] * dims_[d_];         \
        ctr_[d_] = 0;                                                                            \
      }                                                                                          \
    }                                                                                            \
  } while (0)

#endif
