#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Every taskdist the tests start (directly, or as rank 0 under mpirun, which inherits this
  // environment) keeps its cost profiles here, not in the user's ~/.cache; removed at the end.
  std::string cache = (std::filesystem::temp_directory_path() / "taskdist-test-cache-XXXXXX");
  const bool own_cache = ::getenv("TASKDIST_CACHE_DIR") == nullptr && ::mkdtemp(cache.data());
  if (own_cache) ::setenv("TASKDIST_CACHE_DIR", cache.c_str(), 1);
  const int result = RUN_ALL_TESTS();
  if (own_cache) {
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
  }
  return result;
}
