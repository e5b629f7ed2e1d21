// GEMM epilogue, the reference: the loops of epilogue_impl.h kept scalar, as every family's
// reference is (the per-ISA copies are the compiler's vectorization of the same loops).
#pragma GCC optimize("no-tree-vectorize")
#include "epilogue_impl.h"

LB_DEFINE_EPILOGUE_KERNELS(epilogue_ref)
