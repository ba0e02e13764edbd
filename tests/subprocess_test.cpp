#include "exec/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "test_support.h"

namespace taskdist {
namespace {

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      s.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return s;
}

TEST(SubprocessTest, RunsArgvWithoutAShellAndReportsTheExitCode) {
  auto p = Subprocess::spawn({"/bin/echo", "a b", "$HOME"}, "/");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(read_all(p->stdout_fd()), "a b $HOME\n");
  const ExitStatus s = p->reap();
  EXPECT_TRUE(s.ok());
  auto q = Subprocess::spawn({"/bin/sh", "-c", "exit 3"}, "/");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->reap().code, 3);
}

TEST(SubprocessTest, RunsInTheGivenDirectoryWithStdinClosed) {
  const auto dir = testing::fresh_dir("sub");
  auto p = Subprocess::spawn({"/bin/sh", "-c", "pwd; cat"}, dir);
  ASSERT_TRUE(p);
  EXPECT_EQ(read_all(p->stdout_fd()), dir.string() + "\n");
  EXPECT_TRUE(p->reap().ok());
}

TEST(SubprocessTest, AddsAndReplacesEnvironmentVariablesAndKeepsTheRest) {
  ::setenv("TASKDIST_TEST_KEPT", "kept", 1);
  ::setenv("TASKDIST_TEST_REPLACED", "old", 1);
  auto p = Subprocess::spawn(
      {"/bin/sh", "-c", "echo $TASKDIST_TEST_KEPT $TASKDIST_TEST_REPLACED $TASKDIST_TEST_NEW"}, "/",
      {"TASKDIST_TEST_REPLACED=new", "TASKDIST_TEST_NEW=added"});
  ASSERT_TRUE(p);
  EXPECT_EQ(read_all(p->stdout_fd()), "kept new added\n");
  EXPECT_TRUE(p->reap().ok());
  ::unsetenv("TASKDIST_TEST_KEPT");
  ::unsetenv("TASKDIST_TEST_REPLACED");
}

TEST(SubprocessTest, SpawnFailureIsAnError) {
  auto p = Subprocess::spawn({"/nonexistent/program"}, "/");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("/nonexistent/program"), std::string::npos);
}

TEST(SubprocessTest, StopKillsTheWholeProcessGroup) {
  // Given: a shell that started a grandchild and ignores SIGTERM.
  // Expect: after stop_processes, neither is alive.
  auto p = Subprocess::spawn({"/bin/sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"}, "/");
  ASSERT_TRUE(p);
  std::string line;
  char c;
  while (::read(p->stdout_fd(), &c, 1) != 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  do line += c;
  while (::read(p->stdout_fd(), &c, 1) == 1 && c != '\n');
  const pid_t grandchild = std::stoi(line);
  ASSERT_TRUE(testing::process_alive(grandchild));
  stop_processes({&*p}, 0.2);
  EXPECT_TRUE(p->reaped());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(testing::process_alive(grandchild));
}

TEST(SubprocessTest, DestructorReapsARunningChild) {
  pid_t pid;
  {
    auto p = Subprocess::spawn({"/bin/sleep", "60"}, "/");
    ASSERT_TRUE(p);
    pid = p->pid();
  }
  EXPECT_FALSE(testing::process_alive(pid));
}

}  // namespace
}  // namespace taskdist
