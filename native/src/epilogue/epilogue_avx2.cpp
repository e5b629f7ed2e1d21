// GEMM epilogue, AVX2: the loops of epilogue_impl.h on 256-bit vectors (vpmulld, vcvtdq2ps).
#pragma GCC target("avx2")
#include "epilogue_impl.h"

LB_DEFINE_EPILOGUE_KERNELS(epilogue_avx2)
