#!/usr/bin/env bash
# AArch64 tests under user-mode emulation (npm run test:arm): cross-build with
# aarch64-linux-gnu-g++, then run the C++ tests and the C ABI example under qemu-aarch64 on three
# CPU models, one per NEON kernel level:
#   cortex-a53  AdvSIMD only        -> neon runs; neon-dotprod and neon-i8mm are skipped
#   cortex-a76  + dotprod (sdot)    -> neon, neon-dotprod run; neon-i8mm is skipped
#   max         + i8mm (smmla)      -> neon, neon-dotprod, neon-i8mm run
# A model that runs or skips anything else is a failure, so a kernel never passes by not running.
# Ends with "arm: N passed, N failed"; exits non-zero on any failure. LOWBIT_SEED replays a seed.
set -uo pipefail

cd "$(dirname "$0")/../.."

missing=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(aarch64-linux-gnu-g++)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-aarch64)
if ((${#missing[@]})); then
  echo "SKIP arm tests: ${missing[*]} not found (apt-get install g++-aarch64-linux-gnu qemu-user)"
  exit 0
fi

start=$SECONDS
build=build/arm
sysroot=/usr/aarch64-linux-gnu
echo "== build ($build)"
if ! cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=test/arm/aarch64-toolchain.cmake \
      -DLOWBIT_NODE=OFF -DLOWBIT_TESTS=ON || ! cmake --build "$build" -j2; then
  echo "the AArch64 build failed"
  echo "arm: 0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
check() {  # check <ok: 0|1> <description>
  if [ "$1" = 1 ]; then
    passed=$((passed + 1))
    echo "  ok   $2"
  else
    failed=$((failed + 1))
    echo "  FAIL $2"
  fi
}

emu() {  # emu <cpu model> <program> [args...]
  local cpu=$1
  shift
  qemu-aarch64 -L "$sysroot" -cpu "$cpu" "$@"
}

# model | ISAs that must run | ISAs that must be skipped | ISA the dispatcher must pick
models=(
  "cortex-a53|neon|neon-dotprod neon-i8mm|neon"
  "cortex-a76|neon neon-dotprod|neon-i8mm|neon-dotprod"
  "max|neon neon-dotprod neon-i8mm||neon-i8mm"
)

for spec in "${models[@]}"; do
  IFS='|' read -r cpu must_run must_skip best <<<"$spec"

  echo
  echo "== lowbit_test, qemu-aarch64 -cpu $cpu"
  out=$(emu "$cpu" "$build/lowbit_test" 2>&1)
  rc=$?
  echo "$out"
  summary=$(grep -E '^lowbit_test: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' <<<"$out" | tail -n1)
  if [ -n "$summary" ]; then
    read -r p f <<<"$(sed -E 's/^lowbit_test: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$summary")"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      check 0 "lowbit_test on $cpu exited with status $rc after reporting no failures"
    fi
  else
    check 0 "lowbit_test on $cpu ended without its summary line (exit status $rc)"
  fi
  for isa in $must_run; do
    grep -qxF "ISA $isa" <<<"$out"
    check $((! $?)) "$cpu: ISA $isa ran"
    # its peak loop ("neon-fmla", "neon-dotprod-sdot", ...: the ISA name, then one instruction)
    grep -qE "^peak $isa-[a-z0-9]+: " <<<"$out"
    check $((! $?)) "$cpu: peak loop of $isa ran"
  done
  for isa in $must_skip; do
    grep -qE "^SKIP $isa:" <<<"$out"
    check $((! $?)) "$cpu: ISA $isa skipped (the model lacks it)"
    grep -qE "^SKIP peak $isa-[a-z0-9]+:" <<<"$out"
    check $((! $?)) "$cpu: peak loop of $isa skipped (the model lacks it)"
  done

  echo "== lowbit_c_abi_example, qemu-aarch64 -cpu $cpu"
  out=$(emu "$cpu" "$build/lowbit_c_abi_example" 2>&1)
  rc=$?
  echo "$out"
  if [ "$rc" -eq 0 ] && grep -qxF "1 passed, 0 failed" <<<"$out"; then
    check 1 "$cpu: lowbit_c_abi_example"
  else
    check 0 "$cpu: lowbit_c_abi_example (exit status $rc)"
  fi
  grep -qE "^isa $best: " <<<"$out"
  check $((! $?)) "$cpu: the dispatcher picks $best by default"
done

echo
echo "== lowbit_bench smoke run, qemu-aarch64 -cpu max (timings under emulation mean nothing)"
emu max "$build/lowbit_bench" --shape 64x64x64 --min-ms 10 --peaks 2>&1
rc=$?
check $((rc == 0)) "lowbit_bench runs on max (exit status $rc)"

echo
echo "(arm tests took $((SECONDS - start)) s including the build)"
echo "arm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
