#include "core/frame_spec.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rfarm {
namespace {

std::vector<std::int64_t> frames(std::string_view s) { return parse_frame_spec(s).frames; }

std::string error_of(std::string_view s) {
  try {
    parse_frame_spec(s);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    return e.what();
  }
  ADD_FAILURE() << "no error for '" << s << "'";
  return {};
}

TEST(FrameSpec, SingleFrame) { EXPECT_EQ(frames("7"), (std::vector<std::int64_t>{7})); }

TEST(FrameSpec, Range) {
  auto f = frames("1-240");
  ASSERT_EQ(f.size(), 240u);
  EXPECT_EQ(f.front(), 1);
  EXPECT_EQ(f.back(), 240);
}

TEST(FrameSpec, RangeWithStep) {
  EXPECT_EQ(frames("1-9:2"), (std::vector<std::int64_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(frames("1-10:4"), (std::vector<std::int64_t>{1, 5, 9}));
}

TEST(FrameSpec, ListIsSortedAndDeduplicated) {
  EXPECT_EQ(frames("9-12,1,5,10"), (std::vector<std::int64_t>{1, 5, 9, 10, 11, 12}));
}

TEST(FrameSpec, ThrottleSuffix) {
  auto s = parse_frame_spec("1-4%2");
  EXPECT_EQ(s.frames.size(), 4u);
  ASSERT_TRUE(s.throttle.has_value());
  EXPECT_EQ(*s.throttle, 2);
  EXPECT_FALSE(parse_frame_spec("3").throttle.has_value());
}

TEST(FrameSpec, ZeroIsAllowed) { EXPECT_EQ(frames("0-2"), (std::vector<std::int64_t>{0, 1, 2})); }

TEST(FrameSpec, ErrorsNameTheBadToken) {
  EXPECT_NE(error_of("1-x").find("'1-x'"), std::string::npos);
  EXPECT_NE(error_of("1,,3").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("5-1").find("backwards"), std::string::npos);
  EXPECT_NE(error_of("1-9:0").find("step"), std::string::npos);
  EXPECT_NE(error_of("3:2").find("needs a range"), std::string::npos);
  EXPECT_NE(error_of("-3").find("'-3'"), std::string::npos);
  EXPECT_NE(error_of("1-3%0").find("throttle"), std::string::npos);
  EXPECT_NE(error_of("1-3%").find("throttle"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("1, 2").find("' 2'"), std::string::npos);
  EXPECT_NE(error_of("1-x").find("--frames"), std::string::npos);
}

TEST(FrameSpec, ErrorNamesTheField) {
  try {
    parse_frame_spec("a", "render.yaml: frames");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("render.yaml: frames"), std::string::npos);
  }
}

TEST(FrameSpec, MaxFrameCountIsEnforced) {
  EXPECT_EQ(frames("1-" + std::to_string(kMaxFramesPerSpec)).size(), kMaxFramesPerSpec);
  EXPECT_NE(error_of("0-" + std::to_string(kMaxFramesPerSpec)).find("more than"), std::string::npos);
  EXPECT_NE(error_of("0-99999999999999").find("more than"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999999").find("too large"), std::string::npos);
}

}  // namespace
}  // namespace rfarm
