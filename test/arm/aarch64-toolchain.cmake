# Cross-compiling lowbit for AArch64 Linux (Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu).
# Used by test/arm/run.sh, which runs the results under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Look for libraries and headers in the target sysroot only; programs on the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs the test executables through qemu when it is there.
find_program(LB_QEMU_AARCH64 qemu-aarch64)
if(LB_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${LB_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()
