# lib.sh — what the benchmark scripts share (each sources it after `cd` to the source tree):
#   bench_need TOOL...     installs the benchmark packages when a tool is missing
#                          (tools/install-deps.sh --bench), then fails if one still is
#   bench_build TARGET...  builds those targets in Release into BUILD_DIR (default
#                          build-release; CMAKE_ARGS: extra configure arguments; NO_BUILD=1:
#                          builds nothing) and sets ROOT (the source tree), BUILD (BUILD_DIR
#                          as an absolute path) and BIN (its flowhost)
bench_need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || sh tools/install-deps.sh --bench
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing (tools/install-deps.sh --bench)" >&2; exit 1; }
  done
}

bench_build() {
  ROOT=$PWD
  BUILD_DIR=${BUILD_DIR:-build-release}
  case $BUILD_DIR in /*) BUILD=$BUILD_DIR ;; *) BUILD=$ROOT/$BUILD_DIR ;; esac
  BIN=$BUILD/flowhost
  [ "${NO_BUILD:-0}" = 1 ] && return 0
  echo "== building Release ($BUILD_DIR)" >&2
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
  for target in "$@"; do
    cmake --build "$BUILD" -j"$(nproc)" --target "$target" >/dev/null
  done
}
