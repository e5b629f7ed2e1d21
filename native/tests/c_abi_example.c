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

  /* A quantized linear layer on int4 weights in groups of 32 with binary16 scales, through the
   * weights descriptor: W (2 x 64) is all ones times 0.5 (0x3800) in row 0 and all -2 times 0.25
   * (0x3400) in row 1; x (1 x 64) is all 1. Then y = [32, -32] exactly: the activations quantize
   * to 127 (scale 1/127), each group sums 32 * 127 * q, and the float steps are exact here. */
  uint8_t w4[2 * 32];
  for (int i = 0; i < 32; ++i) w4[i] = 0x11;          /* 1, 1 */
  for (int i = 32; i < 64; ++i) w4[i] = 0xEE;         /* -2, -2 (two's complement nibbles) */
  const uint16_t scales[4] = {0x3800, 0x3800, 0x3400, 0x3400};
  lb_weights_desc d = {LB_INT4, 2, 64, w4, LB_LAYOUT_NK, 32, 32, scales, LB_SCALE_F16, 4, NULL};
  lb_packed_weights *W = NULL;
  float x[64], y[2];
  for (int i = 0; i < 64; ++i) x[i] = 1.0f;
  st = lb_prepack(&d, &W);
  if (st == LB_OK) st = lb_linear_f32(1, x, 64, W, NULL, NULL, y, 2);
  if (st != LB_OK || y[0] != 32.0f || y[1] != -32.0f) {
    printf("FAIL: int4 linear: status %s, y = [%g %g], expected [32 -32]\n", lb_status_string(st), y[0], y[1]);
    return 1;
  }
  printf("int4 g32 linear on %s: y = [%g %g]\n", lb_packed_kernel(W), y[0], y[1]);
  lb_packed_free(W);
  printf("1 passed, 0 failed\n");
  return 0;
}
