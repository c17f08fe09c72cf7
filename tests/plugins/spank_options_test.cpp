// Unit tests for the SPANK plugin's option checks (called directly, no Slurm; also run under
// ASan/UBSan by scripts/test.sh).
#include <gtest/gtest.h>

#include <string>

#include "plugins/slurm/options.h"

namespace rfarm::spank {
namespace {

TEST(SpankOptions, AcceptsPlainAccountNames) {
  EXPECT_EQ(check_account("studio-a"), "");
  EXPECT_EQ(check_account("uni.render_01"), "");
  EXPECT_EQ(check_account(std::string(kMaxAccountLength, 'a')), "");
}

TEST(SpankOptions, RefusesBadAccountNamesWithAReason) {
  EXPECT_NE(check_account("").find("empty"), std::string::npos);
  EXPECT_NE(check_account("Studio").find("must start with"), std::string::npos);
  EXPECT_NE(check_account("a b").find("' '"), std::string::npos);
  EXPECT_NE(check_account("a;rm -rf").find("';'"), std::string::npos);
  EXPECT_NE(check_account(std::string(kMaxAccountLength + 1, 'a')).find("at most 64"), std::string::npos);
  EXPECT_NE(check_account(std::string("a\0b", 3)), "");
}

TEST(SpankOptions, JobIdsAllowUpperCaseButNotShellCharacters) {
  EXPECT_EQ(check_job_id("J-0001.a_b"), "");
  EXPECT_NE(check_job_id("-x"), "");
  EXPECT_NE(check_job_id("x$(id)"), "");
  EXPECT_NE(check_job_id(std::string(kMaxJobIdLength + 1, 'x')), "");
}

}  // namespace
}  // namespace rfarm::spank
