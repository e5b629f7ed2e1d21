// GEMM epilogue, AVX-512: the loops of epilogue_impl.h on 512-bit vectors.
#pragma GCC target("avx512f,avx512bw,avx512vl")
#include "epilogue_impl.h"

LB_DEFINE_EPILOGUE_KERNELS(epilogue_avx512)
