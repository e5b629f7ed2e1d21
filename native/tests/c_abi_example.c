/* A plain C program linking the shared library: proves the C ABI needs neither C++ nor Node. */
#include <stdio.h>

#include "lowbit.h"

int main(void) {
  /* A (2 x 3, uint8) times B (3 x 2, int8): the onnxruntime AVX2 case 255*-128*2 + 15. */
  const uint8_t A[6] = {255, 255, 1, 0, 1, 2};
  const int8_t B[6] = {-128, 1, -128, 1, 15, 1};
  int32_t Y[4];
  lb_status st = lb_matmul_integer(2, 2, 3, A, LB_UINT8, 3, B, LB_INT8, LB_LAYOUT_KN, 2, NULL, 0,
                                   NULL, 0, Y, 2);
  if (lb_abi_version() != LB_ABI_VERSION || st != LB_OK) {
    printf("FAIL: status %s\n", lb_status_string(st));
    return 1;
  }
  printf("isa %s: Y = [%d %d; %d %d]\n", lb_get_isa(), Y[0], Y[1], Y[2], Y[3]);
  if (Y[0] != -65265 || Y[1] != 511 || Y[2] != -98 || Y[3] != 3) {
    printf("FAIL: expected [-65265 511; -98 3]\n");
    return 1;
  }
  if (lb_set_isa("no-such-isa") != LB_ERR_UNSUPPORTED_ISA) return 1;
  printf("1 passed, 0 failed\n");
  return 0;
}
