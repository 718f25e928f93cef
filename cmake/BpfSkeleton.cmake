# bpf_skeleton(NAME SOURCE): compiles SOURCE (a *.bpf.c file) with clang for
# the BPF target and generates NAME.skel.h with bpftool into the build tree.
# Adds an INTERFACE target NAME_skel whose include path holds the skeleton.
find_program(CLANG_EXECUTABLE NAMES clang REQUIRED)
find_program(BPFTOOL_EXECUTABLE NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(LEAKWATCH_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from (CO-RE makes the result portable)")
set(BPF_GEN_DIR "${CMAKE_BINARY_DIR}/bpf")
file(MAKE_DIRECTORY "${BPF_GEN_DIR}")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# Call from one directory only: custom command outputs are per directory.
function(bpf_skeleton name source)
  if(NOT TARGET vmlinux_h)
    add_custom_command(
      OUTPUT "${BPF_GEN_DIR}/vmlinux.h"
      COMMAND "${BPFTOOL_EXECUTABLE}" btf dump file "${LEAKWATCH_VMLINUX_BTF}" format c > "${BPF_GEN_DIR}/vmlinux.h"
      COMMENT "Generating vmlinux.h from ${LEAKWATCH_VMLINUX_BTF}"
      VERBATIM)
    add_custom_target(vmlinux_h DEPENDS "${BPF_GEN_DIR}/vmlinux.h")
  endif()
  file(GLOB bpf_headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/bpf/*.h")
  set(object "${BPF_GEN_DIR}/${name}.bpf.o")
  set(skeleton "${BPF_GEN_DIR}/${name}.skel.h")
  add_custom_command(
    OUTPUT "${object}"
    COMMAND "${CLANG_EXECUTABLE}" -g -O2 -Wall -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I "${BPF_GEN_DIR}" -I "${PROJECT_SOURCE_DIR}/bpf"
            -c "${source}" -o "${object}"
    DEPENDS "${source}" "${BPF_GEN_DIR}/vmlinux.h" ${bpf_headers}
    COMMENT "Compiling BPF program ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT "${skeleton}"
    COMMAND "${BPFTOOL_EXECUTABLE}" gen skeleton "${object}" name "${name}" > "${skeleton}"
    DEPENDS "${object}"
    COMMENT "Generating BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS "${skeleton}")
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE "${BPF_GEN_DIR}" "${PROJECT_SOURCE_DIR}/bpf")
endfunction()
