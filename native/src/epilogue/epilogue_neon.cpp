// GEMM epilogue, NEON: the loops of epilogue_impl.h for AArch64's baseline, which has NEON, so
// no target pragma is needed for 128-bit vectors.
#include "epilogue_impl.h"

LB_DEFINE_EPILOGUE_KERNELS(epilogue_neon)
