// Test support: runs a shell command and collects what it prints.
#pragma once

#include <string>

namespace truthbook::test_support {

struct ShellResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh and collects what it prints (stdout and stderr).
ShellResult RunShell(const std::string& command);

}  // namespace truthbook::test_support
