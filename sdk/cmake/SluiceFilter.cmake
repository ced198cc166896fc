# SPDX-License-Identifier: Apache-2.0
# sluice_add_filter(NAME SOURCES a.c b.cc ... [LIBS x y]): builds NAME.so, a filter module for
# sluice. Used in two ways with the same rules:
#   - in the sluice tree (filters/<name>/CMakeLists.txt): links the `sluice_sdk` target and
#     writes ${PROJECT_BINARY_DIR}/filters/<name>.so, the default filters dir of a build;
#   - from an installed SDK (find_package(SluiceSDK)): links SluiceSDK::sdk and writes
#     ${CMAKE_CURRENT_BINARY_DIR}/<name>.so (override with SLUICE_FILTER_OUTPUT_DIRECTORY).
# The module sees only the SDK headers (plus LIBS), is built with -fvisibility=hidden so only
# the SLUICE_EXPORT entry symbol leaves it, and links with -Wl,--no-undefined so a stray
# reference to a core symbol fails at build time rather than at load time.
include_guard(GLOBAL)

function(sluice_add_filter name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT F_SOURCES)
    message(FATAL_ERROR "sluice_add_filter(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_-]+$")
    message(FATAL_ERROR "sluice_add_filter(${name}): a filter name uses letters, digits, - and _")
  endif()
  string(REPLACE "-" "_" id "${name}")
  set(target sluice_filter_${id})
  add_library(${target} MODULE ${F_SOURCES})

  if(TARGET sluice_sdk)
    target_link_libraries(${target} PRIVATE sluice_sdk)
    set(default_dir ${PROJECT_BINARY_DIR}/filters)
    if(DEFINED SLUICE_WARNINGS)
      set(c_warnings ${SLUICE_WARNINGS})
      list(REMOVE_ITEM c_warnings -Wnon-virtual-dtor)
      target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${SLUICE_WARNINGS}>"
        "$<$<COMPILE_LANGUAGE:C>:${c_warnings}>")
    endif()
  else()
    target_link_libraries(${target} PRIVATE SluiceSDK::sdk)
    set(default_dir ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  if(DEFINED SLUICE_FILTER_OUTPUT_DIRECTORY)
    set(default_dir ${SLUICE_FILTER_OUTPUT_DIRECTORY})
  endif()
  if(F_LIBS)
    target_link_libraries(${target} PRIVATE ${F_LIBS})
  endif()

  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    SUFFIX ".so"
    LIBRARY_OUTPUT_DIRECTORY ${default_dir}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  # Sanitizer builds compile with -fsanitize=... in CMAKE_<LANG>_FLAGS; the module must link its
  # runtime too, or --no-undefined rejects the instrumentation's references.
  string(REGEX MATCHALL "-fsanitize=[^ ]+" sanitizers "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS}")
  list(REMOVE_DUPLICATES sanitizers)
  # The version script is the last word on exports: even template instantiations from the C++
  # standard library (default visibility) stay inside the module.
  set(map ${CMAKE_CURRENT_BINARY_DIR}/sluice_filter_exports.map)
  if(NOT EXISTS ${map})
    file(WRITE ${map} "{\n  global: sluice_filter_module_v1;\n  local: *;\n};\n")
  endif()
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,--version-script=${map}
    ${sanitizers})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
