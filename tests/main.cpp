// The Catch2 runner for kvstack_tests. A test case without assertions fails, and so does a run
// whose filter matched no test, so a renamed or emptied test can never pass silently. Started
// as `--kvstack-child NAME ...`, it runs a kill test's child instead (child_process.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "child_process.hpp"

int main(int argc, char* argv[]) {
  if (auto status = kvstack::test::run_child_if_asked(argc, argv)) return *status;
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  auto& config = session.configData();
  config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoAssertions |
                                                         Catch::WarnAbout::NoTests);
  return session.run();
}
