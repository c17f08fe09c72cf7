#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "support/process.h"

namespace rfarm {
namespace {

std::size_t count_entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, WritesAndReplaces) {
  testing::TempDir dir;
  auto path = dir / "sub" / "out.txt";
  write_file_atomically(path, std::string_view("first"));
  EXPECT_EQ(testing::read_file(path), "first");
  write_file_atomically(path, std::string_view("second, longer"));
  EXPECT_EQ(testing::read_file(path), "second, longer");
  EXPECT_EQ(count_entries(path.parent_path()), 1u) << "no temporary file may be left behind";
}

TEST(AtomicFile, CallbackWritesByName) {
  testing::TempDir dir;
  auto path = dir / "image.exr";
  std::filesystem::path seen;
  write_file_atomically_with(path, [&](const std::filesystem::path& temp) {
    seen = temp;
    EXPECT_EQ(temp.parent_path(), path.parent_path()) << "temp must be on the same filesystem";
    std::ofstream(temp) << "pixels";
  });
  EXPECT_EQ(testing::read_file(path), "pixels");
  EXPECT_FALSE(std::filesystem::exists(seen));
}

TEST(AtomicFile, FailingWriterLeavesTargetUntouched) {
  testing::TempDir dir;
  auto path = dir / "keep.txt";
  write_file_atomically(path, std::string_view("old"));
  EXPECT_THROW(write_file_atomically_with(path,
                                          [&](const std::filesystem::path& temp) {
                                            std::ofstream(temp) << "half";
                                            throw std::runtime_error("disk on fire");
                                          }),
               std::runtime_error);
  EXPECT_EQ(testing::read_file(path), "old");
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(AtomicFile, UnwritableDirectoryIsAnIoError) {
  EXPECT_THROW(write_file_atomically("/proc/rfarm-no-such/x.txt", std::string_view("x")), Error);
}

}  // namespace
}  // namespace rfarm
