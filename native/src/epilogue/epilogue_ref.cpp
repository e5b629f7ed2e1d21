// GEMM epilogue, the reference: the loops of epilogue_impl.h for the build's baseline target
// (SSE2 on x86-64; on AArch64 the baseline has NEON, so this copy is the NEON one too).
#include "epilogue_impl.h"

LB_DEFINE_EPILOGUE_KERNELS(epilogue_ref)
