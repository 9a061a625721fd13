# cmake -P, at every build (target hs_version_header): headspec/version.h
# with the commit the tree is at now, "-dirty" when it differs from it, so
# that --version and the results files name the code that was compiled even
# when git moved since cmake last configured. configure_file rewrites the
# header only when its text changes (no needless recompiles).
# In: SOURCE_DIR, OUTPUT, PROJECT_VERSION.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE HS_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR NOT HS_GIT_COMMIT)
  set(HS_GIT_COMMIT unknown) # not a git checkout (a source archive)
else()
  execute_process(COMMAND git diff --quiet HEAD -- WORKING_DIRECTORY ${SOURCE_DIR}
    RESULT_VARIABLE changed ERROR_QUIET)
  if(changed EQUAL 1)
    string(APPEND HS_GIT_COMMIT -dirty)
  endif()
endif()
configure_file(${SOURCE_DIR}/src/version.h.in ${OUTPUT} @ONLY)
